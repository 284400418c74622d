/**
 * One optimisation step: loss and gradients of the trainable variables only (frozen weights get
 * no gradient work), optional global-norm clipping, AdamW update. Everything temporary is freed,
 * so the tensor count stays flat across steps.
 *
 * Why async: on a GPU backend (WebGPU) a synchronous read stalls the queue, and Node has none at
 * all for WebGPU. A step reads back one pair (loss, grad norm) per update, once forward and
 * backward are queued, and the clipping and the update follow on the device.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { AdamW } from './adamw.ts';

export interface StepResult {
  loss: number;
  gradNorm: number;
}

/** Loss and global gradient norm in one device→host transfer; disposes the loss. */
export async function readLossAndNorm(loss: tf.Scalar, grads: tf.Tensor[]): Promise<StepResult> {
  // Pairwise adds rather than one addN: WebGPU binds every addN input to one shader, and a model's
  // gradient count exceeds the device's storage-buffer bindings per stage.
  const both = tf.tidy(() => tf.stack([loss, tf.sqrt(grads.map((g) => tf.sum(tf.mul(g, g))).reduce((a, b) => tf.add(a, b)))]));
  loss.dispose();
  try {
    const [l, n] = await both.data();
    return { loss: l, gradNorm: n };
  } finally {
    both.dispose();
  }
}

/**
 * Clips `grads` to global norm `maxGradNorm` (0: no clipping) given their norm `gradNorm`, and
 * applies them. The caller still owns (and disposes) `grads`.
 */
export function applyGradients(grads: tf.Tensor[], trainable: tf.Variable[], optimizer: AdamW, lr: number, maxGradNorm: number, gradNorm: number): void {
  let used = grads;
  if (maxGradNorm > 0 && gradNorm > maxGradNorm) {
    // torch.nn.utils.clip_grad_norm_: scale by max_norm / (total_norm + 1e-6).
    const scale = maxGradNorm / (gradNorm + 1e-6);
    used = grads.map((g) => tf.mul(g, scale));
  }
  optimizer.apply(trainable, used, lr);
  if (used !== grads) tf.dispose(used);
}

export async function trainStep(
  lossFn: () => tf.Scalar,
  trainable: tf.Variable[],
  optimizer: AdamW,
  lr: number,
  maxGradNorm = 0,
): Promise<StepResult> {
  const { value, grads } = tf.valueAndGrads(lossFn)(trainable);
  try {
    const res = await readLossAndNorm(value, grads);
    applyGradients(grads, trainable, optimizer, lr, maxGradNorm, res.gradNorm);
    return res;
  } finally {
    tf.dispose(grads);
  }
}
