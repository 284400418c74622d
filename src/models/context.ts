import type { Rng } from '../util/rng.ts';

/**
 * Per-forward-pass state: train/eval mode and the random stream that seeds dropout masks.
 * Dropout is active only when `training` is true and an rng is given, so a seed fixes every mask.
 */
export interface ForwardContext {
  training: boolean;
  rng?: Rng;
}

export const EVAL: ForwardContext = { training: false };
