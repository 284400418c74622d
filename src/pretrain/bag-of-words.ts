/**
 * Bag-of-words targets for `<s>`: each `<s>` predicts, through the tied MLM head, every ordinary token
 * of the text it opens — the PV-DBOW objective of paragraph vectors (Le & Mikolov 2014, §2.3), whose
 * document vectors a linear classifier reads sentiment from.
 *
 * Why the mini RoBERTa needs it: RoBERTa's classification head reads `<s>` only (Section 5.2 of the
 * LoRA paper fine-tunes through it), and masked LM puts no loss there. In a 4-layer d-128 model
 * pretrained for minutes `<s>` then carries almost nothing of the input, and every method that
 * freezes the body (LoRA, BitFit, adapters) stays at the majority class (next-sentence.ts has the
 * measurements). This term makes the words themselves part of what `<s>` must carry.
 *
 * Targets exist wherever `<s>` does: at position 0 of every sentence pair, and before every document
 * of a packed block (FULL-SENTENCES packing wraps each document as `<s> … </s>`), where the document
 * may be cut off by the block's end (its visible part is the target).
 */
import * as tf from '@tensorflow/tfjs-core';

export interface BagOfWordsTargets {
  /** Flat positions (row · seqLen + t) of the `<s>` tokens that predict. */
  anchors: Int32Array;
  /** For every target token: the index into `anchors` of the `<s>` that predicts it, and the token. */
  anchorOf: Int32Array;
  labels: Int32Array;
}

/**
 * Targets of packed blocks: each `<s>` followed by at least one ordinary token before the next `</s>`
 * (or the block's end) predicts those tokens.
 */
export function blockBagOfWords(blocks: readonly Int32Array[], bos: number, eos: number, special: ReadonlySet<number>): BagOfWordsTargets {
  const anchors: number[] = [];
  const anchorOf: number[] = [];
  const labels: number[] = [];
  blocks.forEach((block, r) => {
    const base = r * block.length;
    for (let t = 0; t < block.length; t++) {
      if (block[t] !== bos) continue;
      const before = labels.length;
      let u = t + 1;
      for (; u < block.length && block[u] !== eos && block[u] !== bos; u++) {
        if (special.has(block[u] as number)) continue;
        anchorOf.push(anchors.length);
        labels.push(block[u] as number);
      }
      if (labels.length > before) anchors.push(base + t);
      t = u - 1;
    }
  });
  return { anchors: Int32Array.from(anchors), anchorOf: Int32Array.from(anchorOf), labels: Int32Array.from(labels) };
}

/**
 * Mean cross-entropy of the tokens under the head's distribution at their `<s>`; hidden
 * [batch, seqLen, hidden], `head` maps rows of hidden states to vocabulary logits (the MLM head).
 */
export function bagOfWordsLoss(hidden: tf.Tensor3D, t: BagOfWordsTargets, head: (rows: tf.Tensor2D) => tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const [n, len, d] = hidden.shape;
    const at = tf.gather(tf.reshape(hidden, [n * len, d]), tf.tensor1d(t.anchors, 'int32')) as tf.Tensor2D;
    const logits = head(at);
    const logp = tf.logSoftmax(logits, -1);
    const v = logits.shape[1];
    const idx = new Int32Array(t.labels.length);
    for (let i = 0; i < idx.length; i++) idx[i] = (t.anchorOf[i] as number) * v + (t.labels[i] as number);
    return tf.neg(tf.mean(tf.gather(tf.reshape(logp, [-1]), tf.tensor1d(idx, 'int32')))) as tf.Scalar;
  });
}
