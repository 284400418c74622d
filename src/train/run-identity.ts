/**
 * The identity of a run: a hash of its fully resolved config. The cell key leaves out the seed
 * (and the bookkeeping fields), so the seeds of one table cell share it. Canonical JSON (sorted
 * keys, no whitespace) makes the hash independent of key order.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../util/canonical-json.ts';
import type { TrainRunConfig } from './run-config.ts';

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/**
 * Fields that say where data lives or how the machine splits the work, not what is computed: they
 * do not change a run's identity (microBatchSize: accumulation gives the same update, accumulate.ts).
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
