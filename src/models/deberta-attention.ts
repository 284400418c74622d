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
 * The relative shift (Dai et al. 2019, Transformer-XL, Appendix B): out[x, a, c] = t[x, a, S − 1 − a + c]
 * for t [X, S, 2S − 1], by two slices of the flattened rows instead of a gather. Why: tfjs-wasm's
 * GatherV2 along a non-leading axis, and its gradient (two transposes and a segment sum), cost more
 * than every matrix product of a mini-deberta step together; slices and their gradient (a pad) are copies.
 */
function relativeShift(t: tf.Tensor3D): tf.Tensor3D {
  const [x, s, w] = t.shape;
  if (s === 1) return t;
  const flat = tf.reshape(t, [x, s * w]);
  const rows = tf.reshape(tf.slice(flat, [0, s - 1], [x, s * (w - 1)]), [x, s, w - 1]) as tf.Tensor3D;
  return tf.slice(rows, [0, 0, 0], [x, s, s]);
}

/**
 * One position term in head-major layout [heads·B, S, S]: out[x, a, c] = content[x, a] · posProj[rows[S − 1 − a + c]].
 * `rows` (2S − 1 entries) picks the table row for each relative distance, in the order the shift reads
 * them; the gather is over the B-independent [2·span, H] table, not the [B, S, 2·span] products.
 */
function positionTerm(content: tf.Tensor3D, posProj: tf.Tensor2D, heads: number, rows: Int32Array): tf.Tensor3D {
  const [b, s] = content.shape;
  const byDistance = tf.gather(posProj, tf.tensor1d(rows, 'int32'), 0); // [2S − 1, H]
  const table = matMul(headsFirst(content, heads), headsFirst(byDistance, heads), true); // [n, B·S, 2S − 1]
  return relativeShift(tf.reshape(table, [heads * b, s, 2 * s - 1]) as tf.Tensor3D);
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
  const { heads, q, k, v, mask, index } = x;
  const [b, s, hd] = q.shape;
  const d = hd / heads;
  const scale = Math.sqrt(d * (1 + x.posAttType.length));
  const qh = splitHeads(q, heads);
  const kh = splitHeads(k, heads);
  let scores = tf.reshape(matMul(qh, kh, true), [b, heads, s, s]) as tf.Tensor4D;
  // idx(a, c) depends on δ = a − c only: row δ·S of the index for δ ≥ 0, column −δ of row 0 otherwise.
  const rowOf = (delta: number): number => (delta >= 0 ? index[delta * s] : index[-delta]);
  let relHeadMajor: tf.Tensor3D | undefined; // [heads·B, S, S]
  const add = (t: tf.Tensor3D): void => {
    relHeadMajor = relHeadMajor === undefined ? t : (tf.add(relHeadMajor, t) as tf.Tensor3D);
  };
  if (x.posAttType.includes('c2p')) {
    // Query row a reads Kr at idx(a, c): position j of the shift is δ = S − 1 − j.
    add(positionTerm(q, x.posKey!, heads, Int32Array.from({ length: 2 * s - 1 }, (_, j) => rowOf(s - 1 - j))));
  }
  if (x.posAttType.includes('p2c')) {
    // Key row c's table (K·Qrᵀ) at idx(a, c) (the reference's gather with −r, then its transpose):
    // shifted over key rows, position j is δ = a − c = j − (S − 1); then transposed to [a, c].
    add(tf.transpose(positionTerm(k, x.posQuery!, heads, Int32Array.from({ length: 2 * s - 1 }, (_, j) => rowOf(j - (s - 1)))), [0, 2, 1]));
  }
  const rel =
    relHeadMajor === undefined ? undefined : (tf.transpose(tf.reshape(relHeadMajor, [heads, b, s, s]), [1, 0, 2, 3]) as tf.Tensor4D);
  let relScores: tf.Tensor4D | undefined;
  if (rel !== undefined) {
    relScores = tf.div(rel, scale) as tf.Tensor4D;
    scores = tf.add(scores, rel) as tf.Tensor4D;
  }
  scores = tf.div(scores, scale) as tf.Tensor4D;
  // XSoftmax: masked pairs get −∞ before the softmax and exactly 0 after, so a padded query row is all
  // zeros. A large finite fill gives the same probabilities (exp underflows to 0) without NaN rows.
  const pair = tf.reshape(tf.mul(tf.reshape(mask, [b, 1, s, 1]), tf.reshape(mask, [b, 1, 1, s])), [b, 1, s, s]);
  // Added, not tf.where: where broadcasts the [B, 1, S, S] mask over heads with a Tile (as slow as the
  // products on wasm). score − 1e30 rounds to −1e30 in float32, the fill value, so the result is the same.
  const filled = tf.add(scores, tf.mul(tf.sub(pair, 1), 1e30));
  let probs = tf.mul(tf.softmax(filled, -1), pair) as tf.Tensor4D;
  const kept = probs;
  probs = dropout(probs, x.attentionDropout, x.ctx) as tf.Tensor4D;
  const out = matMul(tf.reshape(probs, [b * heads, s, s]), splitHeads(v, heads));
  return { context: mergeHeads(out, b, heads), relScores, probs: kept };
}
