/**
 * `run --executor slurm --wait`: follows the submitted runs until none is queued or running. Every
 * poll asks squeue what is queued or running and reads the runs' result JSONs for what ended (so it
 * works without Slurm accounting); a line is printed for each run that starts, finishes or fails,
 * and a count line per state whenever the counts change. At the end, sacct (if accounting is on) or
 * the task logs say why tasks ended without a result, runs.csv is reconciled and MLflow settled.
 */
import type { Expansion, PlannedRun } from '../spec/expand.ts';
import type { ResultsPaths } from './paths.ts';
import type { RunResult } from '../train/result-schema.ts';
import { readResultFile, scanResults } from './results-store.ts';
import type { SlurmClient } from './slurm-client.ts';
import { settleProfile } from './slurm-commit.ts';
import { activeJobIds, activeRunIds, countStates, formatCounts, observeSlurm, runStates, type RunState, type SlurmView } from './slurm-state.ts';

export interface FollowOptions {
  expansion: Expansion;
  runs: PlannedRun[];
  paths: ResultsPaths;
  client: SlurmClient;
  pollMs: number;
  log: (line: string) => void;
  warn: (line: string) => void;
  /** Aborting (Ctrl-C) stops following; the arrays keep running (the caller asks what to do). */
  signal?: AbortSignal;
}

export interface FollowOutcome {
  states: Map<string, RunState>;
  interrupted: boolean;
  /** Job ids with tasks still queued or running (non-empty only when interrupted). */
  activeJobs: string[];
}

const describeRun = (r: PlannedRun): string =>
  `${r.row} ${r.config.method}${r.config.variant ? ` (${r.config.variant})` : ''} ${r.config.task} seed ${r.config.seed} (${r.runId.slice(0, 12)})`;

function readResults(paths: ResultsPaths, runs: readonly PlannedRun[]): Map<string, RunResult> {
  const out = new Map<string, RunResult>();
  for (const r of runs) {
    const read = readResultFile(paths.json(r.runId), r.runId);
    if (read.ok) out.set(r.runId, read.result);
  }
  return out;
}

/** The line for a run that changed state (undefined: not worth a line, e.g. queued). */
function transitionLine(run: PlannedRun, s: RunState): string | undefined {
  switch (s.kind) {
    case 'running':
      return `running  ${describeRun(run)}: task ${s.jobId}_${s.task.taskIndex} on ${s.nodes || '?'}`;
    case 'finished': {
      const v = s.result.metrics[s.result.headlineMetric];
      return `finished ${describeRun(run)}: ${s.result.headlineMetric}=${v === undefined ? 'n/a' : v.toFixed(4)}`;
    }
    case 'failed':
      return `${s.result.status.padEnd(8)} ${describeRun(run)}: ${s.result.error ?? 'no error recorded'}`;
    case 'pending':
      return `ended    ${describeRun(run)} without a result: ${s.why}`;
    default:
      return undefined;
  }
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

export async function followSlurm(o: FollowOptions): Promise<FollowOutcome> {
  let last = new Map<string, RunState>();
  let lastCounts = '';
  let first = true;
  for (;;) {
    const view: SlurmView = await observeSlurm(o.paths, o.client);
    const results = readResults(o.paths, o.runs);
    const states = runStates(o.runs, results, view);
    const stamp = new Date().toISOString().slice(11, 19);
    if (!first) {
      for (const run of o.runs) {
        const s = states.get(run.runId) as RunState;
        if (last.get(run.runId)?.kind === s.kind) continue;
        const line = s.kind === 'pending' ? undefined : transitionLine(run, s);
        if (line !== undefined) o.log(`[${stamp}] ${line}`);
      }
    }
    const counts = formatCounts(countStates(states.values()));
    if (counts !== lastCounts) o.log(`[${stamp}] slurm: ${counts} (of ${o.runs.length})`);
    lastCounts = counts;
    last = states;
    first = false;
    const busy = [...states.values()].some((s) => s.kind === 'running' || s.kind === 'queued');
    if (!busy || o.signal?.aborted) {
      if (o.signal?.aborted && busy) return { states, interrupted: true, activeJobs: activeJobIds(view) };
      break;
    }
    await sleep(o.pollMs, o.signal);
  }
  // Everything ended: why those without a result ended (sacct if accounting is on, else the logs), then settle.
  const view = await observeSlurm(o.paths, o.client, { acct: true });
  const results = readResults(o.paths, o.runs);
  const states = runStates(o.runs, results, view);
  for (const run of o.runs) {
    const s = states.get(run.runId) as RunState;
    if (s.kind === 'pending') o.log(transitionLine(run, s) as string);
  }
  // Other arrays of the profile may still run: their cells are not complete.
  await settleProfile(o.expansion, o.paths, scanResults(o.paths).byId, { pending: activeRunIds(view), log: o.log, warn: o.warn });
  return { states, interrupted: false, activeJobs: [] };
}
