/**
 * Counts a method's trainable parameters on an instantiated architecture: the model is built and the
 * method applied through the same constructors and `apply` that training uses, inside `shapesOnly`
 * (models/shape-only.ts), so roberta-large and gpt2-large cost no memory. The count is the size of
 * the variables the method hands to the optimiser (head excluded, as in the paper); the closed-form
 * `formula` is computed independently from the config, and the two must agree.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../models/config.ts';
import { createModel } from '../models/factory.ts';
import { shapesOnly } from '../models/shape-only.ts';
import { Rng } from '../util/rng.ts';
import type { ConfiguredMethod, MethodConfig } from './method.ts';

export interface ParamCount {
  model: string;
  method: string;
  config: MethodConfig;
  /** Counted from the variables the applied method marks trainable (head excluded). */
  trainable: number;
  /** The closed-form count. */
  formula: number;
  formulaText: string;
  /** The task head's parameters (trained with every method, excluded from the paper's counts). */
  head: number;
}

/** Total size of distinct variables (a shared tensor, e.g. Compacter's Aᵢ, counts once). */
export function sizeOf(vars: readonly tf.Variable[]): number {
  let n = 0;
  for (const v of new Set(vars)) n += v.size;
  return n;
}

export function countParams(modelName: string, config: ModelConfig, method: ConfiguredMethod): ParamCount {
  method.check(config);
  const counted = shapesOnly(() => {
    const model = createModel(config, { seed: 0 });
    try {
      const applied = method.apply(model, new Rng(0));
      const head = new Set(applied.head);
      const overlap = applied.trainable.filter((v) => head.has(v)).length;
      if (overlap > 0) throw new Error(`${method.name}: ${overlap} head variable(s) among the trainable ones`);
      return { trainable: sizeOf(applied.trainable), head: sizeOf(applied.head) };
    } finally {
      model.dispose();
    }
  });
  return {
    model: modelName,
    method: method.name,
    config: method.config,
    trainable: counted.trainable,
    formula: method.formula(config),
    formulaText: method.formulaText(config),
    head: counted.head,
  };
}
