/**
 * Aggregation over seeds. The paper (Section 5, Tables 2–3 captions): GLUE cells are the median of
 * 5 seeds, GPT-2 E2E cells the mean of 3 seeds, each run's reported metrics (protocol.ts: the best dev
 * epoch, or the final checkpoint on E2E test as the reference code scores Table 3); the "±" is the
 * spread over seeds, which we report as the sample standard deviation (n − 1).
 */
export type Agg = 'mean' | 'median';

export const AGGS: readonly Agg[] = ['mean', 'median'];

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('mean of nothing');
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

/** Median; for an even count the mean of the two middle values. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of nothing');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Sample standard deviation (n − 1); undefined for fewer than two values. */
export function sampleStd(xs: readonly number[]): number | undefined {
  if (xs.length < 2) return undefined;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
}

export function aggregate(xs: readonly number[], agg: Agg): number {
  return agg === 'mean' ? mean(xs) : median(xs);
}
