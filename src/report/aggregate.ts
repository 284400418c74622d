/**
 * Aggregation over seeds. The paper (Section 5, Tables 2–3 captions): GLUE cells are the median of
 * 5 seeds, GPT-2 E2E cells the mean of 3 seeds, each run's reported metrics (protocol.ts: the best dev
 * epoch, or the final checkpoint on E2E test as the reference code scores Table 3); the "±" is the
 * spread over seeds, which we report as the sample standard deviation (n − 1, ../util/stats.ts `sampleStd`).
 */
import { mean, median } from '../util/stats.ts';

export type Agg = 'mean' | 'median';

export const AGGS: readonly Agg[] = ['mean', 'median'];

export function aggregate(xs: readonly number[], agg: Agg): number {
  return agg === 'mean' ? mean(xs) : median(xs);
}
