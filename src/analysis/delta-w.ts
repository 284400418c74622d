/**
 * ΔW = scaling · B·A of one LoRA module: its singular-value spectrum and stable rank, and how it
 * relates to the pre-trained W (paper Section 7.3, Table 7, Appendix H.4).
 *
 * Table 7 reports ‖U^⊤ W V^⊤‖_F for U, V the top-r left/right singular vectors of (1) ΔW, (2) W
 * itself, (3) a random matrix, and the amplification factor ‖ΔW‖_F / ‖U^⊤ W V^⊤‖_F with the
 * directions of ΔW (paper: 21.5 for r = 4, about 2 for r = 64, GPT-3 layer 48 W_q). With V as
 * columns (k × r) the product is Uᵀ W V. Independent checks of the three columns:
 * - W's own directions give exactly sqrt(σ₁² + … + σ_r²) of W;
 * - random orthonormal frames give E‖Uᵀ W V‖²_F = ‖W‖²_F · r² / (d_out·d_in) (each of U, V
 *   projects a fraction r/d in expectation), i.e. about ‖W‖_F · r / d for square W: the paper's
 *   61.95 · 4 / 12288 = 0.020 and 61.95 · 64 / 12288 = 0.32 (printed 0.02 and 0.33).
 */
import { Rng } from '../util/rng.ts';
import { type Dense, frobenius, lowRankSvd, matmul, matmulTN, randomOrthonormal, topSingular } from './linalg.ts';

export interface Spectrum {
  /** Non-zero part of the spectrum: the r singular values of ΔW, descending. */
  singularValues: number[];
  frobenius: number;
  /** ‖ΔW‖²_F / ‖ΔW‖²_2 = Σσ² / σ₁² ∈ [1, r]: how many directions carry the update's energy. */
  stableRank: number;
}

export function spectrumOf(b: Dense, a: Dense, scaling: number): Spectrum & { u: Dense; v: Dense } {
  const s = lowRankSvd(b, a, scaling);
  const sv = Array.from(s.s);
  const energy = sv.reduce((t, x) => t + x * x, 0);
  return { singularValues: sv, frobenius: Math.sqrt(energy), stableRank: sv[0] > 0 ? energy / (sv[0] * sv[0]) : 0, u: s.u, v: s.v };
}

/** ‖Uᵀ W V‖_F for U (out × r), V (in × r). */
function projectedNorm(w: Dense, u: Dense, v: Dense): number {
  return frobenius(matmul(matmulTN(u, w), v));
}

export interface WRelation {
  r: number;
  /** ‖W‖_F and ‖ΔW‖_F. */
  wNorm: number;
  deltaNorm: number;
  /** ‖Uᵀ W Vᵀ‖_F with the top-r directions of ΔW, of W, and of random matrices (mean and sd over draws). */
  projDelta: number;
  projW: number;
  projRandom: { mean: number; sd: number; draws: number };
  /** ‖ΔW‖_F / ‖Uᵀ W V‖_F with ΔW's directions (Appendix H.4). */
  amplification: number;
  /** What the random column should be in expectation: ‖W‖_F · r / sqrt(d_out·d_in). */
  randomExpected: number;
  /** Convergence of W's top-r triplets (see linalg.topSingular). */
  wTopResidual: number;
}

export function relationToW(w: Dense, b: Dense, a: Dense, scaling: number, seed = 0, draws = 10): WRelation {
  const r = a.rows;
  const spec = spectrumOf(b, a, scaling);
  const rng = new Rng(seed);
  const wTop = topSingular(w, r);
  const projW = projectedNorm(w, wTop.u, wTop.v);
  const rand: number[] = [];
  for (let t = 0; t < draws; t++) rand.push(projectedNorm(w, randomOrthonormal(w.rows, r, rng), randomOrthonormal(w.cols, r, rng)));
  const mean = rand.reduce((s, x) => s + x, 0) / draws;
  const sd = draws > 1 ? Math.sqrt(rand.reduce((s, x) => s + (x - mean) ** 2, 0) / (draws - 1)) : 0;
  const projDelta = projectedNorm(w, spec.u, spec.v);
  const wNorm = frobenius(w);
  return {
    r,
    wNorm,
    deltaNorm: spec.frobenius,
    projDelta,
    projW,
    projRandom: { mean, sd, draws },
    amplification: spec.frobenius / projDelta,
    randomExpected: (wNorm * r) / Math.sqrt(w.rows * w.cols),
    wTopResidual: wTop.residual,
  };
}
