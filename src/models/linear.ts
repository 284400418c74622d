/**
 * A linear projection that adaptation methods can attach to (the PEFT "target module").
 *
 * Hugging Face stores two layouts: nn.Linear weights are [out, in] (y = x Wᵀ + b, RoBERTa) and
 * GPT-2's Conv1D weights are [in, out] (y = x W + b). We keep each checkpoint's own layout so
 * that names, shapes and merged weights compare one to one with the reference.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ForwardContext } from './context.ts';
import { linear } from './ops.ts';

export type WeightLayout = 'out_in' | 'in_out';

/** Something added to (a column slice of) a Linear's output, e.g. a LoRA update. */
export interface LinearAdapter {
  /** The adapter adds to output columns [outStart, outEnd). */
  readonly outStart: number;
  readonly outEnd: number;
  /** False while merged into the weight or disabled: the forward pass then skips it. */
  isActive(): boolean;
  /** The update for inputs x [N, in]: a [N, outEnd - outStart] tensor. */
  delta(x: tf.Tensor2D, ctx: ForwardContext): tf.Tensor2D;
}

export class Linear {
  readonly adapters: LinearAdapter[] = [];

  constructor(
    readonly name: string,
    readonly weight: tf.Variable,
    readonly bias: tf.Variable | undefined,
    readonly layout: WeightLayout,
  ) {}

  get inFeatures(): number {
    const [a, b] = this.weight.shape as number[];
    return this.layout === 'out_in' ? b : a;
  }

  get outFeatures(): number {
    const [a, b] = this.weight.shape as number[];
    return this.layout === 'out_in' ? a : b;
  }

  apply(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    return tf.tidy(() => {
      const y = linear(x, this.weight, this.bias, this.layout === 'out_in');
      const active = this.adapters.filter((a) => a.isActive());
      if (active.length === 0) return y;
      const flat = tf.reshape(x, [-1, this.inFeatures]) as tf.Tensor2D;
      let update: tf.Tensor2D | undefined;
      for (const a of active) {
        let d = a.delta(flat, ctx);
        if (a.outStart !== 0 || a.outEnd !== this.outFeatures) {
          d = tf.pad(d, [[0, 0], [a.outStart, this.outFeatures - a.outEnd]]) as tf.Tensor2D;
        }
        update = update === undefined ? d : (tf.add(update, d) as tf.Tensor2D);
      }
      return tf.add(y, tf.reshape(update!, y.shape));
    });
  }
}
