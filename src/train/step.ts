/**
 * One optimizer update: a single batch (trainStep), then the same update from micro-batches
 * (gradient accumulation, further down).
 *
 * One optimisation step: loss and gradients of the trainable variables only (frozen weights get
 * no gradient work), optional global-norm clipping, AdamW update. Everything temporary is freed,
 * so the tensor count stays flat across steps.
 *
 * Why async: on a GPU backend (WebGPU) a synchronous read stalls the queue, and Node has none at
 * all for WebGPU. A step reads back one pair (loss, grad norm) per update, once forward and
 * backward are queued, and the clipping and the update follow on the device.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { AdamW } from './optim.ts';

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

/*
 * One optimizer update from several micro-batches (gradient accumulation), computed so that it equals
 * the update of the one big batch they form, not merely an average of micro-batch updates.
 *
 * Every task loss here is a ratio numerator / denominator: mean cross-entropy or MSE over examples
 * (denominator n), or the reference GPT-2 loss sum(loss·mask) / (sum(mask) + 1e-4). Micro-batch i gets
 * weight w_i = (units_i + offset) / (Σ units + offset), where units are its examples or loss tokens and
 * offset is the loss's constant (0 or 1e-4): then Σ w_i·L_i is exactly the big batch's loss, and by
 * linearity Σ w_i·∇L_i its gradient. (HF Trainer and the reference gpt2_ft.py divide every micro-batch
 * loss by the accumulation count instead, and DistributedDataParallel averages the per-device gradients
 * equally; both agree with this only for equal-sized micro-batches. The paper's runs accumulate nothing
 * but spread GLUE updates over 8 devices, which batching.ts simulates with equal micro-batches: only
 * an epoch's last, partial update can differ, and there DDP's sampler repeats examples instead.)
 *
 * Clipping and the AdamW update act on the accumulated gradient, as in the big-batch step. A non-finite
 * loss throws before any weight is touched, so a diverged run does not also corrupt its weights.
 */
export interface MicroBatch {
  loss: () => tf.Scalar;
  /** Examples (mean losses) or loss tokens (the LM loss) that the loss averages over. */
  units: number;
}

export class NonFiniteLossError extends Error {
  constructor(readonly loss: number) {
    super(`loss is ${loss}: training diverged (lower the learning rate, check the data, or enable gradient clipping)`);
    this.name = 'NonFiniteLossError';
  }
}

/** Weights w_i of the micro-batches (see the comment on accumulation above); they sum to 1 exactly when offset is 0. */
export function microBatchWeights(units: readonly number[], offset: number): number[] {
  const total = units.reduce((s, u) => s + u, 0) + offset;
  return units.map((u) => (u + offset) / total);
}

/**
 * Σ w_i·L_i and Σ w_i·∇L_i over the micro-batches (the big batch's loss and gradient), still on the
 * device (no read between micro-batches). The caller owns the returned loss and gradients.
 */
export function accumulateGradients(micro: readonly MicroBatch[], offset: number, trainable: tf.Variable[]): { loss: tf.Scalar; grads: tf.Tensor[] } {
  if (micro.length === 0) throw new Error('accumulateGradients: no micro-batches');
  const weights = microBatchWeights(
    micro.map((m) => m.units),
    offset,
  );
  let acc: tf.Tensor[] | undefined;
  let loss: tf.Scalar | undefined;
  try {
    micro.forEach((m, i) => {
      const w = weights[i];
      const { value, grads } = tf.valueAndGrads(() => tf.mul(m.loss(), w) as tf.Scalar)(trainable);
      const prevLoss = loss;
      loss = prevLoss === undefined ? value : (tf.add(prevLoss, value) as tf.Scalar);
      if (prevLoss !== undefined) tf.dispose([prevLoss, value]);
      if (acc === undefined) {
        acc = grads;
      } else {
        const prev: tf.Tensor[] = acc;
        acc = prev.map((a, j) => tf.add(a, grads[j]));
        tf.dispose(prev);
        tf.dispose(grads);
      }
    });
  } catch (err) {
    if (acc !== undefined) tf.dispose(acc);
    loss?.dispose();
    throw err;
  }
  return { loss: loss!, grads: acc! };
}

/** One update from the micro-batches: accumulate, read (loss, norm) once, check the loss, clip, AdamW. */
export async function accumulatedStep(
  micro: readonly MicroBatch[],
  offset: number,
  trainable: tf.Variable[],
  optimizer: AdamW,
  lr: number,
  maxGradNorm = 0,
): Promise<StepResult> {
  const { loss, grads } = accumulateGradients(micro, offset, trainable);
  try {
    const res = await readLossAndNorm(loss, grads);
    if (!Number.isFinite(res.loss)) throw new NonFiniteLossError(res.loss);
    applyGradients(grads, trainable, optimizer, lr, maxGradNorm, res.gradNorm);
    return res;
  } finally {
    tf.dispose(grads);
  }
}
