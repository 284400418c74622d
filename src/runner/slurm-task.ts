/**
 * One Slurm array task = one run (`lora-repro run-one`): the run goes through the local runner's
 * path — its output directory wiped, a forked worker running the executor module (worker.ts), the
 * result validated (run-job.ts `runJob`) or recorded failed — and is committed the same way: the
 * result JSON written atomically (write, fsync, rename: safe on NFS, readers see the old file or
 * the new one), then its runs.csv row, then MLflow.
 *
 * What differs is that many tasks on several hosts share the results folder, so there is no
 * runner lock (it is one writer's) and runs.csv is not appended to (O_APPEND is not atomic between
 * NFS clients: two appends can land on the same offset). A task rewrites runs.csv with its row
 * set, under a lease lock (lock.ts), by write-then-rename. A crash between the JSON and the row
 * leaves the CSV behind the JSONs, as locally, and the next submission (or local `run`), or the end of
 * `--wait`, reconciles it.
 *
 * Exactly once: the submitter never gives a run to two live tasks (slurm-state.ts), a task whose
 * run is already finished does nothing, and a rerun of a run (requeue, resubmission) replaces its
 * JSON and its row, never adds a second one.
 */
import { mkdirSync } from 'node:fs';
import type { Expansion, PlannedRun } from '../spec/expand.ts';
import { createTracker, type Tracker } from '../tracking/index.ts';
import { UserError } from '../util/errors.ts';
import { readiness } from './dependencies.ts';
import type { Executor } from './executor.ts';
import { failedResult } from './failure.ts';
import { failpoint } from './failpoints.ts';
import { MlflowProjection } from './mlflow-projection.ts';
import { profileResultsDir, resultsPaths, type ResultsPaths } from './paths.ts';
import type { RunResult } from '../train/result-schema.ts';
import { readResultFile, writeResult } from './results-store.ts';
import { prepareJob, runJob } from './run-job.ts';
import { commitCsvRowShared } from './slurm-commit.ts';
import { ForkDispatcher, InProcessDispatcher, type Dispatcher } from './worker-pool.ts';

export interface RunOneOptions {
  resultsRoot: string;
  runId: string;
  /** Run in this process with this executor (tests); otherwise a forked worker runs `executorModule`. */
  executor?: Executor;
  executorModule?: string;
  env?: NodeJS.ProcessEnv;
  /** Spec model name → what the worker loads. */
  resolveModel?: (name: string) => string;
  tracker?: Tracker;
  trackingUri?: string;
  log?: (line: string) => void;
  warn?: (line: string) => void;
  /** Aborting (SIGTERM from scancel, a time limit, preemption) kills the worker; nothing is recorded. */
  signal?: AbortSignal;
}

export type RunOneOutcome =
  | { kind: 'already-finished'; result: RunResult }
  | { kind: 'recorded'; result: RunResult }
  | { kind: 'interrupted' };

/** Reads the result JSONs of `ids` that exist now. */
function readSome(paths: ResultsPaths, ids: Iterable<string>): Map<string, RunResult> {
  const out = new Map<string, RunResult>();
  for (const id of ids) {
    const r = readResultFile(paths.json(id), id);
    if (r.ok) out.set(id, r.result);
  }
  return out;
}

/** Runs one run of `expansion` by id (see the file comment). */
export async function runOne(expansion: Expansion, opts: RunOneOptions): Promise<RunOneOutcome> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const warn = opts.warn ?? ((l: string) => console.error(l));
  const run = expansion.runs.find((r) => r.runId === opts.runId);
  if (run === undefined) {
    throw new UserError(
      `run ${opts.runId} is not a run of ${expansion.file} (profile ${expansion.profile}); the spec changed since it was submitted? ` +
        `Submit again: 'lora-repro run ${expansion.file} --profile ${expansion.profile} --executor slurm' submits what is not finished`,
    );
  }
  const paths = resultsPaths(profileResultsDir(opts.resultsRoot, expansion.profile));
  mkdirSync(paths.runsDir, { recursive: true });
  const mine = readResultFile(paths.json(run.runId), run.runId);
  if (mine.ok && mine.result.status === 'finished') {
    log(`run ${run.runId} is already finished (${paths.json(run.runId)}): nothing to do`);
    return { kind: 'already-finished', result: mine.result };
  }

  // The cell's other seeds (for MLflow's aggregates) and the parent run (initFrom), as on disk now.
  const siblings = expansion.runs.filter((r) => r.cellKey === run.cellKey).map((r) => r.runId);
  const parentIds = run.config.initFrom !== undefined && 'run' in run.config.initFrom ? [run.config.initFrom.run] : [];
  const results = readSome(paths, [...siblings, ...parentIds].filter((id) => id !== run.runId));
  const trackingUri = opts.trackingUri ?? (process.env.MLFLOW_TRACKING_URI?.trim() || undefined);
  const tracker = opts.tracker ?? createTracker({ spoolDir: paths.mlflowSpool, warn });
  // Cells stay open until their last seed's task ends them: a task that closed an incomplete cell
  // could, replayed from a spool after the last one, overwrite the cell's final state.
  const projection = new MlflowProjection({
    tracker, trackingUri, experiment: expansion.experiment, profile: expansion.profile, statePath: paths.mlflowState,
    plan: expansion.runs, results, jsonPath: paths.json, warn, closeIncompleteCells: false,
  });
  projection.markPending([run.runId]);

  const record = async (result: RunResult): Promise<void> => {
    writeResult(paths, result);
    failpoint('after-json');
    await commitCsvRowShared(paths, result, warn);
    // Seeds that finished on other nodes meanwhile: the last seed of a cell logs its aggregates.
    for (const [id, r] of readSome(paths, siblings)) results.set(id, r);
    results.set(run.runId, result);
    projection.runFinished(run, result);
  };

  let outcome: RunOneOutcome;
  const ready = readiness(run, new Set(), results);
  if (ready.kind === 'blocked') {
    const now = new Date();
    // Here a parent without a result is not missing from the plan: its task did not finish first.
    const missing = parentIds.find((id) => !results.has(id));
    const reason = missing !== undefined ? `parent run ${missing} has no result: its task had not finished (cancelled, failed to start, or not submitted); submit again` : ready.reason;
    const result = failedResult(run, reason, now, now, 'blocked');
    await record(result);
    outcome = { kind: 'recorded', result };
  } else {
    outcome = await execute(run, paths, opts, projection, record);
  }
  await projection.flush();
  await tracker.close();
  return outcome;
}

async function execute(
  run: PlannedRun,
  paths: ResultsPaths,
  opts: RunOneOptions,
  projection: MlflowProjection,
  record: (r: RunResult) => Promise<void>,
): Promise<RunOneOutcome> {
  const env = opts.env ?? process.env;
  const dispatcher: Dispatcher =
    opts.executor !== undefined ? new InProcessDispatcher(opts.executor, 1) : new ForkDispatcher(opts.executorModule as string, 1, env);
  let aborted = opts.signal?.aborted ?? false;
  const onAbort = (): void => {
    aborted = true;
    void dispatcher.close();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    // Before anything starts: a model that is not there is one UserError (exit 2), not a failed run.
    const model = opts.resolveModel?.(run.config.model) ?? run.config.model;
    const prepared = prepareJob(run, paths, model);
    projection.runStarted(run);
    let result: RunResult;
    try {
      result = await runJob(dispatcher, run, prepared, (line) => (opts.log ?? console.log)(line));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // A worker that died of SIGTERM went with its task (scancel, time limit, preemption): not a failure of the run.
      if (aborted || /signal SIGTERM/.test(message)) {
        projection.runAbandoned(run.runId);
        return { kind: 'interrupted' };
      }
      result = { ...failedResult(run, message, prepared.startedAt, new Date()), epochs: prepared.epochs };
    }
    await record(result);
    return { kind: 'recorded', result };
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await dispatcher.close();
  }
}
