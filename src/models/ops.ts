/**
 * The elementwise building blocks shared by RoBERTa and GPT-2, written to match PyTorch exactly.
 * With the native kernels active (src/backend/native.ts), LayerNorm and GELU are single fused
 * kernels (native-ops.ts); otherwise they are composed from tfjs ops, as below.
 */
import * as tf from '@tensorflow/tfjs-core';
import { NATIVE_KERNELS, nativeKernelsActive } from '../backend/native-kernels.ts';
import { deviceDropoutMask } from '../backend/webgpu-kernels.ts';
import { dropoutMaskValues } from '../backend/dropout-mask.ts';
import type { ForwardContext } from './context.ts';
import { matMul } from './matmul.ts';
import { nativeGelu, nativeLayerNorm, nativeLogSoftmax } from './native-ops.ts';

/** LayerNorm over the last axis with biased variance and eps inside the sqrt (torch.nn.LayerNorm). */
export function layerNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps: number): tf.Tensor {
  if (nativeKernelsActive() && weight.rank === 1 && bias.rank === 1) return nativeLayerNorm(x, weight, bias, eps);
  return tf.tidy(() => {
    const mean = tf.mean(x, -1, true);
    const centered = tf.sub(x, mean);
    const variance = tf.mean(tf.mul(centered, centered), -1, true);
    const normed = tf.mul(centered, tf.rsqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(normed, weight), bias);
  });
}

/** Exact GELU, x·Φ(x) with Φ via erf: RoBERTa's `gelu` (torch.nn.functional.gelu). */
export function geluErf(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)));
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/**
 * GPT-2's `gelu_new`, the tanh approximation 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
 * x·x·x rather than pow: pow's gradient is slow on wasm and involves log(x) for negative x.
 */
export function geluTanh(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const cube = tf.mul(tf.mul(x, x), x);
    const inner = tf.mul(tf.add(x, tf.mul(cube, 0.044715)), SQRT_2_OVER_PI);
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
  });
}

export function activation(name: 'gelu' | 'gelu_new', x: tf.Tensor): tf.Tensor {
  if (nativeKernelsActive()) return nativeGelu(x, name === 'gelu_new');
  return name === 'gelu' ? geluErf(x) : geluTanh(x);
}

/** log_softmax over the last axis: one fused kernel each way with the native kernels, else tf.logSoftmax. */
export function logSoftmax(x: tf.Tensor): tf.Tensor {
  if (nativeKernelsActive() && x.dtype === 'float32') return nativeLogSoftmax(x);
  return tf.logSoftmax(x, -1);
}

/**
 * Inverted dropout (as torch): active only in training mode with a seeded rng. The mask comes from
 * a counter-based hash of (seed, element index) (src/backend/dropout-mask.ts), so the native kernels
 * draw the same masks without storing them, and WebGPU draws them on the device.
 */
export function dropout(x: tf.Tensor, rate: number, ctx: ForwardContext): tf.Tensor {
  if (!ctx.training || rate <= 0 || ctx.rng === undefined) return x;
  if (rate >= 1) throw new Error(`dropout rate must be in [0, 1), got ${rate}`);
  const seed = ctx.rng.nextSeed();
  return tf.tidy(() => tf.mul(x, dropoutMultiplier(x.shape, rate, seed)));
}

/** The multiplier tensor (0 or 1/(1 − rate) per element) of the dropout mask drawn with `seed`. */
export function dropoutMultiplier(shape: number[], rate: number, seed: number): tf.Tensor {
  if (deviceDropoutMask()) return tf.engine().runKernel(NATIVE_KERNELS.dropoutMask, {}, { shape, rate, seed } as unknown as tf.NamedAttrMap) as tf.Tensor;
  return tf.tensor(dropoutMaskValues(seed, rate, shape.reduce((a, b) => a * b, 1)), shape, 'float32');
}

/** x [..., in] @ w [in, out] as one 2-D matmul (batched matmuls are slow and buggy on wasm). */
export function matmulLastAxis(x: tf.Tensor, w: tf.Tensor, transposeW = false): tf.Tensor {
  const inDim = x.shape[x.shape.length - 1];
  const [rows, cols] = w.shape as number[];
  const outDim = transposeW ? rows : cols;
  const flat = tf.reshape(x, [-1, inDim]) as tf.Tensor2D;
  const y = matMul(flat, w, transposeW);
  return tf.reshape(y, [...x.shape.slice(0, -1), outDim]);
}

/**
 * x [..., in] · w (+ bias): the projection of models/linear.ts. With the native kernels one kernel
 * adds the bias inside the GEMM, and its gradients are lazy (no dW for a frozen weight).
 */
export function linear(x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor | undefined, transposeW: boolean): tf.Tensor {
  if (!nativeKernelsActive() || w.rank !== 2 || (bias !== undefined && bias.rank !== 1)) {
    const y = matmulLastAxis(x, w, transposeW);
    return bias === undefined ? y : tf.add(y, bias);
  }
  return tf.tidy(() => {
    const inDim = x.shape[x.shape.length - 1];
    const outDim = w.shape[transposeW ? 0 : 1] as number;
    const inputs: tf.NamedTensorMap = { x: tf.reshape(x, [-1, inDim]), w };
    if (bias !== undefined) inputs.b = bias;
    const y = tf.engine().runKernel(NATIVE_KERNELS.linear, inputs, { transposeW } as unknown as tf.NamedAttrMap) as tf.Tensor;
    return tf.reshape(y, [...x.shape.slice(0, -1), outDim]);
  });
}

/** [B, L, H] → [B·heads, L, H/heads]: heads folded into the batch for 3-D batched matmuls. */
export function splitHeads(x: tf.Tensor, heads: number): tf.Tensor3D {
  const [b, l, h] = x.shape;
  const t = tf.transpose(tf.reshape(x, [b, l, heads, h / heads]), [0, 2, 1, 3]);
  return tf.reshape(t, [b * heads, l, h / heads]);
}

/** Inverse of splitHeads. */
export function mergeHeads(x: tf.Tensor, batch: number, heads: number): tf.Tensor3D {
  const [, l, d] = x.shape;
  const t = tf.transpose(tf.reshape(x, [batch, heads, l, d]), [0, 2, 1, 3]);
  return tf.reshape(t, [batch, l, heads * d]);
}
