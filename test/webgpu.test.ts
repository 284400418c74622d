/**
 * The WebGPU backend against independent truth: the reference fixtures (parity), the wasm backend
 * (training losses and weights, beam search), the JavaScript dropout hash (masks), and tf.memory()
 * (tensors and GPU bytes flat over 20 steps). Runs where Dawn finds a Vulkan device: in CI the
 * software one of .ci/lavapipe.sh (`source .ci/lavapipe.sh` before mocha); skips elsewhere.
 */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { activeBackend, initBackend } from '../src/backend/select.ts';
import { dropoutMaskValues } from '../src/backend/dropout-mask.ts';
import { dropoutMultiplier } from '../src/models/ops.ts';
import { createModel } from '../src/models/factory.ts';
import { Gpt2Model } from '../src/models/gpt2.ts';
import { AdamW } from '../src/train/optim.ts';
import { trainStep } from '../src/train/step.ts';
import { beamSearch } from '../src/generate/beam-search.ts';
import { readParityFixture } from '../src/parity/fixture.ts';
import { computeParity } from '../src/parity/compute.ts';
import { compareParity } from '../src/parity/compare.ts';
import { tinyGpt2 } from './helpers/tiny.ts';
import { tinyTrainingSetup } from './helpers/tiny-step.ts';
import { readSafetensors, toFloat32 } from '../src/io/safetensors.ts';
import { WEIGHTS_FILE } from '../src/methods/artifact.ts';
import { evaluateSavedRun } from '../src/train/evaluate-run.ts';
import type { RunResult } from '../src/train/result-schema.ts';
import type { TrainRunConfig } from '../src/train/run-config.ts';
import { RUN_FILES } from '../src/train/run-dir.ts';
import { runTraining } from '../src/train/trainer.ts';
import { e2eConfig, rteConfig, tempDir, tinyGpt2Json, tinyRobertaJson, writeConfig } from './helpers/train.ts';
import { ensurePretrained } from '../src/pretrain/cache.ts';
import { PRETRAIN_FILES } from '../src/pretrain/artifacts.ts';
import { TINY_PRETRAIN } from './helpers/pretrain.ts';
import { sharedOrSkip, skipBecause, trainingInputsOrSkip } from './helpers/skip.ts';

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

interface RunTrace {
  losses: number[];
  result: RunResult;
  /** The saved checkpoint (adapter/adapter_model.safetensors), by key. */
  saved: Map<string, Float32Array>;
  /** The reported checkpoint's prediction files (labels, generated text), by name. */
  predictions: Record<string, string>;
}

/** `lora-repro train` through the trainer API on the given backend: a couple of steps, evaluated and saved. */
async function trainRun(config: Record<string, unknown>, backend: 'webgpu' | 'wasm', outDir: string): Promise<RunTrace> {
  await on(backend);
  const losses: number[] = [];
  const before = tf.memory().numTensors;
  const result = await runTraining(config as TrainRunConfig, { outDir, log: () => {}, onStep: (_s, loss) => losses.push(loss) });
  assert.equal(result.status, 'finished', `${backend}: ${result.error ?? ''}`);
  assert.equal(tf.memory().numTensors, before, `${backend}: the run leaves no tensor behind`);
  const file = readSafetensors(join(outDir, RUN_FILES.adapter, WEIGHTS_FILE));
  const predDir = join(outDir, RUN_FILES.predictions);
  const predictions = Object.fromEntries(readdirSync(predDir).map((n) => [n, readFileSync(join(predDir, n), 'utf8')]));
  return { losses, result, saved: new Map([...file.tensors].map(([k, t]) => [k, toFloat32(t)])), predictions };
}

function metricsDiff(a: Record<string, number>, b: Record<string, number>): number {
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort());
  return Math.max(0, ...Object.keys(a).map((k) => Math.abs(a[k] - b[k])));
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
      const dir = sharedOrSkip(this, `fixtures/parity/${name}`);
      const modelType = (JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { model_type?: string }).model_type;
      if (modelType !== 'roberta' && modelType !== 'gpt2') skipBecause(this, `${name} is a ${modelType} fixture; this check covers RoBERTa and GPT-2`);
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

  describe('train end to end (the trainer: steps, evaluation, checkpoint, reload) gives wasm\'s numbers', () => {
    const dir = tempDir('webgpu-train');
    const roberta = writeConfig(dir, 'roberta.json', tinyRobertaJson());
    const gpt2 = writeConfig(dir, 'gpt2.json', tinyGpt2Json());
    before(function () {
      trainingInputsOrSkip(this);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));
    // Two updates each (16 examples, batch 8; E2E 8 pairs, batch 4), dropout on where the model has it.
    const short = { epochs: 1, trainLimit: 16, evalLimit: 8 };
    const cases: [string, Record<string, unknown>][] = [
      ['lora (RoBERTa, RTE)', rteConfig(roberta, { ...short, methodConfig: { r: 4, alpha: 8 } })],
      ['ft (RoBERTa, RTE)', rteConfig(roberta, { ...short, method: 'ft', methodConfig: {} })],
      ['adapter-h (RoBERTa, RTE)', rteConfig(roberta, { ...short, method: 'adapter-h', methodConfig: { r: 4 } })],
      // The MLP form saves merged prefixes: computed tensors, not variables, are read back.
      ['prefix-layer with the MLP (RoBERTa, RTE)', rteConfig(roberta, { ...short, maxSeqLength: 120, method: 'prefix-layer', methodConfig: { prefixLength: 4, infixLength: 2, prefixMlp: 16 } })],
      // GPT-2's fused c_attn adapter is saved as one concatenated PEFT LoRA; evaluation is beam search.
      ['lora q,v (GPT-2, E2E)', e2eConfig(gpt2, { epochs: 1, trainLimit: 8, evalLimit: 2, batchSize: 4, methodConfig: { r: 4, alpha: 8, targets: ['q', 'v'] }, decoding: { beam: 2, maxNewTokens: 8 } })],
    ];
    for (const [label, config] of cases) {
      it(label, async () => {
        const name = label.split(' ')[0];
        const gpu = await trainRun(config, 'webgpu', join(dir, `${name}-${config.task}-webgpu`));
        // The saved checkpoint, reloaded into a fresh model on WebGPU, scores what the run recorded.
        const again = await evaluateSavedRun(join(dir, `${name}-${config.task}-webgpu`));
        const cpu = await trainRun(config, 'wasm', join(dir, `${name}-${config.task}-wasm`));
        assert.equal(gpu.losses.length, 2);
        const dl = Math.max(...gpu.losses.map((l, i) => Math.abs(l - cpu.losses[i])));
        assert.deepEqual([...gpu.saved.keys()], [...cpu.saved.keys()], 'the same checkpoint keys, in order');
        const dw = Math.max(...[...gpu.saved].map(([k, w]) => maxDiff(w, cpu.saved.get(k)!)));
        const dm = metricsDiff(gpu.result.metrics, cpu.result.metrics);
        const dr = metricsDiff(again.output.metrics, gpu.result.metrics);
        console.log(`      ${label}: max |diff| loss ${dl.toExponential(2)}, saved weights ${dw.toExponential(2)}, metrics ${dm.toExponential(2)}; reloaded vs recorded ${dr.toExponential(2)}`);
        assert.ok(dl < 1e-4, `losses ${gpu.losses} vs ${cpu.losses}`);
        assert.ok(dw < 1e-4, `saved weights differ by ${dw}`);
        assert.ok(dm < 1e-6, `metrics ${JSON.stringify(gpu.result.metrics)} vs ${JSON.stringify(cpu.result.metrics)}`);
        assert.ok(dr < 1e-6, `reloaded ${JSON.stringify(again.output.metrics)} vs recorded ${JSON.stringify(gpu.result.metrics)}`);
        assert.deepEqual(gpu.predictions, cpu.predictions, 'the same predictions');
        assert.deepEqual(again.output.predictions, gpu.predictions, 'the reloaded checkpoint predicts what the run saved');
      });
    }
  });

  it('pretraining (RoBERTa: MLM, next-sentence, bag of words; a snapshot) gives wasm\'s losses and weights', async () => {
    const dir = tempDir('webgpu-pretrain');
    try {
      const pretrain = async (backend: 'webgpu' | 'wasm') => {
        await on(backend);
        const snapshots = { steps: [2], dir: join(dir, `snap-${backend}`) };
        const r = await ensurePretrained({ family: 'roberta', seed: 1, settings: { ...TINY_PRETRAIN, steps: 4, shortSeqSteps: 2 }, cacheDir: join(dir, backend), snapshots });
        const weights = (sub: string) => new Map([...readSafetensors(join(sub, PRETRAIN_FILES.weights)).tensors].map(([k, t]) => [k, toFloat32(t)]));
        return { t: r.meta.training, final: weights(r.dir), snapshot: weights(join(snapshots.dir, 'step-2')) };
      };
      const gpu = await pretrain('webgpu');
      const cpu = await pretrain('wasm');
      const curve = (t: typeof gpu.t) => [...t.lossCurve, ...(t.pairLossCurve ?? []), t.evalLoss.before, t.evalLoss.after];
      const dl = Math.max(...curve(gpu.t).map((l, i) => Math.abs(l - curve(cpu.t)[i])));
      const dw = Math.max(...(['final', 'snapshot'] as const).flatMap((w) => [...gpu[w]].map(([k, v]) => maxDiff(v, cpu[w].get(k)!))));
      console.log(`      pretraining: max |diff| losses ${dl.toExponential(2)}, weights ${dw.toExponential(2)}`);
      assert.equal(curve(gpu.t).length, curve(cpu.t).length);
      assert.ok(gpu.t.nspAccuracy !== undefined && (gpu.t.pairLossCurve ?? []).length > 0, 'next-sentence steps and accuracy');
      assert.deepEqual(gpu.t.nspAccuracy, cpu.t.nspAccuracy);
      assert.ok(dl < 1e-4, `losses ${curve(gpu.t)} vs ${curve(cpu.t)}`);
      assert.ok(dw < 1e-4, `weights differ by ${dw}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

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
