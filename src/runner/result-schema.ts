/**
 * The record of one finished (or failed) run: what the trainer produces, what the runner writes to
 * `results/<profile>/runs/<runId>.json` and summarises as one row of `results/<profile>/runs.csv`,
 * and what the reports read. Validated with zod wherever it is read back.
 */
import { z } from 'zod';

export const epochRecordSchema = z.object({
  epoch: z.number().int().nonnegative(),
  step: z.number().int().nonnegative(),
  trainLoss: z.number(),
  /** Evaluation metrics of this epoch on the task's metric scale (0–1 for accuracy; raw for NIST/CIDEr). */
  metrics: z.record(z.string(), z.number()),
  seconds: z.number().nonnegative(),
});

export const provenanceSchema = z.object({
  gitCommit: z.string(),
  gitDirty: z.boolean(),
  packages: z.record(z.string(), z.string()),
  backend: z.string(),
  cpu: z.string(),
  gpu: z.string().optional(),
  node: z.string(),
  /** A model name + revision or a file hash of its weights. */
  model: z.string(),
  /** Data file → sha256 (or hub revision). */
  datasets: z.record(z.string(), z.string()),
});

/**
 * What an untrained rule scores on the run's own eval subset (src/eval/baselines.ts):
 * majority class, train mean (regression; undefined correlations reported as 0) or copy input (E2E),
 * under the keys of `metrics`. Optional: results written before baselines were recorded lack it.
 */
export const runBaselineSchema = z.object({
  kind: z.enum(['majority', 'mean', 'copy-input']),
  description: z.string(),
  metrics: z.record(z.string(), z.number()),
  prediction: z.number().optional(),
});

export const runResultSchema = z.object({
  schema: z.literal(1),
  /** Hash of the resolved config and the seed: the identity of a run. */
  runId: z.string().min(1),
  /** Hash of the resolved config without the seed: the table cell the run belongs to. */
  cellKey: z.string().min(1),
  experiment: z.string(),
  profile: z.string(),
  model: z.string(),
  method: z.string(),
  /** Distinguishes rows of one (model, method) pair, e.g. adapter bottleneck sizes. */
  variant: z.string().default(''),
  task: z.string(),
  seed: z.number().int(),
  config: z.record(z.string(), z.unknown()),
  /**
   * How the config's batch fields became updates on this run's data (src/train/batching.ts): effective
   * batch, passes per update, updates, warm-up. Optional: older results and failed setups lack it.
   */
  schedule: z
    .object({
      trainExamples: z.number().int().nonnegative(),
      effectiveBatch: z.number().int().positive(),
      microBatch: z.number().int().positive(),
      microBatchesPerStep: z.number().int().positive(),
      stepsPerEpoch: z.number().int().nonnegative(),
      totalSteps: z.number().int().nonnegative(),
      warmupSteps: z.number().int().nonnegative(),
      warmupFraction: z.number().nonnegative(),
    })
    .optional(),
  status: z.enum(['finished', 'failed']),
  error: z.string().optional(),
  epochs: z.array(epochRecordSchema),
  bestEpoch: z.number().int().nonnegative().nullable(),
  /** Metrics at the best epoch. */
  metrics: z.record(z.string(), z.number()),
  headlineMetric: z.string(),
  baseline: runBaselineSchema.optional(),
  trainableParams: z.object({ counted: z.number().int(), formula: z.number().int(), head: z.number().int() }),
  wallSeconds: z.number().nonnegative(),
  tokensPerSecond: z.number().nonnegative(),
  peakRssMiB: z.number().nonnegative(),
  provenance: provenanceSchema,
  startedAt: z.string(),
  finishedAt: z.string(),
});

export type EpochRecord = z.infer<typeof epochRecordSchema>;
export type Provenance = z.infer<typeof provenanceSchema>;
export type RunResult = z.infer<typeof runResultSchema>;
export type RunBaseline = z.infer<typeof runBaselineSchema>;

/** Columns of runs.csv, in order. `metrics` is the JSON of the best-epoch metrics. */
export const RUNS_CSV_COLUMNS = [
  'runId',
  'cellKey',
  'experiment',
  'profile',
  'model',
  'method',
  'variant',
  'task',
  'seed',
  'status',
  'bestEpoch',
  'headlineMetric',
  'headlineValue',
  'metrics',
  'trainableCounted',
  'trainableFormula',
  'wallSeconds',
  'tokensPerSecond',
  'peakRssMiB',
  'gitCommit',
  'finishedAt',
] as const;
