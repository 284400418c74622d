/**
 * The wasm kernel replacements and the optional native kernels, each against independent truth:
 * float64 JavaScript references for the primitives, and the composed tfjs path (native kernels
 * switched off in the same process) for the fused ops and whole training steps.
 * Tests of the native kernels skip when the addon is not built (`npm run build:native`).
 */
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/select.ts';
import { loadNative } from '../src/backend/native.ts';
import { adamwInPlace, nativeKernelsActive, registerNativeKernels, unregisterNativeKernels } from '../src/backend/native-kernels.ts';
import { dropoutMaskValues, mix32 } from '../src/backend/dropout-mask.ts';
import { dropoutMultiplier, geluErf, geluTanh, layerNorm, activation, linear, logSoftmax } from '../src/models/ops.ts';
import { nativeAttention } from '../src/models/native-ops.ts';
import { lmLoss } from '../src/models/losses.ts';
import { AdamW } from '../src/train/optim.ts';
import { trainStep } from '../src/train/step.ts';
import { tinyTrainingSetup } from './helpers/tiny-step.ts';
import { skipBecause } from './helpers/skip.ts';

/** max |a − b| / max(1, max |b|). */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  let m = 1;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}

function rand(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}

const nativeOn = () => loadNative().status.active;

/** Runs f with the native kernels, then with tfjs's own; returns both results' values. */
async function bothPaths(f: () => tf.Tensor[] | Promise<tf.Tensor[]>): Promise<{ native: Float32Array[]; composed: Float32Array[] }> {
  const lib = loadNative().addon!;
  const read = async () => {
    const ts = await f();
    const out = ts.map((t) => t.dataSync() as Float32Array);
    tf.dispose(ts);
    return out;
  };
  registerNativeKernels(lib);
  assert.ok(nativeKernelsActive());
  const n = await read();
  unregisterNativeKernels();
  try {
    return { native: n, composed: await read() };
  } finally {
    registerNativeKernels(lib);
  }
}

function matmulRef(a: Float32Array, b: Float32Array, m: number, n: number, k: number, ta: boolean, tb: boolean): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
      out[i * n + j] = s;
    }
  return out;
}

describe('kernels: wasm replacements', () => {
  before(async () => {
    await initBackend('wasm');
  });

  it('GatherV2 copies whole rows (any axis) and rejects an out-of-range index', () => {
    const x = tf.tensor3d(Array.from({ length: 24 }, (_, i) => i), [2, 3, 4]);
    const idx = tf.tensor1d([2, 0, 2], 'int32');
    const g1 = tf.gather(x, idx, 1).arraySync() as number[][][];
    const xs = x.arraySync() as number[][][];
    assert.deepEqual(g1, xs.map((plane) => [2, 0, 2].map((r) => plane[r])));
    const g0 = tf.gather(x, tf.tensor2d([[1], [0]], [2, 1], 'int32')).arraySync();
    assert.deepEqual(g0, [[xs[1]], [xs[0]]]);
    assert.throws(() => tf.gather(x, tf.tensor1d([3], 'int32'), 1), /index value 3 is not in \[0, 2\]/);
    tf.dispose([x, idx]);
  });

  it('Identity/Cast share data: clones survive the original, gradients flow, nothing leaks', () => {
    const before = tf.memory().numTensors;
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.clone(a);
    const c = tf.cast(a, 'float32');
    a.dispose();
    assert.deepEqual([...b.dataSync(), ...c.dataSync()], [1, 2, 3, 1, 2, 3]);
    const init = tf.tensor1d([1, 2]);
    const v = tf.variable(init);
    const { value, grads } = tf.valueAndGrads(() => tf.sum(tf.mul(tf.clone(v), tf.clone(v))) as tf.Scalar)([v]);
    assert.deepEqual([...grads[0].dataSync()], [2, 4]);
    tf.dispose([b, c, init, v, value, ...grads]);
    assert.equal(tf.memory().numTensors, before);
  });

  it('dropout masks: the JS hash keeps ≈ 1 − rate, scales by 1/(1 − rate), and differs by seed', () => {
    const n = 200000;
    const m = dropoutMaskValues(7, 0.1, n);
    const kept = m.filter((x) => x > 0);
    assert.ok(Math.abs(kept.length / n - 0.9) < 0.005, `kept ${kept.length / n}`);
    assert.ok(kept.every((x) => x === Math.fround(1 / Math.fround(0.9))));
    const other = dropoutMaskValues(8, 0.1, n);
    let same = 0;
    for (let i = 0; i < n; i++) if ((m[i] > 0) === (other[i] > 0)) same++;
    assert.ok(Math.abs(same / n - 0.82) < 0.01, `seeds look correlated: ${same / n}`);
    // lowbias32 (Wellons) values computed independently with Python integers.
    assert.deepEqual([mix32(0), mix32(1), mix32(2), mix32(0xdeadbeef)], [0, 0x688990c0, 0xd1132181, 0xe628c683]);
  });
});

describe('kernels: native BLAS kernels against independent truth', function () {
  before(async function () {
    await initBackend('wasm');
    if (!nativeOn()) skipBecause(this, 'the native kernels are not active here (npm run build:native; OpenBLAS: lora-repro env says why)');
  });

  it('BatchMatMul: every transpose flag, batched, shared batch operand, k = 0 — float64 reference', () => {
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const [m, n, k] = [7, 5, 9];
      const a = rand(ta ? [3, k, m] : [3, m, k], 1);
      const b = rand(tb ? [n, k] : [k, n], 2);
      const got = tf.matMul(a, b, ta, tb);
      assert.deepEqual(got.shape, [3, m, n]);
      const av = a.dataSync() as Float32Array;
      const bv = b.dataSync() as Float32Array;
      const g = got.dataSync();
      for (let i = 0; i < 3; i++) {
        const ref = matmulRef(av.subarray(i * m * k, (i + 1) * m * k), bv, m, n, k, ta, tb);
        assert.ok(relDiff(g.subarray(i * m * n, (i + 1) * m * n), ref) < 1e-6, `ta=${ta} tb=${tb}`);
      }
      tf.dispose([a, b, got]);
    }
    const empty = tf.matMul(tf.zeros([2, 0]), tf.zeros([0, 3]));
    assert.deepEqual([...empty.dataSync()], [0, 0, 0, 0, 0, 0]);
    empty.dispose();
  });

  it('Sum over leading, trailing, all and middle axes — float64 reference', () => {
    const x = rand([3, 4, 5], 3);
    const v = x.dataSync();
    const ref = (keep: (i: number, j: number, k: number) => number, size: number) => {
      const out = new Float64Array(size);
      for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) for (let k = 0; k < 5; k++) out[keep(i, j, k)] += v[i * 20 + j * 5 + k];
      return out;
    };
    const cases: [number | number[], (i: number, j: number, k: number) => number, number][] = [
      [0, (_i, j, k) => j * 5 + k, 20],
      [[0, 1], (_i, _j, k) => k, 5],
      [2, (i, j) => i * 4 + j, 12],
      [[1, 2], (i) => i, 3],
      [1, (i, _j, k) => i * 5 + k, 15],
      [[0, 1, 2], () => 0, 1],
    ];
    for (const [axis, keep, size] of cases) {
      const s = tf.sum(x, axis);
      assert.ok(relDiff(s.dataSync(), ref(keep, size)) < 1e-6, `axis ${axis}`);
      s.dispose();
    }
    const kept = tf.sum(x, -1, true);
    assert.deepEqual(kept.shape, [3, 4, 1]);
    tf.dispose([x, kept]);
  });

  it('dropout multiplier: the native kernel draws exactly the JS mask', () => {
    for (const [seed, rate, n] of [[0, 0.1, 1000], [2147483646, 0.5, 100003], [12345, 1 / 3, 77]] as const) {
      const t = dropoutMultiplier([n], rate, seed);
      assert.deepEqual(t.dataSync(), dropoutMaskValues(seed, rate, n));
      t.dispose();
    }
  });

  it('linear (bias inside the GEMM): value and lazy gradients equal the composed ops', async () => {
    for (const transposeW of [false, true]) {
      const r = await bothPaths(() => {
        const x = rand([2, 3, 6], 4);
        const w = rand(transposeW ? [5, 6] : [6, 5], 5);
        const b = rand([5], 6);
        const { value, grads } = tf.valueAndGrads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(linear(xx, ww, bb, transposeW), rand([2, 3, 5], 7))) as tf.Scalar)([x, w, b]);
        return [value, ...grads];
      });
      r.native.forEach((v, i) => assert.ok(relDiff(v, r.composed[i]) < 1e-5, `transposeW=${transposeW} output ${i}`));
    }
  });

  it('LayerNorm and GELU (erf, tanh): values and gradients equal the composed ops', async () => {
    const r = await bothPaths(() => {
      const x = tf.mul(rand([4, 6, 16], 8), 3);
      const g = tf.add(rand([16], 9), 1);
      const b = rand([16], 10);
      const w = rand([4, 6, 16], 11);
      const f = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => {
        const y = layerNorm(xx, gg, bb, 1e-5);
        return tf.add(tf.sum(tf.mul(activation('gelu', y), w)), tf.sum(tf.mul(activation('gelu_new', tf.mul(y, 2)), w))) as tf.Scalar;
      };
      const { value, grads } = tf.valueAndGrads(f)([x, g, b]);
      return [value, layerNorm(x, g, b, 1e-5), activation('gelu', x), activation('gelu_new', x), ...grads];
    });
    r.native.forEach((v, i) => assert.ok(relDiff(v, r.composed[i]) < 2e-5, `output ${i}: ${relDiff(v, r.composed[i])}`));
    // And against the formulas in float64 at a few points.
    const xs = [-4, -1.5, -0.3, 0, 0.2, 1, 3.7];
    const e = tf.tensor1d(xs);
    const erfRef = (z: number) => {
      // Abramowitz–Stegun 7.1.28 would be too coarse: integrate exp(−t²) (Simpson, 2000 panels).
      const n = 2000;
      const h = z / n;
      let s = 0;
      for (let i = 0; i <= n; i++) s += (i === 0 || i === n ? 1 : i % 2 ? 4 : 2) * Math.exp(-((i * h) ** 2));
      return ((2 / Math.sqrt(Math.PI)) * s * h) / 3;
    };
    const got = activation('gelu', e).dataSync();
    xs.forEach((x, i) => assert.ok(Math.abs(got[i] - 0.5 * x * (1 + erfRef(x / Math.SQRT2))) < 1e-6, `gelu(${x})`));
    const gotTanh = activation('gelu_new', e).dataSync();
    xs.forEach((x, i) => assert.ok(Math.abs(gotTanh[i] - 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)))) < 1e-6));
    assert.ok(relDiff(geluErf(e).dataSync(), got) < 1e-6 && relDiff(geluTanh(e).dataSync(), gotTanh) < 1e-6);
    e.dispose();
  });

  it('LM loss (label smoothing 0 and 0.1) and log-softmax: values and gradients equal the composed ops', async () => {
    for (const eps of [0, 0.1]) {
      const r = await bothPaths(() => {
        const logits = tf.mul(rand([2, 5, 37], 20), 4) as tf.Tensor3D;
        const labels = Int32Array.from({ length: 10 }, (_, i) => (i * 7) % 37);
        const mask = Float32Array.from({ length: 10 }, (_, i) => (i % 4 === 3 ? 0 : 1));
        const { value, grads } = tf.valueAndGrads((x: tf.Tensor) => lmLoss(x as tf.Tensor3D, labels, mask, eps))([logits]);
        const ls = tf.valueAndGrads((x: tf.Tensor) => tf.sum(tf.mul(logSoftmax(x), rand([2, 5, 37], 21))) as tf.Scalar)([logits]);
        return [value, ...grads, ls.value, ...ls.grads];
      });
      r.native.forEach((v, i) => assert.ok(relDiff(v, r.composed[i]) < 1e-5, `eps ${eps} output ${i}: ${relDiff(v, r.composed[i])}`));
    }
  });

  it('attention kernel: separate q/k/v with mask, fused causal qkv, and a [B, heads, T, dh] cache — float64 reference', () => {
    const [B, H, heads, L] = [2, 8, 2, 5];
    const dh = H / heads;
    const q = rand([B, L, H], 12);
    const k = rand([B, L, H], 13);
    const v = rand([B, L, H], 14);
    const maskRows = [[0, 0, 0, -10000, -10000], [0, 0, 0, 0, 0]];
    const qv = q.arraySync() as number[][][];
    const kv = k.arraySync() as number[][][];
    const vv = v.arraySync() as number[][][];
    const ref = (causal: boolean, withMask: boolean) => {
      const out = new Float64Array(B * L * H);
      for (let b = 0; b < B; b++)
        for (let h = 0; h < heads; h++)
          for (let i = 0; i < L; i++) {
            const s = Array.from({ length: L }, (_, j) => {
              let d = 0;
              for (let c = 0; c < dh; c++) d += qv[b][i][h * dh + c] * kv[b][j][h * dh + c];
              let x = d / Math.sqrt(dh) + (withMask ? maskRows[b][j] : 0);
              if (causal && j > i) x = -1e10;
              return x;
            });
            const mx = Math.max(...s);
            const e = s.map((x) => Math.exp(x - mx));
            const z = e.reduce((a2, x) => a2 + x, 0);
            for (let c = 0; c < dh; c++) out[(b * L + i) * H + h * dh + c] = e.reduce((a2, p, j) => a2 + (p / z) * vv[b][j][h * dh + c], 0);
          }
      return out;
    };
    const EVAL = { training: false };
    const mask = tf.tensor2d(maskRows);
    const sep = nativeAttention({ heads, q, k, v, mask, dropout: 0, ctx: EVAL });
    assert.ok(relDiff(sep.dataSync(), ref(false, true)) < 1e-5);
    const qkv = tf.concat([q, k, v], 2);
    const fused = nativeAttention({ heads, qkv, causal: true, dropout: 0, ctx: EVAL });
    assert.ok(relDiff(fused.dataSync(), ref(true, false)) < 1e-5);
    // The last two queries against a cache of all keys in [B, heads, T, dh] layout.
    const toCache = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [B, L, heads, dh]), [0, 2, 1, 3]);
    const last = nativeAttention({ heads, q: tf.slice(q, [0, 3, 0], [B, 2, H]), k: toCache(k), v: toCache(v), kvLayout: 'bhld', causal: true, past: 3, dropout: 0, ctx: EVAL });
    const full = ref(true, false);
    const want = Array.from({ length: B }, (_, b) => Array.from(full.subarray((b * L + 3) * H, (b * L + 5) * H))).flat();
    assert.ok(relDiff(last.dataSync(), want) < 1e-5);
    tf.dispose([q, k, v, mask, sep, qkv, fused, last]);
  });

  it('AdamW in place is bit-identical to the composed update, and skipped for shared memory', () => {
    const run = (native: boolean) => {
      const lib = loadNative().addon!;
      if (!native) unregisterNativeKernels();
      try {
        const p = tf.variable(rand([1000], 15));
        const opt = new AdamW({ weightDecay: 0.01 });
        for (let i = 0; i < 4; i++) {
          const g = rand([1000], 16 + i);
          opt.apply([p], [g], 1e-2);
          g.dispose();
        }
        const out = p.dataSync().slice();
        opt.dispose();
        p.dispose();
        return out;
      } finally {
        registerNativeKernels(lib);
      }
    };
    assert.deepEqual(run(true), run(false));
    // Variables whose memory nothing else shares (the initial values are freed by the tidy).
    const [p, g, m, v] = [1, 1, 0, 0].map((x) => tf.tidy(() => tf.variable(tf.fill([4], x))));
    const alias = tf.clone(p);
    const consts = { beta1: 0.9, beta2: 0.999, eps: 1e-6, decay: 1, sqrtBc2: 1, step: 1 };
    assert.equal(adamwInPlace(p, g, m, v, consts), false, 'p shares its memory with a clone');
    assert.deepEqual([...alias.dataSync()], [1, 1, 1, 1]);
    alias.dispose();
    assert.equal(adamwInPlace(p, g, m, v, consts), true);
    assert.ok(p.dataSync()[0] < 1);
    tf.dispose([p, g, m, v]);
  });
});

describe('kernels: whole training steps, native against the composed path', function () {
  this.timeout(120000);
  before(async function () {
    await initBackend('wasm');
    if (!nativeOn()) skipBecause(this, 'the native kernels are not active here (npm run build:native; OpenBLAS: lora-repro env says why)');
  });

  for (const kind of ['roberta', 'gpt2'] as const) {
    for (const method of ['lora', 'ft'] as const) {
      it(`${kind} ${method} with dropout: losses and gradients agree, tensor count flat`, async () => {
        const r = await bothPaths(async () => {
          const { m, trainable, loss } = tinyTrainingSetup(kind, method);
          const opt = new AdamW({ weightDecay: 0.01 });
          let count = -1;
          const losses: number[] = [];
          for (let i = 0; i < 3; i++) {
            losses.push((await trainStep(loss, trainable, opt, 1e-2, 1)).loss);
            if (i === 1) count = tf.memory().numTensors;
          }
          assert.equal(tf.memory().numTensors, count, 'tensor count flat');
          const { grads } = tf.valueAndGrads(loss)(trainable);
          const out = [tf.tensor1d(losses), ...grads, ...trainable.map((t) => tf.clone(t))];
          opt.dispose();
          m.dispose();
          return out;
        });
        r.native.forEach((v, i) => assert.ok(relDiff(v, r.composed[i]) < 2e-4, `tensor ${i}: ${relDiff(v, r.composed[i])}`));
      });
    }
  }
});
