/**
 * The shared-folder side of committing results when Slurm tasks on many hosts write one profile
 * directory at once (slurm-task.ts says why runs.csv is rewritten under a lease lock there, never
 * appended to), and the settling pass the login node runs before a submission and after `--wait`:
 * runs.csv reconciled with the result JSONs, and MLflow given whatever the tasks could not log.
 */
import type { Expansion } from '../spec/expand.ts';
import { createTracker, type Tracker } from '../tracking/index.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { acquireLeaseLock } from './lock.ts';
import { MlflowProjection } from './mlflow-projection.ts';
import type { ResultsPaths } from './paths.ts';
import type { RunResult } from '../train/result-schema.ts';
import { csvRow, formatCsv, readRunsCsv, RunsCsv, type ReconcileReport } from './runs-csv.ts';
import { csvLockPath } from './slurm-records.ts';

/**
 * Replaces (or adds) one row of runs.csv by a locked rewrite. Rows without a JSON, torn lines and
 * invalid rows are left for the next reconcile; returns false (and warns) if the lock could not be
 * had, which only delays the row: the JSON, written first, is the commit.
 */
export async function commitCsvRowShared(paths: ResultsPaths, result: RunResult, warn: (line: string) => void): Promise<boolean> {
  let lock;
  try {
    lock = await acquireLeaseLock(csvLockPath(paths));
  } catch (err) {
    warn(`lora-repro: runs.csv not updated (${(err as Error).message}); the result JSON is written, and the next 'lora-repro run' adds the row`);
    return false;
  }
  try {
    const rows = new Map(readRunsCsv(paths.csv).rows.map((r) => [r.runId, r]));
    rows.delete(result.runId);
    rows.set(result.runId, csvRow(result));
    writeFileAtomic(paths.csv, formatCsv([...rows.values()], true));
    return true;
  } finally {
    lock.release();
  }
}

/** runs.csv brought in line with every result JSON (runs-csv.ts), under the lock the tasks commit under. */
async function reconcileCsvShared(paths: ResultsPaths, results: ReadonlyMap<string, RunResult>): Promise<ReconcileReport> {
  const lock = await acquireLeaseLock(csvLockPath(paths));
  try {
    return new RunsCsv(paths.csv).reconcile(results);
  } finally {
    lock.release();
  }
}

export interface SettleOptions {
  /** Runs still queued or running in Slurm: their cells are not complete. */
  pending: Iterable<string>;
  log: (line: string) => void;
  warn: (line: string) => void;
  tracker?: Tracker;
  trackingUri?: string;
}

/**
 * runs.csv repaired, then the MLflow back-fill of the local runner: finished runs the server has not
 * fully received (a task that could not log, a lost update of mlflow-logged.json) and complete cells
 * whose aggregates are missing. Incomplete cells are left open (their last task ends them).
 */
export async function settleProfile(expansion: Expansion, paths: ResultsPaths, results: ReadonlyMap<string, RunResult>, opts: SettleOptions): Promise<void> {
  const report = await reconcileCsvShared(paths, results);
  if (report.appended > 0 || report.dropped > 0 || report.problems.length > 0) {
    opts.log(`runs.csv repaired: ${report.appended} row(s) re-appended, ${report.dropped} dropped${report.problems.length ? ` (${report.problems.slice(0, 3).join('; ')})` : ''}`);
  }
  const trackingUri = opts.trackingUri ?? (process.env.MLFLOW_TRACKING_URI?.trim() || undefined);
  if (trackingUri === undefined && opts.tracker === undefined) return;
  const tracker = opts.tracker ?? createTracker({ spoolDir: paths.mlflowSpool, warn: opts.warn });
  const projection = new MlflowProjection({
    tracker, trackingUri, experiment: expansion.experiment, profile: expansion.profile, statePath: paths.mlflowState,
    plan: expansion.runs, results, jsonPath: paths.json, warn: opts.warn, closeIncompleteCells: false,
  });
  projection.markPending(opts.pending);
  projection.backfill();
  await projection.flush();
  await tracker.close();
}
