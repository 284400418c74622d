/**
 * LoRA (paper Section 4.1, Eq. 3): h = W₀x + ΔWx = W₀x + (α/r)·B·A·x, with A ∈ ℝ^{r×in} and
 * B ∈ ℝ^{out×r}. A starts random (Kaiming-uniform, as loralib), B at zero, so ΔW = 0 at the start.
 * Merging writes (α/r)·B·A into W₀ for inference without extra latency (Section 4.2); it is an
 * explicit call here, never a side effect of switching train/eval mode.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ForwardContext } from '../models/context.ts';
import type { Linear, LinearAdapter } from '../models/linear.ts';
import { dropout } from '../models/ops.ts';
import { init } from '../models/param-store.ts';
import { makeVariable } from '../models/shape-only.ts';
import { matMul } from '../models/matmul.ts';
import type { Rng } from '../util/rng.ts';

export interface LoraOptions {
  r: number;
  alpha: number;
  dropout: number;
  /** Output column slice of the module this adapter updates (GPT-2's fused c_attn: q or v). */
  outStart?: number;
  outEnd?: number;
}

export class LoraAdapter implements LinearAdapter {
  readonly A: tf.Variable;
  readonly B: tf.Variable;
  readonly scaling: number;
  readonly outStart: number;
  readonly outEnd: number;
  private merged = false;
  enabled = true;

  constructor(
    readonly target: Linear,
    readonly options: LoraOptions,
    rng: Rng,
  ) {
    const { r, alpha } = options;
    if (!Number.isInteger(r) || r <= 0) throw new Error(`LoRA rank must be a positive integer, got ${r}`);
    this.outStart = options.outStart ?? 0;
    this.outEnd = options.outEnd ?? target.outFeatures;
    const inDim = target.inFeatures;
    const outDim = this.outEnd - this.outStart;
    // loralib: kaiming_uniform_(A, a=√5) = U(−1/√in, 1/√in); B = 0.
    const bound = 1 / Math.sqrt(inDim);
    // Through `init` + makeVariable so that shapes-only builds (lora-repro params) get stand-ins.
    this.A = makeVariable(init.uniform([r, inDim], -bound, bound, rng));
    this.B = makeVariable(init.zeros([outDim, r]));
    this.scaling = alpha / r;
  }

  isActive(): boolean {
    return this.enabled && !this.merged;
  }

  isMerged(): boolean {
    return this.merged;
  }

  /** scaling · dropout(x) Aᵀ Bᵀ, [N, outEnd − outStart]. */
  delta(x: tf.Tensor2D, ctx: ForwardContext): tf.Tensor2D {
    return tf.tidy(() => {
      const xd = dropout(x, this.options.dropout, ctx) as tf.Tensor2D;
      const down = matMul(xd, this.A, true);
      return tf.mul(matMul(down, this.B, true), this.scaling) as tf.Tensor2D;
    });
  }

  /** ΔW = scaling · B·A in nn.Linear orientation [outEnd − outStart, in]. */
  deltaWeight(): tf.Tensor2D {
    return tf.tidy(() => tf.mul(tf.matMul(this.B as tf.Tensor2D, this.A as tf.Tensor2D), this.scaling) as tf.Tensor2D);
  }

  /** Adds (sign = 1) or removes (sign = −1) ΔW from the target's weight, in its own layout. */
  private applyToWeight(sign: 1 | -1): void {
    const w = this.target.weight;
    const updated = tf.tidy(() => {
      const d = tf.mul(this.deltaWeight(), sign);
      const full = this.target.layout === 'out_in' ? d : tf.transpose(d);
      const outAxis = this.target.layout === 'out_in' ? 0 : 1;
      const padding: [number, number][] = [
        [0, 0],
        [0, 0],
      ];
      padding[outAxis] = [this.outStart, this.target.outFeatures - this.outEnd];
      return tf.add(w, tf.pad(full, padding));
    });
    w.assign(updated);
    updated.dispose();
  }

  merge(): void {
    if (this.merged) return;
    this.applyToWeight(1);
    this.merged = true;
  }

  unmerge(): void {
    if (!this.merged) return;
    this.applyToWeight(-1);
    this.merged = false;
  }

  dispose(): void {
    this.A.dispose();
    this.B.dispose();
  }
}
