/**
 * The fused multi-head attention kernels (native/src/attention.c): heads are read in place through
 * strides, from [B, L, H] projections (heads as column blocks, also of GPT-2's fused [B, L, 3H]
 * c_attn output) or a key/value cache's [B, heads, T, dh] layout; the context is written merged.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { P, native, offset } from './native-heap.ts';

/** How a tensor holds the heads: 'bld' = [B, L, C] with heads as column blocks, 'bhld' = [B, heads, L, dh]. */
export type HeadLayout = 'bld' | 'bhld';

export interface AttentionAttrs {
  heads: number;
  /** Scores are divided by this (√dh). */
  scale: number;
  causal: boolean;
  /** With causal: query i sits at position past + i. */
  past: number;
  /** Dropout on the probabilities (0 = none), with the mask of dropout-mask.ts. */
  dropRate: number;
  dropSeed: number;
  /** q, k and v are column blocks [0, H), [H, 2H), [2H, 3H) of one `qkv` input [B, L, 3H]. */
  fused: boolean;
  qLayout: HeadLayout;
  kvLayout: HeadLayout;
}

interface AttentionInputs {
  q: tf.TensorInfo;
  k: tf.TensorInfo;
  v: tf.TensorInfo;
  /** Additive [B, Lk] mask, or absent. */
  mask?: tf.TensorInfo;
}

function attentionInputs(inputs: tf.NamedTensorInfoMap, a: AttentionAttrs): AttentionInputs {
  const i = inputs as Record<string, tf.TensorInfo | undefined>;
  if (a.fused) return { q: i.qkv!, k: i.qkv!, v: i.qkv!, mask: i.mask };
  return { q: i.q!, k: i.k!, v: i.v!, mask: i.mask };
}

/** Writes the 4 numbers of a strided view of head data at P[at..at+3]. */
function putView(w: BackendWasm, at: number, t: tf.TensorInfo, layout: HeadLayout, col: number, dh: number, heads: number): void {
  if (layout === 'bhld') {
    const [, , l] = t.shape;
    P[at] = offset(w, t);
    P[at + 1] = heads * l * dh;
    P[at + 2] = l * dh;
    P[at + 3] = dh;
  } else {
    const [, l, c] = t.shape;
    P[at] = offset(w, t) + 4 * col;
    P[at + 1] = l * c;
    P[at + 2] = dh;
    P[at + 3] = c;
  }
}

/** Fills P[0..26] and P[43] and returns the sizes. */
function putAttention(w: BackendWasm, x: AttentionInputs, a: AttentionAttrs, out: tf.TensorInfo, probs: tf.TensorInfo) {
  const batch = x.q.shape[0];
  const lq = a.qLayout === 'bhld' ? x.q.shape[2] : x.q.shape[1];
  const lk = a.kvLayout === 'bhld' ? x.k.shape[2] : x.k.shape[1];
  const hidden = out.shape[2];
  const dh = hidden / a.heads;
  P[0] = batch;
  P[1] = a.heads;
  P[2] = lq;
  P[3] = lk;
  P[4] = dh;
  P[5] = a.scale;
  P[6] = a.causal ? 1 : 0;
  P[7] = a.past;
  P[8] = x.mask ? offset(w, x.mask) : 0;
  P[9] = a.dropRate;
  P[43] = a.dropSeed;
  P[10] = offset(w, probs);
  putView(w, 11, x.q, a.qLayout, 0, dh, a.heads);
  putView(w, 15, x.k, a.kvLayout, a.fused ? hidden : 0, dh, a.heads);
  putView(w, 19, x.v, a.kvLayout, a.fused ? 2 * hidden : 0, dh, a.heads);
  putView(w, 23, out, 'bld', 0, dh, a.heads);
  return { batch, lq, lk, hidden, dh };
}

function attentionShapes(x: AttentionInputs, a: AttentionAttrs) {
  const batch = x.q.shape[0];
  const lq = a.qLayout === 'bhld' ? x.q.shape[2] : x.q.shape[1];
  const lk = a.kvLayout === 'bhld' ? x.k.shape[2] : x.k.shape[1];
  const hidden = a.qLayout === 'bhld' ? a.heads * x.q.shape[3] : a.fused ? x.q.shape[2] / 3 : x.q.shape[2];
  return { batch, lq, lk, hidden };
}

/** Outputs: the context [B, Lq, H] and the softmax probabilities [B, heads, Lq, Lk] (for the backward pass). */
export const attention: tf.KernelFunc = (args) => {
  const w = args.backend as BackendWasm;
  const a = args.attrs as unknown as AttentionAttrs;
  const x = attentionInputs(args.inputs, a);
  const s = attentionShapes(x, a);
  const out = w.makeOutput([s.batch, s.lq, s.hidden], 'float32');
  const probs = w.makeOutput([s.batch, a.heads, s.lq, s.lk], 'float32');
  const lib = native(w);
  putAttention(w, x, a, out, probs);
  lib.attention();
  return [out, probs];
};

/** Inputs: those of the forward kernel plus probs and dy; outputs: dqkv, or dq, dk, dv. */
export const attentionGrad: tf.KernelFunc = (args) => {
  const w = args.backend as BackendWasm;
  const a = args.attrs as unknown as AttentionAttrs;
  const x = attentionInputs(args.inputs, a);
  const { probs, dy } = args.inputs as { probs: tf.TensorInfo; dy: tf.TensorInfo };
  const grads = a.fused ? [w.makeOutput(x.q.shape, 'float32')] : [x.q, x.k, x.v].map((t) => w.makeOutput(t.shape, 'float32'));
  const lib = native(w);
  const { dh, hidden } = putAttention(w, x, a, dy, probs);
  putView(w, 27, dy, 'bld', 0, dh, a.heads);
  const [dq, dk, dv] = a.fused ? [grads[0], grads[0], grads[0]] : grads;
  putView(w, 31, dq, a.qLayout, 0, dh, a.heads);
  putView(w, 35, dk, a.kvLayout, a.fused ? hidden : 0, dh, a.heads);
  putView(w, 39, dv, a.kvLayout, a.fused ? 2 * hidden : 0, dh, a.heads);
  lib.attentionBackward();
  return grads;
};

