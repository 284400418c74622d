/**
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
