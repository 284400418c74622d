/**
 * Summary statistics over a list of numbers: the one home for mean, median and standard deviation
 * (the results table, the MLflow cell aggregates, the cost model's measured rates, benchmarks and
 * pretraining's step times all use these).
 */

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

/**
 * Lower median: for an even count the smaller of the two middle values (always one of the values
 * themselves). Pretraining has always recorded its ms/step this way (pretrain.json `msPerStep`, in
 * the shipped stand-ins' provenance), so it keeps doing so: a new run's number means what the
 * recorded ones mean.
 */
export function lowerMedian(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of nothing');
  return [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1];
}

/** Sample standard deviation (n − 1); undefined for fewer than two values, where there is no spread to estimate. */
export function sampleStd(xs: readonly number[]): number | undefined {
  if (xs.length < 2) return undefined;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
}
