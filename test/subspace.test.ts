/**
 * Subspace analysis (paper Section 7): φ on constructed cases with known answers, the expected φ of
 * random subspaces (max(i, j)/d), the low-rank SVD and the top-r iteration against ml-matrix's full
 * SVD, Table 7's random baseline against its closed form, and the real roberta-base MNLI checkpoint
 * (‖scaling·B·A‖_F per layer against its README table).
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { relationToW, spectrumOf } from '../src/analysis/delta-w.ts';
import { type Dense, dense, frobenius, gaussian, lowRankSvd, matmul, randomOrthonormal, svd, topSingular, transpose } from '../src/analysis/linalg.ts';
import { readLoraCheckpoint } from '../src/analysis/lora-weights.ts';
import { analyzeSubspace } from '../src/analysis/run-analysis.ts';
import { expectedRandomPhi, phi, phiGrid, phiOfA, rightSingularBasis } from '../src/analysis/subspace.ts';
import { f32, writeSafetensors } from '../src/io/safetensors.ts';
import { Rng } from '../src/util/rng.ts';
import { sharedOrSkip } from './helpers/skip.ts';

const REAL = fileURLToPath(new URL('../../shared/fixtures/real-lora/', import.meta.url));

/** Rows mixed by a random invertible r×r matrix: same row space, other basis. */
function mix(a: Dense, rng: Rng): Dense {
  return matmul(gaussian(a.rows, a.rows, rng), a);
}

/** r×d with rows spanning the coordinate axes `axes`, randomly mixed. */
function onAxes(d: number, axes: number[], rng: Rng): Dense {
  const a = dense(axes.length, d);
  axes.forEach((ax, k) => (a.data[k * d + ax] = 1));
  return mix(a, rng);
}

describe('subspace similarity φ (paper Eq. 4)', () => {
  const rng = new Rng(3);

  it('identical subspaces give 1: φ(A, c·A, i, i) = 1 for every i, and φ(r, r) = 1 for any other basis of the row space', () => {
    const a = gaussian(8, 40, rng);
    const g = phiOfA(a, dense(8, 40, Array.from(a.data, (x) => 3 * x)));
    for (let i = 1; i <= 8; i++) assert.ok(Math.abs(g[i - 1][i - 1] - 1) < 1e-10, `φ(${i},${i}) = ${g[i - 1][i - 1]}`);
    const g2 = phiOfA(a, mix(a, rng));
    assert.ok(Math.abs(g2[7][7] - 1) < 1e-10);
  });

  it('orthogonal subspaces give 0 for every (i, j)', () => {
    const g = phiOfA(onAxes(30, [0, 1, 2, 3], rng), onAxes(30, [4, 5, 6, 7, 8, 9], rng));
    for (const row of g) for (const v of row) assert.ok(Math.abs(v) < 1e-12, `φ = ${v}`);
  });

  it('a subspace inside a larger one gives φ(r1, r2) = 1 (r = 8 inside r = 64, as in Figure 3)', () => {
    const big = gaussian(64, 100, rng);
    const small = matmul(gaussian(8, 64, rng), big); // rows are combinations of big's rows
    const g = phiOfA(small, big);
    assert.equal(g.length, 8);
    assert.equal(g[0].length, 64);
    assert.ok(Math.abs(g[7][63] - 1) < 1e-9, `φ(8, 64) = ${g[7][63]}`);
  });

  it('hand-computed: e1 against (e1 + e2)/√2 gives cos² 45° = 0.5; against (√3 e1 + e2)/2 gives 0.75', () => {
    const e1 = dense(1, 5, [1, 0, 0, 0, 0]);
    assert.ok(Math.abs(phiOfA(e1, dense(1, 5, [1, 1, 0, 0, 0]))[0][0] - 0.5) < 1e-12);
    assert.ok(Math.abs(phiOfA(e1, dense(1, 5, [Math.sqrt(3), 1, 0, 0, 0]))[0][0] - 0.75) < 1e-12);
    // Two dimensions: span{e1, e2} vs span{e1, e3}: ‖U1ᵀU2‖²_F = 1, min(i, j) = 2 → 0.5.
    assert.ok(Math.abs(phi(rightSingularBasis(dense(2, 5, [1, 0, 0, 0, 0, 0, 1, 0, 0, 0])), rightSingularBasis(dense(2, 5, [1, 0, 0, 0, 0, 0, 0, 1, 0, 0])), 2, 2) - 0.5) < 1e-12);
  });

  it('the prefix-sum grid equals φ computed directly for every (i, j)', () => {
    const u1 = rightSingularBasis(gaussian(5, 20, rng));
    const u2 = rightSingularBasis(gaussian(7, 20, rng));
    const g = phiGrid(u1, u2);
    for (let i = 1; i <= 5; i++) for (let j = 1; j <= 7; j++) assert.ok(Math.abs(g[i - 1][j - 1] - phi(u1, u2, i, j)) < 1e-12);
  });

  it('random subspaces: the mean φ over draws matches E[φ] = max(i, j)/d (d = 64: φ(4,16) → 0.25, φ(8,8) → 0.125)', () => {
    const d = 64;
    const draws = 300;
    const acc = { a: [] as number[], b: [] as number[] };
    for (let t = 0; t < draws; t++) {
      const g = phiGrid(randomOrthonormal(d, 8, rng), randomOrthonormal(d, 16, rng));
      acc.a.push(g[3][15]);
      acc.b.push(g[7][7]);
    }
    for (const [vals, i, j] of [[acc.a, 4, 16], [acc.b, 8, 8]] as const) {
      const m = vals.reduce((s, x) => s + x, 0) / draws;
      const sd = Math.sqrt(vals.reduce((s, x) => s + (x - m) ** 2, 0) / (draws - 1));
      const expected = expectedRandomPhi(i, j, d);
      assert.ok(Math.abs(m - expected) < 4 * (sd / Math.sqrt(draws)), `φ(${i},${j}): mean ${m.toFixed(4)} vs ${expected} (se ${(sd / Math.sqrt(draws)).toFixed(4)})`);
    }
    assert.equal(expectedRandomPhi(8, 8, 768), 8 / 768);
  });
});

describe('ΔW linear algebra', () => {
  const rng = new Rng(5);

  it('lowRankSvd(B, A, s) equals the full SVD of the explicit s·B·A (values, and U Σ Vᵀ rebuilds it)', () => {
    const b = gaussian(30, 4, rng);
    const a = gaussian(4, 25, rng);
    const explicit = matmul(b, a);
    for (let i = 0; i < explicit.data.length; i++) explicit.data[i] *= 2.5;
    const full = svd(explicit);
    const low = lowRankSvd(b, a, 2.5);
    for (let k = 0; k < 4; k++) assert.ok(Math.abs(full.s[k] - low.s[k]) < 1e-10 * full.s[0], `σ_${k}`);
    assert.ok(full.s[4] < 1e-10 * full.s[0], 'rank 4');
    const rebuilt = dense(30, 25);
    for (let i = 0; i < 30; i++) for (let j = 0; j < 25; j++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += low.u.data[i * 4 + k] * low.s[k] * low.v.data[j * 4 + k];
      rebuilt.data[i * 25 + j] = s;
    }
    let err = 0;
    for (let i = 0; i < rebuilt.data.length; i++) err = Math.max(err, Math.abs(rebuilt.data[i] - explicit.data[i]));
    assert.ok(err < 1e-10, `reconstruction error ${err}`);
    const sp = spectrumOf(b, a, 2.5);
    assert.ok(Math.abs(sp.frobenius - frobenius(explicit)) < 1e-10);
    assert.ok(Math.abs(sp.stableRank - sp.singularValues.reduce((s, x) => s + x * x, 0) / sp.singularValues[0] ** 2) < 1e-12);
  });

  it('topSingular finds the top-r triplets of a 120×100 matrix and of its transpose (known spectrum)', () => {
    // A decaying spectrum, like pre-trained weights: W = U diag(σ) Vᵀ with σ_k = 10·0.93^k.
    const u = randomOrthonormal(120, 100, rng);
    const v = randomOrthonormal(100, 100, rng);
    const sig = Array.from({ length: 100 }, (_, k) => 10 * 0.93 ** k);
    const us = dense(120, 100, Array.from(u.data, (x, idx) => x * sig[idx % 100]));
    const w = matmul(us, transpose(v));
    const top = topSingular(w, 8);
    for (let k = 0; k < 8; k++) assert.ok(Math.abs(top.s[k] - sig[k]) < 1e-8, `σ_${k} ${top.s[k]} vs ${sig[k]}`);
    assert.ok(top.residual < 1e-9, `residual ${top.residual}`);
    const wide = topSingular(transpose(w), 8); // 100×120: the Gram matrix of the other side
    for (let k = 0; k < 8; k++) assert.ok(Math.abs(wide.s[k] - sig[k]) < 1e-8);
    assert.ok(wide.residual < 1e-9);
  });

  it("Table 7: W's own directions give sqrt(Σ top-r σ²); random directions average ‖W‖_F·r/sqrt(d_out·d_in)", () => {
    const w = gaussian(60, 50, rng);
    const b = gaussian(60, 4, rng);
    const a = gaussian(4, 50, rng);
    const rel = relationToW(w, b, a, 2, 0, 200);
    const full = svd(w);
    const topEnergy = Math.sqrt(full.s.slice(0, 4).reduce((s, x) => s + x * x, 0));
    assert.ok(Math.abs(rel.projW - topEnergy) < 1e-8, `${rel.projW} vs ${topEnergy}`);
    // E‖UᵀWV‖² = ‖W‖²·r²/(d_out·d_in); the mean of the norm sits slightly below its root-mean-square.
    const se = rel.projRandom.sd / Math.sqrt(rel.projRandom.draws);
    assert.ok(rel.projRandom.mean < rel.randomExpected + 4 * se && rel.projRandom.mean > 0.85 * rel.randomExpected, `${rel.projRandom.mean} vs ${rel.randomExpected}`);
    assert.ok(Math.abs(rel.deltaNorm - frobenius(matmul(b, a)) * 2) < 1e-9);
    assert.ok(Math.abs(rel.amplification - rel.deltaNorm / rel.projDelta) < 1e-12);
    // The paper's own numbers satisfy the same closed form: 61.95·4/12288 = 0.020, 61.95·64/12288 = 0.32.
    assert.equal((61.95 * 4 / 12288).toFixed(2), '0.02');
    assert.ok(Math.abs((61.95 * 64) / 12288 - 0.33) < 0.01);
  });
});

describe('LoRA checkpoints (loralib and PEFT names)', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'subspace-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a PEFT adapter directory: keys base_model.model.<module>.lora_A.weight, lora_alpha from adapter_config.json', () => {
    const rng = new Rng(9);
    const a = gaussian(4, 16, rng);
    const b = gaussian(16, 4, rng);
    const out = join(dir, 'peft');
    const p = 'base_model.model.roberta.encoder.layer.3.attention.self.value';
    mkdirSync(out, { recursive: true });
    writeSafetensors(join(out, 'adapter_model.safetensors'), { [`${p}.lora_A.weight`]: f32([4, 16], Float32Array.from(a.data)), [`${p}.lora_B.weight`]: f32([16, 4], Float32Array.from(b.data)), 'base_model.model.classifier.dense.weight': f32([2, 2], new Float32Array(4)) });
    writeFileSync(join(out, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 4, lora_alpha: 8 }));
    const ck = readLoraCheckpoint(out);
    assert.equal(ck.format, 'peft');
    assert.equal(ck.alpha, 8);
    assert.equal(ck.modules.length, 1);
    assert.deepEqual([ck.modules[0].layer, ck.modules[0].weight, ck.modules[0].r], [3, 'v', 4]);
    assert.deepEqual(ck.other, ['base_model.model.classifier.dense.weight']);
    const sp = spectrumOf(ck.modules[0].b, ck.modules[0].a, 2);
    assert.ok(Math.abs(sp.frobenius - 2 * frobenius(matmul(b, a))) < 1e-4 * sp.frobenius);
  });

  it('splits a GPT-2 loralib MergedLinear c_attn into W_q and W_v (lora_A = [A_q; A_v], lora_B = [B_q; B_v])', function () {
    const ck = readLoraCheckpoint(sharedOrSkip(this, 'fixtures/parity/gpt2-tiny/lora.safetensors'), { alpha: 32 });
    assert.deepEqual(ck.modules.map((m) => `${m.layer}${m.weight}${m.r}`), ['0q4', '0v4', '1q4', '1v4']);
    assert.deepEqual([ck.modules[1].a.rows, ck.modules[1].a.cols, ck.modules[1].b.rows, ck.modules[1].b.cols], [4, 32, 32, 4]);
  });
});

describe('the real roberta-base MNLI LoRA checkpoint (../shared/fixtures/real-lora)', function () {
  before(function () {
    sharedOrSkip(this, 'fixtures/real-lora/roberta-base-mnli-lora.safetensors');
  });

  /** The README's "Norm of scaling · B @ A per layer" table. */
  function readmeNorms(): Map<string, number> {
    const text = readFileSync(join(REAL, 'README.md'), 'utf8');
    const section = text.slice(text.indexOf('## Norm of scaling'));
    const out = new Map<string, number>();
    for (const m of section.matchAll(/^\| (\d+) \| ([\d.]+) \| ([\d.]+) \|$/gm)) {
      out.set(`${m[1]}q`, Number(m[2]));
      out.set(`${m[1]}v`, Number(m[3]));
    }
    return out;
  }

  it('‖scaling·B·A‖_F of every query/value module equals the README table to 1e-3 (scaling = 16/8)', () => {
    const ck = readLoraCheckpoint(join(REAL, 'roberta-base-mnli-lora.safetensors'), { alpha: 16 });
    const expected = readmeNorms();
    assert.equal(expected.size, 24, 'README table has 12 layers × {query, value}');
    assert.equal(ck.format, 'loralib');
    assert.equal(ck.modules.length, 24);
    assert.equal(ck.other.length, 4, 'the classifier tensors');
    for (const m of ck.modules) {
      const sp = spectrumOf(m.b, m.a, ck.alpha! / m.r);
      const want = expected.get(`${m.layer}${m.weight}`)!;
      assert.ok(Math.abs(sp.frobenius - want) < 1e-3, `layer ${m.layer} ${m.weight}: ${sp.frobenius.toFixed(5)} vs ${want}`);
      assert.ok(sp.stableRank >= 1 && sp.stableRank <= 8);
    }
  });

  it('the analysis skips what needs W or alpha with one line each, and reports cross-layer φ above the random level', () => {
    const noAlpha = analyzeSubspace({ name: 'real', checkpoints: [{ label: 'real', ckpt: readLoraCheckpoint(join(REAL, 'roberta-base-mnli-lora.safetensors')) }] });
    assert.ok(noAlpha.skipped.some((s) => /lora_alpha is not in the checkpoint \(pass --alpha/.test(s)));
    assert.equal(noAlpha.checkpoints[0].modules[0].frobenius, null);
    const a = analyzeSubspace({ name: 'real', checkpoints: [{ label: 'real', ckpt: readLoraCheckpoint(join(REAL, 'roberta-base-mnli-lora.safetensors'), { alpha: 16 }) }] });
    assert.ok(a.skipped.some((s) => /needs the pre-trained weights W \(pass --base/.test(s)));
    for (const x of a.checkpoints[0].crossLayer) {
      assert.equal(x.layers.length, 12);
      for (let l = 0; l < 12; l++) assert.ok(Math.abs(x.phiFull[l][l] - 1) < 1e-9, 'φ(A_l, A_l) = 1');
      const adjacent = x.layers.slice(1).map((_, k) => x.phiFull[k][k + 1]);
      const mean = adjacent.reduce((s, v) => s + v, 0) / adjacent.length;
      assert.ok(mean > 2 * x.randomExpected, `${x.weight}: adjacent layers share more than random subspaces (${mean} vs ${x.randomExpected})`);
    }
  });
});

describe('ΔW orientation against the parity fixture (W₀ + scaling·B·A = the reference merged weight)', () => {
  before(function () {
    sharedOrSkip(this, 'fixtures/parity');
  });
  it('roberta-tiny: every merged query/value weight of expected.safetensors', async () => {
    const { readSafetensors, toFloat32 } = await import('../src/io/safetensors.ts');
    const { openBaseWeights, baseWeightOf } = await import('../src/analysis/base-weights.ts');
    const fx = fileURLToPath(new URL('../../shared/fixtures/parity/roberta-tiny/', import.meta.url));
    const ck = readLoraCheckpoint(join(fx, 'lora.safetensors'), { alpha: 16 });
    const base = openBaseWeights(join(fx, 'model.safetensors'));
    const expected = readSafetensors(join(fx, 'expected.safetensors'));
    for (const m of ck.modules) {
      const w = baseWeightOf(base, m)!;
      const delta = matmul(m.b, m.a);
      const merged = toFloat32(expected.tensors.get(`merged.${m.module}.weight`)!);
      let err = 0;
      for (let i = 0; i < w.data.length; i++) err = Math.max(err, Math.abs(w.data[i] + 2 * delta.data[i] - merged[i]));
      assert.ok(err < 1e-5, `${m.module}: ${err}`);
    }
  });

  it('gpt2-tiny: the q and v slices of the merged Conv1D c_attn', async () => {
    const { readSafetensors, toFloat32 } = await import('../src/io/safetensors.ts');
    const { openBaseWeights, baseWeightOf } = await import('../src/analysis/base-weights.ts');
    const fx = fileURLToPath(new URL('../../shared/fixtures/parity/gpt2-tiny/', import.meta.url));
    const ck = readLoraCheckpoint(join(fx, 'lora.safetensors'), { alpha: 32 });
    const base = openBaseWeights(join(fx, 'model.safetensors'));
    const expected = readSafetensors(join(fx, 'expected.safetensors'));
    for (const m of ck.modules) {
      const w = baseWeightOf(base, m)!; // [out, in], transposed from Conv1D
      const delta = matmul(m.b, m.a);
      const merged = toFloat32(expected.tensors.get(`merged.transformer.h.${m.layer}.attn.c_attn.weight`)!); // [in, 3d]
      const off = (m.weight === 'q' ? 0 : 2) * 32;
      let err = 0;
      for (let o = 0; o < 32; o++) for (let i = 0; i < 32; i++) err = Math.max(err, Math.abs(w.data[o * 32 + i] + 8 * delta.data[o * 32 + i] - merged[i * 96 + off + o]));
      assert.ok(err < 1e-5, `layer ${m.layer} ${m.weight}: ${err}`);
    }
  });
});
