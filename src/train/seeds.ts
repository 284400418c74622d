/**
 * The random streams of a run. One seed fixes them all, but each purpose gets its own stream, so that
 * (say) changing the number of dropout masks drawn does not change the data order:
 * - model initialisation: createModel(config, { seed }) (its own Rng from the seed);
 * - `method`: the method's new weights (LoRA's A, adapters, prefixes);
 * - `data-order`: the shuffle of every epoch;
 * - `dropout`: every dropout mask of the forward passes.
 * Subsets (trainLimit / evalLimit) use a FIXED seed, not the run's: they define the data of a table
 * cell, so every seed of one cell trains and is scored on the same examples, and the spread across
 * seeds measures what the paper's seeds vary (initialisation, order, dropout).
 */
import { Rng } from '../util/rng.ts';

export type StreamName = 'method' | 'data-order' | 'dropout';

/** The subset seed shared by every run (see the file comment). */
const SUBSET_SEED = 20210617;

/** FNV-1a of a label: a fixed 32-bit salt per stream. */
function salt(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export function streamRng(seed: number, stream: StreamName | string): Rng {
  return new Rng((seed ^ salt(stream)) >>> 0);
}

/**
 * `limit` indices of 0..n−1 drawn without replacement by `seed`, in ascending (file) order; all of
 * them when `limit` is absent or not smaller than n.
 */
export function subsampleIndices(n: number, limit: number | undefined, seed: number = SUBSET_SEED): number[] {
  const all = Array.from({ length: n }, (_, i) => i);
  if (limit === undefined || limit >= n) return all;
  return new Rng(seed)
    .shuffle(all)
    .slice(0, limit)
    .sort((a, b) => a - b);
}
