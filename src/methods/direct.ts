/**
 * Methods that train a subset of the pretrained weights themselves (FT, FT^Top2, BitFit): no new
 * modules, the chosen variables are handed to the optimiser. To honour "disable gives the base
 * model", apply() keeps a copy of the chosen weights as they were: disable() swaps the trained
 * values out and the originals in, enable() swaps back, remove() restores the originals. The copy
 * costs as much memory as the trained weights (the whole model for FT).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { TransformerModel } from '../models/model.ts';
import { copyOf, makeVariable } from '../models/shape-only.ts';
import { AppliedBase } from './applied.ts';

export class DirectParams extends AppliedBase {
  readonly trainable: tf.Variable[];
  readonly names: string[];
  /** The other set of values: the originals while enabled, the trained values while disabled. */
  private readonly stash: tf.Variable[];

  constructor(model: TransformerModel, name: string, config: object, paramNames: string[]) {
    super(model, name, config);
    const head = new Set(this.headNames);
    this.names = paramNames.filter((n) => !head.has(n));
    this.trainable = this.names.map((n) => model.params.get(n));
    this.stash = this.trainable.map((v) => makeVariable(copyOf(v)));
  }

  private swap(): void {
    this.trainable.forEach((v, i) => {
      const s = this.stash[i];
      const current = v.clone();
      v.assign(s);
      s.assign(current);
      current.dispose();
    });
  }

  protected setActive(): void {
    this.swap();
  }

  protected detach(): void {
    this.trainable.forEach((v, i) => v.assign(this.stash[i]));
    for (const s of this.stash) s.dispose();
  }
}
