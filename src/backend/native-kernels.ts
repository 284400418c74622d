/**
 * tfjs kernels of the wasm backend that run in the native addon (native.ts), on the wasm heap.
 *
 * Built-in kernels replaced while the addon is active: BatchMatMul (every tf.matMul, with or
 * without transpose flags, which cost nothing in BLAS) and Sum over leading or trailing axes (as a
 * GEMV with a ones vector: bias gradients). Anything they do not cover (other dtypes, general
 * broadcasting, middle axes) goes to the original wasm kernel. New kernels (LoraRepro*): the fused
 * attention (native-attention.ts), linear, LayerNorm, GELU, log-softmax and dropout mask that
 * src/models/ops.ts and native-ops.ts use, and AdamW in place. Heap access: native-heap.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { NativeAddon } from './native.ts';
import { replaceKernel, restoreKernel } from './replace-kernel.ts';
import { P, bindAddon, native, offset, size } from './native-heap.ts';
import { attention, attentionGrad } from './native-attention.ts';

export type { AttentionAttrs, HeadLayout } from './native-attention.ts';

export const NATIVE_KERNELS = {
  attention: 'LoraReproAttention',
  attentionGrad: 'LoraReproAttentionGrad',
  layerNorm: 'LoraReproLayerNorm',
  layerNormGrad: 'LoraReproLayerNormGrad',
  gelu: 'LoraReproGelu',
  geluGrad: 'LoraReproGeluGrad',
  adamw: 'LoraReproAdamW',
  dropoutMask: 'LoraReproDropoutMask',
  linear: 'LoraReproLinear',
  logSoftmax: 'LoraReproLogSoftmax',
  logSoftmaxGrad: 'LoraReproLogSoftmaxGrad',
  tokenXent: 'LoraReproTokenXent',
  tokenXentGrad: 'LoraReproTokenXentGrad',
} as const;

/** The built-in kernels (for the cases ours do not cover), and what to put back on unregistering. */
const originals = new Map<string, tf.KernelConfig>();
const previous = new Map<string, tf.KernelConfig>();

function fallback(name: string, args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | tf.TensorInfo[] {
  return originals.get(name)!.kernelFunc(args);
}

// ---------------------------------------------------------------------------------------------
// Built-in kernels
// ---------------------------------------------------------------------------------------------

const batchMatMul: tf.KernelFunc = (args) => {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
  const w = args.backend as BackendWasm;
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || ra < 2 || rb < 2) return fallback(tf.BatchMatMul, args);
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const m = transposeA ? ac : ar;
  const k = transposeA ? ar : ac;
  const n = transposeB ? br : bc;
  if ((transposeB ? bc : br) !== k) return fallback(tf.BatchMatMul, args);
  const batchA = size(a.shape.slice(0, -2));
  const batchB = size(b.shape.slice(0, -2));
  const outBatch = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = size(outBatch);
  // Equal batches or one side shared by all; other broadcasts go to the built-in kernel.
  if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) return fallback(tf.BatchMatMul, args);
  const out = w.makeOutput([...outBatch, m, n], 'float32');
  if (batch * m * n === 0) return out;
  const lib = native(w);
  P[0] = transposeA ? 1 : 0;
  P[1] = transposeB ? 1 : 0;
  P[2] = m;
  P[3] = n;
  P[4] = k;
  P[5] = 1;
  P[6] = offset(w, a);
  P[7] = ac;
  P[8] = batchA === 1 ? 0 : ar * ac;
  P[9] = offset(w, b);
  P[10] = bc;
  P[11] = batchB === 1 ? 0 : br * bc;
  P[12] = 0;
  P[13] = offset(w, out);
  P[14] = n;
  P[15] = m * n;
  P[16] = batch;
  lib.gemm();
  return out;
};

const sum: tf.KernelFunc = (args) => {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
  const w = args.backend as BackendWasm;
  const r = x.shape.length;
  if (x.dtype !== 'float32' || r === 0) return fallback(tf.Sum, args);
  const axes = [...new Set(tf.util.parseAxisParam(axis, x.shape))].sort((p, q) => p - q);
  const leading = axes.every((ax, i) => ax === i);
  const trailing = axes.every((ax, i) => ax === r - axes.length + i);
  if (axes.length === 0 || (!leading && !trailing)) return fallback(tf.Sum, args);
  const split = leading ? axes.length : r - axes.length;
  const rows = size(x.shape.slice(0, split));
  const cols = size(x.shape.slice(split));
  const kept = x.shape.filter((_, i) => !axes.includes(i));
  const shape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : kept;
  const out = w.makeOutput(shape, 'float32');
  const lib = native(w);
  P[0] = offset(w, x);
  P[1] = rows;
  P[2] = cols;
  P[3] = offset(w, out);
  P[4] = leading ? 0 : 1;
  lib.colSum();
  return out;
};

/** LayerNorm over the last axis. Outputs: y, and per row the mean and 1/√(var + eps). */
const layerNorm: tf.KernelFunc = (args) => {
  const w = args.backend as BackendWasm;
  const { x, gamma, beta } = args.inputs as { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo };
  const { eps } = args.attrs as unknown as { eps: number };
  const n = x.shape[x.shape.length - 1];
  const rows = size(x.shape) / n;
  const y = w.makeOutput(x.shape, 'float32');
  const mean = w.makeOutput([rows], 'float32');
  const rstd = w.makeOutput([rows], 'float32');
  const lib = native(w);
  [offset(w, x), offset(w, gamma), offset(w, beta), rows, n, eps, offset(w, y), offset(w, mean), offset(w, rstd)].forEach((v, i) => (P[i] = v));
  lib.layerNorm();
  return [y, mean, rstd];
};

/** Outputs: dx, then (attr params) dγ and dβ. */
const layerNormGrad: tf.KernelFunc = (args) => {
  const w = args.backend as BackendWasm;
  const { dy, x, gamma, mean, rstd } = args.inputs as Record<'dy' | 'x' | 'gamma' | 'mean' | 'rstd', tf.TensorInfo>;
  const { params } = args.attrs as unknown as { params: boolean };
  const n = x.shape[x.shape.length - 1];
  const rows = size(x.shape) / n;
  const dx = w.makeOutput(x.shape, 'float32');
  const dg = params ? w.makeOutput([n], 'float32') : undefined;
  const db = params ? w.makeOutput([n], 'float32') : undefined;
  const lib = native(w);
  [offset(w, dy), offset(w, x), offset(w, gamma), offset(w, mean), offset(w, rstd), rows, n, offset(w, dx)].forEach((v, i) => (P[i] = v));
  lib.layerNormDx();
  if (dg === undefined || db === undefined) return [dx];
  [offset(w, dy), offset(w, x), offset(w, mean), offset(w, rstd), rows, n, offset(w, dg), offset(w, db)].forEach((v, i) => (P[i] = v));
  lib.layerNormDparams();
  return [dx, dg, db];
};

const gelu: tf.KernelFunc = (args) => {
  const w = args.backend as BackendWasm;
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { tanh } = args.attrs as unknown as { tanh: boolean };
  const y = w.makeOutput(x.shape, 'float32');
  const lib = native(w);
  [tanh ? 1 : 0, offset(w, x), size(x.shape), offset(w, y)].forEach((v, i) => (P[i] = v));
  lib.gelu();
  return y;
};

const geluGrad: tf.KernelFunc = (args) => {
  const w = args.backend as BackendWasm;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { tanh } = args.attrs as unknown as { tanh: boolean };
  const dx = w.makeOutput(x.shape, 'float32');
  const lib = native(w);
  [tanh ? 1 : 0, offset(w, x), offset(w, dy), size(x.shape), offset(w, dx)].forEach((v, i) => (P[i] = v));
  lib.geluGrad();
  return dx;
};

/**
 * y = x·w (+ b) for x [M, K] and w [K, N] (or [N, K] with transposeW): the bias is copied into the
 * output rows first and the GEMM accumulates onto it (β = 1), which saves the separate Add pass.
 */
const linear: tf.KernelFunc = (args) => {
  const w = args.backend as BackendWasm;
  const { x, w: weight, b } = args.inputs as { x: tf.TensorInfo; w: tf.TensorInfo; b?: tf.TensorInfo };
  const { transposeW } = args.attrs as unknown as { transposeW: boolean };
  const [m, k] = x.shape;
  const [wr, wc] = weight.shape;
  const n = transposeW ? wr : wc;
  const out = w.makeOutput([m, n], 'float32');
  if (m * n === 0) return out;
  const lib = native(w);
  if (b !== undefined) {
    [offset(w, out), offset(w, b), m, n].forEach((v, i) => (P[i] = v));
    lib.fillRows();
  }
  [0, transposeW ? 1 : 0, m, n, k, 1, offset(w, x), k, 0, offset(w, weight), wc, 0, b !== undefined ? 1 : 0, offset(w, out), n, 0, 1].forEach((v, i) => (P[i] = v));
  lib.gemm();
  return out;
};

/** Lazy gradients: dW only for a trainable weight, db as a column sum (the native Sum). */
const linearGrad: tf.GradConfig = {
  kernelName: NATIVE_KERNELS.linear,
  inputsToSave: ['x', 'w'],
  gradFunc: (dy, saved, attrs) => {
    const [x, w] = saved;
    const { transposeW } = attrs as unknown as { transposeW: boolean };
    const g = dy as tf.Tensor;
    return {
      x: () => tf.matMul(g, w, false, !transposeW),
      w: () => (transposeW ? tf.matMul(g, x, true, false) : tf.matMul(x, g, true, false)),
      b: () => tf.sum(g, 0),
    };
  },
};

/** log_softmax over the last axis (one pass per row instead of six tfjs kernels). */
const logSoftmax: tf.KernelFunc = (args) => {
  const w = args.backend as BackendWasm;
  const { x } = args.inputs as { x: tf.TensorInfo };
  const n = x.shape[x.shape.length - 1];
  const y = w.makeOutput(x.shape, 'float32');
  if (size(x.shape) === 0) return y;
  const lib = native(w);
  [offset(w, x), size(x.shape) / n, n, offset(w, y)].forEach((v, i) => (P[i] = v));
  lib.logSoftmax();
  return y;
};

/** Inputs y (the log_softmax output) and dy: dx = dy − Σdy · exp(y). */
const logSoftmaxGrad: tf.KernelFunc = (args) => {
  const w = args.backend as BackendWasm;
  const { y, dy } = args.inputs as { y: tf.TensorInfo; dy: tf.TensorInfo };
  const n = y.shape[y.shape.length - 1];
  const dx = w.makeOutput(y.shape, 'float32');
  if (size(y.shape) === 0) return dx;
  const lib = native(w);
  [offset(w, y), offset(w, dy), size(y.shape) / n, n, offset(w, dx)].forEach((v, i) => (P[i] = v));
  lib.logSoftmaxGrad();
  return dx;
};

/**
 * The reference NLG per-token loss from logits [N, V] and int32 labels [N] (attr eps: label
 * smoothing): outputs loss [N] and log Σ exp per row (for the backward pass).
 */
const tokenXent: tf.KernelFunc = (args) => {
  const w = args.backend as BackendWasm;
  const { x, labels } = args.inputs as { x: tf.TensorInfo; labels: tf.TensorInfo };
  const { eps } = args.attrs as unknown as { eps: number };
  const [rows, n] = x.shape;
  const loss = w.makeOutput([rows], 'float32');
  const lse = w.makeOutput([rows], 'float32');
  if (rows === 0) return [loss, lse];
  const lib = native(w);
  [offset(w, x), offset(w, labels), rows, n, eps, offset(w, loss), offset(w, lse)].forEach((v, i) => (P[i] = v));
  lib.tokenXent();
  return [loss, lse];
};

const tokenXentGrad: tf.KernelFunc = (args) => {
  const w = args.backend as BackendWasm;
  const { x, labels, lse, dy } = args.inputs as Record<'x' | 'labels' | 'lse' | 'dy', tf.TensorInfo>;
  const { eps } = args.attrs as unknown as { eps: number };
  const [rows, n] = x.shape;
  const dx = w.makeOutput(x.shape, 'float32');
  if (rows === 0) return dx;
  const lib = native(w);
  [offset(w, x), offset(w, labels), offset(w, lse), offset(w, dy), rows, n, eps, offset(w, dx)].forEach((v, i) => (P[i] = v));
  lib.tokenXentGrad();
  return dx;
};

/** No inputs; attrs shape, rate, seed: the multiplier of ops.dropout's mask. */
const dropoutMask: tf.KernelFunc = (args) => {
  const w = args.backend as BackendWasm;
  const { shape, rate, seed } = args.attrs as unknown as { shape: number[]; rate: number; seed: number };
  const out = w.makeOutput(shape, 'float32');
  const lib = native(w);
  [seed, rate, size(shape), offset(w, out)].forEach((v, i) => (P[i] = v));
  lib.dropoutMask();
  return out;
};

export interface AdamWConstants {
  beta1: number;
  beta2: number;
  eps: number;
  /** 1 − lr·weightDecay (1 without decay). */
  decay: number;
  /** √(1 − β2^t). */
  sqrtBc2: number;
  /** lr / (1 − β1^t). */
  step: number;
}

/**
 * One AdamW step written in place into p, m and v (native/src/kernels.c lr_adamw: the float32
 * operations of src/train/optim.ts in the same order, one pass instead of ~12 kernels). Only when
 * no other tensor shares their memory (refCount 1: writing in place is then unobservable);
 * returns false, doing nothing, otherwise or when the native kernels are not active.
 */
export function adamwInPlace(p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, c: AdamWConstants): boolean {
  if (!nativeKernelsActive()) return false;
  if ([p, g, m, v].some((t) => t.dtype !== 'float32' || t.size !== p.size)) return false;
  const w = tf.backend() as BackendWasm;
  if ([p, m, v].some((t) => w.dataIdMap.get(t.dataId)?.refCount !== 1)) return false;
  const lib = native(w);
  const f = Math.fround;
  [offset(w, p), offset(w, g), offset(w, m), offset(w, v), p.size, f(c.beta1), f(1 - c.beta1), f(c.beta2), f(1 - c.beta2), f(c.eps), f(c.decay), f(c.sqrtBc2), f(c.step)].forEach(
    (x, i) => (P[i] = x),
  );
  lib.adamw();
  return true;
}

// ---------------------------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------------------------

const REPLACED: [string, tf.KernelFunc][] = [
  [tf.BatchMatMul, batchMatMul],
  [tf.Sum, sum],
];

const ADDED: [string, tf.KernelFunc][] = [
  [NATIVE_KERNELS.attention, attention],
  [NATIVE_KERNELS.attentionGrad, attentionGrad],
  [NATIVE_KERNELS.layerNorm, layerNorm],
  [NATIVE_KERNELS.layerNormGrad, layerNormGrad],
  [NATIVE_KERNELS.gelu, gelu],
  [NATIVE_KERNELS.geluGrad, geluGrad],
  [NATIVE_KERNELS.dropoutMask, dropoutMask],
  [NATIVE_KERNELS.linear, linear],
  [NATIVE_KERNELS.logSoftmax, logSoftmax],
  [NATIVE_KERNELS.logSoftmaxGrad, logSoftmaxGrad],
  [NATIVE_KERNELS.tokenXent, tokenXent],
  [NATIVE_KERNELS.tokenXentGrad, tokenXentGrad],
];

let enabled = false;

/** Registers the native kernels for the wasm backend (idempotent). */
export function registerNativeKernels(lib: NativeAddon): void {
  if (enabled) return;
  bindAddon(lib);
  for (const [name, fn] of REPLACED) {
    previous.set(name, tf.getKernel(name, 'wasm')!);
    originals.set(name, replaceKernel(name, 'wasm', fn));
  }
  for (const [name, fn] of ADDED) tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: fn });
  // Gradients are backend-independent and stay registered (registering twice only warns).
  if (tf.getGradient(linearGrad.kernelName) === undefined) tf.registerGradient(linearGrad);
  enabled = true;
}

/** Puts the built-in kernels back (tests compare both in one process). */
export function unregisterNativeKernels(): void {
  if (!enabled) return;
  for (const [name] of REPLACED) restoreKernel(previous.get(name)!);
  for (const [name] of ADDED) tf.unregisterKernel(name, 'wasm');
  enabled = false;
}

/** True when the fused native kernels can run now (registered, and wasm is the active backend). */
export function nativeKernelsActive(): boolean {
  return enabled && tf.getBackend() === 'wasm';
}
