/**
 * Decoding benchmark of a GPT-2 model with the key/value cache (random weights, random prompt):
 * 1. cost per new token against sequence length — each step feeds `beam` rows of one token, reuses
 *    and reorders the cache (as beam search does) and reads the last logits; with the cache the cost
 *    should stay flat-ish as the sequence grows (attention over T keys is the only part that grows);
 * 2. end-to-end beam search with the paper's E2E decoding (../generate/paper-decoding.ts; `beam` and
 *    the new tokens as given; no end-of-sequence, so every run decodes the full length): tokens/s.
 */
import * as tf from '@tensorflow/tfjs-core';
import { activeBackend } from '../backend/select.ts';
import { tokenBatch } from '../models/batch.ts';
import { builtinConfig } from '../models/config.ts';
import { EVAL } from '../models/context.ts';
import { createModel } from '../models/factory.ts';
import { Gpt2Model, disposeCache, gatherCache, type KvCache } from '../models/gpt2.ts';
import { beamSearch } from '../generate/beam-search.ts';
import { PAPER_DECODING } from '../generate/paper-decoding.ts';
import { Rng } from '../util/rng.ts';
import { median } from '../util/stats.ts';
import { UserError } from '../util/errors.ts';
import { checkBenchSizes } from './train-bench.ts';

export interface DecodeBenchOptions {
  model: string;
  beam: number;
  /** Prompt length before the timed steps. */
  prompt: number;
  /** Sequence length reached by the per-token measurement. */
  maxLength: number;
  /** New tokens of the end-to-end beam search. */
  newTokens: number;
  seed: number;
}

export interface DecodeBenchResult {
  model: string;
  beam: number;
  /** Median ms per decoding step (beam rows × 1 token) in each window of sequence length. */
  perToken: { fromLength: number; toLength: number; ms: number }[];
  /** Last window's ms per token ÷ first window's (1 = perfectly flat). */
  growth: number;
  e2e: { prompt: number; newTokens: number; seconds: number; tokensPerSecond: number; beamTokensPerSecond: number };
  backend: string;
  kernels: string;
  tensorsBefore: number;
  tensorsAfter: number;
}

async function cachedStep(model: Gpt2Model, rows: number[][], past: KvCache | undefined): Promise<KvCache> {
  const { hidden, cache } = model.forward(tokenBatch(rows), EVAL, { past, returnCache: true });
  const logits = tf.tidy(() => model.lmLogits(tf.slice(hidden, [0, hidden.shape[1] - 1, 0], [hidden.shape[0], 1, hidden.shape[2]]) as tf.Tensor3D));
  await logits.data();
  tf.dispose([hidden, logits]);
  return cache!;
}

export async function runDecodeBench(o: DecodeBenchOptions): Promise<DecodeBenchResult> {
  const config = builtinConfig(o.model);
  if (config.modelType !== 'gpt2') throw new UserError(`--model ${o.model}: the decode benchmark needs a GPT-2 model (bench-gpt2, gpt2-medium, gpt2-large)`);
  checkBenchSizes(config, o.model, { 'max-length': o.maxLength, prompt: o.prompt, beam: o.beam }, 'max-length');
  if (o.prompt >= o.maxLength) throw new UserError(`--prompt ${o.prompt}: must be shorter than --max-length ${o.maxLength}`);
  const model = createModel(config, { seed: o.seed }) as Gpt2Model;
  const rng = new Rng(o.seed);
  const token = () => 3 + rng.int(config.vocabSize - 3);
  const tensorsBefore = tf.memory().numTensors;

  // 1. Per-token cost: prompt once, then one token per beam row per step, reordering the cache.
  const times: number[] = [];
  let cache = await cachedStep(model, [Array.from({ length: o.prompt }, token)], undefined);
  let grown = gatherCache(cache, Array(o.beam).fill(0));
  disposeCache(cache);
  cache = grown;
  for (let len = o.prompt; len < o.maxLength; len++) {
    const t0 = performance.now();
    const next = await cachedStep(model, Array.from({ length: o.beam }, () => [token()]), cache);
    disposeCache(cache);
    grown = gatherCache(next, Array.from({ length: o.beam }, () => rng.int(o.beam)));
    disposeCache(next);
    cache = grown;
    times.push(performance.now() - t0);
  }
  disposeCache(cache);
  const windows = 8;
  const per = Math.max(1, Math.floor(times.length / windows));
  const perToken: DecodeBenchResult['perToken'] = [];
  for (let i = 0; i + per <= times.length; i += per) {
    // Median of the window: robust to a garbage collection or another process's burst.
    perToken.push({ fromLength: o.prompt + i, toLength: o.prompt + i + per, ms: median(times.slice(i, i + per)) });
  }

  // 2. End-to-end beam search (E2E settings).
  const context = Array.from({ length: o.prompt }, token);
  const t0 = performance.now();
  const { lengthPenalty, repetitionPenalty, noRepeatNgramSize } = PAPER_DECODING;
  await beamSearch(model, context, { beam: o.beam, lengthPenalty, maxNewTokens: o.newTokens, repetitionPenalty, noRepeatNgramSize, minLength: 0, eosTokenIds: [] });
  const seconds = (performance.now() - t0) / 1000;
  const tensorsAfter = tf.memory().numTensors;
  model.dispose();
  const b = activeBackend();
  return {
    model: o.model,
    beam: o.beam,
    perToken,
    growth: perToken[perToken.length - 1].ms / perToken[0].ms,
    e2e: { prompt: o.prompt, newTokens: o.newTokens, seconds, tokensPerSecond: o.newTokens / seconds, beamTokensPerSecond: (o.newTokens * o.beam) / seconds },
    backend: b?.name ?? 'unknown',
    kernels: b?.kernelsDetail ?? 'unknown',
    tensorsBefore,
    tensorsAfter,
  };
}
