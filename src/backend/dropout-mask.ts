/**
 * Dropout masks from a counter-based hash, identical in JavaScript and in the native kernels.
 *
 * Why not tf.dropout: it draws from seedrandom's alea, a serial generator that costs ~8 ms per
 * million numbers in JavaScript (100+ ms per training step) and cannot be vectorised; the native
 * attention kernel, besides, regenerates its mask in the backward pass instead of storing it. Here
 * element i of a mask drawn with `seed` depends only on (seed, i): kept iff u(seed, i) ≥ rate with
 * u = h/2^24, h the top 24 bits of mix32(mix32(i ⊕ k1) + k2), k1 and k2 hashed from the seed.
 * Kept elements are scaled by 1/(1 − rate) in float32, as tf.dropout and torch do.
 * native/src/common.h (lr_dropout_keep) computes the same bits; test/kernels.test.ts checks it.
 */

/** Chris Wellons' lowbias32 integer hash (32-bit in, 32-bit out). */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Kept iff the 24-bit hash is at least this. */
export function dropoutThreshold(rate: number): number {
  return Math.ceil(rate * 16777216);
}

/** The kept-value scale 1/(1 − rate), rounded to float32 like a float32 division. */
export function dropoutScale(rate: number): number {
  return Math.fround(1 / Math.fround(1 - rate));
}

/** The multiplier (0 or 1/(1 − rate)) of the first `n` elements of the mask drawn with `seed`. */
export function dropoutMaskValues(seed: number, rate: number, n: number): Float32Array {
  const out = new Float32Array(n);
  const k1 = mix32(seed >>> 0);
  const k2 = mix32((seed ^ 0x9e3779b9) >>> 0);
  const th = dropoutThreshold(rate);
  const scale = dropoutScale(rate);
  for (let i = 0; i < n; i++) if (mix32((mix32((i ^ k1) >>> 0) + k2) >>> 0) >>> 8 >= th) out[i] = scale;
  return out;
}
