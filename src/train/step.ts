/**
 * One optimisation step: loss and gradients of the trainable variables only (frozen weights get
 * no gradient work), optional global-norm clipping, AdamW update. Everything temporary is freed,
 * so the tensor count stays flat across steps.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { AdamW } from './adamw.ts';

export interface StepResult {
  loss: number;
  gradNorm: number;
}

/**
 * Clips `grads` to global norm `maxGradNorm` (0: no clipping) and applies them; returns the norm
 * before clipping. The caller still owns (and disposes) `grads`.
 */
export function applyGradients(grads: tf.Tensor[], trainable: tf.Variable[], optimizer: AdamW, lr: number, maxGradNorm = 0): number {
  const norm = tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.mul(g, g))))));
  const gradNorm = norm.dataSync()[0];
  norm.dispose();
  let used = grads;
  if (maxGradNorm > 0 && gradNorm > maxGradNorm) {
    // torch.nn.utils.clip_grad_norm_: scale by max_norm / (total_norm + 1e-6).
    const scale = maxGradNorm / (gradNorm + 1e-6);
    used = grads.map((g) => tf.mul(g, scale));
  }
  optimizer.apply(trainable, used, lr);
  if (used !== grads) tf.dispose(used);
  return gradNorm;
}

export function trainStep(
  lossFn: () => tf.Scalar,
  trainable: tf.Variable[],
  optimizer: AdamW,
  lr: number,
  maxGradNorm = 0,
): StepResult {
  const { value, grads } = tf.valueAndGrads(lossFn)(trainable);
  try {
    const gradNorm = applyGradients(grads, trainable, optimizer, lr, maxGradNorm);
    return { loss: value.dataSync()[0], gradNorm };
  } finally {
    value.dispose();
    tf.dispose(grads);
  }
}
