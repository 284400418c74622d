/**
 * Named model weights. Names are the Hugging Face checkpoint names, so loading, saving, gradients
 * and parity checks all speak the same language as the reference code.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../util/rng.ts';
import { isShapesOnlyActive, makeVariable, standInTensor } from './shape-only.ts';

export class ParamStore {
  readonly vars = new Map<string, tf.Variable>();

  /**
   * Adds a variable. tfjs variables are created non-trainable: methods decide what trains.
   * A shapes-only stand-in value (shape-only.ts) gives a stand-in variable.
   */
  add(name: string, value: tf.Tensor): tf.Variable {
    if (this.vars.has(name)) throw new Error(`duplicate parameter ${name}`);
    const v = makeVariable(value);
    value.dispose();
    this.vars.set(name, v);
    return v;
  }

  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (v === undefined) throw new Error(`no parameter named ${name}`);
    return v;
  }

  has(name: string): boolean {
    return this.vars.has(name);
  }

  names(): string[] {
    return [...this.vars.keys()];
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}

/**
 * Initialisers matching Hugging Face's `_init_weights` (normal(0, initializer_range), zero bias).
 * Inside `shapesOnly` (shape-only.ts) each returns a data-free stand-in of the same shape; the rng
 * draws its seed either way, so both builds consume the same random stream.
 */
export const init = {
  normal(shape: number[], std: number, rng: Rng): tf.Tensor {
    const seed = rng.nextSeed();
    if (isShapesOnlyActive()) return standInTensor(shape);
    return tf.randomNormal(shape, 0, std, 'float32', seed);
  },
  /** U(lo, hi), e.g. loralib's kaiming_uniform_(a=√5) for lora_A. */
  uniform(shape: number[], lo: number, hi: number, rng: Rng): tf.Tensor {
    const seed = rng.nextSeed();
    if (isShapesOnlyActive()) return standInTensor(shape);
    return tf.randomUniform(shape, lo, hi, 'float32', seed);
  },
  zeros(shape: number[]): tf.Tensor {
    if (isShapesOnlyActive()) return standInTensor(shape);
    return tf.zeros(shape);
  },
  ones(shape: number[]): tf.Tensor {
    if (isShapesOnlyActive()) return standInTensor(shape);
    return tf.ones(shape);
  },
  /** An embedding matrix whose padding row is zero, as nn.Embedding(padding_idx=...) initialises it. */
  embedding(rows: number, width: number, std: number, rng: Rng, paddingIdx?: number): tf.Tensor {
    const seed = rng.nextSeed();
    if (isShapesOnlyActive()) return standInTensor([rows, width]);
    if (paddingIdx === undefined) return tf.randomNormal([rows, width], 0, std, 'float32', seed);
    // In a tidy: the index, one-hot and 1 − mask intermediates are freed (they used to leak).
    return tf.tidy(() => {
      const t = tf.randomNormal([rows, width], 0, std, 'float32', seed);
      const mask = tf.reshape(tf.oneHot(tf.tensor1d([paddingIdx], 'int32'), rows), [rows, 1]);
      return tf.mul(t, tf.sub(1, mask));
    });
  },
};
