/**
 * A sequence-classification task (RoBERTa + classification head, the paper's GLUE setting, Section 5.2)
 * from encoded examples: batches with dynamic padding, the HF loss (cross-entropy, or MSE for one
 * output), optional label smoothing, and evaluation on one or more eval splits.
 */
import * as tf from '@tensorflow/tfjs-core';
import { collateRoberta, type EncodedClassificationExample } from '../data/encode-roberta.ts';
import { constantBaseline } from '../eval/baselines.ts';
import { classifyExamples, predictionsFromLogits } from '../eval/evaluate-glue.ts';
import type { ForwardContext } from '../models/context.ts';
import { sequenceClassificationLoss } from '../models/losses.ts';
import type { ClassifierModel, TransformerModel } from '../models/model.ts';
import type { EvalOutput, EvaluateOptions, TaskBatch, TaskData } from './task-data.ts';

export interface ClassificationEvalSplit {
  /** Split name, e.g. 'dev' or 'dev_matched'; names the prediction file. */
  name: string;
  examples: EncodedClassificationExample[];
  /** Row of each example in its source file (predictions list it). */
  rows: number[];
}

export interface ClassificationTaskSpec {
  task: string;
  /** Classes, or 1 for regression. */
  numLabels: number;
  /** Printable name of each class (prediction files); numbers when absent. */
  labelNames?: readonly string[];
  pad: number;
  train: EncodedClassificationExample[];
  evalSplits: ClassificationEvalSplit[];
  /**
   * The held-out slice of the training split (train/eval-protocol.ts): an eval set of its own, named by
   * `name`, whose metrics keep their plain names (the headline is looked up on it to choose the epoch).
   */
  heldout?: ClassificationEvalSplit;
  /** All metrics of one split, keyed by metric name. */
  metrics(split: string, predictions: Int32Array | Float32Array, labels: Int32Array | Float32Array): Record<string, number>;
  /**
   * Key under which a split's metric is reported: the headline split's metrics keep their names,
   * others are suffixed (MNLI: `accuracy` = matched, `accuracy_dev_mismatched`).
   */
  headlineSplit: string;
  headlineMetric: string;
  files: Record<string, string>;
}

function asRoberta(model: TransformerModel): ClassifierModel {
  if (model.modelType === 'gpt2') throw new Error('a classification task needs a RoBERTa or DeBERTa-v2 model');
  return model;
}

/**
 * Cross-entropy with label smoothing ε as HF's LabelSmoother computes it:
 * (1 − ε)·nll + ε·mean_k(−log p_k), averaged over the batch.
 */
export function smoothedCrossEntropy(logits: tf.Tensor2D, labels: Int32Array, epsilon: number): tf.Scalar {
  return tf.tidy(() => {
    const [n, k] = logits.shape;
    const logp = tf.logSoftmax(logits, -1);
    const oneHot = tf.oneHot(tf.tensor1d(labels, 'int32'), k);
    const nll = tf.neg(tf.sum(tf.mul(logp, oneHot), -1));
    const smooth = tf.neg(tf.mean(logp, -1));
    const per = tf.add(tf.mul(nll, 1 - epsilon), tf.mul(smooth, epsilon));
    return tf.div(tf.sum(per), n) as tf.Scalar;
  });
}

/**
 * The key of a split's metric: the headline split keeps the name, others get `_<split>`
 * (MNLI: `accuracy_dev_mismatched`). Keys reach MLflow as they are, and its validation.py
 * (`_VALID_PARAM_AND_METRIC_NAMES`, ^[/\w.\- ]*$ in 2.x) rejects the `@` used before; result JSON
 * written with `accuracy@dev_mismatched` still reads, and the MLflow projection maps that key to this
 * one (tracking/limits.ts, validMlflowKey).
 */
export function splitMetricKey(metric: string, split: string, headlineSplit: string): string {
  return split === headlineSplit ? metric : `${metric}_${split}`;
}

/** GLUE test labels are not public: a classification task's eval splits are one set, dev (besides a held-out slice). */
const CLASSIFICATION_SET = 'dev';

export function classificationTask(spec: ClassificationTaskSpec): TaskData {
  const held = spec.heldout;
  // The baseline is the reported split's (dev): the held-out slice has none.
  const checkSet = (split: string | undefined, withHeldout: boolean): void => {
    const known = [CLASSIFICATION_SET, ...(held !== undefined && withHeldout ? [held.name] : [])];
    if (split !== undefined && !known.includes(split)) throw new Error(`a classification task has no eval set '${split}' (only ${known.join(', ')})`);
  };
  const regression = spec.numLabels === 1;
  const labelText = (v: number): string => (regression ? String(v) : (spec.labelNames?.[v] ?? String(v)));
  const labelsOf = (examples: readonly EncodedClassificationExample[]): Int32Array | Float32Array =>
    regression ? Float32Array.from(examples, (e) => e.label) : Int32Array.from(examples, (e) => e.label);
  return {
    task: spec.task,
    modelType: 'roberta',
    numLabels: spec.numLabels,
    headlineMetric: spec.headlineMetric,
    trainSize: spec.train.length,
    evalSize: spec.evalSplits.reduce((s, e) => s + e.examples.length, 0),
    evalSets: [
      { split: CLASSIFICATION_SET, size: spec.evalSplits.reduce((s, e) => s + e.examples.length, 0) },
      ...(held !== undefined ? [{ split: held.name, size: held.examples.length }] : []),
    ],
    lossOffset: 0,
    files: spec.files,
    batch(indices: readonly number[]): TaskBatch {
      const batch = collateRoberta(
        indices.map((i) => spec.train[i]),
        { pad: spec.pad, regression },
      );
      let tokens = 0;
      for (const m of batch.attentionMask) tokens += m;
      return {
        tokens,
        units: batch.batch,
        loss(model: TransformerModel, ctx: ForwardContext, labelSmoothing: number): tf.Scalar {
          return tf.tidy(() => {
            const logits = asRoberta(model).classify(batch, ctx);
            if (labelSmoothing > 0 && !regression) return smoothedCrossEntropy(logits, batch.labels as Int32Array, labelSmoothing);
            return sequenceClassificationLoss(logits, batch.labels);
          });
        },
      };
    },
    async evaluate(model: TransformerModel, opts: EvaluateOptions): Promise<EvalOutput> {
      checkSet(opts.split, true);
      const metrics: Record<string, number> = {};
      const predictions: Record<string, string> = {};
      const scored = held !== undefined && opts.split === held.name ? [held] : spec.evalSplits;
      const total = scored.reduce((s, e) => s + e.examples.length, 0);
      let before = 0;
      for (const split of scored) {
        const logits = await classifyExamples(asRoberta(model), split.examples, {
          batchSize: opts.batchSize,
          pad: spec.pad,
          numLabels: spec.numLabels,
          onProgress: (done) => opts.onProgress?.(before + done, total),
        });
        before += split.examples.length;
        const preds = predictionsFromLogits(logits, spec.numLabels);
        const labels = labelsOf(split.examples);
        for (const [name, value] of Object.entries(spec.metrics(split.name, preds, labels))) {
          metrics[split === held ? name : splitMetricKey(name, split.name, spec.headlineSplit)] = value;
        }
        const lines = ['index\tprediction\tlabel'];
        split.examples.forEach((e, i) => lines.push(`${split.rows[i]}\t${labelText(preds[i])}\t${labelText(e.label)}`));
        predictions[`${split.name}.tsv`] = lines.join('\n') + '\n';
      }
      return { metrics, predictions };
    },
    baseline(split?: string) {
      checkSet(split, false);
      // The run's own training subset decides the majority class / mean; no subset, no baseline.
      if (spec.train.length === 0) return undefined;
      return constantBaseline({
        numLabels: spec.numLabels,
        trainLabels: spec.train.map((e) => e.label),
        splits: spec.evalSplits.map((s) => ({ name: s.name, labels: labelsOf(s.examples) })),
        metrics: spec.metrics,
        key: (metric, split) => splitMetricKey(metric, split, spec.headlineSplit),
        labelName: labelText,
      });
    },
  };
}
