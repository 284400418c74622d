/**
 * Task losses, as the reference code computes them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { logSoftmax } from './ops.ts';
import { nativeKernelsActive } from '../backend/native-kernels.ts';
import { nativeTokenCrossEntropy } from './native-ops.ts';

/** Mean cross-entropy over the batch (HF RobertaForSequenceClassification, num_labels ≥ 2). */
export function crossEntropyLoss(logits: tf.Tensor2D, labels: Int32Array): tf.Scalar {
  return tf.tidy(() => {
    const [n, k] = logits.shape;
    const logp = logSoftmax(logits);
    const picked = pickPerRow(tf.reshape(logp, [n * k]) as tf.Tensor1D, labels, k);
    return tf.neg(tf.mean(picked)) as tf.Scalar;
  });
}

/** Mean squared error on the single regression output (HF num_labels = 1, e.g. STS-B). */
function mseLoss(logits: tf.Tensor2D, targets: Float32Array): tf.Scalar {
  return tf.tidy(() => {
    const pred = tf.reshape(logits, [-1]);
    const diff = tf.sub(pred, tf.tensor1d(targets));
    return tf.mean(tf.mul(diff, diff)) as tf.Scalar;
  });
}

/** The classification or regression loss that HF picks from num_labels. */
export function sequenceClassificationLoss(logits: tf.Tensor2D, labels: Int32Array | Float32Array): tf.Scalar {
  if (logits.shape[1] === 1) return mseLoss(logits, Float32Array.from(labels));
  return crossEntropyLoss(logits, Int32Array.from(labels));
}

/**
 * logp_flat[i·k + labels[i]] for every row i: a 1-D gather, whose gradient is a cheap
 * UnsortedSegmentSum (a one-hot product would need a [rows, vocab] mask).
 */
function pickPerRow(flat: tf.Tensor1D, labels: Int32Array, k: number): tf.Tensor1D {
  const idx = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) idx[i] = i * k + labels[i];
  return tf.gather(flat, tf.tensor1d(idx, 'int32'));
}

/**
 * The reference GPT-2 LM loss (examples/NLG/src/model.py, GPT2LMModel.forward): per position
 * (1 − ε)·(−log p[label]) + ε·mean_vocab(−log p), then sum(loss · mask) / (sum(mask) + 1e-4).
 * Labels are already shifted (labels[b][t] is the target of logits[b][t]).
 */
export function lmLoss(logits: tf.Tensor3D, labels: Int32Array, lossMask: Float32Array, labelSmoothing: number): tf.Scalar {
  return tf.tidy(() => {
    const [b, l, v] = logits.shape;
    let perToken: tf.Tensor;
    if (nativeKernelsActive() && labels.every((t) => t >= 0 && t < v)) {
      // One fused kernel each way (models/native-ops.ts), the same formula.
      perToken = nativeTokenCrossEntropy(tf.reshape(logits, [b * l, v]) as tf.Tensor2D, labels, labelSmoothing);
    } else {
      const logp = logSoftmax(tf.reshape(logits, [b * l, v]));
      const nll = tf.neg(pickPerRow(tf.reshape(logp, [b * l * v]) as tf.Tensor1D, labels, v));
      perToken = nll;
      if (labelSmoothing > 0) {
        const smooth = tf.neg(tf.mean(logp, -1));
        perToken = tf.add(tf.mul(nll, 1 - labelSmoothing), tf.mul(smooth, labelSmoothing));
      }
    }
    const mask = tf.tensor1d(lossMask);
    let maskSum = 0;
    for (let i = 0; i < lossMask.length; i++) maskSum += lossMask[i];
    return tf.div(tf.sum(tf.mul(perToken, mask)), maskSum + 1e-4) as tf.Scalar;
  });
}
