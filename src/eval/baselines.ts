/**
 * Untrained baselines (the first two ignore the input, copy input echoes it), scored on the very
 * evaluation examples a run is scored on and with the task's own metric functions, so a table can
 * show whether a method learned anything at all (a cell at the majority-class level has not):
 * - majority class (classification): always the most frequent class of the run's training subset;
 *   ties go to the lower class id (a rule that does not depend on the order of the data).
 * - train mean (regression, STS-B): always the mean training score. A constant's Pearson and
 *   Spearman correlations are undefined (the metric functions return NaN, as SciPy does); they are
 *   reported as 0, the score of a predictor that carries no information.
 * - copy input (generation, E2E): each output is the instance's input as the model sees it, the MR
 *   rendered by data/e2e.ts mrToLoraContext, scored with the same scorer as the model's outputs.
 */

export type BaselineKind = 'majority' | 'mean' | 'copy-input';

export interface Baseline {
  kind: BaselineKind;
  /** One line: what the baseline predicts, e.g. "always class 1 (equivalent), 684 of 1000 training examples". */
  description: string;
  /** The task's metrics under the keys a run reports them (`accuracy`, `f1`, `accuracy_dev_mismatched`, `BLEU`, …). */
  metrics: Record<string, number>;
  /** The constant predicted (class id or train mean); absent for copy-input. */
  prediction?: number;
}

/** Display names of the kinds, in the order a table lists them. */
export const BASELINE_KIND_LABELS: Readonly<Record<BaselineKind, string>> = {
  majority: 'majority class',
  mean: 'train mean',
  'copy-input': 'copy input',
};

/** The most frequent class id of `labels` (ids 0..numLabels−1) and its count; ties → the lower id. */
export function majorityClass(labels: ArrayLike<number>, numLabels: number): { classId: number; count: number } {
  if (labels.length === 0) throw new Error('majority class of no labels');
  const counts = new Array<number>(numLabels).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i] as number;
    if (!Number.isInteger(l) || l < 0 || l >= numLabels) throw new Error(`label ${l} is not a class id of 0..${numLabels - 1}`);
    counts[l]++;
  }
  // indexOf finds the first maximum: the lower id on ties.
  const count = Math.max(...counts);
  return { classId: counts.indexOf(count), count };
}

export interface ConstantBaselineInput {
  /** Classes, or 1 for regression. */
  numLabels: number;
  /** Labels of the training subset (class ids, or scores for regression). */
  trainLabels: ArrayLike<number>;
  /** The evaluation splits with their labels, as the run scores them. */
  splits: readonly { name: string; labels: Int32Array | Float32Array }[];
  /** All metrics of one split (the task's own functions). */
  metrics(split: string, predictions: Int32Array | Float32Array, labels: Int32Array | Float32Array): Record<string, number>;
  /** The key a split's metric is reported under (the run's: `accuracy`, `accuracy_dev_mismatched`). */
  key(metric: string, split: string): string;
  /** Printable class name (descriptions). */
  labelName?(classId: number): string;
}

/** Majority class (classification) or train mean (regression) on every eval split. */
export function constantBaseline(input: ConstantBaselineInput): Baseline {
  const n = input.trainLabels.length;
  if (n === 0) throw new Error('a constant baseline needs training labels');
  const regression = input.numLabels === 1;
  let prediction: number;
  let description: string;
  if (regression) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += input.trainLabels[i] as number;
    prediction = sum / n;
    description = `train mean: always ${prediction.toFixed(3)}, the mean of ${n} training scores`;
  } else {
    const { classId, count } = majorityClass(input.trainLabels, input.numLabels);
    prediction = classId;
    const name = input.labelName?.(classId);
    description = `majority class: always class ${classId}${name !== undefined && name !== String(classId) ? ` (${name})` : ''}, ${count} of ${n} training examples`;
  }
  const metrics: Record<string, number> = {};
  const undefinedMetrics = new Set<string>();
  for (const split of input.splits) {
    const preds = regression ? new Float32Array(split.labels.length).fill(prediction) : new Int32Array(split.labels.length).fill(prediction);
    for (const [name, value] of Object.entries(input.metrics(split.name, preds, split.labels))) {
      // A constant's correlation is undefined (NaN); no information scores 0.
      if (!Number.isFinite(value)) undefinedMetrics.add(name);
      metrics[input.key(name, split.name)] = Number.isFinite(value) ? value : 0;
    }
  }
  if (undefinedMetrics.size > 0) description += `; ${[...undefinedMetrics].join(', ')} of a constant undefined, reported as 0`;
  return { kind: regression ? 'mean' : 'majority', description, metrics, prediction };
}

/**
 * Copy the input: `inputs[i]` (the instance's MR as the model's context text) is the output for
 * `references[i]`, scored by `score`, the scorer the run's outputs get. Generic in the scorer's
 * result so callers keep its type (E2EScores); a Baseline when that is a Record<string, number>.
 */
export function copyInputBaseline<M extends object>(
  references: readonly string[][],
  inputs: readonly string[],
  score: (refs: string[][], hyps: string[]) => M,
): { kind: 'copy-input'; description: string; metrics: M } {
  if (references.length !== inputs.length) throw new Error(`copy-input baseline: ${inputs.length} inputs for ${references.length} instances`);
  const metrics = score(
    references.map((r) => [...r]),
    [...inputs],
  );
  return { kind: 'copy-input', description: `copy input: each output is the instance's MR as the model reads it (${inputs.length} instances)`, metrics };
}
