/**
 * Named model weights. Names are the Hugging Face checkpoint names, so loading, saving, gradients
 * and parity checks all speak the same language as the reference code.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../util/rng.ts';

export class ParamStore {
  readonly vars = new Map<string, tf.Variable>();

  /** Adds a variable. tfjs variables are created non-trainable: methods decide what trains. */
  add(name: string, value: tf.Tensor): tf.Variable {
    if (this.vars.has(name)) throw new Error(`duplicate parameter ${name}`);
    const v = tf.variable(value, false);
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

/** Initialisers matching Hugging Face's `_init_weights` (normal(0, initializer_range), zero bias). */
export const init = {
  normal(shape: number[], std: number, rng: Rng): tf.Tensor {
    return tf.randomNormal(shape, 0, std, 'float32', rng.nextSeed());
  },
  zeros(shape: number[]): tf.Tensor {
    return tf.zeros(shape);
  },
  ones(shape: number[]): tf.Tensor {
    return tf.ones(shape);
  },
  /** An embedding matrix whose padding row is zero, as nn.Embedding(padding_idx=...) initialises it. */
  embedding(rows: number, width: number, std: number, rng: Rng, paddingIdx?: number): tf.Tensor {
    const t = tf.randomNormal([rows, width], 0, std, 'float32', rng.nextSeed());
    if (paddingIdx === undefined) return t;
    const mask = tf.reshape(tf.oneHot(tf.tensor1d([paddingIdx], 'int32'), rows), [rows, 1]);
    const out = tf.mul(t, tf.sub(1, mask));
    t.dispose();
    mask.dispose();
    return out;
  },
};
