/**
 * Normalised subspace similarity (paper Section 7.2, Eq. 4, and Appendix G):
 *
 *   φ(A1, A2, i, j) = ‖U_{A1}^{i⊤} U_{A2}^{j}‖²_F / min(i, j)  ∈ [0, 1]
 *
 * where U_A is the right-singular unitary matrix of a LoRA A (r × k, so its right singular vectors
 * live in the k-dimensional input space: "the column vectors of A" in Figures 3/4) and U^i its
 * columns for the top-i singular values. Appendix G's other forms are not used: its "left singular
 * matrices" contradicts Section 7.2, and its (1 − d²)/p is a typo for 1 − d²/p
 * (../shared/reference/paper-other.md, caveats 2–3).
 *
 * Expected value for random subspaces (the right panel of Figure 4): for a fixed orthonormal
 * U (d×i) and a uniformly random j-dimensional subspace with projector P, E[P] = (j/d)·I by
 * rotation invariance, so E‖Uᵀ V‖²_F = tr(Uᵀ E[P] U) = i·j/d and
 *
 *   E[φ] = i·j / (d·min(i, j)) = max(i, j) / d.
 *
 * For roberta-base (d = 768) and i = j = 8 that is 0.0104; for i = 8, j = 64 it is 0.083.
 */
import { type Dense, leadingColumns, matmulTN, svd } from './linalg.ts';

/** The right singular vectors of A (r × k) as the columns of a k × r matrix, by descending σ. */
export function rightSingularBasis(a: Dense): Dense {
  if (a.rows > a.cols) throw new Error(`rightSingularBasis: A is ${a.rows}×${a.cols}; a LoRA A is r×k with r ≤ k`);
  return svd(a).v;
}

/** φ for one (i, j) from two column-orthonormal bases of the same space. */
export function phi(u1: Dense, u2: Dense, i: number, j: number): number {
  checkIJ(u1, u2, i, j);
  const g = matmulTN(leadingColumns(u1, i), leadingColumns(u2, j));
  let s = 0;
  for (let t = 0; t < g.data.length; t++) s += g.data[t] * g.data[t];
  return s / Math.min(i, j);
}

function checkIJ(u1: Dense, u2: Dense, i: number, j: number): void {
  if (u1.rows !== u2.rows) throw new Error(`phi: bases live in spaces of size ${u1.rows} and ${u2.rows}`);
  if (!(Number.isInteger(i) && i >= 1 && i <= u1.cols)) throw new Error(`phi: i=${i} not in 1..${u1.cols}`);
  if (!(Number.isInteger(j) && j >= 1 && j <= u2.cols)) throw new Error(`phi: j=${j} not in 1..${u2.cols}`);
}

/**
 * φ(i, j) for every 1 ≤ i ≤ p1, 1 ≤ j ≤ p2 at once: G = U1ᵀ U2 once, then a 2-D prefix sum of G²
 * gives each ‖U1^{i⊤} U2^{j}‖²_F. Row i−1, column j−1 of the result is φ(i, j).
 */
export function phiGrid(u1: Dense, u2: Dense): number[][] {
  if (u1.rows !== u2.rows) throw new Error(`phiGrid: bases live in spaces of size ${u1.rows} and ${u2.rows}`);
  const g = matmulTN(u1, u2);
  const p1 = u1.cols;
  const p2 = u2.cols;
  const prefix = new Float64Array((p1 + 1) * (p2 + 1));
  const out: number[][] = [];
  for (let i = 1; i <= p1; i++) {
    const row: number[] = [];
    for (let j = 1; j <= p2; j++) {
      const x = g.data[(i - 1) * p2 + (j - 1)];
      const s = x * x + prefix[(i - 1) * (p2 + 1) + j] + prefix[i * (p2 + 1) + j - 1] - prefix[(i - 1) * (p2 + 1) + j - 1];
      prefix[i * (p2 + 1) + j] = s;
      row.push(s / Math.min(i, j));
    }
    out.push(row);
  }
  return out;
}

/** φ between the A matrices of two LoRA modules (same input space), as a grid over (i, j). */
export function phiOfA(a1: Dense, a2: Dense): number[][] {
  return phiGrid(rightSingularBasis(a1), rightSingularBasis(a2));
}

/** E[φ(i, j)] for independent uniformly random subspaces of a d-dimensional space (see above). */
export function expectedRandomPhi(i: number, j: number, d: number): number {
  return Math.max(i, j) / d;
}
