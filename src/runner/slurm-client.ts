/**
 * The Slurm commands the executor uses (sbatch, squeue, sacct, scancel), run as programs and their
 * output parsed. squeue is the truth about what is queued or running; sacct (job accounting) only
 * adds why a task that left the queue ended, and is optional: a cluster without accounting
 * answers "accounting storage is disabled", and the caller falls back to the results folder.
 */
import { execFile } from 'node:child_process';
import { UserError } from '../util/errors.ts';

/** A Slurm command is not installed here (not a login node): callers that can do without Slurm go on. */
export class SlurmMissingError extends UserError {}

/** One array task in the queue. */
export interface QueueEntry {
  /** The array's job id (`%F`). */
  jobId: string;
  /** The task index, or undefined for a pending range squeue did not expand. */
  taskIndex: number | undefined;
  name: string;
  /** PENDING, RUNNING, COMPLETING, REQUEUED, … (`%T`). */
  state: string;
  /** Why it is pending (`%r`: Priority, Resources, Dependency, …), or `None`. */
  reason: string;
  /** Where it runs (`%N`), '' while pending. */
  nodes: string;
}

/** One array task in the accounting database. */
export interface AcctEntry {
  jobId: string;
  taskIndex: number;
  /** COMPLETED, FAILED, CANCELLED, TIMEOUT, NODE_FAIL, PREEMPTED, OUT_OF_MEMORY, … */
  state: string;
  exitCode: string;
}

export interface SlurmClient {
  /** Submits a batch script; resolves with the job id. */
  sbatch(scriptPath: string): Promise<string>;
  /** The queued and running array tasks of the jobs with these names. */
  squeue(names: readonly string[]): Promise<QueueEntry[]>;
  /** Accounting records of these jobs' array tasks; undefined when accounting is off or unavailable. */
  sacct(jobIds: readonly string[]): Promise<AcctEntry[] | undefined>;
  scancel(jobIds: readonly string[]): Promise<void>;
}

/** States in which a task still holds (or waits for) a place: its run must not be submitted again. */
const TERMINAL = new Set(['COMPLETED', 'CANCELLED', 'FAILED', 'TIMEOUT', 'NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE', 'OUT_OF_MEMORY', 'SPECIAL_EXIT', 'REVOKED']);
export const isActiveState = (state: string): boolean => !TERMINAL.has(state.replace(/\+$/, '').split(' ')[0]);

interface Exec {
  stdout: string;
  stderr: string;
  code: number;
}

function run(cmd: string, args: readonly string[], timeoutMs = 60_000): Promise<Exec> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err !== null && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new SlurmMissingError(`${cmd} not found on PATH: run this on a Slurm login node (or use --dry-run to see what would be submitted)`));
        return;
      }
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ stdout: String(stdout), stderr: String(stderr), code });
    });
  });
}

const firstLine = (s: string): string => s.trim().split('\n')[0] ?? '';

/** `123_4` → [123, 4]; `123_[5-9%2]` (an unexpanded range) → [123, undefined]. */
function splitTaskId(id: string): { jobId: string; taskIndex: number | undefined } {
  const m = /^(\d+)(?:_(\d+))?/.exec(id);
  if (m === null) return { jobId: id, taskIndex: undefined };
  return { jobId: m[1], taskIndex: m[2] === undefined ? undefined : Number(m[2]) };
}

export function parseQueue(text: string): QueueEntry[] {
  const out: QueueEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const [jobId, task, name, state, reason, nodes] = line.split('|');
    const taskIndex = /^\d+$/.test(task ?? '') ? Number(task) : undefined;
    out.push({ jobId: (jobId ?? '').trim(), taskIndex, name: name ?? '', state: (state ?? '').trim(), reason: (reason ?? '').trim(), nodes: (nodes ?? '').trim() });
  }
  return out;
}

export function parseAcct(text: string): AcctEntry[] {
  const out: AcctEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const [id, state, exitCode] = line.split('|');
    const { jobId, taskIndex } = splitTaskId(id ?? '');
    if (taskIndex === undefined) continue; // an unstarted range: nothing to say per task
    out.push({ jobId, taskIndex, state: (state ?? '').trim(), exitCode: (exitCode ?? '').trim() });
  }
  return out;
}

/** The real commands. */
export class SlurmCommands implements SlurmClient {
  async sbatch(scriptPath: string): Promise<string> {
    const r = await run('sbatch', ['--parsable', scriptPath]);
    // --parsable: "jobid" or "jobid;cluster".
    const id = r.stdout.trim().split('\n').pop()?.split(';')[0] ?? '';
    if (r.code !== 0 || !/^\d+$/.test(id)) throw new UserError(`sbatch ${scriptPath} failed: ${firstLine(r.stderr) || firstLine(r.stdout) || `exit code ${r.code}`}`);
    return id;
  }

  async squeue(names: readonly string[]): Promise<QueueEntry[]> {
    if (names.length === 0) return [];
    // -r: one line per array task, pending ones included.
    const r = await run('squeue', ['-h', '-r', '--name', names.join(','), '-o', '%F|%K|%j|%T|%r|%N']);
    if (r.code !== 0) throw new UserError(`squeue failed: ${firstLine(r.stderr) || `exit code ${r.code}`} (is slurmctld reachable?)`);
    return parseQueue(r.stdout);
  }

  async sacct(jobIds: readonly string[]): Promise<AcctEntry[] | undefined> {
    if (jobIds.length === 0) return [];
    let r: Exec;
    try {
      r = await run('sacct', ['-n', '-P', '-X', '-j', jobIds.join(','), '-o', 'JobID,State,ExitCode']);
    } catch {
      return undefined;
    }
    if (r.code !== 0) return undefined; // "Slurm accounting storage is disabled", or no slurmdbd
    return parseAcct(r.stdout);
  }

  async scancel(jobIds: readonly string[]): Promise<void> {
    if (jobIds.length === 0) return;
    const r = await run('scancel', [...jobIds]);
    if (r.code !== 0) throw new UserError(`scancel ${jobIds.join(' ')} failed: ${firstLine(r.stderr) || `exit code ${r.code}`}`);
  }
}
