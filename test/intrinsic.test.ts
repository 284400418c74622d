/**
 * Intrinsic dimension: the Fastfood projection against its definition (an explicit Hadamard
 * matrix; a single block spanning the whole vector has columns of norm exactly 1), d_int90's
 * interpolation on synthetic curves whose crossing is known by hand, and `analyze intrinsic` on a
 * results folder with known scores.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { formatCount, formatDint, intrinsicDimension } from '../src/analysis/intrinsic-dim.ts';
import { initBackend } from '../src/backend/select.ts';
import { FastfoodProjection, hadamardFactors, hadamardMatrix, walshHadamard } from '../src/methods/fastfood.ts';
import { analyzeCommand } from '../src/cli/commands/analyze.ts';
import { writeIntrinsic } from '../src/report/intrinsic-page.ts';
import { projectedSize } from '../src/report/intrinsic.ts';
import { loadResults } from '../src/report/results.ts';
import { UserError } from '../src/util/errors.ts';
import { Rng } from '../src/util/rng.ts';
import { tempRoot, writeResultsFolder, type FixtureRun } from './helpers/results-fixture.ts';

function bits(v: number): number {
  let c = 0;
  for (let x = v; x !== 0; x &= x - 1) c++;
  return c;
}

describe('Fastfood projection (intrinsic: projection fastfood)', () => {
  before(async () => {
    await initBackend('wasm');
  });

  it('hadamardMatrix is Sylvester’s: H_2 = [[1,1],[1,-1]], H_4 = H_2 ⊗ H_2, H Hᵀ = n·I', () => {
    assert.deepEqual(Array.from(hadamardMatrix(2)), [1, 1, 1, -1]);
    assert.deepEqual(Array.from(hadamardMatrix(4)), [1, 1, 1, 1, 1, -1, 1, -1, 1, 1, -1, -1, 1, -1, -1, 1]);
    const n = 16;
    const h = hadamardMatrix(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += h[i * n + k] * h[j * n + k];
      assert.equal(s, i === j ? n : 0);
    }
  });

  it('hadamardFactors: at most 2^8 each, as even as possible, product ℓ', () => {
    assert.deepEqual(hadamardFactors(1), []);
    assert.deepEqual(hadamardFactors(2), [2]);
    assert.deepEqual(hadamardFactors(256), [256]);
    assert.deepEqual(hadamardFactors(512), [32, 16]);
    assert.deepEqual(hadamardFactors(65536), [256, 256]);
    assert.deepEqual(hadamardFactors(2 ** 17), [64, 64, 32]);
  });

  // One factor, two factors (H_a·X·H_b) and three (the rotating form).
  for (const n of [2, 64, 2048, 2 ** 17]) {
    it(`walshHadamard equals the explicit product H_${n}·x`, () => {
      const rng = new Rng(n);
      const x = Float32Array.from({ length: n }, () => rng.next() * 2 - 1);
      const factors = new Map<number, tf.Tensor2D>();
      for (const f of new Set(hadamardFactors(n))) factors.set(f, tf.tensor2d(hadamardMatrix(f), [f, f]));
      const got = tf.tidy(() => walshHadamard(tf.tensor1d(x), factors).dataSync());
      // Row i of Sylvester's H_n has sign (−1)^popcount(i & k) at column k; check a spread of rows.
      for (let i = 0; i < n; i += n <= 64 ? 1 : Math.floor(n / 16) + 1) {
        let want = 0;
        for (let k = 0; k < n; k++) want += (bits(i & k) % 2 === 0 ? 1 : -1) * x[k];
        assert.ok(Math.abs(got[i] - want) < 1e-4 * n, `row ${i}: ${got[i]} vs ${want}`);
      }
      for (const t of factors.values()) t.dispose();
    });
  }

  it('one block over the whole vector (n = D = 2^k): every column P·e_k has norm exactly 1; P is linear', () => {
    const n = 256;
    const d = 8;
    const p = new FastfoodProjection(n, d, n, new Rng(3));
    const cols = Array.from({ length: d }, (_, k) => tf.tidy(() => p.project(tf.oneHot(tf.tensor1d([k], 'int32'), d).reshape([d]) as tf.Tensor1D).dataSync()));
    for (const c of cols) assert.ok(Math.abs(Math.hypot(...c) - 1) < 1e-4, `column norm ${Math.hypot(...c)}`);
    // P(2·e_0 − 3·e_5) = 2·P e_0 − 3·P e_5
    const z = new Float32Array(d);
    z[0] = 2;
    z[5] = -3;
    const pz = tf.tidy(() => p.project(tf.tensor1d(z)).dataSync());
    for (let i = 0; i < n; i++) assert.ok(Math.abs(pz[i] - (2 * cols[0][i] - 3 * cols[5][i])) < 1e-4);
    p.dispose();
  });

  it('blocks of n < D rows share the norm: columns of a block of n rows carry about n/D of it', () => {
    const total = 4096;
    const p = new FastfoodProjection(1000, 4, total, new Rng(5));
    const sq = tf.tidy(() => {
      let s = 0;
      for (let k = 0; k < 4; k++) s += tf.sum(tf.square(p.project(tf.oneHot(tf.tensor1d([k], 'int32'), 4).reshape([4]) as tf.Tensor1D))).dataSync()[0];
      return s / 4;
    });
    // Expectation n/D = 0.244; the first n of ℓ = 1024 outputs keep a fraction that varies by a few percent.
    assert.ok(Math.abs(sq - 1000 / total) < 0.05, `mean squared column norm ${sq}`);
    p.dispose();
  });

  it('d > n: z is padded to ℓ = next power of two ≥ d and the output cut to n', () => {
    const p = new FastfoodProjection(100, 300, 100, new Rng(1));
    assert.equal(p.l, 512);
    const out = tf.tidy(() => Array.from(p.project(tf.ones([300]) as tf.Tensor1D).shape));
    assert.deepEqual(out, [100]);
    p.dispose();
  });
});

describe('d_int90 interpolation (analysis/intrinsic-dim.ts)', () => {
  it('crosses between two grid points, linearly in log d', () => {
    // 60 at d=100, 80 at d=10000: 70 is half-way in log d, i.e. d = 1000.
    const got = intrinsicDimension([{ d: 100, score: 60 }, { d: 10000, score: 80 }, { d: 10, score: 50 }], 70);
    assert.equal(got.kind, 'crossed');
    assert.ok(Math.abs(got.d - 1000) < 1e-6, String(got.d));
    if (got.kind === 'crossed') assert.deepEqual(got.between, [100, 10000]);
    // A quarter of the way: 10^(2 + 0.5) = 316.2.
    const q = intrinsicDimension([{ d: 100, score: 60 }, { d: 10000, score: 80 }], 65);
    assert.ok(Math.abs(q.d - 10 ** 2.5) < 1e-6);
  });

  it('reads the first crossing of a curve that dips again, averages repeated d (seeds), and hits a grid point exactly', () => {
    const pts = [
      { d: 4, score: 50 },
      { d: 16, score: 70 },
      { d: 64, score: 60 },
      { d: 256, score: 80 },
    ];
    assert.equal(intrinsicDimension(pts, 70).d, 16);
    const seeds = [
      { d: 4, score: 40 },
      { d: 4, score: 60 },
      { d: 64, score: 90 },
      { d: 64, score: 70 },
    ];
    // Means 50 and 80: 65 is half-way between log 4 and log 64 → d = 16.
    assert.ok(Math.abs(intrinsicDimension(seeds, 65).d - 16) < 1e-9);
  });

  it('says when the grid does not bracket the threshold', () => {
    assert.deepEqual(intrinsicDimension([{ d: 4, score: 95 }, { d: 16, score: 96 }], 90), { kind: 'at-most', d: 4 });
    assert.deepEqual(intrinsicDimension([{ d: 4, score: 10 }, { d: 16, score: 20 }], 90), { kind: 'above', d: 16 });
    assert.equal(formatDint({ kind: 'at-most', d: 4 }), '≤ 4');
    assert.equal(formatDint({ kind: 'above', d: 16384 }), '> 16.4k');
    assert.equal(formatCount(1861), '1.86k');
    assert.equal(formatCount(131072), '131k');
    assert.equal(formatCount(18874368), '18.9M');
  });
});

describe('analyze intrinsic on a results folder', () => {
  let root: string;
  before(async () => {
    await initBackend('wasm');
    root = tempRoot();
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('FT as the 100% line, d_int90 of the mean curve and of each seed, by hand', async function () {
    this.timeout(120_000);
    // FT 70 / 72 → 100% = 71, 90% = 63.9 (the papers' d_int90). Means: d=4 56, d=64 63, d=1024 69 → 63.9 is 0.15 of the way
    // from 64 to 1024 in log d: 64·16^0.15 = 97.0. Seed 0 (55, 62, 68): 64·16^(1.9/6) = 154.1;
    // seed 1 (57, 64, 70): crosses between 4 and 64 at 4·16^(6.9/7) = 61.5.
    const run = (method: string, dim: number | undefined, seed: number, acc: number): FixtureRun => ({
      model: 'mini-roberta',
      method,
      ...(dim !== undefined ? { methodConfig: { dim, projection: 'fastfood' }, formula: dim } : { formula: 1000 }),
      task: 'sst2',
      seed,
      experiment: 'intrinsic',
      metrics: { accuracy: acc },
      baseline: { kind: 'majority', description: 'majority class', metrics: { accuracy: 0.5 } },
    });
    const fixtures = [run('ft', undefined, 0, 0.7), run('ft', undefined, 1, 0.72)];
    for (const [d, accs] of [[4, [0.55, 0.57]], [64, [0.62, 0.64]], [1024, [0.68, 0.7]]] as const) accs.forEach((a, seed) => fixtures.push(run('intrinsic', d, seed, a)));
    const { dir } = writeResultsFolder(root, 'tiny', fixtures);
    const out = await writeIntrinsic(loadResults(dir, 'tiny'), undefined);
    const t = out.model.tasks[0];
    assert.ok(Math.abs(t.ft.mean! - 71) < 1e-9);
    assert.ok(Math.abs(t.threshold! - 63.9) < 1e-9);
    assert.equal(t.dint?.kind, 'crossed');
    assert.ok(Math.abs(t.dint!.d - 64 * 16 ** 0.15) < 1e-6, String(t.dint!.d));
    const bySeed = Object.fromEntries(t.perSeed.map((s) => [s.seed, s.dint.d]));
    assert.ok(Math.abs(bySeed[0] - 64 * 16 ** (1.9 / 6)) < 1e-6, String(bySeed[0]));
    assert.ok(Math.abs(bySeed[1] - 4 * 16 ** (6.9 / 7)) < 1e-6, String(bySeed[1]));
    assert.deepEqual(t.seedSpread && [t.seedSpread.crossed, t.seedSpread.of], [2, 2]);
    assert.ok(Math.abs(t.seedSpread!.median - (bySeed[0] + bySeed[1]) / 2) < 1e-9);
    // The gain over the majority baseline (50): 50 + 0.9·21 = 68.9, reached at 64·16^(5.9/6) on the mean curve.
    assert.ok(Math.abs(t.baseline! - 50) < 1e-9);
    assert.ok(Math.abs(t.gainThreshold! - 68.9) < 1e-9);
    assert.ok(Math.abs(t.dintGain!.d - 64 * 16 ** (5.9 / 6)) < 1e-6, String(t.dintGain!.d));
    // No config.json of the model here: LoRA's counts are left out, and a note says so.
    assert.deepEqual(t.loraCounts, []);
    assert.equal(projectedSize({ hidden: 128, intermediate: 512, layers: 4 }), 791_040, 'mini-roberta: 4·(4·(128²+128) + 2·128·512 + 512 + 128)');
    assert.ok(out.model.notes.some((n) => n.includes('LoRA')));
    for (const f of ['intrinsic.json', 'intrinsic.md', 'intrinsic.tex', 'intrinsic.csv', 'intrinsic.html', 'charts/intrinsic-sst2.png', 'charts/intrinsic-sst2.svg']) assert.ok(existsSync(join(dir, f)), f);
    const md = readFileSync(join(dir, 'intrinsic.md'), 'utf8');
    assert.match(md, /\| SST-2 \| 1,024 \| 69\.00 ± 1\.41 \| 2 \| 97\.2% \|/);
    assert.match(md, /\| SST-2 \| mini-roberta \| 71\.00 ± 1\.41 \(2\) \| 63\.90 \| 97; seeds: median 108, range 62–154 \(2 of 2 cross\)/);
  });

  it('analyze intrinsic without intrinsic runs is a one-line user error', async () => {
    const { dir } = writeResultsFolder(root, 'none', [{ model: 'mini-roberta', method: 'ft', task: 'sst2', seed: 0, experiment: 'intrinsic' }]);
    await assert.rejects(() => analyzeCommand.run(['intrinsic', '--results', root, '--profile', 'none', '--quiet']), (e: Error) => e instanceof UserError && e.message.includes(`${dir}: no runs of experiment 'intrinsic'`));
  });
});
