/**
 * Ids and seeds of a run: the run id / cell key (hashes of the config), then the random streams
 * the seed drives and the fixed-seed subsets.
 *
 * The identity of a run: a hash of its fully resolved config. The cell key leaves out the seed
 * (and the bookkeeping fields), so the seeds of one table cell share it. Canonical JSON (sorted
 * keys, no whitespace) makes the hash independent of key order.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../util/canonical-json.ts';
import type { TrainRunConfig } from './run-config.ts';
import { Rng } from '../util/rng.ts';

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/**
 * Fields that say where data lives or how the machine splits the work, not what is computed: they
 * do not change a run's identity (microBatchSize: accumulation gives the same update, step.ts).
 */
const NOT_IDENTITY = ['dataDir', 'microBatchSize'] as const;

export function runKeys(config: TrainRunConfig): { runId: string; cellKey: string } {
  const core: Record<string, unknown> = { ...config };
  for (const k of NOT_IDENTITY) delete core[k];
  // One device is the default: `devices: 1` and no `devices` are the same run (and the ids of runs
  // from before the field existed stay as they were).
  if (core.devices === 1) delete core.devices;
  // Likewise the evaluation protocol's defaults (eval-protocol.ts): dev, best epoch, selected on dev.
  if (core.evalSplit === 'dev') delete core.evalSplit;
  if (core.checkpoint === 'best') delete core.checkpoint;
  if (core.selectOn === 'dev') delete core.selectOn;
  // Where the starting weights lie is not what they are: a parent run counts by its id (which hashes
  // the parent's own config), a checkpoint by its sha256. Configs without initFrom are untouched.
  const init = config.initFrom;
  if (init !== undefined) core.initFrom = 'run' in init ? { run: init.run, task: init.task } : { sha256: init.sha256 };
  const runId = hash(canonicalJson(core));
  delete core.seed;
  // The parent's run id includes its seed: the seeds of a chained cell share the parent's cell instead.
  if (init !== undefined && 'run' in init) core.initFrom = { cell: init.cell, task: init.task };
  return { runId, cellKey: hash(canonicalJson(core)) };
}

/*
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
export type StreamName = 'method' | 'data-order' | 'dropout';

/** The subset seed shared by every run (see the comment on the random streams above). */
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
