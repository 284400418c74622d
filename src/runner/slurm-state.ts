/**
 * The state of every run of a profile, from the results folder (the source of truth for what
 * ended) and, where runs were submitted to Slurm, from squeue (what is queued or running) and
 * sacct or the task's log (why a task ended without a result). Used by `lora-repro status`, by
 * `run --executor slurm --wait` and by the submitter, which never submits a run whose task is
 * still queued or running.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { PlannedRun } from '../spec/expand.ts';
import type { ResultsPaths } from './paths.ts';
import type { RunResult } from '../train/result-schema.ts';
import { isActiveState, type AcctEntry, type QueueEntry, type SlurmClient } from './slurm-client.ts';
import { jobNames, latestTasks, readSubmissions, taskLogPath, type ArrayRecord, type Submission, type TaskRef } from './slurm-records.ts';

export type RunState =
  | { kind: 'finished'; result: RunResult }
  | { kind: 'running'; task: TaskRef; jobId: string; nodes: string; state: string }
  | { kind: 'queued'; task: TaskRef; jobId: string; reason: string; state: string }
  /** The run has a failed or blocked result (and no task of it is queued now). */
  | { kind: 'failed'; result: RunResult; task?: TaskRef }
  /** No result: never submitted, or its task ended without one (`why` says which, and how). */
  | { kind: 'pending'; why: string; task?: TaskRef };

export type StateKind = RunState['kind'];

export interface SlurmView {
  submissions: Submission[];
  tasks: Map<string, TaskRef>;
  /** `<job name>#<task index>` → its squeue line (`#*`: a range squeue left unexpanded). */
  queue: Map<string, QueueEntry>;
  /** `<job id>_<task index>` → its accounting record; undefined when accounting is off. */
  acct: Map<string, AcctEntry> | undefined;
}

const queueKey = (name: string, index: number | '*'): string => `${name}#${index}`;

/** Reads the submissions of a profile and asks Slurm about them (nothing to ask when there are none). */
export async function observeSlurm(paths: ResultsPaths, client: SlurmClient | undefined, opts: { acct?: boolean; warn?: (l: string) => void } = {}): Promise<SlurmView> {
  const submissions = readSubmissions(paths, opts.warn);
  const tasks = latestTasks(submissions);
  const queue = new Map<string, QueueEntry>();
  let acct: Map<string, AcctEntry> | undefined;
  if (client !== undefined && submissions.length > 0) {
    for (const e of await client.squeue(jobNames(submissions))) queue.set(queueKey(e.name, e.taskIndex ?? '*'), e);
    if (opts.acct) {
      const ids = [...new Set(submissions.flatMap((s) => s.arrays.map((a) => jobIdOf(a, queue)).filter((x): x is string => x !== undefined)))];
      const rows = await client.sacct(ids);
      if (rows !== undefined) acct = new Map(rows.map((r) => [`${r.jobId}_${r.taskIndex}`, r]));
    }
  }
  return { submissions, tasks, queue, acct };
}

/** The array's job id: recorded after sbatch, else (submitter killed right after sbatch) from squeue. */
export function jobIdOf(array: ArrayRecord, queue: ReadonlyMap<string, QueueEntry>): string | undefined {
  if (array.jobId !== undefined) return array.jobId;
  for (const e of queue.values()) if (e.name === array.name) return e.jobId;
  return undefined;
}

/** The squeue line of a task, if it is still queued or running. */
function activeEntry(view: SlurmView, task: TaskRef): QueueEntry | undefined {
  const e = view.queue.get(queueKey(task.array.name, task.taskIndex)) ?? view.queue.get(queueKey(task.array.name, '*'));
  return e !== undefined && isActiveState(e.state) ? e : undefined;
}

/** Run ids whose latest task is queued or running now. */
export function activeRunIds(view: SlurmView): Set<string> {
  const out = new Set<string>();
  for (const [id, task] of view.tasks) if (activeEntry(view, task) !== undefined) out.add(id);
  return out;
}

/** Job ids of arrays with a task still queued or running. */
export function activeJobIds(view: SlurmView): string[] {
  const ids = new Set<string>();
  for (const e of view.queue.values()) if (isActiveState(e.state)) ids.add(e.jobId);
  return [...ids].sort();
}

/** What Slurm's output says about how a task ended (slurmstepd's `*** JOB … CANCELLED … ***`, the OOM killer). */
export function reasonFromLog(log: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(log, 'utf8');
  } catch {
    return undefined;
  }
  const tail = text.slice(-20_000);
  const cancelled = /\*\*\* (?:JOB|STEP) \S+ ON \S+ CANCELLED AT \S+( DUE TO [A-Z ]+?)? \*\*\*/.exec(tail);
  if (cancelled !== null) return cancelled[1] ? `cancelled${cancelled[1].toLowerCase()}` : 'cancelled (scancel)';
  if (/oom[-_ ]kill/i.test(tail)) return 'killed: out of memory';
  return undefined;
}

function endedWithoutResult(view: SlurmView, task: TaskRef): string {
  const jobId = jobIdOf(task.array, view.queue);
  const name = jobId === undefined ? `${task.array.name} task ${task.taskIndex}` : `${jobId}_${task.taskIndex}`;
  const log = jobId === undefined ? undefined : taskLogPath(task.submission, jobId, task.taskIndex);
  const acct = jobId === undefined ? undefined : view.acct?.get(`${jobId}_${task.taskIndex}`);
  if (acct !== undefined && acct.state === 'PENDING') return `its task ${name} never started (array cancelled while pending?)`;
  const why = acct !== undefined ? `${acct.state.toLowerCase()}${acct.exitCode && acct.exitCode !== '0:0' ? `, exit ${acct.exitCode}` : ''} (sacct)` : log !== undefined ? reasonFromLog(log) : undefined;
  if (log !== undefined && !existsSync(log)) return `its task ${name} never started (cancelled or failed before it ran)${why ? `: ${why}` : ''}`;
  return `its task ${name} ended without a result${why ? `: ${why}` : ''}${log ? `; log ${log}` : ''}`;
}

/** Every run's state. `results`: the result JSONs read now. */
export function runStates(runs: readonly PlannedRun[], results: ReadonlyMap<string, RunResult>, view: SlurmView): Map<string, RunState> {
  const out = new Map<string, RunState>();
  for (const run of runs) {
    const result = results.get(run.runId);
    const task = view.tasks.get(run.runId);
    if (result?.status === 'finished') {
      out.set(run.runId, { kind: 'finished', result });
      continue;
    }
    const e = task === undefined ? undefined : activeEntry(view, task);
    if (task !== undefined && e !== undefined) {
      out.set(
        run.runId,
        e.state === 'PENDING' || e.state === 'REQUEUED' || e.state.startsWith('REQUEUE')
          ? { kind: 'queued', task, jobId: e.jobId, reason: e.reason, state: e.state }
          : { kind: 'running', task, jobId: e.jobId, nodes: e.nodes, state: e.state },
      );
    } else if (result !== undefined) {
      out.set(run.runId, { kind: 'failed', result, ...(task ? { task } : {}) });
    } else if (task !== undefined) {
      out.set(run.runId, { kind: 'pending', why: endedWithoutResult(view, task), task });
    } else {
      out.set(run.runId, { kind: 'pending', why: 'not submitted' });
    }
  }
  return out;
}

export function countStates(states: Iterable<RunState>): Record<StateKind, number> {
  const c: Record<StateKind, number> = { finished: 0, running: 0, queued: 0, failed: 0, pending: 0 };
  for (const s of states) c[s.kind]++;
  return c;
}

/** `3 queued · 2 running · 20 finished · 1 failed · 4 pending` (zero counts left out, except finished). */
export function formatCounts(c: Record<StateKind, number>): string {
  const order: StateKind[] = ['queued', 'running', 'finished', 'failed', 'pending'];
  return order.filter((k) => c[k] > 0 || k === 'finished').map((k) => `${c[k]} ${k}`).join(' · ');
}
