/**
 * The record of one finished (or failed) run: what the trainer produces (so it lives in train/), what
 * the runner writes to `results/<profile>/runs/<runId>.json` and summarises as one row of
 * `results/<profile>/runs.csv` (runner/runs-csv.ts), and what the reports read. Validated with zod
 * wherever it is read back.
 */
import { z } from 'zod';

export const epochRecordSchema = z.object({
  epoch: z.number().int().nonnegative(),
  step: z.number().int().nonnegative(),
  trainLoss: z.number(),
  /**
   * Metrics of this epoch on the selection split (`split`), on the task's metric scale (0–1 for
   * accuracy; raw for NIST/CIDEr); empty when not evaluated.
   */
  metrics: z.record(z.string(), z.number()),
  /** The split `metrics` were scored on (src/train/eval-protocol.ts): absent = dev; `heldout` = the held-out slice of the training split. */
  split: z.enum(['dev', 'heldout']).optional(),
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
  /** Where the method's starting weights came from, when not a fresh initialisation (train/init-from.ts). */
  initFrom: z.string().optional(),
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

/**
 * What a run's `metrics`, saved weights and predictions are (src/train/eval-protocol.ts): scored on
 * `split`, from the checkpoint `checkpoint` chose, which is that of `epoch` (null: none saved).
 * `selectedOn`: where a `best` checkpoint was chosen, absent = dev; `heldout` = on `heldoutSize`
 * held-out training examples (E2E: MRs) that were neither trained on nor reported.
 * Optional: results written before it existed scored dev at the best epoch (reportedOf).
 */
export const reportedSchema = z.object({
  split: z.enum(['dev', 'test']),
  checkpoint: z.enum(['best', 'final']),
  epoch: z.number().int().nonnegative().nullable(),
  selectedOn: z.enum(['dev', 'heldout']).optional(),
  heldoutSize: z.number().int().positive().optional(),
});

/**
 * `finished`; `failed` (the run raised, crashed or returned no valid result); `blocked`: not run
 * because the run it starts from (`initFrom`) failed or is blocked (runner/dependencies.ts), with
 * the reason in `error`. Runs not finished are retried by the next `lora-repro run`.
 */
export const runStatusSchema = z.enum(['finished', 'failed', 'blocked']);

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
  /**
   * The architecture the run built, as a Hugging Face config.json object (models/config.ts
   * `toHfConfigJson`; `parseHfConfig` reads it back), so reports caption and count the model the run
   * trained instead of guessing it from a pretraining cache or the name's built-in config. Not part of
   * `config`, so it never changes a run id. Optional: results written before it existed lack it.
   */
  modelConfig: z
    .record(z.string(), z.unknown())
    .refine((c) => ['roberta', 'gpt2', 'deberta-v2'].includes(c.model_type as string), { message: "model_type must be 'roberta', 'gpt2' or 'deberta-v2'" })
    .optional(),
  status: runStatusSchema,
  error: z.string().optional(),
  epochs: z.array(epochRecordSchema),
  /** The epoch with the best headline metric among the per-epoch evaluations (`epochs`, on the selection split); null: none. */
  bestEpoch: z.number().int().nonnegative().nullable(),
  /** The reported metrics: those of `reported` (absent: the best epoch's, on dev). */
  metrics: z.record(z.string(), z.number()),
  reported: reportedSchema.optional(),
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
export type Reported = z.infer<typeof reportedSchema>;

/**
 * What a run reports; for results written before `reported` existed, what the trainer then always
 * did: dev, best epoch.
 */
export function reportedOf(r: Pick<RunResult, 'reported' | 'bestEpoch'>): Reported {
  return r.reported ?? { split: 'dev', checkpoint: 'best', epoch: r.bestEpoch };
}

/** "best epoch 3 on dev", "final epoch 5 on test", "best (held-out) epoch 3 on dev": for logs. */
export function describeReported(r: Reported): string {
  return `${r.checkpoint}${r.selectedOn === 'heldout' ? ' (held-out)' : ''} epoch ${r.epoch ?? '-'} on ${r.split}`;
}
