/**
 * `lora-repro run`: executes the selected runs of an expanded spec, each exactly once.
 *
 * Per profile directory (paths.ts), under the runner lock:
 *  1. sweep temporary files of killed writers; read every result JSON (the source of truth);
 *  2. reconcile runs.csv with the JSONs (runs-csv.ts: re-append missing rows, drop torn lines,
 *     duplicates and stale rows);
 *  3. skip runs whose JSON says `finished`; everything else (absent, or `failed`) is run: its
 *     output directory is wiped first, so a restarted run starts clean;
 *  4. each run goes to a worker process; its result (or a `failed` record if it produced none) is
 *     committed by writing the JSON atomically, then appending the CSV row, then logging MLflow.
 * A kill at any moment therefore loses at most the runs in flight (no JSON yet: rerun) and can
 * leave at most a CSV lagging behind the JSONs (repaired by step 2 of the next run).
 */
import { mkdirSync } from 'node:fs';
import type { Expansion, PlannedRun } from '../spec/expand.ts';
import { createTracker, type Tracker, type TrackerSummary } from '../tracking/index.ts';
import { sweepTempFiles } from '../util/atomic-write.ts';
import { resolveExecutorModule, type Executor } from './executor.ts';
import { failedResult } from './failure.ts';
import { failpoint } from './failpoints.ts';
import { readiness, withUnfinishedParents } from './dependencies.ts';
import { acquireLock } from './lock.ts';
import { MlflowProjection } from './mlflow-projection.ts';
import { resolveModel as defaultResolveModel } from './model-resolver.ts';
import { profileResultsDir, resultsPaths, type ResultsPaths } from './paths.ts';
import { describeReported, reportedOf, type RunResult } from '../train/result-schema.ts';
import { scanResults, writeResult, type InvalidResult } from './results-store.ts';
import { RunsCsv, type ReconcileReport } from './runs-csv.ts';
import { prepareJob, runJob } from './run-job.ts';
import { ForkDispatcher, InProcessDispatcher, type Dispatcher } from './worker-pool.ts';

export interface RunnerOptions {
  /** Parent of the per-profile results directories (default `results`). */
  resultsRoot: string;
  workers: number;
  /**
   * Run in this process with this executor (tests); otherwise fork workers running
   * `executorModule` (default: LORA_REPRO_EXECUTOR of `env`, else src/train/trainer.ts).
   */
  executor?: Executor;
  executorModule?: string;
  /** Default: createTracker() (MLflow if MLFLOW_TRACKING_URI is set, else nothing). */
  tracker?: Tracker;
  /** The tracking URI the tracker talks to (default MLFLOW_TRACKING_URI). */
  trackingUri?: string;
  /** Environment of the worker processes (default process.env). */
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  warn?: (line: string) => void;
  /** Do not forward the runs' own log lines (progress, epochs), only one line per finished run. */
  quiet?: boolean;
  /** Aborting stops dispatching and kills the workers; unfinished runs keep no result. */
  signal?: AbortSignal;
  /** Spec model name → what the workers load (default: model-resolver.ts; may throw a UserError). */
  resolveModel?: (name: string) => string;
  /**
   * Called once the runner lock is held, before anything is read or written; throwing stops the
   * run (the CLI refuses a profile whose runs are queued or running in Slurm: slurm-state.ts).
   */
  underLock?: (paths: ResultsPaths) => void | Promise<void>;
}

export interface RunnerSummary {
  resultsDir: string;
  selected: number;
  skipped: number;
  attempted: number;
  finished: number;
  failed: number;
  /** Runs not run because the run they start from failed (recorded with status `blocked`). */
  blocked: number;
  /** Unfinished parents the selection lacked, run first (dependencies.ts). */
  parentsAdded: number;
  interrupted: boolean;
  csv: ReconcileReport;
  invalidResults: InvalidResult[];
  tracker: TrackerSummary | undefined;
}

function describe(r: RunResult): string {
  const c = `${r.model} ${r.method}${r.variant ? ` [${r.variant}]` : ''} ${r.task} seed ${r.seed}`;
  if (r.status !== 'finished') return `${r.status.toUpperCase().padEnd(8)} ${c}: ${r.error ?? 'unknown error'}`;
  const v = r.metrics[r.headlineMetric];
  return `finished ${c}: ${r.headlineMetric}=${v === undefined ? 'n/a' : v.toFixed(4)} (${describeReported(reportedOf(r))}, ${r.wallSeconds.toFixed(1)} s)`;
}

export async function runExperiment(expansion: Expansion, selected: PlannedRun[], opts: RunnerOptions): Promise<RunnerSummary> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const warn = opts.warn ?? ((l: string) => console.error(l));
  // Checked before anything is touched: a missing trainer is a one-line error, not N failed runs.
  const executorModule = opts.executor === undefined ? (opts.executorModule ?? resolveExecutorModule(undefined, opts.env ?? process.env)) : undefined;
  const paths: ResultsPaths = resultsPaths(profileResultsDir(opts.resultsRoot, expansion.profile));
  mkdirSync(paths.runsDir, { recursive: true });
  const lock = acquireLock(paths.lock);
  try {
    await opts.underLock?.(paths);
    sweepTempFiles(paths.runsDir);
    sweepTempFiles(paths.root);
    const scanned = scanResults(paths);
    for (const bad of scanned.invalid) warn(`lora-repro: ignoring ${bad.file} (${bad.reason}); the run will be redone`);
    const results = new Map(scanned.byId);
    const csv = new RunsCsv(paths.csv);
    const csvReport = csv.reconcile(results);
    if (csvReport.appended > 0 || csvReport.dropped > 0 || csvReport.problems.length > 0) {
      log(`runs.csv repaired: ${csvReport.appended} row(s) re-appended, ${csvReport.dropped} dropped${csvReport.problems.length ? ` (${csvReport.problems.slice(0, 3).join('; ')})` : ''}`);
    }

    // Parents first; a child whose parent is unfinished and not selected brings its parent along.
    const { todo, added } = withUnfinishedParents(expansion.runs, selected, (id) => results.get(id)?.status === 'finished');
    if (added.length > 0) log(`${added.length} parent run(s) added: the selected runs start from them (initFrom) and they are not finished: ${added.map((r) => `${r.row}/${r.config.task} seed ${r.config.seed}`).join(', ')}`);
    // Resolved once per model, before any run starts: a model that is not downloaded is one UserError
    // (exit 2) naming the download command, not one failed run per cell.
    const resolveName = opts.resolveModel ?? ((n: string) => defaultResolveModel(n, { env: opts.env ?? process.env }));
    const resolved = new Map<string, string>();
    for (const run of todo) if (!resolved.has(run.config.model)) resolved.set(run.config.model, resolveName(run.config.model));
    const retrying = todo.filter((r) => results.has(r.runId)).length;
    log(`${expansion.experiment} · profile ${expansion.profile}: ${selected.length} run(s) selected, ${selected.length - (todo.length - added.length)} already finished, ${todo.length} to run${retrying ? ` (${retrying} failed or blocked before: retrying)` : ''} → ${paths.root}`);

    const trackingUri = opts.trackingUri ?? (process.env.MLFLOW_TRACKING_URI?.trim() || undefined);
    const tracker = opts.tracker ?? createTracker({ spoolDir: paths.mlflowSpool, warn });
    const projection = new MlflowProjection({
      tracker,
      trackingUri,
      experiment: expansion.experiment,
      profile: expansion.profile,
      statePath: paths.mlflowState,
      plan: expansion.runs,
      results,
      jsonPath: paths.json,
      warn,
    });
    projection.markPending(todo.map((r) => r.runId));
    projection.backfill();

    const workers = Math.max(1, Math.min(opts.workers, todo.length || 1));
    const dispatcher: Dispatcher =
      opts.executor !== undefined
        ? new InProcessDispatcher(opts.executor, workers)
        : new ForkDispatcher(executorModule as string, workers, opts.env ?? process.env);
    let aborted = opts.signal?.aborted ?? false;
    const onAbort = (): void => {
      aborted = true;
      void dispatcher.close();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    let done = 0;
    let finished = 0;
    let failed = 0;
    let blocked = 0;
    const unsettled = new Set(todo.map((r) => r.runId));
    const record = (run: PlannedRun, result: RunResult): void => {
      writeResult(paths, result);
      failpoint('after-json');
      results.set(run.runId, result);
      unsettled.delete(run.runId);
      csv.commit(result);
      projection.runFinished(run, result);
      done++;
      if (result.status === 'finished') finished++;
      else if (result.status === 'blocked') blocked++;
      else failed++;
      log(`[${done}/${todo.length}] ${describe(result)}`);
    };
    const execute = async (run: PlannedRun): Promise<void> => {
      const prepared = prepareJob(run, paths, resolved.get(run.config.model) ?? run.config.model);
      projection.runStarted(run);
      let result: RunResult;
      try {
        const runLog = opts.quiet ? undefined : (line: string): void => log(`  [${run.runId.slice(0, 8)}] ${line}`);
        result = await runJob(dispatcher, run, prepared, runLog);
      } catch (err) {
        if (aborted) {
          projection.runAbandoned(run.runId);
          return;
        }
        result = { ...failedResult(run, err instanceof Error ? err.message : String(err), prepared.startedAt, new Date()), epochs: prepared.epochs };
      }
      record(run, result);
    };

    const inflight = new Set<Promise<void>>();
    try {
      // Dispatch in order, skipping children whose parent is still queued or running (they start
      // once it has a result: finished → run, failed/blocked → recorded blocked, not run).
      const queue = [...todo];
      while (queue.length > 0 && !aborted) {
        let i = 0;
        let ready = readiness(queue[0], unsettled, results);
        while (ready.kind === 'wait' && ++i < queue.length) ready = readiness(queue[i], unsettled, results);
        if (ready.kind === 'wait') {
          if (inflight.size === 0) throw new Error(`runner: ${queue.length} run(s) wait for parents that are neither queued nor running`);
          await Promise.race(inflight);
          continue;
        }
        const [run] = queue.splice(i, 1);
        if (ready.kind === 'blocked') {
          const now = new Date();
          record(run, failedResult(run, ready.reason, now, now, 'blocked'));
          continue;
        }
        const p: Promise<void> = execute(run).finally(() => inflight.delete(p));
        inflight.add(p);
        if (inflight.size >= workers) await Promise.race(inflight);
      }
      await Promise.all(inflight);
    } catch (err) {
      // The runner itself failed (e.g. the results disk is full): stop everything, record nothing more.
      aborted = true;
      await dispatcher.close();
      await Promise.allSettled([...inflight]);
      await tracker.close().catch(() => undefined);
      throw err;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
    await dispatcher.close();
    await projection.flush();
    const trackerSummary = await tracker.close();
    return {
      resultsDir: paths.root,
      selected: selected.length,
      skipped: selected.length - (todo.length - added.length),
      attempted: done,
      finished,
      failed,
      blocked,
      parentsAdded: added.length,
      interrupted: aborted,
      csv: csvReport,
      invalidResults: scanned.invalid,
      tracker: trackerSummary,
    };
  } finally {
    lock.release();
  }
}
