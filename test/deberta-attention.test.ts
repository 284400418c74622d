/**
 * The disentangled attention's position terms (src/models/deberta-attention.ts) against a direct
 * evaluation of their definition, score(a, c) = (Q_a·K_c + Q_a·Kr[idx(a, c)] + K_c·Qr[idx(a, c)]) /
 * sqrt(3d), in plain loops: the implementation reads the table by relative distance and shifts rows
 * (no per-pair gather), which must give the same scores for every length, including S = 1 and
 * lengths whose distances fall in the log buckets, with and without padding.
 */
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/select.ts';
import { EVAL } from '../src/models/context.ts';
import { disentangledAttention, positionIndex, type RelativePositionSpec } from '../src/models/deberta-attention.ts';
import { Rng } from '../src/util/rng.ts';

function random(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.next() * 2 - 1);
}

/** Row-softmaxed scores [B, heads, S, S] by the definition, with XSoftmax's pair mask. */
function naiveProbs(q: Float32Array, k: Float32Array, kr: Float32Array, qr: Float32Array, mask: number[][], idx: Int32Array, b: number, s: number, heads: number, d: number): Float64Array {
  const hd = heads * d;
  const out = new Float64Array(b * heads * s * s);
  const dot = (x: Float32Array, xo: number, y: Float32Array, yo: number): number => {
    let t = 0;
    for (let i = 0; i < d; i++) t += x[xo + i] * y[yo + i];
    return t;
  };
  for (let bi = 0; bi < b; bi++) {
    for (let h = 0; h < heads; h++) {
      for (let a = 0; a < s; a++) {
        const row: number[] = [];
        for (let c = 0; c < s; c++) {
          const r = idx[a * s + c];
          const qa = (bi * s + a) * hd + h * d;
          const kc = (bi * s + c) * hd + h * d;
          row.push((dot(q, qa, k, kc) + dot(q, qa, kr, r * hd + h * d) + dot(k, kc, qr, r * hd + h * d)) / Math.sqrt(3 * d));
        }
        const pair = row.map((_, c) => mask[bi][a] * mask[bi][c]);
        const max = Math.max(...row.filter((_, c) => pair[c] > 0), -Infinity);
        const e = row.map((v, c) => (pair[c] > 0 ? Math.exp(v - max) : 0));
        const z = e.reduce((x, y) => x + y, 0);
        e.forEach((v, c) => (out[((bi * heads + h) * s + a) * s + c] = z > 0 ? v / z : 0));
      }
    }
  }
  return out;
}

describe('DeBERTa disentangled attention: position terms by relative distance', () => {
  before(async () => {
    await initBackend();
  });

  const cases: { s: number; spec: RelativePositionSpec; padded: number }[] = [
    { s: 1, spec: { buckets: 8, maxRelative: 32 }, padded: 0 },
    { s: 6, spec: { buckets: 0, maxRelative: 4 }, padded: 2 }, // raw distances, clamped at ±span
    { s: 21, spec: { buckets: 8, maxRelative: 32 }, padded: 5 }, // |δ| ≥ 4 in log buckets
    { s: 40, spec: { buckets: 16, maxRelative: 24 }, padded: 0 }, // distances past maxRelative
  ];
  for (const { s, spec, padded } of cases) {
    it(`S = ${s}, buckets ${spec.buckets}, max relative ${spec.maxRelative}, ${padded} padded`, () => {
      const rng = new Rng(s);
      const [b, heads, d] = [2, 2, 4];
      const span = spec.buckets > 0 ? spec.buckets : spec.maxRelative;
      const q = random(rng, b * s * heads * d);
      const k = random(rng, b * s * heads * d);
      const v = random(rng, b * s * heads * d);
      const kr = random(rng, 2 * span * heads * d);
      const qr = random(rng, 2 * span * heads * d);
      const mask = [Array.from({ length: s }, () => 1), Array.from({ length: s }, (_, i) => (i < s - padded ? 1 : 0))];
      const index = positionIndex(s, spec);
      const got = tf.tidy(() => {
        const t3 = (x: Float32Array) => tf.tensor3d(x, [b, s, heads * d]);
        const out = disentangledAttention({
          heads,
          posAttType: ['c2p', 'p2c'],
          q: t3(q),
          k: t3(k),
          v: t3(v),
          posKey: tf.tensor2d(kr, [2 * span, heads * d]),
          posQuery: tf.tensor2d(qr, [2 * span, heads * d]),
          index,
          mask: tf.tensor2d(mask),
          attentionDropout: 0,
          ctx: EVAL,
        });
        return out.probs.dataSync();
      });
      const want = naiveProbs(q, k, kr, qr, mask, index, b, s, heads, d);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      assert.ok(worst < 1e-5, `max |Δp| = ${worst}`);
    });
  }
});
