/**
 * Fine-tuning in a random subspace (Li et al. 2018, "intrinsic dimension"; Aghajanyan et al. 2020),
 * which the paper cites as the motivation for a low intrinsic rank (Section 4): θ = θ₀ + P·z, with
 * P a fixed random D×d projection and only z ∈ ℝ^d trained. |Θ| = d.
 *
 * Scope (ours): θ covers the weights and biases of every block's linear layers (the matrices LoRA
 * can adapt plus their biases; embeddings and LayerNorms stay frozen). P is dense Gaussian with
 * N(0, 1/D) entries, so its columns have about unit norm (Li et al.'s normalised random basis),
 * stored per linear layer: D·d floats, fine for small models but not for roberta-large (Aghajanyan
 * et al. use the Fastfood transform instead; not implemented). P comes from its own `seed`, so an
 * artifact holds only z. z starts at zero: identity at initialisation.
 *
 * `projection: fastfood` replaces the dense P by a Fastfood transform per weight and per bias
 * (fastfood.ts; Li et al. 2018's and Aghajanyan et al. 2020's structured projection), scaled so P's
 * columns again have about unit norm: O(n log n) per step and no D·d matrix, which is what lets d
 * grow to 10⁴–10⁵ (the intrinsic-dimension sweep, experiments/intrinsic.yaml). Absent: dense, so
 * existing configs keep their run ids.
 */
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { ForwardContext } from '../models/context.ts';
import type { Linear, LinearAdapter } from '../models/linear.ts';
import { matMul } from '../models/matmul.ts';
import { blockLinears, type TransformerModel } from '../models/model.ts';
import { init } from '../models/param-store.ts';
import { makeVariable } from '../models/shape-only.ts';
import { Rng } from '../util/rng.ts';
import { AppliedBase } from './applied.ts';
import { FastfoodProjection } from './fastfood.ts';
import { defineMethod, fmt } from './method.ts';

const schema = z
  .object({
    /** d, the subspace dimension. */
    dim: z.number().int().positive().default(16),
    /** Seed of the projection P (independent of the run's seed so artifacts need not store P). */
    seed: z.number().int().nonnegative().default(0),
    /** How P is stored: dense Gaussian (absent) or Fastfood (see above). */
    projection: z.enum(['dense', 'fastfood']).optional(),
  })
  .strict();

type Config = z.infer<typeof schema>;

/** z ↦ P·z for one weight or bias: a stored dense matrix or a Fastfood transform. */
interface Projector {
  project(z: tf.Variable): tf.Tensor;
  dispose(): void;
}

function denseProjector(p: tf.Variable): Projector {
  return { project: (z) => matMul(p, tf.reshape(z, [-1, 1])), dispose: () => p.dispose() };
}

function fastfoodProjector(f: FastfoodProjection): Projector {
  return { project: (z) => f.project(z as tf.Tensor1D), dispose: () => f.dispose() };
}

/** Adds x·ΔW + Δb with vec(ΔW) = P_W·z and Δb = P_b·z to one linear layer. */
class SubspaceDelta implements LinearAdapter {
  readonly outStart = 0;
  readonly outEnd: number;
  enabled = true;

  constructor(
    readonly target: Linear,
    private readonly z: tf.Variable,
    readonly pW: Projector,
    readonly pB: Projector | undefined,
  ) {
    this.outEnd = target.outFeatures;
  }

  isActive(): boolean {
    return this.enabled;
  }

  delta(x: tf.Tensor2D, _ctx: ForwardContext): tf.Tensor2D {
    return tf.tidy(() => {
      const dW = tf.reshape(this.pW.project(this.z), this.target.weight.shape);
      let y = matMul(x, dW, this.target.layout === 'out_in');
      if (this.pB !== undefined) y = tf.add(y, tf.reshape(this.pB.project(this.z), [this.outEnd]));
      return y as tf.Tensor2D;
    });
  }
}

class AppliedIntrinsic extends AppliedBase {
  readonly trainable: tf.Variable[];
  readonly names = ['intrinsic.z'];
  private readonly deltas: SubspaceDelta[] = [];

  constructor(model: TransformerModel, config: Config) {
    super(model, 'intrinsic', config);
    const zVar = makeVariable(init.zeros([config.dim]));
    this.trainable = [zVar];
    const linears = new Set<Linear>();
    for (let l = 0; l < model.config.layers; l++) {
      const b = blockLinears(model, l);
      for (const lin of [b.qkv.q, b.qkv.k, b.qkv.v, b.o, b.ffn1, b.ffn2]) linears.add(lin);
    }
    let total = 0;
    for (const lin of linears) total += lin.weight.size + (lin.bias?.size ?? 0);
    const std = 1 / Math.sqrt(total);
    const rng = new Rng(config.seed);
    const fastfood = config.projection === 'fastfood';
    for (const lin of linears) {
      const bias = lin.bias;
      const pW = fastfood ? fastfoodProjector(new FastfoodProjection(lin.weight.size, config.dim, total, rng)) : denseProjector(makeVariable(init.normal([lin.weight.size, config.dim], std, rng)));
      const pB =
        bias === undefined
          ? undefined
          : fastfood
            ? fastfoodProjector(new FastfoodProjection(bias.size, config.dim, total, rng))
            : denseProjector(makeVariable(init.normal([bias.size, config.dim], std, rng)));
      const d = new SubspaceDelta(lin, zVar, pW, pB);
      lin.adapters.push(d);
      this.deltas.push(d);
    }
  }

  protected setActive(on: boolean): void {
    for (const d of this.deltas) d.enabled = on;
  }

  protected detach(): void {
    for (const d of this.deltas) {
      const i = d.target.adapters.indexOf(d);
      if (i >= 0) d.target.adapters.splice(i, 1);
      d.pW.dispose();
      d.pB?.dispose();
    }
    this.trainable[0].dispose();
  }
}

export const intrinsicMethod = defineMethod({
  name: 'intrinsic',
  summary: 'random-subspace fine-tuning θ = θ₀ + P·z of the blocks\u2019 linear layers (--dim d)',
  schema,
  check() {},
  apply: (model, config) => new AppliedIntrinsic(model, config),
  formula: (_m, c) => c.dim,
  formulaText: (_m, c) => `|Θ| = d (θ = θ₀ + P·z, z ∈ ℝ^d) = ${fmt(c.dim)}`,
});
