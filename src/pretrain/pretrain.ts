/**
 * The pretraining loop: a randomly initialised RoBERTa or DeBERTa-v2 (masked LM on packed blocks,
 * alternating with sentence-pair steps when settings.nspEvery > 0, see next-sentence.ts) or GPT-2 (causal LM on packed
 * blocks) trained from scratch with AdamW, linear warm-up and linear decay, gradient clipping, every
 * parameter trainable. Fixed held-out blocks (and held-out sentence pairs) are scored before and
 * after training, so the reported gains are not just memorisation of the batches seen.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../models/config.ts';
import { createModel } from '../models/factory.ts';
import type { TransformerModel } from '../models/model.ts';
import { AdamW } from '../train/adamw.ts';
import { trainStep } from '../train/step.ts';
import { Rng } from '../util/rng.ts';
import { maskTokens, type MlmMaskingOptions } from './mlm-masking.ts';
import { isPretrainClassifier } from './artifacts.ts';
import { collatePairs, lengthGroupedBatches, makeSentencePair, padPairs, type PairLayoutIds, type SentencePair } from './next-sentence.ts';
import { blockBagOfWords } from './bag-of-words.ts';
import { blockBatch, blockStepLoss, clmLoss, mlmLoss, nspAccuracy, pairStepLoss } from './objectives.ts';
import type { PretrainSettings } from './pretrain-config.ts';

export interface PretrainInput {
  settings: PretrainSettings;
  config: ModelConfig;
  blocks: Int32Array[];
  /** RoBERTa / DeBERTa: how to corrupt blocks (mask id, vocabulary, special ids). */
  masking?: Omit<MlmMaskingOptions, 'probability'>;
  /**
   * RoBERTa / DeBERTa with settings.nspEvery > 0: the documents (token ids, no special tokens) cut into
   * sentence pairs for next-sentence prediction (next-sentence.ts), and the pair layout's ids.
   */
  pairs?: { documents: Int32Array[]; ids: PairLayoutIds };
  seed: number;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
  /**
   * Steps after which `onSnapshot` receives the model mid-run with its held-out loss (the
   * score-against-pretraining-compute study of docs/stand-ins.md). The schedule is the full run's:
   * a snapshot is a point on the way, not a shorter run. Does not change the final weights.
   */
  snapshotSteps?: readonly number[];
  onSnapshot?: (step: number, model: TransformerModel, heldOutLoss: number, trainSeconds: number) => void;
}

export interface PretrainOutcome {
  model: TransformerModel;
  /** Training loss of every block step (masked LM, plus bag of words when on; causal LM: every step). */
  lossCurve: number[];
  /** Masked-LM + next-sentence + bag-of-words loss of every sentence-pair step (RoBERTa / DeBERTa with nspEvery > 0). */
  pairLossCurve?: number[];
  /** Held-out loss before and after training (ln(vocab) ≈ the loss of a uniform guess). */
  evalLoss: { before: number; after: number };
  /** Held-out next-sentence accuracy before and after (RoBERTa / DeBERTa with nspEvery > 0; chance is 0.5). */
  nspAccuracy?: { before: number; after: number; pairs: number };
  /** Median wall time of a step, and of the whole loop. */
  msPerStep: number;
  trainSeconds: number;
  trainBlocks: number;
  evalBlocks: number;
}

/** HF get_linear_schedule_with_warmup, counting the first step as 1 so it does not run at lr 0. */
export function linearSchedule(step: number, s: Pick<PretrainSettings, 'learningRate' | 'warmupSteps' | 'steps'>): number {
  const k = step + 1;
  if (k <= s.warmupSteps) return (s.learningRate * k) / s.warmupSteps;
  return s.learningRate * Math.max(0, (s.steps - k) / Math.max(1, s.steps - s.warmupSteps));
}

/** Biases and LayerNorm weights get no weight decay (the reference run_*.py grouping). */
function isNoDecay(name: string): boolean {
  return name.endsWith('.bias') || /LayerNorm|layer_norm|\.ln_/.test(name);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : (s[Math.floor((s.length - 1) / 2)] as number);
};

/** The training blocks cut into pieces of shortSeqLen tokens (none when the short phase is off). */
function shortPhase(blocks: Int32Array[], s: PretrainSettings): Int32Array[] {
  if (s.shortSeqSteps <= 0) return [];
  if (s.seqLen % s.shortSeqLen !== 0) throw new Error(`pretrainModel: shortSeqLen ${s.shortSeqLen} must divide seqLen ${s.seqLen}`);
  const out: Int32Array[] = [];
  for (const b of blocks) for (let i = 0; i < b.length; i += s.shortSeqLen) out.push(b.subarray(i, i + s.shortSeqLen));
  return out;
}

export async function pretrainModel(input: PretrainInput): Promise<PretrainOutcome> {
  const { settings: s, config, seed } = input;
  const log = input.log ?? (() => {});
  const masked = config.modelType !== 'gpt2';
  if (masked && input.masking === undefined) throw new Error(`pretrainModel: ${config.modelType} needs masking options`);
  // The held-out split depends on the blocks only, not on the seed: every seed is scored on the same text.
  const order = new Rng(0).shuffle(input.blocks.map((_, i) => i));
  const nEval = Math.min(s.evalBlocks, Math.floor(input.blocks.length / 10));
  const evalSet = order.slice(0, nEval).map((i) => input.blocks[i] as Int32Array);
  const trainSet = order.slice(nEval).map((i) => input.blocks[i] as Int32Array);
  if (trainSet.length < s.batchSize) {
    throw new Error(`pretrainModel: ${trainSet.length} training blocks of ${s.seqLen} tokens, fewer than one batch of ${s.batchSize}: use a larger corpus`);
  }

  const nsp = s.nspEvery > 0 && masked;
  if (nsp && input.pairs === undefined) throw new Error('pretrainModel: next-sentence prediction needs input.pairs');
  // Held-out pairs come from documents no pair step trains on (the seam is what IsNext is about).
  const pairDocs = nsp ? new Rng(0).shuffle([...(input.pairs?.documents ?? [])]) : [];
  const nEvalPairs = Math.min(s.evalBlocks * 8, Math.floor(pairDocs.length / 10));
  const evalPairDocs = pairDocs.slice(0, nEvalPairs);
  const trainPairDocs = pairDocs.slice(nEvalPairs);
  const pairIds = input.pairs?.ids as PairLayoutIds;
  const evalPairs = evalPairDocs.map((_, i) => makeSentencePair(evalPairDocs, i, new Rng(2_000_003 + i), pairIds, s.seqLen));

  const rng = new Rng(seed);
  // The classification head is the next-sentence head while pretraining; artifacts.ts does not save it.
  const heads: ('mlm' | 'classification')[] = nsp ? ['mlm', 'classification'] : ['mlm'];
  const model = createModel(config, { seed: rng.nextSeed(), robertaHeads: heads, debertaHeads: heads });
  const masking = input.masking === undefined ? undefined : { ...input.masking, probability: s.mlmProbability };
  // Fixed masks for the held-out blocks, so before/after compare the same predictions.
  const evalMasks = masking === undefined ? [] : evalSet.map((b, i) => maskTokens(b, masking, new Rng(1_000_003 + i)));
  // No dropout while pretraining (pretrain-config.ts explains why).
  const ctx = { training: false };

  /** Loss of a list of blocks (with their fixed masks for MLM), averaged per batch. */
  const lossOf = (blocks: Int32Array[], first: number): (() => tf.Scalar) => {
    const batch = blockBatch(blocks);
    if (model.modelType === 'gpt2') return () => clmLoss(model, batch, ctx);
    const len = batch.seqLen;
    const picked = blocks.map((b, i) => (masking === undefined ? undefined : first >= 0 ? evalMasks[first + i] : maskTokens(b, masking, rng)));
    const inputIds = new Int32Array(batch.inputIds.length);
    const positions: number[] = [];
    const labels: number[] = [];
    picked.forEach((m, i) => {
      if (m === undefined) return;
      inputIds.set(m.inputIds, i * len);
      m.positions.forEach((p, k) => {
        positions.push(i * len + p);
        labels.push(m.labels[k] as number);
      });
    });
    const corrupted = { ...batch, inputIds };
    // Held-out blocks (first ≥ 0) score masked LM alone, comparable across settings.
    if (first < 0 && nsp && s.bagOfWords) {
      const bow = blockBagOfWords(blocks, pairIds.bos, pairIds.eos, (masking as MlmMaskingOptions).specialIds);
      return () => blockStepLoss(model, corrupted, Int32Array.from(positions), Int32Array.from(labels), bow, ctx);
    }
    return () => mlmLoss(model, corrupted, Int32Array.from(positions), Int32Array.from(labels), ctx);
  };

  const evaluate = (): number => {
    let sum = 0;
    let n = 0;
    for (let i = 0; i < evalSet.length; i += s.batchSize) {
      const chunk = evalSet.slice(i, i + s.batchSize);
      const loss = lossOf(chunk, i)();
      sum += loss.dataSync()[0] as number;
      loss.dispose();
      n++;
    }
    return n === 0 ? Number.NaN : sum / n;
  };

  const evaluateNsp = (): number => {
    if (model.modelType === 'gpt2') return Number.NaN;
    let right = 0;
    for (let i = 0; i < evalPairs.length; i += s.pairBatchSize) {
      const chunk = evalPairs.slice(i, i + s.pairBatchSize);
      right += nspAccuracy(model, padPairs(chunk, pairIds.pad), Int32Array.from(chunk, (p) => p.isNext), ctx) * chunk.length;
    }
    return right / Math.max(1, evalPairs.length);
  };

  /** A sentence-pair step's loss: masked LM on both halves, next-sentence prediction, bag of words of `<s>` / `[CLS]`. */
  let pairQueue: number[][] = [];
  const pairLoss = (maxTokens: number): (() => tf.Scalar) => {
    if (pairQueue.length === 0) pairQueue = lengthGroupedBatches(trainPairDocs.map((d) => d.length), s.pairBatchSize, rng);
    const docsIdx = pairQueue.pop() as number[];
    const pairs: SentencePair[] = docsIdx.map((i) => makeSentencePair(trainPairDocs, i, rng, pairIds, maxTokens));
    const b = collatePairs(pairs, pairIds.pad, masking as MlmMaskingOptions, rng);
    if (model.modelType === 'gpt2') throw new Error('unreachable: next-sentence steps are RoBERTa / DeBERTa only');
    return () => pairStepLoss(model, b, ctx);
  };

  const vars = [...model.params.vars.values()];
  // Block steps do not touch the next-sentence head, and tfjs refuses gradients of unused variables.
  const blockVars = [...model.params.vars.entries()].filter(([n]) => !isPretrainClassifier(n)).map(([, v]) => v);
  const noDecay = new Set(model.params.names().filter(isNoDecay).map((n) => model.params.get(n)));
  // β2 = 0.98 as in RoBERTa's pretraining (Liu et al. 2019 §3.1): steadier with few, noisy steps.
  const optimizer = new AdamW({ weightDecay: s.weightDecay, eps: 1e-6, beta1: 0.9, beta2: 0.98 }, noDecay);
  try {
    const before = evaluate();
    log(`held-out loss before: ${before.toFixed(3)} (ln vocab = ${Math.log(config.vocabSize).toFixed(3)})`);
    const nspBefore = nsp ? evaluateNsp() : Number.NaN;
    if (nsp) log(`held-out next-sentence accuracy before: ${nspBefore.toFixed(3)} (${evalPairs.length} pairs)`);
    const lossCurve: number[] = [];
    const pairLossCurve: number[] = [];
    const times: number[] = [];
    const short = shortPhase(trainSet, s);
    const phases = [
      { until: Math.min(s.shortSeqSteps, s.steps), blocks: short, perBatch: (s.batchSize * s.seqLen) / s.shortSeqLen },
      { until: s.steps, blocks: trainSet, perBatch: s.batchSize },
    ];
    let epochOrder: number[] = [];
    let cursor = 0;
    let phase = 0;
    const t0 = performance.now();
    for (let step = 0; step < s.steps; step++) {
      while (step >= (phases[phase] as (typeof phases)[number]).until) {
        phase++;
        epochOrder = [];
      }
      let lossFn: () => tf.Scalar;
      const pairStep = nsp && step % s.nspEvery === s.nspEvery - 1;
      if (pairStep) {
        lossFn = pairLoss(phase === 0 && s.shortSeqSteps > 0 ? s.shortSeqLen : s.seqLen);
      } else {
        const { blocks: pool, perBatch } = phases[phase] as (typeof phases)[number];
        if (cursor + perBatch > epochOrder.length) {
          epochOrder = rng.shuffle(pool.map((_, i) => i));
          cursor = 0;
        }
        const blocks = epochOrder.slice(cursor, cursor + perBatch).map((i) => pool[i] as Int32Array);
        cursor += perBatch;
        lossFn = lossOf(blocks, -1);
      }
      const ts = performance.now();
      const { loss } = await trainStep(lossFn, pairStep ? vars : blockVars, optimizer, linearSchedule(step, s), s.maxGradNorm);
      times.push(performance.now() - ts);
      if (!Number.isFinite(loss)) throw new Error(`pretraining diverged at step ${step + 1}: loss ${loss}`);
      (pairStep ? pairLossCurve : lossCurve).push(loss);
      if (input.onSnapshot !== undefined && input.snapshotSteps?.includes(step + 1) === true && step + 1 < s.steps) {
        const heldOut = evaluate();
        log(`snapshot at step ${step + 1}: held-out loss ${heldOut.toFixed(3)}`);
        input.onSnapshot(step + 1, model, heldOut, (performance.now() - t0) / 1000);
      }
      if ((step + 1) % 25 === 0 || step === 0 || step + 1 === s.steps) {
        const kind = nsp ? (pairStep ? ' (pairs: MLM + next-sentence + bag of words)' : s.bagOfWords ? ' (blocks: MLM + bag of words)' : ' (blocks: MLM)') : '';
        log(`step ${step + 1}/${s.steps} loss ${loss.toFixed(3)}${kind} (${median(times.slice(-25)).toFixed(0)} ms/step)`);
      }
    }
    const trainSeconds = (performance.now() - t0) / 1000;
    const after = evaluate();
    log(`held-out loss after: ${after.toFixed(3)}`);
    const nspAfter = nsp ? evaluateNsp() : Number.NaN;
    if (nsp) log(`held-out next-sentence accuracy after: ${nspAfter.toFixed(3)}`);
    return {
      model,
      lossCurve,
      evalLoss: { before, after },
      ...(nsp ? { nspAccuracy: { before: nspBefore, after: nspAfter, pairs: evalPairs.length }, pairLossCurve } : {}),
      msPerStep: median(times),
      trainSeconds,
      trainBlocks: trainSet.length,
      evalBlocks: evalSet.length,
    };
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    optimizer.dispose();
  }
}
