/**
 * DeBERTa-v2's disentangled self-attention (He et al. 2021, Section 3.1) and its relative-position
 * buckets, as microsoft/LoRA's fork computes them (examples/NLU/src/transformers/models/deberta_v2/
 * modeling_deberta_v2.py: make_log_bucket_position, build_relative_position, DisentangledSelfAttention,
 * XSoftmax). ../shared/fixtures/parity/deberta-tiny/README.md lists each detail this file matches.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DebertaPosAtt } from './deberta-config.ts';
import type { ForwardContext } from './context.ts';
import { matMul } from './matmul.ts';
import { dropout, mergeHeads, splitHeads } from './ops.ts';

/**
 * make_log_bucket_position for one relative distance δ = query − key. Evaluated in float64 in exactly
 * the reference's form, ceil(ln(|δ|/mid) / ln((M−1)/mid) · (mid−1)) + mid: at |δ| = M − 1 the quotient
 * is exactly mid − 1 only when both logarithms are taken of the same kind of ratio (README step 3).
 */
export function logBucketPosition(delta: number, bucketSize: number, maxPosition: number): number {
  const mid = Math.floor(bucketSize / 2);
  const sign = Math.sign(delta);
  // The reference substitutes mid − 1 for small distances only to keep log() finite; they take δ itself.
  const absPos = delta < mid && delta > -mid ? mid - 1 : Math.abs(delta);
  if (absPos <= mid) return delta;
  const logPos = Math.ceil((Math.log(absPos / mid) / Math.log((maxPosition - 1) / mid)) * (mid - 1)) + mid;
  // astype(int) truncates toward zero; logPos · sign is already an integer.
  return Math.trunc(logPos * sign);
}

/** The relative-position geometry of one config: bucket count and the table's half size (att_span). */
export interface RelativePositionSpec {
  /** position_buckets (≤ 0: raw distances, no log buckets). */
  buckets: number;
  /** max_relative_positions, resolved. */
  maxRelative: number;
}

/** att_span = pos_ebd_size: the bucket count, else max_relative_positions; the table has 2·span rows. */
export function attentionSpan(spec: RelativePositionSpec): number {
  return spec.buckets > 0 ? spec.buckets : spec.maxRelative;
}

/** build_relative_position: [query, key] bucketed δ = a − c, row-major. */
export function relativePositions(queryLen: number, keyLen: number, spec: RelativePositionSpec): Int32Array {
  const out = new Int32Array(queryLen * keyLen);
  const bucketed = spec.buckets > 0 && spec.maxRelative > 0;
  for (let a = 0; a < queryLen; a++) {
    for (let c = 0; c < keyLen; c++) {
      const d = a - c;
      out[a * keyLen + c] = bucketed ? logBucketPosition(d, spec.buckets, spec.maxRelative) : d;
    }
  }
  return out;
}

/**
 * Row of the position table each (query a, key c) pair reads: clamp(bucket(a − c) + span, 0, 2·span − 1).
 * c2p uses it directly. p2c in the reference gathers a [key, 2·span] table with clamp(−r + span) built
 * from r = bucket(c − a) and transposes; as bucket(−δ) = −bucket(δ) that is the same index idx(a, c).
 */
export function positionIndex(len: number, spec: RelativePositionSpec): Int32Array {
  const span = attentionSpan(spec);
  const rel = relativePositions(len, len, spec);
  return rel.map((r) => Math.min(Math.max(r + span, 0), 2 * span - 1));
}

/** [rows, H] → [heads, rows, d]: head h is columns h·d … h·d + d − 1 (transpose_for_scores). */
function headsFirst(x: tf.Tensor, heads: number): tf.Tensor3D {
  const rows = x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const h = x.shape[x.shape.length - 1];
  return tf.transpose(tf.reshape(x, [rows, heads, h / heads]), [1, 0, 2]);
}

/**
 * One position term: content [B, S, H] against the position projection [2·span, H], gathered per
 * (a, c) pair. `flatIndex[a·S + c]` indexes the flattened [S · 2·span] table of the content row the
 * term belongs to (the query row a for c2p, the key row c for p2c). Result [B, heads, S, S].
 */
function positionTerm(content: tf.Tensor3D, posProj: tf.Tensor2D, heads: number, flatIndex: tf.Tensor1D): tf.Tensor4D {
  const [b, s] = content.shape;
  const table = matMul(headsFirst(content, heads), headsFirst(posProj, heads), true); // [n, B·S, 2·span]
  const rows = tf.reshape(table, [heads * b, -1]); // [n·B, S · 2·span]: the reference's manually_gather
  const picked = tf.gather(rows, flatIndex, 1); // [n·B, S·S]
  return tf.transpose(tf.reshape(picked, [heads, b, s, s]), [1, 0, 2, 3]) as tf.Tensor4D;
}

export interface DisentangledInputs {
  heads: number;
  posAttType: DebertaPosAtt[];
  /** Content projections [B, S, heads·d] (LoRA included where the modules have it). */
  q: tf.Tensor3D;
  k: tf.Tensor3D;
  v: tf.Tensor3D;
  /** Position projections of the (normalised) table, [2·span, heads·d]; only those the terms need. */
  posKey?: tf.Tensor2D;
  posQuery?: tf.Tensor2D;
  /** positionIndex(S, …). */
  index: Int32Array;
  /** span of the table (its rows are 2·span). */
  span: number;
  /** [B, S] float, 1 = real token. */
  mask: tf.Tensor2D;
  attentionDropout: number;
  ctx: ForwardContext;
}

export interface DisentangledOutputs {
  context: tf.Tensor3D;
  /** The position terms already divided by the scale, [B, heads, S, S] (for the debug intermediates). */
  relScores?: tf.Tensor4D;
  probs: tf.Tensor4D;
}

/**
 * score(a, c) = (Q_a·K_c + Q_a·Kr[idx] + K_c·Qr[idx]) / sqrt(d · (1 + #terms)): one scale shared by all
 * terms (the reference's scale_factor), then XSoftmax over keys with the pair mask mask[a]·mask[c].
 */
export function disentangledAttention(x: DisentangledInputs): DisentangledOutputs {
  const { heads, q, k, v, mask, index, span } = x;
  const [b, s, hd] = q.shape;
  const d = hd / heads;
  const scale = Math.sqrt(d * (1 + x.posAttType.length));
  const qh = splitHeads(q, heads);
  const kh = splitHeads(k, heads);
  let scores = tf.reshape(matMul(qh, kh, true), [b, heads, s, s]) as tf.Tensor4D;
  let rel: tf.Tensor4D | undefined;
  const width = 2 * span;
  const add = (t: tf.Tensor4D): void => {
    rel = rel === undefined ? t : (tf.add(rel, t) as tf.Tensor4D);
  };
  if (x.posAttType.includes('c2p')) {
    // Query row a reads its own table row at idx(a, c).
    const flat = tf.tensor1d(Int32Array.from(index, (r, i) => Math.floor(i / s) * width + r), 'int32');
    add(positionTerm(q, x.posKey!, heads, flat));
  }
  if (x.posAttType.includes('p2c')) {
    // Key row c's table (K·Qrᵀ) at idx(a, c): the reference's gather with −r followed by the transpose.
    const flat = tf.tensor1d(Int32Array.from(index, (r, i) => (i % s) * width + r), 'int32');
    add(positionTerm(k, x.posQuery!, heads, flat));
  }
  let relScores: tf.Tensor4D | undefined;
  if (rel !== undefined) {
    relScores = tf.div(rel, scale) as tf.Tensor4D;
    scores = tf.add(scores, rel) as tf.Tensor4D;
  }
  scores = tf.div(scores, scale) as tf.Tensor4D;
  // XSoftmax: masked pairs get −∞ before the softmax and exactly 0 after, so a padded query row is all
  // zeros. A large finite fill gives the same probabilities (exp underflows to 0) without NaN rows.
  const pair = tf.reshape(tf.mul(tf.reshape(mask, [b, 1, s, 1]), tf.reshape(mask, [b, 1, 1, s])), [b, 1, s, s]);
  const filled = tf.where(tf.cast(pair, 'bool'), scores, tf.fill(scores.shape, -1e30));
  let probs = tf.mul(tf.softmax(filled, -1), pair) as tf.Tensor4D;
  const kept = probs;
  probs = dropout(probs, x.attentionDropout, x.ctx) as tf.Tensor4D;
  const out = matMul(tf.reshape(probs, [b * heads, s, s]), splitHeads(v, heads));
  return { context: mergeHeads(out, b, heads), relScores, probs: kept };
}
