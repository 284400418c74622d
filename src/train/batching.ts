/**
 * How a run's training examples become optimizer updates: the effective batch, the passes
 * (micro-batches) of one update, the updates per epoch and the warm-up. One home for this
 * arithmetic: the trainer follows it, `lora-repro run --dry-run` prints it, result.json records it.
 *
 * The reference GLUE runs (microsoft/LoRA examples/NLU/*.sh) launch `--nproc_per_node=$num_gpus`
 * processes (8; roberta_base_cola.sh 2) with `--per_device_train_batch_size B`, so one update of the
 * HF Trainer (transformers 4.4.2 in examples/NLU/src) averages B × num_gpus examples. Its
 * DistributedSampler gives each process ceil(n / W) examples, its DataLoader ceil(ceil(n / W) / B)
 * batches (trainer.py:901, no accumulation), and ceil(ceil(n / W) / B) = ceil(n / (W·B)): the update
 * count of one batch of W·B examples. (The sampler pads the last step with up to W − 1 repeated
 * examples; here the last update is simply smaller.) Total updates ceil(epochs × per epoch)
 * (trainer.py:909); warm-up `warmup_steps` if set, else ceil(total × warmup_ratio) (trainer.py:659,
 * optim.ts).
 *
 * We run on one device: an update's E = batchSize × devices × gradAccumulation examples go through
 * the model in passes of at most `microBatchSize` (default batchSize, one pass per simulated device)
 * and the gradients are accumulated exactly (step.ts).
 */
import type { TrainRunConfig } from './run-config.ts';
import { resolveWarmupSteps } from './optim.ts';

export type BatchingFields = Pick<TrainRunConfig, 'epochs' | 'batchSize' | 'devices' | 'gradAccumulation' | 'microBatchSize' | 'warmupRatio' | 'warmupSteps'>;

export interface TrainingSchedule {
  /** Training examples of one epoch. */
  trainExamples: number;
  /** Examples per update: batchSize × devices × gradAccumulation. */
  effectiveBatch: number;
  /** Most examples per forward/backward pass. */
  microBatch: number;
  /** Passes of a full update (the epoch's last update may need fewer). */
  microBatchesPerStep: number;
  stepsPerEpoch: number;
  totalSteps: number;
  warmupSteps: number;
  /** warmupSteps / totalSteps (0 without updates); above 1 when the warm-up never ends. */
  warmupFraction: number;
}

/** Examples per optimizer update. */
export function effectiveBatchSize(c: Pick<TrainRunConfig, 'batchSize' | 'devices' | 'gradAccumulation'>): number {
  return c.batchSize * (c.devices ?? 1) * c.gradAccumulation;
}

export function trainingSchedule(c: BatchingFields, trainExamples: number): TrainingSchedule {
  const effectiveBatch = effectiveBatchSize(c);
  const microBatch = Math.min(c.microBatchSize ?? c.batchSize, effectiveBatch);
  const stepsPerEpoch = Math.ceil(trainExamples / effectiveBatch);
  const totalSteps = c.epochs * stepsPerEpoch;
  const warmupSteps = resolveWarmupSteps(totalSteps, { warmupRatio: c.warmupRatio, warmupSteps: c.warmupSteps });
  return {
    trainExamples,
    effectiveBatch,
    microBatch,
    microBatchesPerStep: Math.ceil(effectiveBatch / microBatch),
    stepsPerEpoch,
    totalSteps,
    warmupSteps,
    warmupFraction: totalSteps > 0 ? warmupSteps / totalSteps : 0,
  };
}

/**
 * The passes of update `step` (0-based within the epoch): consecutive slices of the epoch's example
 * order, the update's effectiveBatch examples cut into pieces of at most microBatch.
 */
export function stepMicroBatches<T>(order: readonly T[], step: number, s: Pick<TrainingSchedule, 'effectiveBatch' | 'microBatch'>): T[][] {
  const end = Math.min(order.length, (step + 1) * s.effectiveBatch);
  const out: T[][] = [];
  for (let from = step * s.effectiveBatch; from < end; from += s.microBatch) out.push(order.slice(from, Math.min(from + s.microBatch, end)));
  return out;
}

/** One line for logs and the plan: "16 × 8 devices = 128 per update (8 passes of 16); 3 epochs × 8 = 24 updates; warm-up 2 (8.3%)". */
export function describeSchedule(c: BatchingFields, s: TrainingSchedule): string {
  const parts = [`${c.batchSize}`];
  if ((c.devices ?? 1) !== 1) parts.push(`${c.devices} devices`);
  if (c.gradAccumulation !== 1) parts.push(`${c.gradAccumulation} accumulated`);
  const batch = parts.length > 1 ? `${parts.join(' × ')} = ${s.effectiveBatch}` : `${s.effectiveBatch}`;
  const passes = s.microBatchesPerStep > 1 ? ` (${s.microBatchesPerStep} passes of ≤ ${s.microBatch})` : '';
  return `batch ${batch} per update${passes}; ${c.epochs} epochs × ${s.stepsPerEpoch} = ${s.totalSteps} updates; warm-up ${s.warmupSteps} (${(100 * s.warmupFraction).toFixed(1)}%)`;
}
