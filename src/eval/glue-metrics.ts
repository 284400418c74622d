/**
 * GLUE metrics, with the conventions of the HF glue metric that run_glue.py uses (which calls
 * scikit-learn and SciPy):
 * - accuracy: fraction of exact matches (sklearn accuracy_score / `(preds == labels).mean()`).
 * - F1: binary F1 of the positive class 1 (sklearn f1_score, average='binary'): 2TP / (2TP + FP + FN),
 *   0 when that denominator is 0 (sklearn's zero_division default yields 0).
 * - Matthews correlation: sklearn matthews_corrcoef (multiclass form from the confusion matrix), 0 when it
 *   is undefined (a constant prediction or label vector), as sklearn returns.
 * - Pearson: scipy.stats.pearsonr's r (NaN when either input is constant, as SciPy).
 * - Spearman: Pearson correlation of the ranks, ties getting their average rank (scipy.stats.spearmanr).
 * Values are fractions in [0, 1] / [-1, 1] as those libraries return them; the paper prints them x100.
 * Sums use float64 with the mean subtracted first, so large inputs do not lose precision.
 */
import { GLUE_TASKS, type GlueMetricName, type GlueTaskName } from '../data/glue-tasks.ts';

type Numbers = ArrayLike<number>;

function checkLengths(predictions: Numbers, labels: Numbers, what: string): void {
  if (predictions.length !== labels.length) {
    throw new Error(`${what}: ${predictions.length} predictions for ${labels.length} labels`);
  }
  if (labels.length === 0) throw new Error(`${what}: no examples`);
}

export function accuracy(predictions: Numbers, labels: Numbers): number {
  checkLengths(predictions, labels, 'accuracy');
  let hits = 0;
  for (let i = 0; i < labels.length; i++) if (predictions[i] === labels[i]) hits++;
  return hits / labels.length;
}

/** Binary F1 of class 1 (labels and predictions are 0/1 class ids). */
export function f1Binary(predictions: Numbers, labels: Numbers): number {
  checkLengths(predictions, labels, 'f1');
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = predictions[i] === 1;
    const t = labels[i] === 1;
    if (p && t) tp++;
    else if (p) fp++;
    else if (t) fn++;
  }
  const denom = 2 * tp + fp + fn;
  return denom === 0 ? 0 : (2 * tp) / denom;
}

/**
 * Matthews correlation coefficient, sklearn's multiclass formula:
 * (c·s − Σ t_k p_k) / sqrt((s² − Σ p_k²)(s² − Σ t_k²)) with c = correct, s = samples,
 * t_k / p_k = true / predicted counts of class k. Equals (TP·TN − FP·FN)/sqrt(...) for two classes.
 */
export function matthewsCorrelation(predictions: Numbers, labels: Numbers): number {
  checkLengths(predictions, labels, 'matthews');
  const trueCounts = new Map<number, number>();
  const predCounts = new Map<number, number>();
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i] as number;
    const p = predictions[i] as number;
    trueCounts.set(t, (trueCounts.get(t) ?? 0) + 1);
    predCounts.set(p, (predCounts.get(p) ?? 0) + 1);
    if (t === p) correct++;
  }
  const s = labels.length;
  let tp = 0;
  let pp = 0;
  let tt = 0;
  for (const [k, t] of trueCounts) {
    tp += t * (predCounts.get(k) ?? 0);
    tt += t * t;
  }
  for (const p of predCounts.values()) pp += p * p;
  const covYtYp = correct * s - tp;
  const covYpYp = s * s - pp;
  const covYtYt = s * s - tt;
  if (covYpYp === 0 || covYtYt === 0) return 0;
  return covYtYp / Math.sqrt(covYtYt * covYpYp);
}

function allFinite(v: Numbers): boolean {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i] as number)) return false;
  return true;
}

/** Pearson correlation coefficient; NaN when either input is constant. */
export function pearson(x: Numbers, y: Numbers): number {
  checkLengths(x, y, 'pearson');
  if (!allFinite(x) || !allFinite(y)) return Number.NaN;
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i] as number;
    my += y[i] as number;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (x[i] as number) - mx;
    const dy = (y[i] as number) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return Number.NaN;
  const r = sxy / Math.sqrt(sxx * syy);
  // Rounding can push |r| a hair above 1; SciPy clips too.
  return Math.max(-1, Math.min(1, r));
}

/** 1-based ranks with ties given their average rank (scipy.stats.rankdata method='average'). */
export function averageRanks(values: Numbers): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (values[a] as number) - (values[b] as number));
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && values[order[j + 1] as number] === values[order[i] as number]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k] as number] = rank;
    i = j + 1;
  }
  return ranks;
}

/** Spearman rank correlation (Pearson of average ranks). */
export function spearman(x: Numbers, y: Numbers): number {
  checkLengths(x, y, 'spearman');
  // SciPy propagates NaN; ranking NaN would silently order them arbitrarily.
  if (!allFinite(x) || !allFinite(y)) return Number.NaN;
  return pearson(averageRanks(x), averageRanks(y));
}

/** Metrics of one evaluation split. */
export interface GlueMetricValues {
  /** Every metric the HF glue metric reports for the task. */
  metrics: Partial<Record<GlueMetricName, number>>;
  /** The metric of the paper's Table 2 and its value. */
  headline: { name: GlueMetricName; value: number };
}

export interface GlueMetricResult extends GlueMetricValues {
  task: GlueTaskName;
}

const METRIC_FUNCTIONS: Readonly<Record<GlueMetricName, (p: Numbers, l: Numbers) => number>> = {
  accuracy,
  f1: f1Binary,
  matthews: matthewsCorrelation,
  pearson,
  spearman,
};

/**
 * All metrics of `task` on one evaluation split. Classification: `predictions` and `labels` are class
 * ids; STS-B: float scores. For MNLI call it once per split (dev_matched, dev_mismatched).
 */
export function computeGlueMetrics(task: GlueTaskName, predictions: Numbers, labels: Numbers): GlueMetricResult {
  checkLengths(predictions, labels, `${task} metrics`);
  return { task, ...scoreGlueMetrics(GLUE_TASKS[task], predictions, labels) };
}

/**
 * The metrics `spec` names (a GLUE task's, or a SYNTHETIC stand-in's, src/data/synthetic.ts, which
 * imitates one) with the same definitions as computeGlueMetrics.
 */
export function scoreGlueMetrics(
  spec: { metrics: readonly GlueMetricName[]; headline: GlueMetricName },
  predictions: Numbers,
  labels: Numbers,
): GlueMetricValues {
  const metrics: Partial<Record<GlueMetricName, number>> = {};
  for (const name of spec.metrics) metrics[name] = METRIC_FUNCTIONS[name](predictions, labels);
  return { metrics, headline: { name: spec.headline, value: metrics[spec.headline] as number } };
}

/** Class id per row of row-major logits [n, numLabels] (first maximum on ties, as numpy argmax). */
export function argmaxRows(logits: Numbers, numLabels: number): Int32Array {
  if (numLabels < 1 || logits.length % numLabels !== 0) {
    throw new Error(`argmaxRows: ${logits.length} logits are not rows of ${numLabels}`);
  }
  const n = logits.length / numLabels;
  const out = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    let best = 0;
    for (let k = 1; k < numLabels; k++) if ((logits[r * numLabels + k] as number) > (logits[r * numLabels + best] as number)) best = k;
    out[r] = best;
  }
  return out;
}
