/**
 * The WebGPU backend against independent truth: the reference fixtures (parity), the wasm backend
 * (training losses and weights, beam search), the JavaScript dropout hash (masks), and tf.memory()
 * (tensors and GPU bytes flat over 20 steps). Runs where Dawn finds a Vulkan device: in CI the
 * software one of .ci/lavapipe.sh (`source .ci/lavapipe.sh` before mocha); skips elsewhere.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { activeBackend, initBackend } from '../src/backend/select.ts';
import { dropoutMaskValues } from '../src/backend/dropout-mask.ts';
import { dropoutMultiplier } from '../src/models/ops.ts';
import { createModel } from '../src/models/factory.ts';
import { Gpt2Model } from '../src/models/gpt2.ts';
import { AdamW } from '../src/train/adamw.ts';
import { trainStep } from '../src/train/step.ts';
import { beamSearch } from '../src/generate/beam-search.ts';
import { readParityFixture } from '../src/parity/fixture.ts';
import { computeParity } from '../src/parity/compute.ts';
import { compareParity } from '../src/parity/compare.ts';
import { SHARED, tinyGpt2 } from './helpers/tiny.ts';
import { tinyTrainingSetup } from './helpers/tiny-step.ts';

let unavailable: string | undefined;
let previous: string | undefined;

async function on(backend: 'webgpu' | 'wasm'): Promise<void> {
  await initBackend(backend);
}

interface TrainTrace {
  losses: number[];
  weights: Float32Array[];
  tensors: number[];
  gpuBytes: number[];
}

/** `steps` LoRA steps with dropout (0.1: LoRA and the model's own) on a tiny model, on the given backend. */
async function train(kind: 'roberta' | 'gpt2', backend: 'webgpu' | 'wasm', steps: number): Promise<TrainTrace> {
  await on(backend);
  const { m, trainable, loss } = tinyTrainingSetup(kind, 'lora');
  const opt = new AdamW({ weightDecay: 0.01 });
  const trace: TrainTrace = { losses: [], weights: [], tensors: [], gpuBytes: [] };
  for (let i = 0; i < steps; i++) {
    trace.losses.push((await trainStep(loss, trainable, opt, 1e-2, 1)).loss);
    const mem = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number };
    trace.tensors.push(mem.numTensors);
    trace.gpuBytes.push(mem.numBytesInGPU ?? 0);
  }
  for (const v of trainable) trace.weights.push((await v.data()) as Float32Array);
  opt.dispose();
  m.dispose();
  return trace;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

describe('webgpu backend (Dawn; lavapipe in CI)', function () {
  this.timeout(300_000);

  before(async function () {
    previous = activeBackend()?.name;
    try {
      const b = await initBackend('webgpu');
      console.log(`      webgpu: ${b.device.summary}`);
    } catch (err) {
      unavailable = (err as Error).message.split('\n')[0];
      console.log(`      webgpu: skipped: ${unavailable}`);
    }
  });
  beforeEach(function () {
    if (unavailable !== undefined) this.skip();
  });
  after(async () => {
    if (unavailable === undefined) await initBackend(previous === undefined || previous === 'webgpu' ? 'wasm' : previous);
  });

  it('describes its adapter: vendor, device, driver, software or not, limits', () => {
    const d = activeBackend()!.device;
    assert.ok(d.adapter !== undefined);
    assert.ok(d.adapter.maxBufferSize > 0 && d.adapter.maxStorageBufferBindingSize > 0);
    assert.equal(d.hardwareGpu, !d.adapter.software);
    if (/llvmpipe/.test(d.adapter.description)) assert.equal(d.hardwareGpu, false, 'lavapipe is a software adapter');
  });

  it('draws dropout masks on the device with the same hash as JavaScript and the native kernels', async () => {
    await on('webgpu');
    // 70,000 × 64 threads: past one dispatch dimension's 65,535 workgroups.
    for (const [seed, rate, n] of [[0, 0.1, 1000], [123456789, 0.5, 4097], [0xffffffff, 0.9, 64 * 70_000]] as const) {
      const t = dropoutMultiplier([n], rate, seed);
      const got = (await t.data()) as Float32Array;
      t.dispose();
      const want = dropoutMaskValues(seed, rate, n);
      assert.equal(maxDiff(got, want), 0, `seed ${seed} rate ${rate}`);
    }
  });

  for (const name of ['roberta-tiny', 'gpt2-tiny', 'deberta-tiny']) {
    it(`parity: ${name} at the fixture tolerances`, async function () {
      const dir = join(SHARED, 'fixtures', 'parity', name);
      if (!existsSync(join(dir, 'config.json'))) this.skip();
      const modelType = (JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { model_type?: string }).model_type;
      if (modelType !== 'roberta' && modelType !== 'gpt2') this.skip(); // DeBERTa-v2: no model yet
      const fx = readParityFixture(dir);
      await on('webgpu');
      const report = compareParity(fx, fx.expected, await computeParity(fx));
      const worst = report.tensors.reduce((w, t) => Math.max(w, t.maxAbsDiff / t.tolerance), 0);
      console.log(`      ${name}: worst |diff| / tolerance ${worst.toExponential(2)}, beam ${report.beam.filter((b) => b.pass).length}/${report.beam.length}`);
      assert.ok(report.pass, report.tensors.filter((t) => !t.pass).map((t) => `${t.name} ${t.maxAbsDiff}`).join(', ') || 'beam search');
    });
  }

  for (const kind of ['roberta', 'gpt2'] as const) {
    it(`${kind}: LoRA training with dropout gives wasm's losses and weights`, async () => {
      const gpu = await train(kind, 'webgpu', 5);
      const cpu = await train(kind, 'wasm', 5);
      const dl = Math.max(...gpu.losses.map((l, i) => Math.abs(l - cpu.losses[i])));
      const dw = Math.max(...gpu.weights.map((w, i) => maxDiff(w, cpu.weights[i])));
      console.log(`      ${kind}: max |loss diff| ${dl.toExponential(2)}, max |weight diff| ${dw.toExponential(2)}`);
      assert.ok(dl < 1e-4, `losses ${gpu.losses} vs ${cpu.losses}`);
      assert.ok(dw < 1e-4, `weights differ by ${dw}`);
    });
  }

  it('tf.memory() stays flat over 20 steps (tensors and GPU bytes)', async () => {
    const t = await train('gpt2', 'webgpu', 20);
    for (let i = 2; i < 20; i++) {
      assert.equal(t.tensors[i], t.tensors[1], `tensors at step ${i}`);
      assert.equal(t.gpuBytes[i], t.gpuBytes[1], `GPU bytes at step ${i}`);
    }
  });

  it('beam search gives the same tokens as on wasm', async () => {
    const decode = async (backend: 'webgpu' | 'wasm') => {
      await on(backend);
      const m = createModel(tinyGpt2(), { seed: 5 }) as Gpt2Model;
      const r = await beamSearch(m, [3, 7, 11], { beam: 4, lengthPenalty: 0.8, maxNewTokens: 12, repetitionPenalty: 1, noRepeatNgramSize: 4, minLength: 0, eosTokenIds: [] });
      m.dispose();
      return r.tokens;
    };
    assert.deepEqual(await decode('webgpu'), await decode('wasm'));
  });
});
