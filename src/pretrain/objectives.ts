/**
 * The two pretraining losses on packed blocks.
 *
 * Masked LM (RoBERTa, DeBERTa): mean cross-entropy over the selected positions only. RobertaModel.mlmLogits
 * projects every position onto the vocabulary; since only ~15% of positions carry a label, we run
 * the same head (RobertaLMHead: dense → gelu → LayerNorm → tied decoder + bias, roberta.ts) on the
 * selected rows alone, which is mathematically the same loss and saves ~85% of the largest matmul
 * (hidden × vocab). test/pretrain.test.ts checks it against mlmLogits. DeBERTa-v2 likewise with its
 * own head (DebertaV2LMPredictionHead, deberta.ts mlmHead: the same layout under `cls.predictions`).
 *
 * Causal LM (GPT-2): next-token cross-entropy at every position but the last of a block (its target
 * lies in the next block), via losses.ts lmLoss without label smoothing.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TokenBatch } from '../models/batch.ts';
import type { ForwardContext } from '../models/context.ts';
import type { DebertaV2Model } from '../models/deberta.ts';
import type { Gpt2Model } from '../models/gpt2.ts';
import type { RobertaModel } from '../models/roberta.ts';
import { crossEntropyLoss, lmLoss } from '../models/losses.ts';
import { bagOfWordsLoss, type BagOfWordsTargets } from './bag-of-words.ts';
import type { PairBatch } from './next-sentence.ts';
import { activation, layerNorm, matmulLastAxis } from '../models/ops.ts';

/** A batch of equal-length blocks as a TokenBatch (no padding: every mask entry is 1). */
export function blockBatch(blocks: readonly Int32Array[]): TokenBatch {
  const seqLen = blocks[0]?.length ?? 0;
  const inputIds = new Int32Array(blocks.length * seqLen);
  blocks.forEach((b, i) => inputIds.set(b, i * seqLen));
  return { inputIds, attentionMask: new Int32Array(inputIds.length).fill(1), batch: blocks.length, seqLen };
}

/** The models pretrained with masked LM (and next-sentence prediction, bag of words). */
export type MlmModel = RobertaModel | DebertaV2Model;

/** MLM head logits [rows, vocab] for hidden states [rows, hidden]: RobertaLMHead, or DeBERTa-v2's own. */
function mlmHeadLogits(model: MlmModel, hidden: tf.Tensor2D, ctx: ForwardContext): tf.Tensor2D {
  if (model.modelType === 'deberta-v2') return model.mlmHead(hidden, ctx) as tf.Tensor2D;
  return tf.tidy(() => {
    const p = model.params;
    let x = activation('gelu', model.linears.get('lm_head.dense')!.apply(hidden, ctx));
    x = layerNorm(x, p.get('lm_head.layer_norm.weight'), p.get('lm_head.layer_norm.bias'), model.config.layerNormEps);
    const logits = matmulLastAxis(x, p.get('roberta.embeddings.word_embeddings.weight'), true);
    return tf.add(logits, p.get('lm_head.bias')) as tf.Tensor2D;
  });
}

/** Mean cross-entropy of the MLM head at `positions` (flat indices into the batch) against `labels`. */
export function mlmLoss(model: MlmModel, batch: TokenBatch, positions: Int32Array, labels: Int32Array, ctx: ForwardContext): tf.Scalar {
  return tf.tidy(() => mlmLossOfHidden(model, model.encode(batch, ctx).hidden, positions, labels, ctx));
}

/**
 * The loss of a sentence-pair step (next-sentence.ts) from one encoder pass: masked LM on A and B,
 * next-sentence prediction (cross-entropy of the classification head on `<s>` / `[CLS]`, BERT §3.1) and,
 * unless `bagOfWords` is false (the `mlm-nsp` objective, pretrain-options.ts), the bag of words of `<s>`
 * (bag-of-words.ts), summed with equal weight.
 */
export function pairStepLoss(model: MlmModel, b: PairBatch, ctx: ForwardContext, bagOfWords = true): tf.Scalar {
  return tf.tidy(() => {
    const h = model.encode(b.batch, ctx).hidden;
    const nsp = crossEntropyLoss(model.classifyHidden(h, ctx), b.isNext);
    const terms = [mlmLossOfHidden(model, h, b.mlmPositions, b.mlmLabels, ctx), nsp];
    if (bagOfWords) terms.push(bagOfWordsLoss(h, b.bow, (rows) => mlmHeadLogits(model, rows, ctx)));
    return tf.addN(terms) as tf.Scalar;
  });
}

/** Masked LM on packed blocks plus the bag of words of each document's `<s>` (bag-of-words.ts), one encoder pass. */
export function blockStepLoss(model: MlmModel, batch: TokenBatch, positions: Int32Array, labels: Int32Array, bow: BagOfWordsTargets, ctx: ForwardContext): tf.Scalar {
  return tf.tidy(() => {
    const h = model.encode(batch, ctx).hidden;
    const mlm = mlmLossOfHidden(model, h, positions, labels, ctx);
    if (bow.labels.length === 0) return mlm;
    return tf.add(mlm, bagOfWordsLoss(h, bow, (rows) => mlmHeadLogits(model, rows, ctx))) as tf.Scalar;
  });
}

/** Share of rows whose next-sentence prediction (argmax of the head on `<s>`) is right. */
export async function nspAccuracy(model: MlmModel, batch: TokenBatch, isNext: Int32Array, ctx: ForwardContext): Promise<number> {
  const pred = tf.tidy(() => tf.argMax(model.classify(batch, ctx), -1));
  const p = await pred.data();
  pred.dispose();
  let right = 0;
  for (let i = 0; i < isNext.length; i++) if (p[i] === isNext[i]) right++;
  return right / Math.max(1, isNext.length);
}

function mlmLossOfHidden(model: MlmModel, h: tf.Tensor3D, positions: Int32Array, labels: Int32Array, ctx: ForwardContext): tf.Scalar {
  return tf.tidy(() => {
    const [n, len] = h.shape;
    const flat = tf.reshape(h, [n * len, model.config.hidden]);
    const picked = tf.gather(flat, tf.tensor1d(positions, 'int32')) as tf.Tensor2D;
    const logp = tf.logSoftmax(mlmHeadLogits(model, picked, ctx), -1);
    const v = model.config.vocabSize;
    const idx = new Int32Array(labels.length);
    for (let i = 0; i < labels.length; i++) idx[i] = i * v + labels[i];
    const nll = tf.gather(tf.reshape(logp, [-1]), tf.tensor1d(idx, 'int32'));
    return tf.neg(tf.mean(nll)) as tf.Scalar;
  });
}

/** Next-token targets of a block batch: labels[b][t] = ids[b][t + 1]; the last position of each row is masked out. */
export function causalTargets(batch: TokenBatch): { labels: Int32Array; mask: Float32Array } {
  const { inputIds, batch: n, seqLen } = batch;
  const labels = new Int32Array(inputIds.length);
  const mask = new Float32Array(inputIds.length);
  for (let b = 0; b < n; b++) {
    for (let t = 0; t + 1 < seqLen; t++) {
      labels[b * seqLen + t] = inputIds[b * seqLen + t + 1];
      mask[b * seqLen + t] = 1;
    }
  }
  return { labels, mask };
}

/** Mean next-token cross-entropy over a batch of blocks. */
export function clmLoss(model: Gpt2Model, batch: TokenBatch, ctx: ForwardContext): tf.Scalar {
  const { labels, mask } = causalTargets(batch);
  return tf.tidy(() => lmLoss(model.logits(batch, ctx), labels, mask, 0));
}
