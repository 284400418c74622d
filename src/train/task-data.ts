/**
 * What the trainer needs from a task, whatever its source (GLUE TSVs, the E2E CSVs, a synthetic
 * generator): training batches with their loss, and an evaluation that returns the task's metrics.
 * Two builders cover the paper's two kinds of task (classification-task.ts for RoBERTa on GLUE,
 * lm-task.ts for GPT-2 on E2E); a new source only has to produce encoded examples, a metric function
 * and a headline metric, and register a loader in task-loaders.ts.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Baseline } from '../eval/baselines.ts';
import type { DecodingOptions } from '../generate/paper-decoding.ts';
import type { ForwardContext } from '../models/context.ts';
import type { TransformerModel } from '../models/model.ts';

export interface TaskBatch {
  /** Real (non-padding) input tokens, for tokens/s. */
  tokens: number;
  /** What the loss averages over: examples (classification) or loss tokens (LM); see step.ts. */
  units: number;
  /** The batch's loss; `labelSmoothing` as the run config gives it. */
  loss(model: TransformerModel, ctx: ForwardContext, labelSmoothing: number): tf.Scalar;
}

export interface EvaluateOptions {
  batchSize: number;
  /** Generation tasks: how to decode (paper Table 11 unless the config says otherwise). */
  decoding: DecodingOptions;
  /** Called after each evaluated example or batch (progress). */
  onProgress?: (done: number, total: number) => void;
  /** Which of the task's `evalSets` to score; absent: the first. */
  split?: string;
}

export interface EvalOutput {
  /** Every metric of the task on its scale (0–1 for accuracy/BLEU; raw NIST, CIDEr). May hold NaN. */
  metrics: Record<string, number>;
  /** Prediction files, name (relative to the run's predictions/ folder) → content. */
  predictions: Record<string, string>;
}

export interface TaskData {
  readonly task: string;
  /** The model family the task needs. */
  readonly modelType: 'roberta' | 'gpt2';
  /** Classification head size (1 = regression); absent for LM tasks. */
  readonly numLabels?: number;
  /** The metric the paper reports (best-epoch selection maximises it). */
  readonly headlineMetric: string;
  readonly trainSize: number;
  /** Examples of the first eval set. */
  readonly evalSize: number;
  /**
   * The eval sets `evaluate` can score, by split name ('dev', 'test'; GLUE's dev files, e.g. MNLI
   * matched + mismatched, are one set 'dev'). The first is the default; a training run holds the
   * split it selects on (eval-protocol.ts: dev, or 'heldout', the slice of the training split that
   * eval-protocol.ts holds out, last) and the one it reports.
   */
  readonly evalSets: readonly { split: string; size: number }[];
  /** The constant added to the loss denominator (the reference GPT-2 loss: 1e-4; else 0). */
  readonly lossOffset: number;
  /** Data files read (path relative to the data directory, `hf://datasets/<repo>@<commit>/<path>` for hub parquet, or a generator name) → sha256 or version. */
  readonly files: Record<string, string>;
  /** Collates training examples (indices into the training set). */
  batch(indices: readonly number[]): TaskBatch;
  evaluate(model: TransformerModel, opts: EvaluateOptions): Promise<EvalOutput>;
  /**
   * What an untrained rule scores on the same eval subset (of `split`, default the first), under the keys
   * `evaluate` reports (eval/baselines.ts): majority class, train mean or copy input. Undefined
   * when it cannot be computed (a classification task loaded without its training subset).
   */
  baseline(split?: string): Baseline | undefined;
}
