/**
 * The pretraining loop: a randomly initialised RoBERTa or DeBERTa-v2 (masked LM on packed blocks,
 * alternating with sentence-pair steps when settings.nspEvery > 0, see next-sentence.ts) or GPT-2 (causal LM on packed
 * blocks) trained from scratch with AdamW, linear warm-up and linear decay, gradient clipping, every
 * parameter trainable. Fixed held-out blocks (and held-out sentence pairs) are scored before and
 * after training, so the reported gains are not just memorisation of the batches seen.
 *
 * Read top to bottom: the learning rate, the data (held-out split, block and sentence-pair streams),
 * the losses, held-out evaluation, the training loop, and `pretrainModel`, which runs them in order.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TokenBatch } from '../models/batch.ts';
import type { ModelConfig } from '../models/config.ts';
import { EVAL } from '../models/context.ts';
import { createModel } from '../models/factory.ts';
import type { TransformerModel } from '../models/model.ts';
import { AdamW, isNoDecay, linearWarmupDecay } from '../train/optim.ts';
import { trainStep } from '../train/step.ts';
import { Rng } from '../util/rng.ts';
import { lowerMedian } from '../util/stats.ts';
import { maskTokens, type MaskedTokens, type MlmMaskingOptions } from './mlm-masking.ts';
import { isPretrainClassifier } from './artifacts.ts';
import { collatePairs, lengthGroupedBatches, makeSentencePair, padPairs, type PairBatch, type PairLayoutIds, type SentencePair } from './next-sentence.ts';
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
  onSnapshot?: (step: number, model: TransformerModel, heldOutLoss: number, trainSeconds: number) => Promise<void>;
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
  /** Wall time of a step (the lower median, ../util/stats.ts, as recorded since the first stand-ins), and of the whole loop. */
  msPerStep: number;
  trainSeconds: number;
  trainBlocks: number;
  evalBlocks: number;
}

/**
 * Learning rate of step `step` (0-based): the shared linear warm-up and decay (../train/optim.ts)
 * evaluated one update later than fine-tuning does, i.e. at k = step + 1. Fine-tuning keeps the
 * reference trainers' factor(0) = 0 for its first update; pretraining has no reference to match and
 * counts its first update as 1 so it is not spent at lr 0, as the shipped stand-ins were trained.
 * The total of max(steps, warmupSteps + 1) differs from `steps` only for a run that is all warm-up
 * (steps ≤ warmupSteps): its last update keeps the full rate k / W = 1 it always had, where the
 * shared formula's decay branch would give 0 at k = T = W. Its lr · (k / W) can differ from the
 * earlier private (lr · k) / W in the last bit of the float64; test/pretrain.test.ts checks that the
 * float32 values the optimizer uses are the same at every step of every family's settings.
 */
export function pretrainLearningRate(step: number, s: Pick<PretrainSettings, 'learningRate' | 'warmupSteps' | 'steps'>): number {
  return s.learningRate * linearWarmupDecay(step + 1, s.warmupSteps, Math.max(s.steps, s.warmupSteps + 1));
}

// ---------------------------------------------------------------------------------------------
// Data: the held-out split and the block / sentence-pair streams of the training steps
// ---------------------------------------------------------------------------------------------

interface PretrainData {
  trainBlocks: Int32Array[];
  evalBlocks: Int32Array[];
  /** Documents the sentence-pair steps draw from (none without next-sentence prediction). */
  trainPairDocs: Int32Array[];
  evalPairs: SentencePair[];
}

/** Held-out blocks and sentence pairs, fixed by the corpus alone (not the seed): every seed is scored on the same text. */
function splitData(input: PretrainInput, nsp: boolean): PretrainData {
  const s = input.settings;
  const order = new Rng(0).shuffle(input.blocks.map((_, i) => i));
  const nEval = Math.min(s.evalBlocks, Math.floor(input.blocks.length / 10));
  const evalBlocks = order.slice(0, nEval).map((i) => input.blocks[i] as Int32Array);
  const trainBlocks = order.slice(nEval).map((i) => input.blocks[i] as Int32Array);
  if (trainBlocks.length < s.batchSize) {
    throw new Error(`pretrainModel: ${trainBlocks.length} training blocks of ${s.seqLen} tokens, fewer than one batch of ${s.batchSize}: use a larger corpus`);
  }
  // Held-out pairs come from documents no pair step trains on (the seam is what IsNext is about).
  const pairDocs = nsp ? new Rng(0).shuffle([...(input.pairs?.documents ?? [])]) : [];
  const nEvalPairs = Math.min(s.evalBlocks * 8, Math.floor(pairDocs.length / 10));
  const evalPairDocs = pairDocs.slice(0, nEvalPairs);
  const ids = input.pairs?.ids as PairLayoutIds;
  const evalPairs = evalPairDocs.map((_, i) => makeSentencePair(evalPairDocs, i, new Rng(2_000_003 + i), ids, s.seqLen));
  return { trainBlocks, evalBlocks, trainPairDocs: pairDocs.slice(nEvalPairs), evalPairs };
}

/** The training blocks cut into pieces of shortSeqLen tokens (none when the short phase is off). */
function shortPieces(blocks: Int32Array[], s: PretrainSettings): Int32Array[] {
  if (s.shortSeqSteps <= 0) return [];
  if (s.seqLen % s.shortSeqLen !== 0) throw new Error(`pretrainModel: shortSeqLen ${s.shortSeqLen} must divide seqLen ${s.seqLen}`);
  const out: Int32Array[] = [];
  for (const b of blocks) for (let i = 0; i < b.length; i += s.shortSeqLen) out.push(b.subarray(i, i + s.shortSeqLen));
  return out;
}

interface Phase {
  /** The phase lasts while step < until. */
  until: number;
  /** The pool its block steps draw from, and how many per step (the same tokens per batch in both phases). */
  blocks: Int32Array[];
  perBatch: number;
  /** Longest sentence pair of its pair steps. */
  pairTokens: number;
}

/** The short-sequence phase (pieces of shortSeqLen tokens), then full blocks (pretrain-config.ts `shortSeqSteps` says why). */
function phasesOf(trainBlocks: Int32Array[], s: PretrainSettings): Phase[] {
  return [
    { until: Math.min(s.shortSeqSteps, s.steps), blocks: shortPieces(trainBlocks, s), perBatch: (s.batchSize * s.seqLen) / s.shortSeqLen, pairTokens: s.shortSeqLen },
    { until: s.steps, blocks: trainBlocks, perBatch: s.batchSize, pairTokens: s.seqLen },
  ];
}

/** Batches of the block steps: each phase's pool in epochs, reshuffled by the run's rng whenever the next batch does not fit. */
class BlockStream {
  private index = 0;
  private order: number[] = [];
  private cursor = 0;

  constructor(
    private readonly phases: readonly Phase[],
    private readonly rng: Rng,
  ) {}

  /** The phase of `step` (steps come in order); entering a phase starts a new epoch. */
  phaseAt(step: number): Phase {
    while (step >= (this.phases[this.index] as Phase).until) {
      this.index++;
      this.order = [];
    }
    return this.phases[this.index] as Phase;
  }

  next(): Int32Array[] {
    const { blocks: pool, perBatch } = this.phases[this.index] as Phase;
    if (this.cursor + perBatch > this.order.length) {
      this.order = this.rng.shuffle(pool.map((_, i) => i));
      this.cursor = 0;
    }
    const batch = this.order.slice(this.cursor, this.cursor + perBatch).map((i) => pool[i] as Int32Array);
    this.cursor += perBatch;
    return batch;
  }
}

/** Batches of the sentence-pair steps: length-grouped documents, each made a pair (IsNext or not) and masked, by the run's rng. */
class PairStream {
  private queue: number[][] = [];

  constructor(
    private readonly docs: Int32Array[],
    private readonly ids: PairLayoutIds,
    private readonly masking: MlmMaskingOptions,
    private readonly batchSize: number,
    private readonly rng: Rng,
  ) {}

  next(maxTokens: number): PairBatch {
    if (this.queue.length === 0) this.queue = lengthGroupedBatches(this.docs.map((d) => d.length), this.batchSize, this.rng);
    const docsIdx = this.queue.pop() as number[];
    const pairs = docsIdx.map((i) => makeSentencePair(this.docs, i, this.rng, this.ids, maxTokens));
    return collatePairs(pairs, this.ids.pad, this.masking, this.rng);
  }
}

// ---------------------------------------------------------------------------------------------
// The objective: one step's loss, for training and held-out blocks
// ---------------------------------------------------------------------------------------------

/** No dropout while pretraining (pretrain-config.ts explains why): every forward pass runs as in evaluation. */
const NO_DROPOUT = EVAL;

/** What a loss needs besides its batch. */
interface Objective {
  model: TransformerModel;
  settings: PretrainSettings;
  /** RoBERTa / DeBERTa: how to corrupt blocks (with settings.mlmProbability). */
  masking?: MlmMaskingOptions;
  /** Fixed masks of the held-out blocks, so before / after compare the same predictions. */
  evalMasks: MaskedTokens[];
  /** Sentence-pair steps and their ids (RoBERTa / DeBERTa with nspEvery > 0). */
  nsp: boolean;
  pairIds: PairLayoutIds;
  /** The run's stream: masks of the training blocks. */
  rng: Rng;
}

/** Masked blocks laid out as one batch: corrupted input ids, and the flat positions and labels of the masked tokens. */
function maskedBatch(blocks: readonly Int32Array[], masks: readonly MaskedTokens[]): { batch: TokenBatch; positions: Int32Array; labels: Int32Array } {
  const batch = blockBatch(blocks);
  const len = batch.seqLen;
  const inputIds = new Int32Array(batch.inputIds.length);
  const positions: number[] = [];
  const labels: number[] = [];
  masks.forEach((m, i) => {
    inputIds.set(m.inputIds, i * len);
    m.positions.forEach((p, k) => {
      positions.push(i * len + p);
      labels.push(m.labels[k] as number);
    });
  });
  return { batch: { ...batch, inputIds }, positions: Int32Array.from(positions), labels: Int32Array.from(labels) };
}

/** A training block step's loss: causal LM, or masked LM on fresh masks (plus bag of words of `<s>` / `[CLS]` when on). */
function trainBlockLoss(o: Objective, blocks: Int32Array[]): () => tf.Scalar {
  const { model } = o;
  if (model.modelType === 'gpt2') {
    const batch = blockBatch(blocks);
    return () => clmLoss(model, batch, NO_DROPOUT);
  }
  const masking = o.masking as MlmMaskingOptions;
  const m = maskedBatch(blocks, blocks.map((b) => maskTokens(b, masking, o.rng)));
  if (o.nsp && o.settings.bagOfWords) {
    const bow = blockBagOfWords(blocks, o.pairIds.bos, o.pairIds.eos, masking.specialIds);
    return () => blockStepLoss(model, m.batch, m.positions, m.labels, bow, NO_DROPOUT);
  }
  return () => mlmLoss(model, m.batch, m.positions, m.labels, NO_DROPOUT);
}

/** Held-out blocks `first`, `first + 1`, … : masked LM alone on their fixed masks (comparable across settings), or causal LM. */
function heldOutLoss(o: Objective, blocks: Int32Array[], first: number): tf.Scalar {
  const { model } = o;
  if (model.modelType === 'gpt2') return clmLoss(model, blockBatch(blocks), NO_DROPOUT);
  const m = maskedBatch(blocks, o.evalMasks.slice(first, first + blocks.length));
  return mlmLoss(model, m.batch, m.positions, m.labels, NO_DROPOUT);
}

/** A sentence-pair step's loss: masked LM on both halves, next-sentence prediction, bag of words of `<s>` / `[CLS]` (unless pairBagOfWords is false). */
function pairLoss(o: Objective, b: PairBatch): () => tf.Scalar {
  const { model } = o;
  if (model.modelType === 'gpt2') throw new Error('unreachable: next-sentence steps are RoBERTa / DeBERTa only');
  const bagOfWords = o.settings.pairBagOfWords ?? true;
  return () => pairStepLoss(model, b, NO_DROPOUT, bagOfWords);
}

// ---------------------------------------------------------------------------------------------
// Held-out evaluation
// ---------------------------------------------------------------------------------------------

/** Mean held-out loss over batches of the held-out blocks. */
async function evaluateLoss(o: Objective, evalBlocks: Int32Array[]): Promise<number> {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < evalBlocks.length; i += o.settings.batchSize) {
    const loss = heldOutLoss(o, evalBlocks.slice(i, i + o.settings.batchSize), i);
    sum += (await loss.data())[0] as number;
    loss.dispose();
    n++;
  }
  return n === 0 ? Number.NaN : sum / n;
}

/** Held-out next-sentence accuracy (chance is 0.5). */
async function evaluateNsp(o: Objective, evalPairs: SentencePair[]): Promise<number> {
  const { model } = o;
  if (model.modelType === 'gpt2') return Number.NaN;
  let right = 0;
  for (let i = 0; i < evalPairs.length; i += o.settings.pairBatchSize) {
    const chunk = evalPairs.slice(i, i + o.settings.pairBatchSize);
    right += (await nspAccuracy(model, padPairs(chunk, o.pairIds.pad), Int32Array.from(chunk, (p) => p.isNext), NO_DROPOUT)) * chunk.length;
  }
  return right / Math.max(1, evalPairs.length);
}

// ---------------------------------------------------------------------------------------------
// The training loop
// ---------------------------------------------------------------------------------------------

interface LoopOutcome {
  lossCurve: number[];
  pairLossCurve: number[];
  /** Wall milliseconds of each step. */
  stepMs: number[];
  trainSeconds: number;
}

async function trainLoop(o: Objective, data: PretrainData, input: PretrainInput, log: (line: string) => void): Promise<LoopOutcome> {
  const { model, settings: s } = o;
  const blocks = new BlockStream(phasesOf(data.trainBlocks, s), o.rng);
  const pairs = o.nsp ? new PairStream(data.trainPairDocs, o.pairIds, o.masking as MlmMaskingOptions, s.pairBatchSize, o.rng) : undefined;
  const vars = [...model.params.vars.values()];
  // Block steps do not touch the next-sentence head, and tfjs refuses gradients of unused variables.
  const blockVars = [...model.params.vars.entries()].filter(([n]) => !isPretrainClassifier(n)).map(([, v]) => v);
  // Fine-tuning's no-decay rule (biases, LayerNorm weights); on every family's parameters it picks what
  // pretraining's own rule picked when the stand-ins were trained (test/pretrain.test.ts).
  const noDecay = new Set(model.params.names().filter(isNoDecay).map((n) => model.params.get(n)));
  // β2 = 0.98 as in RoBERTa's pretraining (Liu et al. 2019 §3.1): steadier with few, noisy steps.
  const optimizer = new AdamW({ weightDecay: s.weightDecay, eps: 1e-6, beta1: 0.9, beta2: 0.98 }, noDecay);
  const out: LoopOutcome = { lossCurve: [], pairLossCurve: [], stepMs: [], trainSeconds: 0 };
  try {
    const t0 = performance.now();
    for (let step = 0; step < s.steps; step++) {
      const phase = blocks.phaseAt(step);
      const pairStep = pairs !== undefined && step % s.nspEvery === s.nspEvery - 1;
      const lossFn = pairStep ? pairLoss(o, pairs.next(phase.pairTokens)) : trainBlockLoss(o, blocks.next());
      const ts = performance.now();
      const { loss } = await trainStep(lossFn, pairStep ? vars : blockVars, optimizer, pretrainLearningRate(step, s), s.maxGradNorm);
      out.stepMs.push(performance.now() - ts);
      if (!Number.isFinite(loss)) throw new Error(`pretraining diverged at step ${step + 1}: loss ${loss}`);
      (pairStep ? out.pairLossCurve : out.lossCurve).push(loss);
      if (input.onSnapshot !== undefined && input.snapshotSteps?.includes(step + 1) === true && step + 1 < s.steps) {
        const heldOut = await evaluateLoss(o, data.evalBlocks);
        log(`snapshot at step ${step + 1}: held-out loss ${heldOut.toFixed(3)}`);
        await input.onSnapshot(step + 1, model, heldOut, (performance.now() - t0) / 1000);
      }
      if ((step + 1) % 25 === 0 || step === 0 || step + 1 === s.steps) {
        const pairKind = (s.pairBagOfWords ?? true) ? ' (pairs: MLM + next-sentence + bag of words)' : ' (pairs: MLM + next-sentence)';
        const kind = o.nsp ? (pairStep ? pairKind : s.bagOfWords ? ' (blocks: MLM + bag of words)' : ' (blocks: MLM)') : '';
        log(`step ${step + 1}/${s.steps} loss ${loss.toFixed(3)}${kind} (${lowerMedian(out.stepMs.slice(-25)).toFixed(0)} ms/step)`);
      }
    }
    out.trainSeconds = (performance.now() - t0) / 1000;
    return out;
  } finally {
    optimizer.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Pretraining: data, model, evaluation before, the loop, evaluation after
// ---------------------------------------------------------------------------------------------

export async function pretrainModel(input: PretrainInput): Promise<PretrainOutcome> {
  const { settings: s, config, seed } = input;
  const log = input.log ?? (() => {});
  const masked = config.modelType !== 'gpt2';
  if (masked && input.masking === undefined) throw new Error(`pretrainModel: ${config.modelType} needs masking options`);
  const nsp = s.nspEvery > 0 && masked;
  if (nsp && input.pairs === undefined) throw new Error('pretrainModel: next-sentence prediction needs input.pairs');
  const data = splitData(input, nsp);

  const rng = new Rng(seed);
  // The classification head is the next-sentence head while pretraining; artifacts.ts does not save it.
  const heads: ('mlm' | 'classification')[] = nsp ? ['mlm', 'classification'] : ['mlm'];
  const model = createModel(config, { seed: rng.nextSeed(), robertaHeads: heads, debertaHeads: heads });
  const masking = input.masking === undefined ? undefined : { ...input.masking, probability: s.mlmProbability };
  const evalMasks = masking === undefined ? [] : data.evalBlocks.map((b, i) => maskTokens(b, masking, new Rng(1_000_003 + i)));
  const o: Objective = { model, settings: s, masking, evalMasks, nsp, pairIds: input.pairs?.ids as PairLayoutIds, rng };
  try {
    const before = await evaluateLoss(o, data.evalBlocks);
    log(`held-out loss before: ${before.toFixed(3)} (ln vocab = ${Math.log(config.vocabSize).toFixed(3)})`);
    const nspBefore = nsp ? await evaluateNsp(o, data.evalPairs) : Number.NaN;
    if (nsp) log(`held-out next-sentence accuracy before: ${nspBefore.toFixed(3)} (${data.evalPairs.length} pairs)`);

    const loop = await trainLoop(o, data, input, log);

    const after = await evaluateLoss(o, data.evalBlocks);
    log(`held-out loss after: ${after.toFixed(3)}`);
    const nspAfter = nsp ? await evaluateNsp(o, data.evalPairs) : Number.NaN;
    if (nsp) log(`held-out next-sentence accuracy after: ${nspAfter.toFixed(3)}`);
    return {
      model,
      lossCurve: loop.lossCurve,
      evalLoss: { before, after },
      ...(nsp ? { nspAccuracy: { before: nspBefore, after: nspAfter, pairs: data.evalPairs.length }, pairLossCurve: loop.pairLossCurve } : {}),
      msPerStep: loop.stepMs.length === 0 ? 0 : lowerMedian(loop.stepMs),
      trainSeconds: loop.trainSeconds,
      trainBlocks: data.trainBlocks.length,
      evalBlocks: data.evalBlocks.length,
    };
  } catch (err) {
    model.dispose();
    throw err;
  }
}
