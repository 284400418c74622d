/**
 * The official roberta-base MNLI LoRA checkpoint (../shared/fixtures/real-lora) imports onto a
 * roberta-base architecture with LoRA r = 8, α = 16 on query/value and a 3-label head: every tensor
 * of the file is mapped, every value arrives (each tensor's sum and max |x| against the README's
 * table), α/r is right (the README's per-layer ‖(α/r)·B·A‖_F), and the PEFT export carries it all.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/select.ts';
import { readSafetensors, toFloat32 } from '../src/io/safetensors.ts';
import type { AppliedLora } from '../src/methods/lora.ts';
import { importLoralib, loralibTensors } from '../src/methods/loralib.ts';
import { configureMethod } from '../src/methods/registry.ts';
import { builtinConfig, type RobertaConfig } from '../src/models/config.ts';
import { createModel } from '../src/models/factory.ts';
import type { TransformerModel } from '../src/models/model.ts';
import { UserError } from '../src/util/errors.ts';
import { Rng } from '../src/util/rng.ts';
import { sharedOrSkip } from './helpers/skip.ts';

const FIXTURE = new URL('../../shared/fixtures/real-lora/', import.meta.url).pathname;
const CHECKPOINT = join(FIXTURE, 'roberta-base-mnli-lora.safetensors');

interface Row {
  shape: number[];
  sum: number;
  maxAbs: number;
}

/** The README's "Tensors" table: | `name` | [shape] | sum | max abs |. */
function readmeTensors(): Map<string, Row> {
  const out = new Map<string, Row>();
  for (const line of readFileSync(join(FIXTURE, 'README.md'), 'utf8').split('\n')) {
    const m = /^\| `([^`]+)` \| \[([\d, ]+)\] \| (-?[\d.]+) \| ([\d.]+) \|$/.exec(line.trim());
    if (m) out.set(m[1], { shape: m[2].split(',').map(Number), sum: Number(m[3]), maxAbs: Number(m[4]) });
  }
  return out;
}

/** The README's per-layer Frobenius norms of scaling · B @ A: | layer | query | value |. */
function readmeNorms(): { q: number; v: number }[] {
  const out: { q: number; v: number }[] = [];
  for (const line of readFileSync(join(FIXTURE, 'README.md'), 'utf8').split('\n')) {
    const m = /^\| (\d+) \| ([\d.]+) \| ([\d.]+) \|$/.exec(line.trim());
    if (m) out[Number(m[1])] = { q: Number(m[2]), v: Number(m[3]) };
  }
  return out;
}

describe('official loralib checkpoint: roberta-base MNLI', function () {
  this.timeout(120_000);
  let model: TransformerModel;
  let lora: AppliedLora;
  let dir: string;

  before(async function () {
    sharedOrSkip(this, 'fixtures/real-lora/roberta-base-mnli-lora.safetensors');
    await initBackend('wasm');
    dir = mkdtempSync(join(tmpdir(), 'real-lora-'));
    const config: RobertaConfig = { ...(builtinConfig('roberta-base') as RobertaConfig), numLabels: 3 };
    model = createModel(config, { seed: 0 });
    lora = configureMethod('lora', { r: 8, alpha: 16, targets: ['q', 'v'] }).apply(model, new Rng(0)) as AppliedLora;
  });
  after(() => {
    if (dir === undefined) return; // skipped: the before() made nothing
    lora.remove();
    model.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every tensor maps, with the values of the README table', async () => {
    const file = readSafetensors(CHECKPOINT);
    const table = readmeTensors();
    assert.equal(table.size, 52, 'README lists 52 tensors');
    assert.deepEqual([...file.tensors.keys()].sort(), [...table.keys()].sort());
    importLoralib(lora, file.tensors, CHECKPOINT, lora);
    const mapped = loralibTensors(lora, lora);
    assert.deepEqual(mapped.map((t) => t.key).sort(), [...table.keys()].sort(), 'our layout names exactly the file\u2019s tensors');
    let floats = 0;
    for (const t of mapped) {
      const want = table.get(t.key)!;
      assert.deepEqual(t.shape, want.shape, t.key);
      const data = await t.read();
      floats += data.length;
      let sum = 0;
      let maxAbs = 0;
      for (const x of data) {
        sum += x;
        maxAbs = Math.max(maxAbs, Math.abs(x));
      }
      assert.ok(Math.abs(sum - want.sum) < 5e-6 + 1e-5 * Math.abs(want.sum), `${t.key}: sum ${sum} vs ${want.sum}`);
      assert.ok(Math.abs(maxAbs - want.maxAbs) < 1e-6, `${t.key}: max |x| ${maxAbs} vs ${want.maxAbs}`);
    }
    assert.equal(floats, 887_811, '294,912 LoRA + 592,899 classifier floats');
    // α = 16, r = 8: ‖2·B·A‖_F per layer as the README lists.
    const norms = readmeNorms();
    assert.equal(norms.length, 12);
    for (let l = 0; l < 12; l++) {
      for (const [target, want] of [['q', norms[l].q], ['v', norms[l].v]] as const) {
        const a = lora.injection.adapters.get(`${l}.${target}`)!;
        // Summed on the host in float64 (a float32 reduction over 590k squares is off by ~2e-4).
        const delta = a.deltaWeight();
        let sq = 0;
        for (const x of delta.dataSync() as Float32Array) sq += x * x;
        delta.dispose();
        const norm = Math.sqrt(sq);
        assert.ok(Math.abs(norm - want) < 1e-4, `layer ${l} ${target}: ${norm} vs ${want}`);
      }
    }
  });

  it('exports as a PEFT adapter with the same values', async () => {
    await lora.save(dir, { baseModel: 'roberta-base' });
    const config = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(config.r, 8);
    assert.equal(config.lora_alpha, 16);
    assert.deepEqual(config.target_modules, ['query', 'value']);
    assert.deepEqual(config.modules_to_save, ['classifier']);
    const saved = readSafetensors(join(dir, 'adapter_model.safetensors')).tensors;
    const original = readSafetensors(CHECKPOINT).tensors;
    assert.equal(saved.size, 52);
    for (const [name, t] of original) {
      // loralib `…query.lora_A` → PEFT `base_model.model.…query.lora_A.weight`; the head keeps its path.
      const key = `base_model.model.${name}${/lora_[AB]$/.test(name) ? '.weight' : ''}`;
      const s = saved.get(key);
      assert.ok(s !== undefined, `PEFT key ${key}`);
      assert.deepEqual(s.shape, t.shape);
      assert.deepEqual(toFloat32(s), toFloat32(t), `${key} bit-identical`);
    }
  });

  it('a mismatching configuration is refused with one error listing every problem', () => {
    const file = readSafetensors(CHECKPOINT);
    file.tensors.delete('classifier.dense.bias');
    const r4 = configureMethod('lora', { r: 4, targets: ['q', 'v'] }).apply(model, new Rng(1)) as AppliedLora;
    try {
      assert.throws(
        () => importLoralib(r4, file.tensors, 'mnli.safetensors', r4),
        (e: unknown) =>
          e instanceof UserError &&
          /^mnli\.safetensors: /.test(e.message) &&
          e.message.includes('roberta.encoder.layer.0.attention.self.query.lora_A has shape [8, 768] but the model expects [4, 768]') &&
          e.message.includes('missing classifier.dense.bias') &&
          !e.message.includes('\n'),
      );
    } finally {
      r4.remove();
    }
  });

  it('without the head: only the LoRA tensors load (a run started from the checkpoint), strictly', async () => {
    const file = readSafetensors(CHECKPOINT);
    const table = readmeTensors();
    const allZero = (vs: tf.Variable[]): boolean => vs.every((v) => (v.dataSync() as Float32Array).every((x) => x === 0));
    const zero = (): void => tf.tidy(() => [...lora.trainable, ...lora.head].forEach((v) => v.assign(tf.zerosLike(v))));
    zero();
    // DistributedDataParallel's `module.` prefix is dropped; the head's names come back unused.
    const prefixed = new Map([...file.tensors].map(([k, t]) => [`module.${k}`, t]));
    const others = importLoralib(lora, prefixed, 'mnli.safetensors');
    assert.deepEqual(others.sort(), [...table.keys()].filter((k) => !/lora_[AB]$/.test(k)).map((k) => `module.${k}`).sort());
    for (const t of loralibTensors(lora)) {
      const sum = (await t.read()).reduce((s, x) => s + x, 0);
      const want = table.get(t.key)!.sum;
      assert.ok(Math.abs(sum - want) < 5e-6 + 1e-5 * Math.abs(want), `${t.key}: sum ${sum} vs ${want}`);
    }
    assert.ok(allZero(lora.head), 'the head is not touched');
    // A LoRA tensor the configuration has no adapter for is refused, and nothing is written.
    const extra = new Map(file.tensors);
    extra.set('roberta.encoder.layer.0.attention.self.key.lora_A', file.tensors.get('roberta.encoder.layer.0.attention.self.query.lora_A')!);
    zero();
    assert.throws(
      () => importLoralib(lora, extra, 'mnli.safetensors'),
      (e: unknown) => e instanceof UserError && e.message.includes('unexpected roberta.encoder.layer.0.attention.self.key.lora_A') && !e.message.includes('classifier'),
    );
    assert.ok(allZero([...lora.trainable, ...lora.head]), 'nothing written');
  });
});
