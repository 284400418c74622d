/**
 * Beam search with the reference E2E decoding semantics (microsoft/LoRA examples/NLG/src/gpt2_beam.py,
 * `beam`), step by step as ../shared/fixtures/parity/gpt2-tiny/expected.json spells it out:
 * - step 0 expands only beam 0 (all beams start identical);
 * - logprob = log(softmax(processed logits)) in float32; candidates = beam score + logprob over
 *   beam × vocab, the top `beam` kept (sorted);
 * - a beam whose last token is an end-of-sequence id becomes a candidate with score
 *   beam_score / cur_len ** length_penalty (cur_len counts the eos) and is frozen at −∞;
 * - after the last step every live beam is a candidate; the best candidate wins (strict >, first on ties).
 * A key/value cache makes every step after the prompt cost one token.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Gpt2Model, KvCache } from '../models/gpt2.ts';
import { disposeCache, gatherCache } from '../models/gpt2.ts';
import { tokenBatch } from '../models/batch.ts';
import { EVAL } from '../models/context.ts';
import { processLogits, type StepRules } from './logits-processing.ts';

export interface BeamSettings extends StepRules {
  beam: number;
  lengthPenalty: number;
  /** eval_len: the number of decoding steps. */
  maxNewTokens: number;
}

export interface BeamResult {
  tokens: number[];
  score: number;
  finishedByEos: boolean;
}

/** Logits of the last position of each row, on the host. */
async function lastLogits(model: Gpt2Model, rows: number[][], past: KvCache | undefined): Promise<{ logits: Float32Array[]; cache: KvCache }> {
  const batch = tokenBatch(rows);
  const { hidden, cache } = model.forward(batch, EVAL, { past, returnCache: true });
  const flat = tf.tidy(() => {
    const last = tf.slice(hidden, [0, batch.seqLen - 1, 0], [batch.batch, 1, hidden.shape[2]]);
    return model.lmLogits(last as tf.Tensor3D);
  });
  hidden.dispose();
  const data = (await flat.data()) as Float32Array;
  flat.dispose();
  const v = model.config.vocabSize;
  return { logits: rows.map((_, i) => data.slice(i * v, (i + 1) * v)), cache: cache! };
}

/** log(softmax(x)) in float32, as the reference computes it (not log_softmax). */
async function logSoftmaxF32(rows: Float32Array[]): Promise<Float32Array[]> {
  const v = rows[0].length;
  const flat = new Float32Array(rows.length * v);
  rows.forEach((r, i) => flat.set(r, i * v));
  // The tidy returns only the tensor: tidy walks its result looking for tensors, and walking
  // beam × vocab numbers cost ~50 ms per decoding step (8× the model's own forward pass).
  const t = tf.tidy(() => tf.log(tf.softmax(tf.tensor2d(flat, [rows.length, v]), -1)));
  const out = (await t.data()) as Float32Array;
  t.dispose();
  return rows.map((_, i) => out.slice(i * v, (i + 1) * v));
}

/** Indices of the k largest values, sorted descending; ties keep the lower index first. */
function topK(values: Float32Array, k: number): number[] {
  const idx: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (idx.length < k || values[i] > values[idx[idx.length - 1]]) {
      let j = idx.length < k ? idx.length : k - 1;
      if (idx.length < k) idx.push(i);
      while (j > 0 && values[idx[j - 1]] < values[i]) {
        idx[j] = idx[j - 1];
        j--;
      }
      idx[j] = i;
    }
  }
  return idx;
}

export async function beamSearch(model: Gpt2Model, context: number[], s: BeamSettings): Promise<BeamResult> {
  if (context.length === 0) throw new Error('beam search needs a non-empty context');
  const vocab = model.config.vocabSize;
  let histories: number[][] = [];
  let beamScores = new Float32Array(s.beam);
  let best: { score: number; tokens: number[]; eos: boolean } | undefined;
  let cache: KvCache | undefined;
  let lastTokens: number[] = [];

  const addCandidates = (requireEos: boolean): void => {
    for (let b = 0; b < s.beam; b++) {
      const h = histories[b];
      if (requireEos && !s.eosTokenIds.includes(h[h.length - 1])) continue;
      const score = Math.fround(beamScores[b] / Math.pow(h.length, s.lengthPenalty));
      if (best === undefined || best.score < score) best = { score, tokens: [...h], eos: requireEos };
      beamScores[b] = -Infinity;
    }
  };

  try {
    for (let step = 0; step < s.maxNewTokens; step++) {
      const { logits, cache: next } =
        step === 0 ? await lastLogits(model, [context], undefined) : await lastLogits(model, lastTokens.map((t) => [t]), cache);
      disposeCache(cache);
      cache = next;
      logits.forEach((row, b) => processLogits(row, step === 0 ? undefined : histories[b], step, s));
      const logprobs = await logSoftmaxF32(logits);
      // Step 0: only beam 0 (the prompt was run once); later: beam score + logprob over beam × vocab.
      let candidates: Float32Array;
      if (step === 0) {
        candidates = logprobs[0];
      } else {
        candidates = new Float32Array(s.beam * vocab);
        for (let b = 0; b < s.beam; b++) {
          for (let t = 0; t < vocab; t++) candidates[b * vocab + t] = beamScores[b] + logprobs[b][t];
        }
      }
      const chosen = topK(candidates, s.beam);
      const beamIds = chosen.map((c) => Math.floor(c / vocab));
      lastTokens = chosen.map((c) => c % vocab);
      const reordered = gatherCache(cache, beamIds);
      disposeCache(cache);
      cache = reordered;
      beamScores = Float32Array.from(chosen.map((c) => candidates[c]));
      histories = beamIds.map((b, i) => [...(step === 0 ? [] : histories[b]), lastTokens[i]]);
      addCandidates(true);
    }
    addCandidates(false);
  } finally {
    disposeCache(cache);
  }
  return { tokens: best!.tokens, score: best!.score, finishedByEos: best!.eos };
}
