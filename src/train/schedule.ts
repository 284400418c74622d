/**
 * The learning-rate schedule of both reference trainers: linear warm-up from 0, then linear decay to 0
 * (Hugging Face `get_linear_schedule_with_warmup`, used by run_glue.py's Trainer; microsoft/LoRA
 * examples/NLG/src/optimizer.py has the same function for the GPT-2 runs):
 *
 *   factor(k) = k / max(1, W)                      for k < W
 *             = max(0, (T − k) / max(1, T − W))    otherwise
 *
 * where k is the number of optimizer updates already made (the scheduler steps after the optimizer),
 * so the first update uses factor(0): 0 when there is warm-up, 1 when there is none.
 * The warm-up length is `warmupSteps` when given (the E2E runs: 500, Table 11), else
 * ceil(T · warmupRatio) as the HF Trainer computes it (the GLUE runs: ratio 0.06, Table 9).
 */

export interface WarmupSpec {
  warmupRatio?: number;
  warmupSteps?: number;
}

/** Number of warm-up updates for `totalSteps` updates: explicit steps win over the ratio. */
export function resolveWarmupSteps(totalSteps: number, spec: WarmupSpec): number {
  if (spec.warmupSteps !== undefined) return spec.warmupSteps;
  return Math.ceil(totalSteps * (spec.warmupRatio ?? 0));
}

/** The multiplier of the base learning rate for update `step` (0-based). */
export function linearWarmupDecay(step: number, warmupSteps: number, totalSteps: number): number {
  if (step < warmupSteps) return step / Math.max(1, warmupSteps);
  return Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
}

export class LinearSchedule {
  readonly warmupSteps: number;

  constructor(
    readonly baseLr: number,
    readonly totalSteps: number,
    warmup: WarmupSpec,
  ) {
    this.warmupSteps = resolveWarmupSteps(totalSteps, warmup);
  }

  /** Learning rate of update `step` (0-based). */
  lr(step: number): number {
    return this.baseLr * linearWarmupDecay(step, this.warmupSteps, this.totalSteps);
  }
}
