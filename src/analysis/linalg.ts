/**
 * The dense linear algebra the subspace analysis (paper Section 7) needs, in float64.
 *
 * Decompositions (SVD, QR) come from ml-matrix; this file adds a plain row-major matrix with the
 * products we do often, and three derived routines:
 * - `lowRankSvd`: the exact thin SVD of s·B·A (B d×r, A r×k) from two QRs and an r×r SVD, so the
 *   spectrum of ΔW = (α/r)·B·A never needs a d×k SVD (768×768 takes ~11 s in ml-matrix here);
 * - `topSingular`: the top-r singular triplets of a large W, for Table 7's "W's own top-r
 *   directions": from the symmetric eigendecomposition of the smaller Gram matrix (WᵀW or WWᵀ,
 *   ~4 s for 768×768 against ~11 s for ml-matrix's SVD; block subspace iteration, tried first,
 *   needed hundreds of iterations on flat spectra);
 * - `randomOrthonormal`: Haar-random orthonormal frames (QR of a Gaussian matrix), Table 7's
 *   "random" directions.
 */
import { EigenvalueDecomposition, Matrix, QrDecomposition, SingularValueDecomposition } from 'ml-matrix';
import type { Rng } from '../util/rng.ts';

/** A row-major float64 matrix. */
export interface Dense {
  rows: number;
  cols: number;
  data: Float64Array;
}

export function dense(rows: number, cols: number, data?: ArrayLike<number>): Dense {
  const d = new Float64Array(rows * cols);
  if (data !== undefined) {
    if (data.length !== rows * cols) throw new Error(`dense: ${data.length} values for a ${rows}×${cols} matrix`);
    d.set(data);
  }
  return { rows, cols, data: d };
}

export function transpose(a: Dense): Dense {
  const t = dense(a.cols, a.rows);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) t.data[j * a.rows + i] = a.data[i * a.cols + j];
  return t;
}

/** a·b (i-k-j loop order: the inner loop runs along rows of b and of the result). */
export function matmul(a: Dense, b: Dense): Dense {
  if (a.cols !== b.rows) throw new Error(`matmul: ${a.rows}×${a.cols} · ${b.rows}×${b.cols}`);
  const out = dense(a.rows, b.cols);
  const n = b.cols;
  for (let i = 0; i < a.rows; i++) {
    const o = i * n;
    for (let k = 0; k < a.cols; k++) {
      const x = a.data[i * a.cols + k];
      if (x === 0) continue;
      const bk = k * n;
      for (let j = 0; j < n; j++) out.data[o + j] += x * b.data[bk + j];
    }
  }
  return out;
}

/** aᵀ·b without forming aᵀ. */
export function matmulTN(a: Dense, b: Dense): Dense {
  if (a.rows !== b.rows) throw new Error(`matmulTN: (${a.rows}×${a.cols})ᵀ · ${b.rows}×${b.cols}`);
  const out = dense(a.cols, b.cols);
  const n = b.cols;
  for (let k = 0; k < a.rows; k++) {
    const bk = k * n;
    for (let i = 0; i < a.cols; i++) {
      const x = a.data[k * a.cols + i];
      if (x === 0) continue;
      const o = i * n;
      for (let j = 0; j < n; j++) out.data[o + j] += x * b.data[bk + j];
    }
  }
  return out;
}

function scale(a: Dense, s: number): Dense {
  const out = dense(a.rows, a.cols);
  for (let i = 0; i < a.data.length; i++) out.data[i] = a.data[i] * s;
  return out;
}

export function frobenius(a: Dense): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += a.data[i] * a.data[i];
  return Math.sqrt(s);
}

/** The first `n` columns. */
export function leadingColumns(a: Dense, n: number): Dense {
  if (n > a.cols) throw new Error(`leadingColumns: ${n} of ${a.cols}`);
  const out = dense(a.rows, n);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < n; j++) out.data[i * n + j] = a.data[i * a.cols + j];
  return out;
}

function toMl(a: Dense): Matrix {
  return Matrix.from1DArray(a.rows, a.cols, Array.from(a.data));
}

function fromMl(m: Matrix): Dense {
  return dense(m.rows, m.columns, m.to1DArray());
}

export interface Svd {
  /** Left singular vectors as columns, rows × p. */
  u: Dense;
  /** Singular values, descending, length p = min(rows, cols). */
  s: Float64Array;
  /** Right singular vectors as columns, cols × p. */
  v: Dense;
}

/** Thin SVD (ml-matrix's Golub–Kahan; autoTranspose because it mishandles rows < cols otherwise). */
export function svd(a: Dense): Svd {
  const d = new SingularValueDecomposition(toMl(a), { autoTranspose: true, computeLeftSingularVectors: true, computeRightSingularVectors: true });
  const p = Math.min(a.rows, a.cols);
  const s = Float64Array.from(d.diagonal.slice(0, p));
  const u = leadingColumns(fromMl(d.leftSingularVectors), p);
  const v = leadingColumns(fromMl(d.rightSingularVectors), p);
  // ml-matrix sorts descending already; keep the guarantee explicit since φ depends on the order.
  for (let i = 1; i < p; i++) if (s[i] > s[i - 1] + 1e-12 * s[0]) throw new Error('svd: singular values not sorted');
  return { u, s, v };
}

/** Orthonormal basis of the column space of a (rows ≥ cols): the thin Q of a Householder QR. */
function qrQ(a: Dense): { q: Dense; r: Dense } {
  if (a.rows < a.cols) throw new Error(`qrQ: ${a.rows}×${a.cols} has more columns than rows`);
  const qr = new QrDecomposition(toMl(a));
  return { q: leadingColumns(fromMl(qr.orthogonalMatrix), a.cols), r: fromMl(qr.upperTriangularMatrix) };
}

/**
 * Exact thin SVD of s·B·A with B d×r and A r×k (r ≤ d, k): with B = Q_B R_B and Aᵀ = Q_A R_A,
 * s·B·A = Q_B (s·R_B R_Aᵀ) Q_Aᵀ, so the SVD of the r×r core M = U_m Σ V_mᵀ gives
 * U = Q_B U_m, V = Q_A V_m and the same Σ. ΔW of a rank-r LoRA has at most r non-zero values.
 */
export function lowRankSvd(b: Dense, a: Dense, s: number): Svd {
  if (b.cols !== a.rows) throw new Error(`lowRankSvd: B ${b.rows}×${b.cols}, A ${a.rows}×${a.cols}`);
  const { q: qb, r: rb } = qrQ(b);
  const { q: qa, r: ra } = qrQ(transpose(a));
  const core = scale(matmul(rb, transpose(ra)), s);
  const c = svd(core);
  return { u: matmul(qb, c.u), s: c.s, v: matmul(qa, c.v) };
}

/** A d×r matrix with orthonormal columns spanning a uniformly random r-dimensional subspace. */
export function randomOrthonormal(d: number, r: number, rng: Rng): Dense {
  return qrQ(gaussian(d, r, rng)).q;
}

/** Standard normal entries (Box–Muller). */
export function gaussian(rows: number, cols: number, rng: Rng): Dense {
  const g = dense(rows, cols);
  for (let i = 0; i < g.data.length; i += 2) {
    const u1 = Math.max(rng.next(), 1e-300);
    const u2 = rng.next();
    const rad = Math.sqrt(-2 * Math.log(u1));
    g.data[i] = rad * Math.cos(2 * Math.PI * u2);
    if (i + 1 < g.data.length) g.data[i + 1] = rad * Math.sin(2 * Math.PI * u2);
  }
  return g;
}

export interface TopSingular extends Svd {
  /** max_i ‖W v_i − σ_i u_i‖ / σ_1 over the returned triplets: how converged they are. */
  residual: number;
}

/**
 * The top-r singular triplets of W from the eigendecomposition of the smaller Gram matrix
 * G = WᵀW (or WWᵀ): σ_i = sqrt(λ_i), v_i its eigenvectors and u_i = W v_i / σ_i. Accurate for the
 * top directions (their error scales with ε·σ₁²/(σ_i² − σ_{i+1}²)); `residual`
 * max_i ‖W v_i − σ_i u_i‖ / σ_1 reports what was reached.
 */
export function topSingular(w: Dense, r: number): TopSingular {
  const p = Math.min(w.rows, w.cols);
  if (r > p) throw new Error(`topSingular: r=${r} > min(rows, cols)=${p}`);
  if (p <= 4096) {
    const wide = w.cols > w.rows;
    const m = wide ? transpose(w) : w; // rows ≥ cols: G = mᵀm is cols × cols
    const g = matmulTN(m, m);
    const e = new EigenvalueDecomposition(toMl(g), { assumeSymmetric: true });
    const vecs = fromMl(e.eigenvectorMatrix);
    const order = e.realEigenvalues.map((l, i) => [l, i] as const).sort((a, b) => b[0] - a[0]).slice(0, r);
    const s = Float64Array.from(order, ([l]) => Math.sqrt(Math.max(l, 0)));
    const v = dense(m.cols, r);
    order.forEach(([, i], c) => {
      for (let row = 0; row < m.cols; row++) v.data[row * r + c] = vecs.data[row * vecs.cols + i];
    });
    const mv = matmul(m, v);
    const u = dense(m.rows, r);
    for (let row = 0; row < m.rows; row++) for (let c = 0; c < r; c++) u.data[row * r + c] = s[c] > 0 ? mv.data[row * r + c] / s[c] : 0;
    const out = wide ? { u: v, s, v: u } : { u, s, v };
    return { ...out, residual: residualOf(w, out) };
  }
  throw new Error(`topSingular: ${w.rows}×${w.cols} is beyond the Gram route (smaller side ≤ 4096); no model here has such a matrix`);
}

function residualOf(w: Dense, t: Svd): number {
  const wv = matmul(w, t.v);
  let worst = 0;
  for (let c = 0; c < t.s.length; c++) {
    let e = 0;
    for (let i = 0; i < w.rows; i++) {
      const d = wv.data[i * wv.cols + c] - t.s[c] * t.u.data[i * t.u.cols + c];
      e += d * d;
    }
    worst = Math.max(worst, Math.sqrt(e));
  }
  return t.s.length === 0 || t.s[0] === 0 ? 0 : worst / t.s[0];
}
