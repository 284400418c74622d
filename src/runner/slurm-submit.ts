/**
 * `lora-repro run <spec> --executor slurm`: the runs of a selection that are neither finished nor
 * queued or running in Slurm, as job arrays, one task per run (slurm-task.ts runs it).
 *
 * Runs that start from another run (initFrom: the paper's MNLI → MRPC/RTE/STS-B chains) go one
 * array further: array i + 1 waits for array i (`--dependency=afterany`; a child whose parent
 * failed is recorded blocked by its task, as locally), and a child whose parent is still running
 * in an earlier submission waits for that array.
 *
 * The submitter holds the runner lock while it decides and submits, so two submitters (or a local
 * runner) cannot both take the same runs; it sweeps the temporary files of killed writers only
 * when no task of the profile is queued or running (a live task's temporary file is no leftover).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Expansion, PlannedRun } from '../spec/expand.ts';
import { sweepTempFiles } from '../util/atomic-write.ts';
import { CostModel } from './cost.ts';
import { parentRunId, withUnfinishedParents } from './dependencies.ts';
import { acquireLock } from './lock.ts';
import { profileResultsDir, resultsPaths } from './paths.ts';
import type { RunResult } from '../train/result-schema.ts';
import { scanResults } from './results-store.ts';
import type { SlurmClient } from './slurm-client.ts';
import { settleProfile } from './slurm-commit.ts';
import { jobName, newSubmissionId, writeSubmission, type SlurmSettings, type Submission } from './slurm-records.ts';
import { activeRunIds, jobIdOf, observeSlurm, type SlurmView } from './slurm-state.ts';

export interface ArrayPlan {
  /** 1-based. */
  index: number;
  runs: PlannedRun[];
  /** Array of this submission it waits for. */
  after?: number;
  /** Job ids of earlier submissions' arrays it waits for (parents still queued or running there). */
  afterJobs: string[];
  longestMs: number;
  totalMs: number;
}

export interface SlurmPlan {
  arrays: ArrayPlan[];
  /** Unfinished runs of the selection left out because their task is queued or running now. */
  active: number;
  finished: number;
}

/** Groups `todo` (parents first) into arrays by depth of their initFrom chain inside `todo`. */
export function planArrays(todo: readonly PlannedRun[], view: SlurmView | undefined, cost: CostModel): ArrayPlan[] {
  const ids = new Set(todo.map((r) => r.runId));
  const depth = new Map<string, number>();
  const arrays: ArrayPlan[] = [];
  for (const run of todo) {
    const p = parentRunId(run);
    const d = p !== undefined && ids.has(p) ? (depth.get(p) ?? 0) + 1 : 0;
    depth.set(run.runId, d);
    while (arrays.length <= d) arrays.push({ index: arrays.length + 1, runs: [], afterJobs: [], longestMs: 0, totalMs: 0, ...(arrays.length > 0 ? { after: arrays.length } : {}) });
    const a = arrays[d];
    a.runs.push(run);
    const ms = cost.estimate(run).ms;
    a.longestMs = Math.max(a.longestMs, ms);
    a.totalMs += ms;
    // A parent still running in an earlier submission: wait for its array.
    const task = p !== undefined && !ids.has(p) ? view?.tasks.get(p) : undefined;
    const job = task !== undefined && view !== undefined ? jobIdOf(task.array, view.queue) : undefined;
    if (job !== undefined && activeRunIds(view as SlurmView).has(p as string) && !a.afterJobs.includes(job)) a.afterJobs.push(job);
  }
  return arrays;
}

/** Slurm's D-HH:MM:SS of a duration. */
function slurmTime(ms: number): string {
  const s = Math.ceil(ms / 1000);
  const d = Math.floor(s / 86400);
  const hh = String(Math.floor((s % 86400) / 3600)).padStart(2, '0');
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return d > 0 ? `${d}-${hh}:${mm}:${ss}` : `${hh}:${mm}:${ss}`;
}

/** A Slurm time limit in ms (minutes, MM:SS, HH:MM:SS, D-HH[:MM[:SS]]). */
export function parseSlurmTime(t: string): number {
  const [days, rest] = t.includes('-') ? [Number(t.split('-')[0]), t.split('-')[1]] : [0, t];
  const parts = rest.split(':').map(Number);
  let sec: number;
  if (t.includes('-')) sec = (parts[0] ?? 0) * 3600 + (parts[1] ?? 0) * 60 + (parts[2] ?? 0);
  else if (parts.length === 1) sec = parts[0] * 60;
  else if (parts.length === 2) sec = parts[0] * 60 + parts[1];
  else sec = parts[0] * 3600 + parts[1] * 60 + parts[2];
  return (days * 86400 + sec) * 1000;
}

/** The time limit to suggest: 1.5 × the longest estimate, at least 10 minutes, in whole quarter hours. */
export function suggestedTime(longestMs: number): string {
  const quarter = 15 * 60_000;
  return slurmTime(Math.max(10 * 60_000, Math.ceil((1.5 * longestMs) / quarter) * quarter));
}

/** The `#SBATCH` resource lines every task of a submission gets. */
export function resourceArgs(s: SlurmSettings): string[] {
  return [
    ...(s.partition ? [`--partition=${s.partition}`] : []),
    ...(s.account ? [`--account=${s.account}`] : []),
    ...(s.gpusPerRun ? [`--gres=gpu:${s.gpusPerRun}`] : []),
    ...(s.cpusPerRun ? [`--cpus-per-task=${s.cpusPerRun}`] : []),
    ...(s.mem ? [`--mem=${s.mem}`] : []),
    ...(s.time ? [`--time=${s.time}`] : []),
    ...(s.requeue === true ? ['--requeue'] : s.requeue === false ? ['--no-requeue'] : []),
    ...s.sbatchArgs,
  ];
}

const sq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

const CLI_ENTRY = fileURLToPath(new URL('../../bin/lora-repro.mjs', import.meta.url));

export interface ScriptInput {
  name: string;
  count: number;
  runsFile: string;
  logDir: string;
  cwd: string;
  settings: SlurmSettings;
  dependency: string[];
  /** `lora-repro run-one` arguments before `--run-id`. */
  runOneArgs: string[];
}

/** The job-array script: task k runs line k + 1 of the runs file through `lora-repro run-one`. */
export function arrayScript(x: ScriptInput): string {
  const array = `--array=0-${x.count - 1}${x.settings.maxParallel ? `%${x.settings.maxParallel}` : ''}`;
  const lines = [
    '#!/bin/bash',
    `#SBATCH --job-name=${x.name}`,
    `#SBATCH ${array}`,
    '#SBATCH --ntasks=1',
    `#SBATCH --output=${join(x.logDir, '%A_%a.out')}`,
    '#SBATCH --open-mode=append',
    `#SBATCH --chdir=${x.cwd}`,
    ...(x.dependency.length > 0 ? [`#SBATCH --dependency=afterany:${x.dependency.join(':')}`] : []),
    ...resourceArgs(x.settings).map((a) => `#SBATCH ${a}`),
    '# Written by `lora-repro run --executor slurm` (docs/slurm.md): one task per run, through the same code',
    '# path as a local worker; results go to the shared results folder. Resubmit with the same command.',
    'set -euo pipefail',
    `RUN_ID=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" ${sq(x.runsFile)})`,
    '[ -n "$RUN_ID" ] || { echo "lora-repro: no run for array task $SLURM_ARRAY_TASK_ID" >&2; exit 2; }',
    'echo "lora-repro: task ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID} on $(hostname): run $RUN_ID (restart ${SLURM_RESTART_COUNT:-0})"',
    `exec "\${LORA_REPRO_NODE:-${process.execPath}}" ${[CLI_ENTRY, 'run-one', ...x.runOneArgs].map(sq).join(' ')} --run-id "$RUN_ID"`,
    '',
  ];
  return lines.join('\n');
}

export interface SubmitInput {
  expansion: Expansion;
  selected: PlannedRun[];
  resultsRoot: string;
  settings: SlurmSettings;
  /** `run-one` arguments naming the spec, profile and what else the tasks need (run-slurm.ts). */
  runOneArgs: string[];
  client: SlurmClient;
  msPerToken?: number;
  /** Called with the runs about to be submitted, under the lock (e.g. prepare the stand-in models). */
  prepare?: (runs: PlannedRun[]) => Promise<void>;
  /** Write everything but do not call sbatch (--dry-run). */
  dryRun?: boolean;
  log: (line: string) => void;
  warn: (line: string) => void;
}

export interface SubmitOutcome {
  plan: SlurmPlan;
  submission: Submission | undefined;
  /** Run ids of the selection that are queued or running now (earlier submissions included). */
  following: Set<string>;
}

export function costModel(expansion: Expansion, results: ReadonlyMap<string, RunResult>, msPerToken?: number): CostModel {
  return new CostModel({ msPerTokenFlag: msPerToken, specMsPerToken: expansion.cost?.msPerToken, finished: [...results.values()] });
}

/** Plans (and unless `dryRun`, submits) the arrays for what is not finished (see the file comment). */
export async function submitSlurm(x: SubmitInput): Promise<SubmitOutcome> {
  const paths = resultsPaths(profileResultsDir(x.resultsRoot, x.expansion.profile));
  const results = scanResults(paths).byId;
  const finished = (id: string): boolean => results.get(id)?.status === 'finished';
  if (x.dryRun) {
    // Read-only: Slurm is asked what is active only where there is something to ask about and a squeue to ask.
    let view: SlurmView | undefined;
    try {
      view = await observeSlurm(paths, x.client);
    } catch {
      view = undefined;
    }
    const active = view === undefined ? new Set<string>() : activeRunIds(view);
    const { todo } = withUnfinishedParents(x.expansion.runs, x.selected, finished);
    const plan = { arrays: planArrays(todo.filter((r) => !active.has(r.runId)), view, costModel(x.expansion, results, x.msPerToken)), active: todo.filter((r) => active.has(r.runId)).length, finished: x.selected.filter((r) => finished(r.runId)).length };
    return { plan, submission: undefined, following: active };
  }

  mkdirSync(paths.runsDir, { recursive: true });
  const lock = acquireLock(paths.lock);
  try {
    const view = await observeSlurm(paths, x.client, { warn: x.warn });
    const active = activeRunIds(view);
    if (active.size === 0) {
      sweepTempFiles(paths.runsDir);
      sweepTempFiles(paths.root);
    }
    const fresh = scanResults(paths);
    for (const bad of fresh.invalid) x.warn(`lora-repro: ignoring ${bad.file} (${bad.reason}); the run will be redone`);
    const { todo: all, added } = withUnfinishedParents(x.expansion.runs, x.selected, (id) => fresh.byId.get(id)?.status === 'finished');
    await settleProfile(x.expansion, paths, fresh.byId, { pending: [...active, ...all.map((r) => r.runId)], log: x.log, warn: x.warn });
    const todo = all.filter((r) => !active.has(r.runId));
    if (added.length > 0) x.log(`${added.length} parent run(s) added: the selected runs start from them (initFrom) and they are not finished`);
    const arrays = planArrays(todo, view, costModel(x.expansion, fresh.byId, x.msPerToken));
    const plan: SlurmPlan = { arrays, active: all.length - todo.length, finished: x.selected.filter((r) => fresh.byId.get(r.runId)?.status === 'finished').length };
    const following = new Set([...all.filter((r) => active.has(r.runId)).map((r) => r.runId)]);
    if (todo.length === 0) return { plan, submission: undefined, following };
    await x.prepare?.(todo);

    const id = newSubmissionId();
    const dir = join(paths.root, 'slurm', id);
    const sub: Submission = {
      v: 1, id, dir, createdAt: new Date().toISOString(), host: hostname(), spec: x.expansion.file, profile: x.expansion.profile,
      rehearse: x.expansion.rehearsal !== undefined, resultsRoot: resolve(x.resultsRoot), cwd: process.cwd(), settings: x.settings,
      arrays: arrays.map((a) => ({
        index: a.index, name: jobName(id, a.index), runIds: a.runs.map((r) => r.runId), script: join(dir, `array-${a.index}.sh`), runsFile: join(dir, `runs-${a.index}.txt`),
        ...(a.after !== undefined ? { dependsOn: a.after } : {}),
      })),
    };
    writeSubmission(sub);
    for (const [i, a] of sub.arrays.entries()) {
      writeFileSync(a.runsFile, `${a.runIds.join('\n')}\n`);
      const prev = a.dependsOn === undefined ? undefined : sub.arrays[a.dependsOn - 1].jobId;
      const script = arrayScript({
        name: a.name, count: a.runIds.length, runsFile: a.runsFile, logDir: join(dir, 'logs'), cwd: process.cwd(), settings: x.settings,
        dependency: [...(prev !== undefined ? [prev] : []), ...arrays[i].afterJobs], runOneArgs: x.runOneArgs,
      });
      writeFileSync(a.script, script, { mode: 0o755 });
      try {
        a.jobId = await x.client.sbatch(a.script);
      } catch (err) {
        // The arrays not submitted are not part of this submission: their runs stay unsubmitted.
        sub.arrays = sub.arrays.filter((b) => b.jobId !== undefined);
        writeSubmission(sub);
        throw err;
      }
      a.submittedAt = new Date().toISOString();
      writeSubmission(sub);
      for (const r of a.runIds) following.add(r);
    }
    return { plan, submission: sub, following };
  } finally {
    lock.release();
  }
}
