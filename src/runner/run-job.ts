/**
 * One planned run handed to an executor and its answer turned into the run's record: the same steps
 * for the local runner (runner.ts) and a Slurm array task (slurm-task.ts), which differ only in how
 * they commit the record.
 */
import { mkdirSync, rmSync } from 'node:fs';
import type { PlannedRun } from '../spec/expand.ts';
import { runIdentity } from './failure.ts';
import type { ResultsPaths } from './paths.ts';
import { runResultSchema, type EpochRecord, type RunResult } from '../train/result-schema.ts';
import { RunFailure, type Dispatcher } from './worker-pool.ts';
import type { RunJob } from './worker-protocol.ts';

export interface PreparedJob {
  job: RunJob;
  startedAt: Date;
  /** The epochs the executor reports, in order: a run that fails keeps those it finished. */
  epochs: EpochRecord[];
}

/**
 * The job of `run`: its output directory wiped (a restarted run starts clean), `model` as the workers
 * load it (a resolved directory, or the name), and for a run that starts from another (initFrom)
 * that run's directory, where the child reads the parent's saved weights (train/init-from.ts).
 */
export function prepareJob(run: PlannedRun, paths: ResultsPaths, model: string): PreparedJob {
  const startedAt = new Date();
  const outDir = paths.outDir(run.runId);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const init = run.config.initFrom;
  const initFrom = init !== undefined && 'run' in init ? { ...init, dir: paths.outDir(init.run) } : init;
  return { job: { runId: run.runId, cellKey: run.cellKey, config: { ...run.config, model, initFrom }, outDir }, startedAt, epochs: [] };
}

/** The executor's result as this run's record: validated, with the runner's identity fields. */
function normalize(raw: unknown, run: PlannedRun): RunResult {
  const parsed = runResultSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new RunFailure(`the executor returned an invalid result: ${i.path.join('.') || '(record)'}: ${i.message}`);
  }
  // The runner's ids win: the executor saw a config whose model may have been resolved to a path.
  return { ...parsed.data, ...runIdentity(run) };
}

/** Runs the prepared job: its record, or a throw when the executor gave none (the caller records the failure). */
export async function runJob(dispatcher: Dispatcher, run: PlannedRun, prepared: PreparedJob, log: ((line: string) => void) | undefined): Promise<RunResult> {
  const raw = await dispatcher.run(prepared.job, { onEpoch: (e) => prepared.epochs.push(e), log });
  return normalize(raw, run);
}
