/**
 * Method details that follow the reference code, each against an expectation computed here
 * independently in plain arithmetic:
 * - Adapter^P reads LN(FFN + residual) through the block's LayerNorm and adds to the FFN output
 *   (AdapterHub SeqBnConfig; microsoft/LoRA examples/NLU/.../modeling_roberta.py RobertaOutput);
 * - PreLayer's MLP reparametrisation (Li & Liang, PrefixTuning gpt2/train_control.py): its merged
 *   plain prefixes are tanh(P'·W1ᵀ + b1)·W2ᵀ + b2 and a plain PreLayer holding them (also restored
 *   from the saved artifact) computes exactly the MLP form's outputs;
 * - FT^Top2 trains GPT-2's ln_f with the top two blocks (PrefixTuning gpt2/run_language_modeling.py).
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/select.ts';
import type { BottleneckAdapter, AppliedAdapters } from '../src/methods/adapter-module.ts';
import type { AppliedPrefix } from '../src/methods/prefix-module.ts';
import { configureMethod } from '../src/methods/registry.ts';
import { restoreMethod } from '../src/methods/restore.ts';
import { EVAL } from '../src/models/context.ts';
import type { Gpt2Model } from '../src/models/gpt2.ts';
import type { BlockHooks } from '../src/models/hooks.ts';
import type { TransformerModel } from '../src/models/model.ts';
import type { ModelConfig } from '../src/models/config.ts';
import { Rng } from '../src/util/rng.ts';
import { GPT2_TINY, ROBERTA_TINY, batchFor, build, maxDiff, values } from './helpers/methods.ts';

const arr = (t: tf.Tensor): number[] => Array.from(t.dataSync());
const f32 = (a: number[]): Float32Array => Float32Array.from(a);

/** Row-wise LayerNorm of `x` [rows·d] (population variance, as torch). */
function layerNormRows(x: number[], d: number, w: number[], b: number[], eps: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < x.length / d; r++) {
    const row = x.slice(r * d, (r + 1) * d);
    const mean = row.reduce((s, v) => s + v, 0) / d;
    const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / d;
    for (let i = 0; i < d; i++) out.push(((row[i] - mean) / Math.sqrt(variance + eps)) * w[i] + b[i]);
  }
  return out;
}

/** y = x·Wᵀ + b for rows of x [rows·in], W [out, in] (nn.Linear). */
function linearRows(x: number[], inDim: number, w: number[], b: number[]): number[] {
  const outDim = b.length;
  const y: number[] = [];
  for (let r = 0; r < x.length / inDim; r++) {
    for (let o = 0; o < outDim; o++) {
      let s = b[o];
      for (let i = 0; i < inDim; i++) s += x[r * inDim + i] * w[o * inDim + i];
      y.push(s);
    }
  }
  return y;
}

const add = (a: number[], b: number[]): number[] => a.map((v, i) => v + b[i]);

/** The FFN output and its residual at the last block's afterFfn hook, from the base model. */
function captureFfn(model: TransformerModel): { f: number[]; h: number[]; final: Float32Array } {
  const seen: { f?: number[]; h?: number[] } = {};
  const spy: BlockHooks = {
    afterFfn: (layer, f, _ctx, h) => {
      if (layer === model.config.layers - 1) [seen.f, seen.h] = [arr(f), arr(h)];
      return f;
    },
  };
  model.hooks.push(spy);
  const final = values(() => hiddenOut(model));
  model.hooks.splice(model.hooks.indexOf(spy), 1);
  return { f: seen.f!, h: seen.h!, final };
}

/** Final hidden states: RoBERTa's encoder output, GPT-2's after ln_f. */
function hiddenOut(model: TransformerModel): tf.Tensor {
  const batch = batchFor(model);
  return tf.tidy(() => (model.modelType !== 'gpt2' ? model.encode(batch, EVAL).hidden : model.forward(batch, EVAL).hidden));
}

/** Gives every adapter tensor non-zero known values (the up-projection starts at zero). */
function fillAdapter(a: BottleneckAdapter, rng: Rng): void {
  for (const v of [a.downW, a.downB, a.upW, a.upB]) v.assign(tf.randomNormal(v.shape, 0, 0.5, 'float32', rng.nextSeed()));
}

describe('methods against the reference code', () => {
  before(() => initBackend('wasm'));

  for (const cfg of [ROBERTA_TINY, GPT2_TINY] as ModelConfig[]) {
    it(`Adapter^P on ${cfg.modelType}: the adapter reads ${cfg.modelType === 'roberta' ? 'LN(f + h)' : 'f + h'} and adds to f`, () => {
      const one: ModelConfig = { ...cfg, layers: 1 };
      const model = build(one);
      const d = one.hidden;
      const eps = one.layerNormEps;
      const { f, h, final: baseFinal } = captureFfn(model);
      const applied = configureMethod('adapter-p', { r: 3 }).apply(model, new Rng(1)) as AppliedAdapters;
      assert.equal(applied.adapters.length, 1);
      const a = applied.adapters[0];
      fillAdapter(a, new Rng(5));
      const got = values(() => hiddenOut(model));

      // By hand: x = LN_block(f + h) (RoBERTa) or f + h (GPT-2, pre-LN: no LayerNorm there);
      // adapter out = f + W_up·relu(W_down·x + b_down) + b_up; then the block's residual (+ LN / ln_f).
      const p = (n: string): number[] => arr(model.params.get(n));
      const blockLn = one.modelType === 'roberta' ? 'roberta.encoder.layer.0.output.LayerNorm' : undefined;
      const x = blockLn ? layerNormRows(add(f, h), d, p(`${blockLn}.weight`), p(`${blockLn}.bias`), eps) : add(f, h);
      const down = linearRows(x, d, arr(a.downW), arr(a.downB)).map((v) => Math.max(v, 0));
      const adapted = add(f, linearRows(down, 3, arr(a.upW), arr(a.upB)));
      const finalLn = one.modelType === 'roberta' ? 'roberta.encoder.layer.0.output.LayerNorm' : 'transformer.ln_f';
      const expected = layerNormRows(add(adapted, h), d, p(`${finalLn}.weight`), p(`${finalLn}.bias`), eps);
      assert.ok(maxDiff(got, f32(expected)) < 1e-4, `max diff ${maxDiff(got, f32(expected))}`);

      // The old placement (adapter on the raw FFN output) computes something else on the same weights.
      const raw = configureMethod('adapter-p', { r: 3, originalLnBefore: false });
      assert.equal(raw.config.originalLnBefore, false);
      applied.disable();
      assert.equal(maxDiff(values(() => hiddenOut(model)), baseFinal), 0, 'disabled = base model');
      applied.enable();
      const rawApplied = raw.apply(model, new Rng(1)) as AppliedAdapters;
      applied.disable();
      for (const [src, dst] of [[a.downW, rawApplied.adapters[0].downW], [a.downB, rawApplied.adapters[0].downB], [a.upW, rawApplied.adapters[0].upW], [a.upB, rawApplied.adapters[0].upB]]) dst.assign(src);
      assert.ok(maxDiff(values(() => hiddenOut(model)), got) > 1e-3, 'placement matters');
      rawApplied.remove();
      applied.remove();
      model.dispose();
    });
  }

  it('PreLayer with the MLP: count by hand; merged prefixes = tanh(P\'W1ᵀ + b1)W2ᵀ + b2; the plain form computes the same', async () => {
    const cfg = GPT2_TINY; // d 32, 2 layers
    const mid = 6;
    const n = 3; // l_p 2 + l_i 1
    const method = configureMethod('prefix-layer', { prefixLength: 2, infixLength: 1, prefixMlp: mid });
    // n·d + (d·m + m) + (m·L·d + L·d)
    assert.equal(method.formula(cfg), 3 * 32 + (32 * 6 + 6) + (6 * 2 * 32 + 2 * 32));
    assert.match(method.formulaText(cfg), /merged after training into L·d_model·\(l_p \+ l_i\) = 2·32·\(2 \+ 1\) = 192/);
    const model = build(cfg) as Gpt2Model;
    const batch = batchFor(model);
    const applied = method.apply(model, new Rng(2)) as AppliedPrefix;
    assert.deepEqual(applied.names, ['prefix_mlp.wte.weight', 'prefix_mlp.control_trans.0.weight', 'prefix_mlp.control_trans.0.bias', 'prefix_mlp.control_trans.2.weight', 'prefix_mlp.control_trans.2.bias']);
    const [wte, w1, b1, w2, b2] = applied.trainable.map(arr);
    const hidden = linearRows(wte, 32, w1, b1).map(Math.tanh);
    const out = linearRows(hidden, mid, w2, b2); // [n, L·d]
    const merged = applied.mergedPrefixes();
    assert.equal(merged.length, 2);
    merged.forEach((t, slot) => {
      assert.deepEqual(t.shape, [n, 32]);
      const expected = Array.from({ length: n * 32 }, (_, k) => out[Math.floor(k / 32) * 64 + slot * 32 + (k % 32)]);
      assert.ok(maxDiff(f32(arr(t)), f32(expected)) < 1e-5, `slot ${slot}`);
    });
    const mlpOut = values(() => model.logits(batch, EVAL));

    // A plain PreLayer holding the hand-computed prefixes gives the same logits.
    const fresh = build(cfg) as Gpt2Model;
    const plain = configureMethod('prefix-layer', { prefixLength: 2, infixLength: 1 }).apply(fresh, new Rng(9));
    plain.trainable.forEach((v, slot) => v.assign(merged[slot]));
    assert.ok(maxDiff(values(() => fresh.logits(batch, EVAL)), mlpOut) < 1e-5, 'plain prefixes = MLP form');
    plain.remove();
    for (const t of merged) t.dispose();

    // The artifact holds the merged prefixes under a plain config and restores as the plain method.
    const dir = mkdtempSync(join(tmpdir(), 'prelayer-mlp-'));
    await applied.save(dir);
    assert.throws(() => applied.load(dir), /saves merged plain prefixes/);
    const restored = restoreMethod(fresh, dir, new Rng(4));
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(restored.config, { prefixLength: 2, infixLength: 1 });
    assert.deepEqual(restored.names, ['prefix_layers.0.weight', 'prefix_layers.1.weight']);
    assert.equal(maxDiff(values(() => fresh.logits(batch, EVAL)), mlpOut), 0, 'restored = MLP form exactly');
    restored.remove();
    applied.remove();
    fresh.dispose();
    model.dispose();
  });

  it('PreLayer without prefixMlp keeps its config (and run ids): the key is absent', () => {
    assert.deepEqual(configureMethod('prefix-layer', { prefixLength: 5 }).config, { prefixLength: 5, infixLength: 0 });
    assert.throws(() => configureMethod('prefix-layer', { prefixLength: 5, prefixMlp: 0 }), /prefixMlp/);
    assert.throws(() => configureMethod('prefix-embed', { prefixLength: 5, prefixMlp: 512 }), /invalid config/);
  });

  it("FT^Top2 trains the last two blocks and GPT-2's ln_f; RoBERTa has no layer after its blocks", () => {
    const gpt2 = build(GPT2_TINY);
    const g = configureMethod('ft-top2', {}).apply(gpt2, new Rng(0));
    assert.ok(g.names.includes('transformer.ln_f.weight') && g.names.includes('transformer.ln_f.bias'));
    assert.ok(g.names.every((nm) => nm.startsWith('transformer.h.0.') || nm.startsWith('transformer.h.1.') || nm.startsWith('transformer.ln_f.')));
    g.remove();
    const without = configureMethod('ft-top2', { finalLayerNorm: false }).apply(gpt2, new Rng(0));
    assert.ok(!without.names.some((nm) => nm.includes('ln_f')));
    without.remove();
    gpt2.dispose();
    const rob = build(ROBERTA_TINY);
    const r = configureMethod('ft-top2', {}).apply(rob, new Rng(0));
    assert.ok(r.names.length > 0 && r.names.every((nm) => nm.startsWith('roberta.encoder.layer.')));
    r.remove();
    rob.dispose();
  });
});
