/**
 * Differentiable wrappers of the fused native kernels (src/backend/native-kernels.ts): LayerNorm,
 * GELU and multi-head attention, each one kernel forward and one backward instead of 5–15 tfjs
 * ops and their gradients. Callers use them only while nativeKernelsActive(); ops.ts and the
 * models keep the composed tfjs versions for every other backend, and the two agree to float32
 * rounding (test/kernels.test.ts, `lora-repro parity`).
 *
 * Gradients go through tf.customGrad: its single-output node saves exactly what the backward
 * kernel needs (including the softmax probabilities, which a multi-output kernel node would make
 * tfjs pair with a zero-filled gradient buffer).
 */
import * as tf from '@tensorflow/tfjs-core';
import { NATIVE_KERNELS, type AttentionAttrs, type HeadLayout } from '../backend/native-kernels.ts';
import type { ForwardContext } from './context.ts';

type GradFn = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
type Forward = (...args: (tf.Tensor | tf.GradSaveFunc)[]) => { value: tf.Tensor; gradFunc: GradFn };

function customGrad(f: Forward): (...inputs: tf.Tensor[]) => tf.Tensor {
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...inputs: tf.Tensor[]) => tf.Tensor;
}

function run(kernel: string, inputs: Record<string, tf.Tensor | undefined>, attrs: object): tf.Tensor[] {
  const present: tf.NamedTensorMap = {};
  for (const [k, v] of Object.entries(inputs)) if (v !== undefined) present[k] = v;
  const out = tf.engine().runKernel(kernel, present, attrs as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
  return Array.isArray(out) ? out : [out];
}

/** torch.nn.LayerNorm over the last axis. */
export function nativeLayerNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps: number): tf.Tensor {
  const f = customGrad((xi, g, b, save) => {
    const [y, mean, rstd] = run(NATIVE_KERNELS.layerNorm, { x: xi as tf.Tensor, gamma: g as tf.Tensor, beta: b as tf.Tensor }, { eps });
    (save as tf.GradSaveFunc)([xi as tf.Tensor, g as tf.Tensor, mean, rstd]);
    return {
      value: y,
      gradFunc: (dy, [xs, gs, m, r]) => run(NATIVE_KERNELS.layerNormGrad, { dy, x: xs, gamma: gs, mean: m, rstd: r }, { params: true }),
    };
  });
  return f(x, weight, bias);
}

/** Exact GELU (tanh = false) or GPT-2's tanh approximation. */
export function nativeGelu(x: tf.Tensor, tanh: boolean): tf.Tensor {
  const f = customGrad((xi, save) => {
    const [y] = run(NATIVE_KERNELS.gelu, { x: xi as tf.Tensor }, { tanh });
    (save as tf.GradSaveFunc)([xi as tf.Tensor]);
    return { value: y, gradFunc: (dy, [xs]) => run(NATIVE_KERNELS.geluGrad, { x: xs, dy }, { tanh })[0] };
  });
  return f(x);
}

/** log_softmax over the last axis. */
export function nativeLogSoftmax(x: tf.Tensor): tf.Tensor {
  const f = customGrad((xi, save) => {
    const [y] = run(NATIVE_KERNELS.logSoftmax, { x: xi as tf.Tensor }, {});
    (save as tf.GradSaveFunc)([y]);
    return { value: y, gradFunc: (dy, [ys]) => run(NATIVE_KERNELS.logSoftmaxGrad, { y: ys, dy }, {})[0] };
  });
  return f(x);
}

/**
 * The reference NLG per-token loss (1 − ε)·(−log p[label]) + ε·mean(−log p) from logits [N, V]
 * in one pass each way (no [N, V] log-probabilities, gather, mean or scatter in between).
 * Labels must lie in [0, V).
 */
export function nativeTokenCrossEntropy(logits: tf.Tensor2D, labels: Int32Array, labelSmoothing: number): tf.Tensor1D {
  const ids = tf.tensor1d(labels, 'int32');
  const attrs = { eps: labelSmoothing };
  const f = customGrad((xi, save) => {
    const [loss, lse] = run(NATIVE_KERNELS.tokenXent, { x: xi as tf.Tensor, labels: ids }, attrs);
    (save as tf.GradSaveFunc)([xi as tf.Tensor, ids, lse]);
    return { value: loss, gradFunc: (dy, [xs, ls, l]) => run(NATIVE_KERNELS.tokenXentGrad, { x: xs, labels: ls, lse: l, dy }, attrs)[0] };
  });
  const out = f(logits) as tf.Tensor1D;
  ids.dispose();
  return out;
}

export interface NativeAttentionArgs {
  heads: number;
  /** q, k, v [B, L, H] each; or `qkv` [B, L, 3H] with q, k, v as its column blocks (GPT-2's c_attn). */
  q?: tf.Tensor;
  k?: tf.Tensor;
  v?: tf.Tensor;
  qkv?: tf.Tensor;
  /** Layout of k and v: [B, L, H] ('bld', default) or a KV cache's [B, heads, L, dh] ('bhld'). */
  kvLayout?: HeadLayout;
  /** Additive mask [B, Lk] (RoBERTa: −10000 on padded keys). */
  mask?: tf.Tensor;
  /** Causal masking (GPT-2); query i sits at position past + i. */
  causal?: boolean;
  past?: number;
  /** Dropout rate on the attention probabilities (active in training mode with an rng, as ops.dropout). */
  dropout: number;
  ctx: ForwardContext;
}

/**
 * softmax(q·kᵀ/√dh + mask) · v per head, heads merged: [B, Lq, H]. Dropout on the probabilities
 * uses ops.dropout's mask for the [B, heads, Lq, Lk] tensor (src/backend/dropout-mask.ts): a seed gives the same
 * masks as the composed path, and the kernel regenerates the mask in the backward pass.
 */
export function nativeAttention(a: NativeAttentionArgs): tf.Tensor3D {
  const fused = a.qkv !== undefined;
  const q = fused ? a.qkv! : a.q!;
  const width = q.shape[2] as number;
  const hidden = fused ? width / 3 : width;
  const kvLayout = a.kvLayout ?? 'bld';
  const dropping = a.ctx.training && a.dropout > 0 && a.ctx.rng !== undefined;
  const attrs: AttentionAttrs = {
    heads: a.heads,
    dropRate: dropping ? a.dropout : 0,
    dropSeed: dropping ? a.ctx.rng!.nextSeed() : 0,
    scale: Math.sqrt(hidden / a.heads),
    causal: a.causal ?? false,
    past: a.past ?? 0,
    fused,
    qLayout: 'bld',
    kvLayout,
  };
  const mask = a.mask;
  const named = (ts: tf.Tensor[]) => (fused ? { qkv: ts[0] } : { q: ts[0], k: ts[1], v: ts[2] });
  const f = customGrad((...args) => {
    const save = args.pop() as tf.GradSaveFunc;
    const ins = args as tf.Tensor[];
    const [out, probs] = run(NATIVE_KERNELS.attention, { ...named(ins), mask }, attrs);
    save([...ins, probs, ...(mask ? [mask] : [])]);
    return {
      value: out,
      gradFunc: (dy, saved) => {
        const n = ins.length;
        const m = mask ? saved[n + 1] : undefined;
        return run(NATIVE_KERNELS.attentionGrad, { ...named(saved.slice(0, n)), mask: m, probs: saved[n], dy }, attrs);
      },
    };
  });
  return (fused ? f(a.qkv!) : f(a.q!, a.k!, a.v!)) as tf.Tensor3D;
}
