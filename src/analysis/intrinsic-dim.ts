/**
 * The intrinsic dimension d_int90 (Li et al. 2018, Aghajanyan et al. 2020): the smallest subspace
 * dimension d at which fine-tuning in a random d-dimensional subspace (src/methods/intrinsic.ts)
 * reaches 90% of full fine-tuning's score. Measured on a grid of d, so it is interpolated: linearly
 * in log d between the last grid point below the threshold and the first at or above it (the grid is
 * logarithmic, and so is the curve's natural axis). Not monotone curves are read at their first
 * crossing, as the definition ("smallest d") asks.
 */

export interface CurvePoint {
  d: number;
  score: number;
}

export type Dint =
  /** Interpolated between two grid points. */
  | { kind: 'crossed'; d: number; between: [number, number] }
  /** Already at or above the threshold at the smallest d tried: d_int90 ≤ that d. */
  | { kind: 'at-most'; d: number }
  /** Never reached on the grid: d_int90 > the largest d tried. */
  | { kind: 'above'; d: number };

/** The crossing of `threshold` by the curve (any order of points; equal d values are averaged). */
export function intrinsicDimension(points: readonly CurvePoint[], threshold: number): Dint {
  if (points.length === 0) throw new Error('intrinsicDimension: no points');
  const byD = new Map<number, number[]>();
  for (const p of points) {
    if (!(p.d > 0) || !Number.isFinite(p.score)) throw new Error(`intrinsicDimension: bad point d=${p.d}, score=${p.score}`);
    byD.set(p.d, [...(byD.get(p.d) ?? []), p.score]);
  }
  const curve = [...byD].map(([d, s]) => ({ d, score: s.reduce((a, b) => a + b, 0) / s.length })).sort((a, b) => a.d - b.d);
  if (curve[0].score >= threshold) return { kind: 'at-most', d: curve[0].d };
  for (let k = 1; k < curve.length; k++) {
    const lo = curve[k - 1];
    const hi = curve[k];
    if (hi.score >= threshold) {
      const t = (threshold - lo.score) / (hi.score - lo.score);
      // A grid point exactly at the threshold is its own answer (no rounding through exp/log).
      const d = t >= 1 ? hi.d : Math.exp(Math.log(lo.d) + t * (Math.log(hi.d) - Math.log(lo.d)));
      return { kind: 'crossed', d, between: [lo.d, hi.d] };
    }
  }
  return { kind: 'above', d: curve[curve.length - 1].d };
}

/** "1.2k", "≤ 4", "> 16k": how a d_int90 is printed. */
export function formatDint(x: Dint): string {
  const n = formatCount(x.d);
  return x.kind === 'crossed' ? n : x.kind === 'at-most' ? `≤ ${n}` : `> ${n}`;
}

/** Parameter counts the way the charts label them: 950, 1.2k, 16k, 1.9M. */
export function formatCount(n: number): string {
  const a = Math.abs(n);
  const trim = (x: number, unit: string) => `${x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1).replace(/\.0$/, '') : x.toFixed(2).replace(/\.?0+$/, '')}${unit}`;
  if (a >= 1e6) return trim(n / 1e6, 'M');
  if (a >= 1e3) return trim(n / 1e3, 'k');
  return a >= 10 ? n.toFixed(0) : trim(n, '');
}
