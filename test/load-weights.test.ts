/**
 * Loading checkpoints under the names real hub checkpoints use (issue 17): FacebookAI/roberta-base ships
 * its MLM head and pooler beside `roberta.*`; openai-community/gpt2-* use un-prefixed names (`h.0.…`,
 * `wte.weight`) and carry the `attn.bias` / `attn.masked_bias` buffers (transformers' modeling_roberta.py
 * / modeling_gpt2.py `_keys_to_ignore_on_load_*`). Tiny models are written under those names plus the
 * extras; the loaded model must compute what the source model (or the model loaded from exactly its own
 * names) computes, report the head extras as unused and the buffers as skipped, and stay strict about
 * the body and about shapes.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/select.ts';
import { f32, writeSafetensors, type TensorEntry } from '../src/io/safetensors.ts';
import { toHfConfigJson, type ModelConfig } from '../src/models/config.ts';
import { EVAL } from '../src/models/context.ts';
import { createModel, loadPretrained } from '../src/models/factory.ts';
import { loadReportLines } from '../src/models/load-weights.ts';
import type { TransformerModel } from '../src/models/model.ts';
import { RobertaModel } from '../src/models/roberta.ts';
import { Gpt2Model } from '../src/models/gpt2.ts';
import { buildModel, resolveModelSource, withHead } from '../src/train/model-source.ts';
import { UserError } from '../src/util/errors.ts';
import { maxAbsDiff } from './helpers/methods.ts';
import { randomBatch, tinyGpt2, tinyRoberta } from './helpers/tiny.ts';

type Tensors = Map<string, TensorEntry>;

function paramsOf(model: TransformerModel, keep: (name: string) => boolean): Tensors {
  const out: Tensors = new Map();
  for (const [name, v] of model.params.vars) if (keep(name)) out.set(name, f32(v.shape.slice(), Float32Array.from(v.dataSync())));
  return out;
}

function randomF32(shape: number[], seed: number): TensorEntry {
  const n = shape.reduce((a, b) => a * b, 1);
  return f32(shape, Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i)));
}

function renamed(t: Tensors, rename: (name: string) => string): Tensors {
  return new Map([...t].map(([n, e]) => [rename(n), e]));
}

function without(t: Tensors, name: string): Tensors {
  assert.ok(t.has(name), `fixture has ${name}`);
  return new Map([...t].filter(([n]) => n !== name));
}

function assertOneLineError(fn: () => unknown, ...parts: RegExp[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
    assert.ok(!err.message.includes('\n'), err.message);
    for (const re of parts) assert.match(err.message, re);
    return true;
  });
}

describe('loading checkpoints under real hub names', function () {
  let root: string;
  let n = 0;
  /** A model directory (config.json + model.safetensors) holding `tensors`. */
  const dir = (config: ModelConfig, tensors: Tensors): string => {
    const d = join(root, `m${n++}`);
    mkdirSync(d);
    writeSafetensors(join(d, 'model.safetensors'), tensors, { format: 'pt' });
    writeFileSync(join(d, 'config.json'), JSON.stringify(toHfConfigJson(config)));
    return d;
  };
  const weights = (d: string): string => join(d, 'model.safetensors');

  before(async () => {
    await initBackend('cpu');
    root = mkdtempSync(join(tmpdir(), 'lora-load-'));
  });

  after(() => rmSync(root, { recursive: true, force: true }));

  describe('RoBERTa (FacebookAI/roberta-base layout)', () => {
    const config = tinyRoberta();
    const batch = randomBatch(4, 3, 10, 'roberta');
    let source: RobertaModel;
    let body: Tensors;
    let headExtras: Tensors;
    let buffers: Tensors;

    before(() => {
      source = createModel(config, { seed: 1, robertaHeads: ['classification', 'mlm'] }) as RobertaModel;
      body = paramsOf(source, (name) => name.startsWith('roberta.'));
      headExtras = new Map([
        ...paramsOf(source, (name) => name.startsWith('lm_head.')),
        ['roberta.pooler.dense.weight', randomF32([32, 32], 1)],
        ['roberta.pooler.dense.bias', randomF32([32], 2)],
      ]);
      const words = source.params.get('roberta.embeddings.word_embeddings.weight');
      buffers = new Map<string, TensorEntry>([
        ['lm_head.decoder.weight', f32(words.shape.slice(), Float32Array.from(words.dataSync()))],
        ['roberta.embeddings.position_ids', { dtype: 'I64', shape: [1, 40], data: BigInt64Array.from({ length: 40 }, (_, i) => BigInt(i)) }],
      ]);
    });

    after(() => source.dispose());

    it('loads for classification: unused MLM head and pooler reported, buffers skipped, logits as from the exact names', () => {
      const real = dir(config, new Map([...body, ...headExtras, ...buffers]));
      const exact = dir(config, body);
      const a = loadPretrained(real, { seed: 5 });
      const b = loadPretrained(exact, { seed: 5 });
      try {
        const [la, lb] = [(a.model as RobertaModel).classify(batch, EVAL), (b.model as RobertaModel).classify(batch, EVAL)];
        assert.equal(maxAbsDiff(la, lb), 0);
        tf.dispose([la, lb]);
        assert.deepEqual(a.report.unused.slice().sort(), [...headExtras.keys()].sort());
        assert.deepEqual(a.report.skipped.slice().sort(), [...buffers.keys()].sort());
        assert.deepEqual(a.report.initialised.slice().sort(), ['classifier.dense.bias', 'classifier.dense.weight', 'classifier.out_proj.bias', 'classifier.out_proj.weight']);
        assert.deepEqual([b.report.unused, b.report.skipped], [[], []]);
        const lines = loadReportLines(a.report, weights(real));
        assert.equal(lines.length, 2);
        assert.match(lines[0] as string, /model\.safetensors: 7 checkpoint tensors of heads this model does not use were not loaded: .*lm_head\.bias/);
        assert.match(lines[1] as string, /4 head tensors are not in the checkpoint and keep their seeded initialisation: .*classifier\.out_proj\.weight/);
        // What the trainer logs (train/model-source.ts -> trainer.ts).
        const src = resolveModelSource(real);
        const built = buildModel(src, withHead(src.config, 3), 5);
        assert.deepEqual(built.loadNotes, lines);
        built.model.dispose();
      } finally {
        a.model.dispose();
        b.model.dispose();
      }
    });

    it('accepts base-model names without the roberta. prefix, and loads the MLM head when the task has it', () => {
      const bare = (name: string): string => name.replace(/^roberta\./, '');
      const real = dir(config, renamed(new Map([...body, ...headExtras, ...buffers]), bare));
      const cls = loadPretrained(real, { seed: 5 });
      const exact = loadPretrained(dir(config, body), { seed: 5 });
      const mlm = loadPretrained(real, { seed: 9, robertaHeads: ['mlm'] });
      try {
        const [la, lb] = [(cls.model as RobertaModel).classify(batch, EVAL), (exact.model as RobertaModel).classify(batch, EVAL)];
        assert.equal(maxAbsDiff(la, lb), 0);
        assert.deepEqual(cls.report.unused.slice().sort(), [...headExtras.keys()].map(bare).sort());
        // The MLM model's logits are the source model's: the head was loaded, not initialised.
        const [ma, ms] = [(mlm.model as RobertaModel).mlmLogits(batch, EVAL), source.mlmLogits(batch, EVAL)];
        assert.equal(maxAbsDiff(ma, ms), 0);
        tf.dispose([la, lb, ma, ms]);
        assert.deepEqual(mlm.report.unused.slice().sort(), ['pooler.dense.bias', 'pooler.dense.weight']);
        assert.deepEqual(mlm.report.initialised, []);
      } finally {
        for (const m of [cls.model, exact.model, mlm.model]) m.dispose();
      }
    });

    it('stays strict: a missing or unexpected body tensor, or a wrong shape, is one line naming it', () => {
      const all = new Map([...body, ...headExtras, ...buffers]);
      const missing = dir(config, without(all, 'roberta.encoder.layer.1.output.dense.weight'));
      assertOneLineError(() => loadPretrained(missing, { seed: 0 }), /model\.safetensors: checkpoint does not match the roberta model: missing roberta\.encoder\.layer\.1\.output\.dense\.weight$/);
      const extraLayer = dir(config, new Map([...all, ['roberta.encoder.layer.2.output.dense.weight', randomF32([32, 64], 3)]]));
      assertOneLineError(() => loadPretrained(extraLayer, { seed: 0 }), /: unexpected roberta\.encoder\.layer\.2\.output\.dense\.weight$/);
      const gpt2Buffer = dir(config, new Map([...all, ['h.0.attn.bias', randomF32([1, 1, 4, 4], 4)]]));
      assertOneLineError(() => loadPretrained(gpt2Buffer, { seed: 0 }), /: unexpected h\.0\.attn\.bias$/);
      const badShape = dir(config, new Map([...all, ['roberta.embeddings.word_embeddings.weight', randomF32([100, 16], 5)]]));
      assertOneLineError(() => loadPretrained(badShape, { seed: 0 }), /word_embeddings\.weight has shape \[100,16\] but the model expects \[100,32\]/);
      // A head the model has must match too (here the MLM bias of a model with that head).
      const badHead = dir(config, new Map([...all, ['lm_head.bias', randomF32([99], 6)]]));
      assertOneLineError(() => loadPretrained(badHead, { seed: 0, robertaHeads: ['mlm'] }), /lm_head\.bias has shape \[99\] but the model expects \[100\]/);
    });
  });

  describe('GPT-2 (openai-community/gpt2-* layout)', () => {
    const config = tinyGpt2();
    const batch = randomBatch(5, 2, 12, 'gpt2');
    let source: Gpt2Model;
    let body: Tensors;
    let buffers: Tensors;
    const bare = (name: string): string => name.replace(/^transformer\./, '');

    before(() => {
      source = createModel(config, { seed: 1 }) as Gpt2Model;
      body = paramsOf(source, () => true);
      const causal = Float32Array.from({ length: 32 * 32 }, (_, i) => (i % 32 <= Math.floor(i / 32) ? 1 : 0));
      buffers = new Map();
      for (let l = 0; l < 2; l++) {
        buffers.set(`h.${l}.attn.bias`, f32([1, 1, 32, 32], causal));
        buffers.set(`h.${l}.attn.masked_bias`, f32([], Float32Array.of(-1e4)));
      }
    });

    after(() => source.dispose());

    it('loads un-prefixed names with the attention buffers: logits are the source model’s, buffers skipped, nothing unused', () => {
      const real = dir(config, new Map([...renamed(body, bare), ...buffers]));
      const { model, report } = loadPretrained(real, { seed: 3 });
      const exact = loadPretrained(dir(config, body), { seed: 3 });
      try {
        const [la, ls, le] = [(model as Gpt2Model).logits(batch, EVAL), source.logits(batch, EVAL), (exact.model as Gpt2Model).logits(batch, EVAL)];
        assert.equal(maxAbsDiff(la, ls), 0);
        assert.equal(maxAbsDiff(la, le), 0);
        tf.dispose([la, ls, le]);
        assert.deepEqual(report.skipped.slice().sort(), [...buffers.keys()].sort());
        assert.deepEqual([report.unused, report.initialised], [[], []]);
        assert.deepEqual(loadReportLines(report, 'x'), []);
      } finally {
        model.dispose();
        exact.model.dispose();
      }
    });

    it('skips the tied lm_head.weight of GPT2LMHeadModel checkpoints; stays strict about the body, shapes and other heads', () => {
      const words = source.params.get('transformer.wte.weight');
      const lmHead = dir(config, new Map([...body, ['lm_head.weight', f32(words.shape.slice(), Float32Array.from(words.dataSync()))]]));
      const loaded = loadPretrained(lmHead, { seed: 0 });
      assert.deepEqual([loaded.report.skipped, loaded.report.unused], [['lm_head.weight'], []]);
      loaded.model.dispose();

      const all = new Map([...renamed(body, bare), ...buffers]);
      assertOneLineError(() => loadPretrained(dir(config, without(all, 'h.1.mlp.c_fc.bias')), { seed: 0 }), /checkpoint does not match the gpt2 model: missing transformer\.h\.1\.mlp\.c_fc\.bias$/);
      assertOneLineError(() => loadPretrained(dir(config, new Map([...all, ['wpe.weight', randomF32([16, 32], 7)]])), { seed: 0 }), /wpe\.weight has shape \[16,32\] but the model expects \[32,32\]/);
      // RoBERTa's head names are no head of GPT-2's.
      assertOneLineError(() => loadPretrained(dir(config, new Map([...all, ['lm_head.bias', randomF32([100], 8)]])), { seed: 0 }), /: unexpected lm_head\.bias$/);
    });
  });
});
