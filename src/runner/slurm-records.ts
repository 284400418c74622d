/**
 * What `run --executor slurm` leaves in the results folder, one folder per submission:
 *
 *   results/<profile>/slurm/<submission>/submission.json   the record below (rewritten atomically)
 *   results/<profile>/slurm/<submission>/array-<i>.sh      the job-array script of array i
 *   results/<profile>/slurm/<submission>/runs-<i>.txt      its run ids: task k runs line k + 1
 *   results/<profile>/slurm/<submission>/logs/<job>_<k>.out  Slurm's output of task k
 *
 * The record is written before sbatch (arrays without a job id) and again after each sbatch, so a
 * submitter killed in between leaves an array that can still be found: by its job name
 * (`lora-repro.<submission>.<i>`), which squeue reports. Results themselves never live here: every
 * task writes runs/<runId>.json like a local worker.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../util/atomic-write.ts';
import type { ResultsPaths } from './paths.ts';

export const slurmSettingsSchema = z
  .object({
    partition: z.string().optional(),
    account: z.string().optional(),
    gpusPerRun: z.number().int().nonnegative().optional(),
    cpusPerRun: z.number().int().positive().optional(),
    mem: z.string().optional(),
    time: z.string().optional(),
    maxParallel: z.number().int().positive().optional(),
    requeue: z.boolean().optional(),
    sbatchArgs: z.array(z.string()),
  })
  .strict();
export type SlurmSettings = z.infer<typeof slurmSettingsSchema>;

const arrayRecordSchema = z.object({
  /** 1-based; array i + 1 starts from array i's runs (initFrom chains). */
  index: z.number().int().positive(),
  name: z.string(),
  jobId: z.string().regex(/^\d+$/).optional(),
  runIds: z.array(z.string()),
  dependsOn: z.number().int().positive().optional(),
  script: z.string(),
  runsFile: z.string(),
  submittedAt: z.string().optional(),
});
export type ArrayRecord = z.infer<typeof arrayRecordSchema>;

const submissionSchema = z.object({
  v: z.literal(1),
  id: z.string(),
  createdAt: z.string(),
  host: z.string(),
  spec: z.string(),
  profile: z.string(),
  rehearse: z.boolean(),
  resultsRoot: z.string(),
  cwd: z.string(),
  settings: slurmSettingsSchema,
  arrays: z.array(arrayRecordSchema),
});
export type Submission = z.infer<typeof submissionSchema> & { dir: string };

function slurmDir(paths: ResultsPaths): string {
  return join(paths.root, 'slurm');
}

/** runs.csv's lease lock (lock.ts): Slurm tasks on many hosts commit rows under it. */
export function csvLockPath(paths: ResultsPaths): string {
  return join(paths.root, '.runs-csv.lock');
}

export const jobName = (submissionId: string, index: number): string => `lora-repro.${submissionId}.${index}`;

/** Where Slurm writes task `taskIndex`'s output (the script's `--output`). */
export const taskLogPath = (sub: Submission, jobId: string, taskIndex: number): string => join(sub.dir, 'logs', `${jobId}_${taskIndex}.out`);

export function newSubmissionId(now = new Date()): string {
  const t = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${t}-${Math.random().toString(16).slice(2, 6)}`;
}

export function writeSubmission(sub: Submission): void {
  mkdirSync(join(sub.dir, 'logs'), { recursive: true });
  const { dir: _dir, ...record } = sub;
  writeFileAtomic(join(sub.dir, 'submission.json'), `${JSON.stringify(record, null, 2)}\n`);
}

/** Every submission of a profile, oldest first; unreadable records are reported and skipped. */
export function readSubmissions(paths: ResultsPaths, warn: (line: string) => void = () => {}): Submission[] {
  const root = slurmDir(paths);
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  const out: Submission[] = [];
  for (const name of names.sort()) {
    const file = join(root, name, 'submission.json');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // not a submission folder
    }
    try {
      out.push({ ...submissionSchema.parse(JSON.parse(text)), dir: join(root, name) });
    } catch (err) {
      warn(`lora-repro: ignoring ${file} (${(err as Error).message.split('\n')[0]})`);
    }
  }
  return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
}

/** Where a run was last sent: its submission, array and task index. */
export interface TaskRef {
  submission: Submission;
  array: ArrayRecord;
  taskIndex: number;
}

/** run id → the latest array task it was given to. */
export function latestTasks(subs: readonly Submission[]): Map<string, TaskRef> {
  const out = new Map<string, TaskRef>();
  for (const submission of subs) {
    for (const array of submission.arrays) array.runIds.forEach((id, taskIndex) => out.set(id, { submission, array, taskIndex }));
  }
  return out;
}

/** Every job name of these submissions (squeue finds arrays by name, even one whose id was never recorded). */
export function jobNames(subs: readonly Submission[]): string[] {
  return subs.flatMap((s) => s.arrays.map((a) => a.name));
}
