/**
 * Invariants every adaptation method must keep, on tiny RoBERTa and GPT-2 models: identity at
 * initialisation where the method promises it, one optimiser step changes nothing but the method's
 * trainable variables and the head, save → load reproduces outputs exactly, disabling gives the base
 * model, remove() restores it and frees the method's tensors, the tensor count stays flat over steps,
 * and the counted trainable size equals the closed-form formula (real build and shapes-only build).
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/select.ts';
import { countParams, sizeOf } from '../src/methods/count.ts';
import { configureMethod } from '../src/methods/registry.ts';
import { restoreMethod } from '../src/methods/restore.ts';
import type { ModelConfig } from '../src/models/config.ts';
import { AdamW } from '../src/train/optim.ts';
import { trainStep } from '../src/train/step.ts';
import { Rng } from '../src/util/rng.ts';
import { GPT2_TINY, ROBERTA_TINY, backbone, batchFor, build, changed, loss, maxDiff, outputs, snapshot, values } from './helpers/methods.ts';

interface Case {
  method: string;
  config: Record<string, unknown>;
  /** The method promises the pretrained model's outputs at initialisation. */
  identity: boolean;
}

const CASES: Case[] = [
  { method: 'ft', config: {}, identity: true },
  { method: 'ft-top2', config: {}, identity: true },
  { method: 'bitfit', config: {}, identity: true },
  { method: 'adapter-h', config: { r: 4 }, identity: true },
  { method: 'adapter-p', config: { r: 4 }, identity: true },
  { method: 'adapter-l', config: { r: 4, ln: true }, identity: true },
  { method: 'adapter-d', config: { r: 4, dropLayers: 1 }, identity: true },
  { method: 'prefix-embed', config: { prefixLength: 3, infixLength: 2 }, identity: false },
  { method: 'prefix-layer', config: { prefixLength: 2, infixLength: 1 }, identity: false },
  { method: 'prefix-layer', config: { prefixLength: 2, infixLength: 1, prefixMlp: 8 }, identity: false },
  { method: 'lora', config: { r: 4, alpha: 8, targets: ['q', 'v'] }, identity: true },
  { method: 'lora', config: { r: 2, alpha: 4, targets: ['q', 'k', 'v', 'o', 'ffn1', 'ffn2'], layers: [1], dropout: 0.1 }, identity: true },
  { method: 'compacter', config: { r: 4, phmDim: 2 }, identity: true },
  { method: 'intrinsic', config: { dim: 8 }, identity: true },
  { method: 'intrinsic', config: { dim: 8, projection: 'fastfood' }, identity: true },
];

const FAMILIES: [string, ModelConfig][] = [
  ['roberta', ROBERTA_TINY],
  ['gpt2', GPT2_TINY],
];

describe('adaptation methods: invariants', () => {
  let dir: string;
  before(async () => {
    await initBackend('wasm');
    dir = mkdtempSync(join(tmpdir(), 'methods-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [family, cfg] of FAMILIES) {
    for (const c of CASES) {
      it(`${family} ${c.method} ${JSON.stringify(c.config)}`, async () => {
        const method = configureMethod(c.method, c.config);
        const model = build(cfg);
        const batch = batchFor(model);
        const base = values(() => outputs(model, batch));
        const baseBackbone = values(() => backbone(model, batch));
        const tensorsBefore = tf.memory().numTensors;
        const applied = method.apply(model, new Rng(1));
        const created = tf.memory().numTensors - tensorsBefore;

        // The count of what really trains equals the closed form, here and in the shapes-only build.
        assert.equal(sizeOf(applied.trainable), method.formula(cfg), 'counted trainable = formula');
        assert.equal(countParams('tiny', cfg, method).trainable, sizeOf(applied.trainable), 'shapes-only count = real count');
        assert.equal(applied.names.length, applied.trainable.length);
        const head = new Set(applied.head);
        assert.ok(applied.trainable.every((v) => !head.has(v)), 'the head is not among the trainable variables');

        if (c.identity) assert.equal(maxDiff(values(() => outputs(model, batch)), base), 0, 'identity at initialisation');

        // One step: only the method's variables and the head may change.
        const everything = [...new Set([...model.params.vars.values(), ...applied.trainable])];
        const before = snapshot(everything);
        const opt = new AdamW({ weightDecay: 0.01 });
        const vars = [...applied.trainable, ...applied.head];
        const ctx = { training: true, rng: new Rng(3) };
        await trainStep(() => loss(model, batch, ctx), vars, opt, 1e-2);
        const allowed = new Set(vars);
        const moved = everything.filter((v) => changed(v, before.get(v)!));
        assert.deepEqual(moved.filter((v) => !allowed.has(v)).map((v) => v.name), [], 'nothing outside trainable + head changed');
        assert.ok(moved.some((v) => applied.trainable.includes(v)), 'some trainable variable changed');

        // The tensor count is flat across further steps (AdamW's slots exist after the first).
        const count = tf.memory().numTensors;
        for (let i = 0; i < 2; i++) await trainStep(() => loss(model, batch, ctx), vars, opt, 1e-2);
        assert.equal(tf.memory().numTensors, count, 'no tensor leaked per step');

        const trained = values(() => outputs(model, batch));
        if (c.identity) assert.ok(maxDiff(trained, base) > 0, 'training changed the outputs');

        // Disabling gives the base model's backbone exactly; enabling gives the trained model back.
        applied.disable();
        assert.equal(maxDiff(values(() => backbone(model, batch)), baseBackbone), 0, 'disabled = base model');
        applied.enable();
        assert.equal(maxDiff(values(() => outputs(model, batch)), trained), 0, 're-enabled = trained model');

        // save → load onto a fresh copy of the base model (different method init) reproduces outputs.
        // PreLayer's MLP form saves its merged plain prefixes: it restores as the plain method.
        const out = join(dir, `${family}-${c.method}-${CASES.indexOf(c)}`);
        await applied.save(out, { baseModel: 'tiny' });
        const fresh = build(cfg);
        const merged = c.config.prefixMlp !== undefined;
        const again = merged ? restoreMethod(fresh, out, new Rng(99)) : method.apply(fresh, new Rng(99));
        if (!merged) again.load(out);
        assert.equal(maxDiff(values(() => outputs(fresh, batch)), trained), 0, 'save → load reproduces the outputs exactly');
        again.remove();
        fresh.dispose();

        // remove() restores the base model and frees every tensor apply() created. (Measured as a
        // difference: AdamW's slot initialisers leak one handle per slot, outside this module.)
        opt.dispose();
        const beforeRemove = tf.memory().numTensors;
        applied.remove();
        assert.equal(maxDiff(values(() => backbone(model, batch)), baseBackbone), 0, 'removed = base model');
        assert.equal(beforeRemove - tf.memory().numTensors, created, 'remove() freed the method tensors');
        model.dispose();
      });
    }
  }

  it('formula equals the counted trainable size on several configurations (shapes-only builds)', () => {
    const configs: [string, Record<string, unknown>][] = [
      ['ft', {}],
      ['ft-top2', {}],
      ['bitfit', {}],
      ['adapter-h', { r: 3 }],
      ['adapter-p', { r: 5 }],
      ['adapter-l', { r: 6 }],
      ['adapter-l', { r: 6, ln: true }],
      ['adapter-d', { r: 2, dropLayers: 2, placement: 'pfeiffer' }],
      ['prefix-embed', { prefixLength: 4 }],
      ['prefix-layer', { prefixLength: 1, infixLength: 3 }],
      ['prefix-layer', { prefixLength: 2, prefixMlp: 7 }],
      ['ft-top2', { finalLayerNorm: false }],
      ['adapter-p', { r: 5, originalLnBefore: false }],
      ['lora', { r: 3, targets: ['k', 'o', 'ffn2'], layers: [0, 2] }],
      ['lora', { r: 1, targets: ['q', 'k', 'v', 'o', 'ffn1', 'ffn2'] }],
      ['compacter', { r: 8, phmDim: 4, placement: 'pfeiffer' }],
      ['intrinsic', { dim: 100 }],
    ];
    const shapes: ModelConfig[] = [
      { ...ROBERTA_TINY, layers: 3, hidden: 48, intermediate: 80, numLabels: 5 },
      { ...GPT2_TINY, layers: 4, hidden: 40, intermediate: 72 },
      { ...ROBERTA_TINY, layers: 12, hidden: 768, intermediate: 3072, vocabSize: 50265, maxPositions: 514 },
    ];
    for (const shape of shapes) {
      for (const [name, raw] of configs) {
        const c = countParams('shape', shape, configureMethod(name, raw));
        assert.equal(c.trainable, c.formula, `${name} ${JSON.stringify(raw)} on ${shape.modelType} d=${shape.hidden}`);
      }
    }
  });
});
