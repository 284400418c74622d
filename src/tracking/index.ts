/**
 * Experiment tracking for lora-repro: MLflow over its REST API, with a disk spool for outages.
 *
 * ```ts
 * import { createTracker } from '../tracking/index.ts';
 * const tracker = createTracker({ spoolDir: 'results/<profile>/mlflow-spool' });
 * const cell = await tracker.startCell('lora-repro/gpt2-e2e', 'lora-r4', { rank: 4, lr: 2e-4 }, { method: 'lora' });
 * for (const seed of [0, 1, 2]) {
 *   const run = await cell.startSeedRun(`seed-${seed}`, { seed });
 *   await run.logMetrics([{ key: 'train/loss', value: 2.31, step: 100 }]);   // timestamp defaults to now (ms)
 *   await run.logArtifact('results/<profile>/lora-r4/seed-0/metrics.json', 'results');
 *   await run.end('FINISHED');                                                // or 'FAILED' / 'KILLED'
 * }
 * await cell.end('FINISHED');
 * await tracker.close();                                                      // waits for pending calls
 * ```
 *
 * - `MLFLOW_TRACKING_URI` (http/https) selects the server; without it createTracker returns a
 *   local tracker that validates calls and records nothing, so runs never fail for lack of a server.
 * - One parent run per results-table cell and one child run per seed (tag `mlflow.parentRunId`),
 *   with the system tags the UI shows (mlflow.runName, mlflow.user, mlflow.source.name/type,
 *   mlflow.source.git.commit) and a client-generated `lora_repro.run_key` that makes run creation
 *   idempotent across retries and replays.
 * - Params, tags and metrics go through runs/log-batch, chunked to MLflow's limits (limits.ts);
 *   NaN/±Infinity metrics are sent as "NaN"/"Infinity"/"-Infinity"; ids stay exact strings.
 * - Transient failures (408/429/5xx, dropped connections, timeouts) are retried with jittered
 *   exponential backoff, honouring Retry-After. If the server stays unreachable, everything from
 *   then on is spooled to `spoolDir` (append-only JSONL, fsync'd) and `lora-repro mlflow sync`
 *   replays it later without losing or duplicating anything.
 * - Non-transient errors (e.g. changing a param's value: INVALID_PARAMETER_VALUE) reject the call
 *   with a one-line message and are not retried.
 * - Artifacts are uploaded through the server's mlflow-artifacts proxy (`mlflow server --serve-artifacts`).
 */
import { join } from 'node:path';
import { LocalTracker } from './local-tracker.ts';
import type { RetryHooks, RetryPolicy } from './retry.ts';
import type { SystemInfo } from './system-tags.ts';
import { MlflowTracker } from './tracker.ts';
import type { Tracker } from './types.ts';

export type { CellRun, MetricInput, Params, RunEndStatus, SeedRun, Tags, Tracker, TrackerSummary } from './types.ts';
/** @public The types of Tracker's methods and of syncSpool's result, for callers that name them. */
export type { StartRunOptions, TrackedRun } from './types.ts';
/** @public */
export type { SyncReport } from './sync.ts';
export { MlflowUnreachableError, isArtifactsUnavailable } from './errors.ts';
export { validMlflowKey } from './limits.ts';
export { syncSpool } from './sync.ts';

export interface TrackerOptions {
  /** Overrides MLFLOW_TRACKING_URI. An empty string means "no server". */
  trackingUri?: string;
  /** Spool directory for undeliverable data; default `results/mlflow-spool`. Use results/<profile>/mlflow-spool. */
  spoolDir?: string;
  retry?: Partial<RetryPolicy>;
  /** Overrides for the system tags (user, source name/type, git commit). */
  system?: Partial<SystemInfo>;
  warn?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Test hooks for the retry loop (sleep, random, clock). */
  hooks?: RetryHooks;
}

export function createTracker(opts: TrackerOptions = {}): Tracker {
  const env = opts.env ?? process.env;
  const uri = (opts.trackingUri ?? env.MLFLOW_TRACKING_URI ?? '').trim();
  if (uri === '') return new LocalTracker();
  return new MlflowTracker({
    trackingUri: uri,
    spoolDir: opts.spoolDir ?? join('results', 'mlflow-spool'),
    retry: opts.retry,
    system: opts.system,
    warn: opts.warn,
    env,
    hooks: opts.hooks,
  });
}
