/**
 * Prefix-embedding / prefix-layer tuning: positions, attention masks and the KV cache, checked
 * against an independent construction. If the trainable vectors are set to the activations the base
 * model computes for real tokens c at those places, the adapted model on x must equal the base model
 * on the sequence with c inserted (prefix, and infix after the prompt), token for token.
 */
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/select.ts';
import { configureMethod } from '../src/methods/registry.ts';
import type { AppliedPrefix } from '../src/methods/prefix-module.ts';
import { tokenBatch, type TokenBatch } from '../src/models/batch.ts';
import { EVAL } from '../src/models/context.ts';
import { Gpt2Model, disposeCache, type KvCache } from '../src/models/gpt2.ts';
import type { BlockHooks } from '../src/models/hooks.ts';
import type { TransformerModel } from '../src/models/model.ts';
import { RobertaModel } from '../src/models/roberta.ts';
import { Rng } from '../src/util/rng.ts';
import { GPT2_TINY, ROBERTA_TINY, build, maxAbsDiff, maxDiff, values } from './helpers/methods.ts';

/** Row `row` with `pre` inserted at `at` and `inf` inserted at `infixAt` (mask 1 for inserted). */
function insertTokens(row: number[], mask: number[], at: number, pre: number[], infixAt: number, inf: number[]): { ids: number[]; mask: number[]; realPos: number[] } {
  const ids: number[] = [];
  const m: number[] = [];
  const realPos: number[] = [];
  row.forEach((id, t) => {
    if (t === at) for (const c of pre) (ids.push(c), m.push(1));
    if (t === infixAt) for (const c of inf) (ids.push(c), m.push(1));
    realPos.push(ids.length);
    ids.push(id);
    m.push(mask[t]);
  });
  if (infixAt === row.length) for (const c of inf) (ids.push(c), m.push(1));
  return { ids, mask: m, realPos };
}

/** Rows [t, :] of h [B, L, d] at the given positions of row 0, as an [n, d] tensor. */
function rowsAt(h: tf.Tensor, positions: number[]): tf.Tensor2D {
  return tf.tidy(() => tf.gather(tf.squeeze(tf.slice(h, [0, 0, 0], [1, -1, -1]), [0]), tf.tensor1d(positions, 'int32')) as tf.Tensor2D);
}

/** Runs the base model on `batch` and records the hidden states after the embeddings and each block. */
function captureActivations(model: TransformerModel, batch: TokenBatch): tf.Tensor[] {
  const seen: tf.Tensor[] = [];
  const spy: BlockHooks = {
    afterEmbeddings: (out) => (seen.push(tf.keep(out.hidden.clone())), out),
    afterBlock: (_l, h) => (seen.push(tf.keep(h.clone())), h),
  };
  model.hooks.push(spy);
  tf.tidy(() => (model.modelType !== 'gpt2' ? model.encode(batch, EVAL).hidden : model.logits(batch, EVAL)));
  model.hooks.splice(model.hooks.indexOf(spy), 1);
  return seen;
}

describe('prefix tuning: positions, masks and cache', () => {
  before(async () => {
    await initBackend('wasm');
  });

  const cases = [
    { name: 'GPT-2 prefix-embed, prefix + infix after a 3-token prompt', cfg: GPT2_TINY, method: 'prefix-embed' },
    { name: 'GPT-2 prefix-layer, prefix + infix', cfg: GPT2_TINY, method: 'prefix-layer' },
    { name: 'RoBERTa prefix-embed, padded rows (mask widened, positions shifted)', cfg: ROBERTA_TINY, method: 'prefix-embed' },
    // Bidirectional attention: a special token's activation after a block depends on its whole row,
    // so one padded row here (the vectors are shared by all rows).
    { name: 'RoBERTa prefix-layer, a padded row', cfg: ROBERTA_TINY, method: 'prefix-layer', single: true },
  ];
  for (const c of cases) {
    it(`${c.name}: equals the base model on the sequence with the tokens inserted`, () => {
      const model = build(c.cfg);
      const roberta = model.modelType === 'roberta';
      // Both rows share the prompt before the infix, so the infix activations are the same in both.
      const allRows = roberta
        ? [
            [0, 5, 6, 7, 8, 2],
            [0, 5, 6, 7, 2, 1],
          ]
        : [
            [5, 6, 7, 8, 9, 10],
            [5, 6, 7, 14, 0, 0],
          ];
      const allMasks = [
        [1, 1, 1, 1, 1, 1],
        [1, 1, 1, 1, roberta ? 1 : 0, 0],
      ];
      const rows = 'single' in c ? allRows.slice(1) : allRows;
      const masks = 'single' in c ? allMasks.slice(1) : allMasks;
      const pre = [20, 21];
      const inf = [22, 23];
      const at = roberta ? 1 : 0;
      const infixAt = 4;
      const joined = rows.map((r, b) => insertTokens(r, masks[b], at, pre, infixAt, inf));
      const full = tokenBatch(
        joined.map((j) => j.ids),
        joined.map((j) => j.mask),
      );
      const acts = captureActivations(model, full);
      const special = [...pre.map((_, j) => at + j), ...inf.map((_, j) => joined[0].realPos[infixAt - 1] + 1 + j)];
      const expected = values(() => (roberta ? (model as RobertaModel).encode(full, EVAL).hidden : (model as Gpt2Model).logits(full, EVAL)));

      const applied = configureMethod(c.method, { prefixLength: pre.length, infixLength: inf.length }).apply(model, new Rng(1)) as AppliedPrefix;
      applied.setPromptLengths(rows.map(() => infixAt));
      applied.trainable.forEach((v, j) => {
        const a = rowsAt(acts[j], special);
        v.assign(a);
        a.dispose();
      });
      const batch = tokenBatch(rows, masks);
      const got = values(() => (roberta ? (model as RobertaModel).encode(batch, EVAL).hidden : (model as Gpt2Model).logits(batch, EVAL)));
      const width = roberta ? c.cfg.hidden : c.cfg.vocabSize;
      let err = 0;
      joined.forEach((j, b) =>
        j.realPos.forEach((p, t) => {
          if (masks[b][t] === 0) return; // padded positions carry no meaning
          for (let k = 0; k < width; k++) err = Math.max(err, Math.abs(got[(b * rows[0].length + t) * width + k] - expected[(b * j.ids.length + p) * width + k]));
        }),
      );
      assert.ok(err < 2e-5, `max |diff| ${err}`);
      if (roberta) {
        // The classifier still reads <s>: same logits as the base model on the joined sequence.
        applied.disable();
        const base = values(() => (model as RobertaModel).classify(full, EVAL));
        applied.enable();
        assert.ok(maxDiff(values(() => (model as RobertaModel).classify(batch, EVAL)), base) < 2e-5);
      }
      tf.dispose(acts);
      applied.remove();
      model.dispose();
    });
  }

  it('GPT-2 decoding with a KV cache continues at the right positions (prefix + infix in the cache)', () => {
    const model = build(GPT2_TINY) as Gpt2Model;
    const applied = configureMethod('prefix-embed', { prefixLength: 2, infixLength: 1 }).apply(model, new Rng(5)) as AppliedPrefix;
    const ids = [5, 6, 7, 8, 9, 10];
    applied.setPromptLengths([4]);
    const full = model.logits(tokenBatch([ids]), EVAL);
    applied.setPromptLengths(undefined); // the infix goes after the prompt fed in the first step
    let cache: KvCache | undefined;
    const step = (tokens: number[]): tf.Tensor => {
      const { hidden, cache: next } = model.forward(tokenBatch([tokens]), EVAL, { past: cache, returnCache: true });
      disposeCache(cache);
      cache = next;
      const logits = tf.tidy(() => model.lmLogits(hidden));
      hidden.dispose();
      return logits;
    };
    const first = step(ids.slice(0, 4));
    assert.equal(cache!.length, 4 + 3, 'the cache holds the inserted tokens');
    assert.ok(maxAbsDiff(first, tf.slice(full, [0, 0, 0], [1, 4, -1])) < 2e-5);
    for (const t of [4, 5]) {
      const next = step([ids[t]]);
      assert.ok(maxAbsDiff(next, tf.slice(full, [0, t, 0], [1, 1, -1])) < 2e-5, `token ${t}`);
      next.dispose();
    }
    first.dispose();
    full.dispose();
    disposeCache(cache);
    applied.remove();
    model.dispose();
  });
});
