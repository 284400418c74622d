/**
 * LoRA as a method: merge/unmerge, the Hugging Face PEFT artifact (keys, config, and the ΔW that
 * PEFT would compute from it), strict loading, and config validation at the boundary.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/select.ts';
import { f32, readSafetensors, toFloat32, writeSafetensors } from '../src/io/safetensors.ts';
import { AppliedLora } from '../src/methods/lora.ts';
import { configureMethod } from '../src/methods/registry.ts';
import { restoreMethod } from '../src/methods/restore.ts';
import type { ModelConfig } from '../src/models/config.ts';
import type { TransformerModel } from '../src/models/model.ts';
import { UserError } from '../src/util/errors.ts';
import { Rng } from '../src/util/rng.ts';
import { GPT2_TINY, ROBERTA_TINY, batchFor, build, maxDiff, outputs, snapshot, values } from './helpers/methods.ts';

const R = 4;
const ALPHA = 12;

/** Applies LoRA on q,v and gives every B random values, so ΔW ≠ 0. */
function loraOn(cfg: ModelConfig, targets = ['q', 'v']): { model: TransformerModel; lora: AppliedLora } {
  const model = build(cfg);
  const lora = configureMethod('lora', { r: R, alpha: ALPHA, targets }).apply(model, new Rng(1)) as AppliedLora;
  let seed = 11;
  for (const a of lora.injection.adapters.values()) a.B.assign(tf.randomNormal(a.B.shape, 0, 0.2, 'float32', seed++));
  return { model, lora };
}

/** Host-side (α/r)·B·A in [out, in] orientation. */
function hostDelta(A: Float32Array, B: Float32Array, r: number, inDim: number, outDim: number, scale: number): Float64Array {
  const d = new Float64Array(outDim * inDim);
  for (let o = 0; o < outDim; o++) for (let i = 0; i < inDim; i++) {
    let s = 0;
    for (let k = 0; k < r; k++) s += B[o * r + k] * A[k * inDim + i];
    d[o * inDim + i] = scale * s;
  }
  return d;
}

function throwsUserError(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    assert.ok(!e.message.includes('\n'), 'one line');
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

describe('lora method', () => {
  let dir: string;
  before(async () => {
    await initBackend('wasm');
    dir = mkdtempSync(join(tmpdir(), 'lora-method-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const cfg of [ROBERTA_TINY, GPT2_TINY]) {
    it(`${cfg.modelType}: merge writes (α/r)·B·A into W, unmerge restores W within 1e-6, outputs agree within 1e-5`, () => {
      const { model, lora } = loraOn(cfg);
      const batch = batchFor(model);
      const weights = [...new Set([...lora.injection.adapters.values()].map((a) => a.target.weight))];
      const before = snapshot(weights);
      const unmerged = values(() => outputs(model, batch));
      lora.merge();
      assert.ok(maxDiff(values(() => outputs(model, batch)), unmerged) < 1e-5, 'merged = unmerged outputs');
      // The merged weight is W₀ + ΔW of every adapter, in the module's own layout and slice.
      for (const a of lora.injection.adapters.values()) {
        const w = a.target;
        const delta = hostDelta(a.A.dataSync() as Float32Array, a.B.dataSync() as Float32Array, R, w.inFeatures, a.outEnd - a.outStart, ALPHA / R);
        const now = w.weight.dataSync() as Float32Array;
        const was = before.get(w.weight)!;
        let err = 0;
        for (let o = 0; o < a.outEnd - a.outStart; o++) for (let i = 0; i < w.inFeatures; i++) {
          const idx = w.layout === 'out_in' ? (a.outStart + o) * w.inFeatures + i : i * w.outFeatures + a.outStart + o;
          err = Math.max(err, Math.abs(now[idx] - was[idx] - delta[o * w.inFeatures + i]));
        }
        assert.ok(err < 1e-6, `merged ${w.name} = W₀ + ΔW (err ${err})`);
      }
      throwsUserError(() => lora.disable(), /unmerge/);
      lora.unmerge();
      for (const w of weights) assert.ok(maxDiff(w.dataSync() as Float32Array, before.get(w)!) < 1e-6, `${w.name} restored`);
      assert.ok(maxDiff(values(() => outputs(model, batch)), unmerged) < 1e-5);
      lora.remove();
      model.dispose();
    });

    it(`${cfg.modelType}: PEFT artifact: keys, config, and PEFT's ΔW equal ours`, async () => {
      const { model, lora } = loraOn(cfg);
      const out = join(dir, `peft-${cfg.modelType}`);
      await lora.save(out, { baseModel: 'tiny' });
      const config = JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
      const file = readSafetensors(join(out, 'adapter_model.safetensors'));
      assert.equal(file.metadata.format, 'pt');
      assert.equal(config.peft_type, 'LORA');
      assert.equal(config.r, R);
      assert.equal(config.lora_alpha, ALPHA);
      assert.equal(config.bias, 'none');
      assert.equal(config.base_model_name_or_path, 'lora-repro-random-init:tiny', 'a built-in config is random weights: a name the hub refuses');
      const L = cfg.layers;
      const keys = [...file.tensors.keys()].sort();
      let modules: { key: string; in: number; out: number; rank: number; alpha: number }[];
      if (cfg.modelType === 'roberta') {
        assert.deepEqual(config.target_modules, ['query', 'value']);
        assert.equal(config.fan_in_fan_out, false);
        assert.equal(config.task_type, 'SEQ_CLS');
        assert.deepEqual(config.modules_to_save, ['classifier']);
        modules = [...Array(L).keys()].flatMap((l) =>
          ['query', 'value'].map((m) => ({ key: `base_model.model.roberta.encoder.layer.${l}.attention.self.${m}`, in: 32, out: 32, rank: R, alpha: ALPHA })),
        );
        const head = ['dense.weight', 'dense.bias', 'out_proj.weight', 'out_proj.bias'].map((p) => `base_model.model.classifier.${p}`);
        assert.deepEqual(keys, [...modules.flatMap((m) => [`${m.key}.lora_A.weight`, `${m.key}.lora_B.weight`]), ...head].sort());
      } else {
        // One LoRA on the fused c_attn: rank 2r, α doubled, so α/r is unchanged.
        assert.deepEqual(config.target_modules, ['c_attn']);
        assert.equal(config.fan_in_fan_out, true);
        assert.equal(config.task_type, 'CAUSAL_LM');
        assert.equal(config.modules_to_save, null);
        assert.deepEqual(config.rank_pattern, { c_attn: 2 * R });
        assert.deepEqual(config.alpha_pattern, { c_attn: 2 * ALPHA });
        modules = [...Array(L).keys()].map((l) => ({ key: `base_model.model.transformer.h.${l}.attn.c_attn`, in: 32, out: 96, rank: 2 * R, alpha: 2 * ALPHA }));
        assert.deepEqual(keys, modules.flatMap((m) => [`${m.key}.lora_A.weight`, `${m.key}.lora_B.weight`]).sort());
      }
      // What PEFT computes on merge: (lora_alpha / r)·B·A, transposed for fan_in_fan_out, added to W.
      const base = snapshot(model.params.vars.values());
      lora.merge();
      for (const m of modules) {
        const A = file.tensors.get(`${m.key}.lora_A.weight`)!;
        const B = file.tensors.get(`${m.key}.lora_B.weight`)!;
        assert.deepEqual(A.shape, [m.rank, m.in]);
        assert.deepEqual(B.shape, [m.out, m.rank]);
        const delta = hostDelta(toFloat32(A), toFloat32(B), m.rank, m.in, m.out, m.alpha / m.rank);
        const w = model.params.get(`${m.key.slice('base_model.model.'.length)}.weight`);
        const now = w.dataSync() as Float32Array;
        const was = base.get(w)!;
        let err = 0;
        for (let o = 0; o < m.out; o++) for (let i = 0; i < m.in; i++) {
          const idx = config.fan_in_fan_out ? i * m.out + o : o * m.in + i;
          err = Math.max(err, Math.abs(now[idx] - was[idx] - delta[o * m.in + i]));
        }
        assert.ok(err < 1e-6, `PEFT ΔW of ${m.key} = our merged ΔW (err ${err})`);
      }
      lora.remove();
      model.dispose();
    });
  }

  it('loading is strict: one error lists missing, unexpected and mis-shaped tensors, and writes nothing', async () => {
    const { model, lora } = loraOn(ROBERTA_TINY);
    const out = join(dir, 'strict');
    await lora.save(out);
    const path = join(out, 'adapter_model.safetensors');
    const tensors = new Map(readSafetensors(path).tensors);
    tensors.delete('base_model.model.roberta.encoder.layer.0.attention.self.query.lora_A.weight');
    tensors.set('base_model.model.roberta.encoder.layer.0.attention.self.key.lora_A.weight', f32([R, 32], new Float32Array(R * 32)));
    tensors.set('base_model.model.classifier.out_proj.bias', f32([2], new Float32Array(2)));
    writeSafetensors(path, tensors);
    const before = snapshot([...lora.trainable, ...lora.head]);
    throwsUserError(
      () => lora.load(out),
      /missing base_model\.model\.roberta\.encoder\.layer\.0\.attention\.self\.query\.lora_A\.weight/,
      /unexpected base_model\.model\.roberta\.encoder\.layer\.0\.attention\.self\.key\.lora_A\.weight/,
      /classifier\.out_proj\.bias has shape \[2\] but the model expects \[3\]/,
    );
    for (const [v, was] of before) assert.equal(maxDiff(v.dataSync() as Float32Array, was), 0, 'nothing written');
    // An artifact of another configuration is refused by its config.
    const other = configureMethod('lora', { r: R + 1, targets: ['q'] }).apply(build(ROBERTA_TINY), new Rng(2));
    await lora.save(out);
    throwsUserError(() => other.load(out), /r is 4, expected 5/, /targets are q,v, expected q/);
    lora.remove();
    model.dispose();
  });

  it('GPT-2: a c_attn lora_B with entries outside the q/v blocks is refused', async () => {
    const { model, lora } = loraOn(GPT2_TINY);
    const out = join(dir, 'fused');
    await lora.save(out);
    const path = join(out, 'adapter_model.safetensors');
    const file = readSafetensors(path);
    const tensors = new Map(file.tensors);
    const key = 'base_model.model.transformer.h.1.attn.c_attn.lora_B.weight';
    const b = Float32Array.from(toFloat32(tensors.get(key)!));
    b[40 * 2 * R] = 0.5; // row 40 is in the k slice [32, 64), which carries no adapter
    tensors.set(key, f32([96, 2 * R], b));
    writeSafetensors(path, tensors, file.metadata); // the metadata says which slices c_attn holds
    throwsUserError(() => lora.load(out), /c_attn\.lora_B\.weight: 1 non-zero entries outside the blocks/);
    lora.remove();
    model.dispose();
  });

  it('restoreMethod applies and loads an artifact from the directory alone', async () => {
    for (const [cfg, name, raw] of [
      [ROBERTA_TINY, 'adapter-l', { r: 3, ln: true }],
      [GPT2_TINY, 'prefix-layer', { prefixLength: 2, infixLength: 1 }],
      [GPT2_TINY, 'lora', { r: 2, targets: ['q', 'v', 'ffn2'], layers: [1] }],
    ] as const) {
      const model = build(cfg);
      const applied = configureMethod(name, raw).apply(model, new Rng(1));
      for (const v of applied.trainable) v.assign(tf.randomNormal(v.shape, 0, 0.1, 'float32', 5));
      const out = join(dir, `restore-${name}`);
      await applied.save(out);
      const want = values(() => outputs(model, batchFor(model)));
      const fresh = build(cfg);
      const restored = restoreMethod(fresh, out, new Rng(2));
      assert.equal(restored.name, name);
      assert.deepEqual(restored.config, applied.config);
      assert.equal(maxDiff(values(() => outputs(fresh, batchFor(fresh))), want), 0, `${name} restored`);
      restored.remove();
      applied.remove();
      fresh.dispose();
      model.dispose();
    }
  });

  it('a LoRA adapter_config.json as Python PEFT writes it (no lora-repro metadata) restores', async () => {
    const { model, lora } = loraOn(ROBERTA_TINY);
    const out = join(dir, 'peft-native');
    await lora.save(out);
    const path = join(out, 'adapter_model.safetensors');
    writeSafetensors(path, readSafetensors(path).tensors, { format: 'pt' });
    const peft = { peft_type: 'LORA', task_type: 'SEQ_CLS', r: R, lora_alpha: ALPHA, lora_dropout: 0.1, target_modules: ['value', 'query'], bias: 'none', fan_in_fan_out: false, modules_to_save: ['classifier'], auto_mapping: null, layers_to_transform: null };
    writeFileSync(join(out, 'adapter_config.json'), JSON.stringify(peft));
    const want = values(() => outputs(model, batchFor(model)));
    const fresh = build(ROBERTA_TINY);
    const restored = restoreMethod(fresh, out, new Rng(3));
    assert.deepEqual(restored.config, { r: R, alpha: ALPHA, dropout: 0.1, targets: ['q', 'v'] });
    assert.equal(maxDiff(values(() => outputs(fresh, batchFor(fresh))), want), 0);
    restored.remove();
    fresh.dispose();
    // GPT-2: PEFT's LoRA on the whole fused c_attn cannot become per-slice adapters.
    const g = loraOn(GPT2_TINY);
    const gOut = join(dir, 'peft-native-gpt2');
    await g.lora.save(gOut);
    writeFileSync(join(gOut, 'adapter_config.json'), JSON.stringify({ ...peft, task_type: 'CAUSAL_LM', target_modules: ['c_attn'], fan_in_fan_out: true, modules_to_save: null }));
    const gPath = join(gOut, 'adapter_model.safetensors');
    writeSafetensors(gPath, readSafetensors(gPath).tensors, { format: 'pt' });
    const gFresh = build(GPT2_TINY);
    throwsUserError(() => restoreMethod(gFresh, gOut, new Rng(4)), /fused c_attn has no per-slice equivalent/);
    assert.equal(gFresh.hooks.length + [...gFresh.linears.values()].reduce((s, l) => s + l.adapters.length, 0), 0, 'nothing left applied');
    for (const m of [gFresh, g.model, model]) m.dispose();
    lora.remove();
  });

  it('bad configs are rejected with one line before the model is touched', () => {
    throwsUserError(() => configureMethod('lora', { r: 0 }), /lora.*r:/);
    throwsUserError(() => configureMethod('lora', { targets: ['x'] }), /targets/);
    throwsUserError(() => configureMethod('lora', { targets: ['q', 'q'] }), /must not repeat/);
    throwsUserError(() => configureMethod('lora', { rank: 4 }), /rank/);
    throwsUserError(() => configureMethod('adapter-h', { r: 2.5 }), /r:/);
    throwsUserError(() => configureMethod('prefix-embed', { prefixLength: 0 }), /at least 1/);
    throwsUserError(() => configureMethod('nope'), /unknown method 'nope'/);
    const model = build(ROBERTA_TINY);
    const count = tf.memory().numTensors;
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['lora', { layers: [0, 5] }, /layer 5 does not exist/],
      ['adapter-d', { dropLayers: 2 }, /leaves no adapter/],
      ['compacter', { r: 4, phmDim: 3 }, /must divide/],
      ['prefix-layer', { prefixLength: 40 }, /positions/],
    ];
    for (const [name, raw, re] of cases) throwsUserError(() => configureMethod(name, raw).apply(model, new Rng(0)), re);
    assert.equal(tf.memory().numTensors, count, 'no tensor created');
    assert.equal(model.hooks.length, 0, 'no hook added');
    assert.ok([...model.linears.values()].every((l) => l.adapters.length === 0), 'no adapter added');
    model.dispose();
  });
});
