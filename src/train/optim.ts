/**
 * The optimizer of a run, top to bottom: AdamW, which tensors it decays (parameter groups), and the
 * learning-rate schedule it follows.
 *
 * AdamW (Loshchilov & Hutter 2019) as torch.optim.AdamW / HF AdamW compute it: decoupled weight decay
 * p ← p − lr·wd·p, then the Adam step with bias correction and eps added to the corrected √v̂:
 * p ← p − lr · m̂ / (√v̂ + eps). Parameters listed in `noDecay` (biases, LayerNorm) get no decay,
 * as the reference run_glue.py groups them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { adamwInPlace } from '../backend/native-kernels.ts';

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

const ADAMW_DEFAULTS: AdamWOptions = { beta1: 0.9, beta2: 0.999, eps: 1e-6, weightDecay: 0 };

interface Slot {
  m: tf.Variable;
  v: tf.Variable;
}

export class AdamW {
  private readonly slots = new Map<tf.Variable, Slot>();
  private stepCount = 0;
  readonly options: AdamWOptions;

  constructor(
    options: Partial<AdamWOptions> = {},
    private readonly noDecay: Set<tf.Variable> = new Set(),
  ) {
    this.options = { ...ADAMW_DEFAULTS, ...options };
  }

  get steps(): number {
    return this.stepCount;
  }

  /** Applies one update with learning rate `lr` to every variable that has a gradient. */
  apply(vars: tf.Variable[], grads: tf.Tensor[], lr: number): void {
    const { beta1, beta2, eps, weightDecay } = this.options;
    this.stepCount++;
    const bc1 = 1 - Math.pow(beta1, this.stepCount);
    const bc2 = 1 - Math.pow(beta2, this.stepCount);
    vars.forEach((p, i) => {
      const g = grads[i];
      let slot = this.slots.get(p);
      if (slot === undefined) {
        const zeros = () => tf.tidy(() => tf.variable(tf.zerosLike(p), false));
        slot = { m: zeros(), v: zeros() };
        this.slots.set(p, slot);
      }
      const s = slot;
      const decay = weightDecay > 0 && !this.noDecay.has(p) ? 1 - lr * weightDecay : 1;
      // The native kernels do the same float32 arithmetic in one in-place pass (src/backend/native-kernels.ts).
      if (adamwInPlace(p, g, s.m, s.v, { beta1, beta2, eps, decay, sqrtBc2: Math.sqrt(bc2), step: lr / bc1 })) return;
      tf.tidy(() => {
        const m = tf.add(tf.mul(s.m, beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(s.v, beta2), tf.mul(tf.mul(g, g), 1 - beta2));
        s.m.assign(m);
        s.v.assign(v);
        const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(bc2)), eps);
        const update = tf.div(m, denom);
        p.assign(tf.sub(tf.mul(p, decay), tf.mul(update, lr / bc1)));
      });
    });
  }

  dispose(): void {
    for (const s of this.slots.values()) {
      s.m.dispose();
      s.v.dispose();
    }
    this.slots.clear();
  }
}

/*
 * Which trainable tensors get weight decay. run_glue.py (HF Trainer) puts every parameter whose name
 * contains "bias" or "LayerNorm.weight" in a group with weight_decay 0; we apply the same rule to every
 * naming scheme we have: biases, RoBERTa's `LayerNorm`/`layer_norm`, GPT-2's `ln_1`/`ln_2`/`ln_f`, and the
 * adapters' own `ln`. (The reference GPT-2 trainer decays every trainable tensor, but with LoRA those are
 * only the A and B matrices, which decay under both rules.)
 */
const NO_DECAY = /(^|\.)bias$|(^|\.)(LayerNorm|layer_norm|ln|ln_\w+)\.weight$/;

export function isNoDecay(name: string): boolean {
  return NO_DECAY.test(name);
}

/*
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
