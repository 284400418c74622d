/**
 * The Slurm side of `lora-repro run` (`--executor slurm`): its flags, the `slurm:` block of the
 * profile under them, the dry-run's arrays, submission, `--wait` with its Ctrl-C question, and the
 * guard that keeps a local run off a profile whose runs are queued or running in Slurm.
 */
import { createInterface } from 'node:readline/promises';
import { resolve } from 'node:path';
import type { Expansion, PlannedRun } from '../../spec/expand.ts';
import type { LoadedSpec } from '../../spec/load.ts';
import { SLURM_MEM_RE, SLURM_TIME_RE, type SlurmBlock } from '../../spec/schema.ts';
import { human } from '../../runner/plan.ts';
import { profileResultsDir, resultsPaths, type ResultsPaths } from '../../runner/paths.ts';
import { SlurmCommands, SlurmMissingError, type SlurmClient } from '../../runner/slurm-client.ts';
import { readSubmissions, type SlurmSettings } from '../../runner/slurm-records.ts';
import { activeJobIds, activeRunIds, observeSlurm } from '../../runner/slurm-state.ts';
import { parseSlurmTime, resourceArgs, submitSlurm, suggestedTime, type SlurmPlan } from '../../runner/slurm-submit.ts';
import { followSlurm } from '../../runner/slurm-wait.ts';
import { UserError } from '../../util/errors.ts';
import { intFlag, numberFlag } from '../args.ts';

/** The `run` flags of the Slurm executor (parseArgs options). */
export const SLURM_FLAGS = {
  partition: { type: 'string' },
  account: { type: 'string' },
  'gpus-per-run': { type: 'string' },
  'cpus-per-run': { type: 'string' },
  mem: { type: 'string' },
  time: { type: 'string' },
  'max-parallel': { type: 'string' },
  'sbatch-arg': { type: 'string', multiple: true },
  requeue: { type: 'boolean' },
  wait: { type: 'boolean' },
  poll: { type: 'string' },
} as const;

export const SLURM_USAGE = [
  '  --executor local|slurm  where runs execute (default local: worker processes here). slurm: one job array,',
  '                     one task per run not finished and not already queued (docs/slurm.md); the flags below,',
  "                     else the profile's `slurm:` block, set each task's resources",
  '  --partition P      --account A      --gpus-per-run N (--gres=gpu:N)      --cpus-per-run N      --mem 64G',
  '  --time HH:MM:SS    per-task limit (the dry run suggests one from its cost estimate)',
  '  --max-parallel N   at most N tasks at a time (--array=…%N)     --requeue   requeue tasks on node failure/preemption',
  '  --sbatch-arg ARG   any further #SBATCH option, verbatim (repeatable), e.g. --sbatch-arg=--qos=long',
  '  --wait             follow the arrays until every run has ended (squeue, else the results folder);',
  '                     Ctrl-C asks whether to cancel them or leave them running      --poll S  seconds between polls (30)',
];

type Values = Record<string, string | boolean | string[] | undefined>;

/** Settings: the profile's `slurm:` block, each flag given replacing its field (`--sbatch-arg` adds). */
export function slurmSettings(block: SlurmBlock | undefined, v: Values): SlurmSettings {
  const str = (k: string): string | undefined => v[k] as string | undefined;
  const int = (k: string, min: number): number | undefined => {
    if (str(k) === undefined) return undefined;
    const n = intFlag(k, str(k), 0);
    if (n < min) throw new UserError(`--${k} expects at least ${min}, got ${n}`);
    return n;
  };
  const mem = str('mem');
  if (mem !== undefined && !SLURM_MEM_RE.test(mem)) throw new UserError(`--mem expects a size such as 64G or 16000M, got '${mem}'`);
  const time = str('time');
  if (time !== undefined && !SLURM_TIME_RE.test(time)) throw new UserError(`--time expects a Slurm time limit such as 12:00:00 or 1-00:00:00, got '${time}'`);
  for (const a of (v['sbatch-arg'] as string[] | undefined) ?? []) {
    if (!/^--?[A-Za-z]/.test(a)) throw new UserError(`--sbatch-arg expects an sbatch option such as --qos=long, got '${a}'`);
  }
  const pick = <T>(flag: T | undefined, spec: T | undefined): T | undefined => flag ?? spec;
  const s: SlurmSettings = { sbatchArgs: [...(block?.sbatchArgs ?? []), ...((v['sbatch-arg'] as string[] | undefined) ?? [])] };
  const fields: Partial<SlurmSettings> = {
    partition: pick(str('partition'), block?.partition),
    account: pick(str('account'), block?.account),
    gpusPerRun: pick(int('gpus-per-run', 0), block?.gpusPerRun),
    cpusPerRun: pick(int('cpus-per-run', 1), block?.cpusPerRun),
    mem: pick(mem, block?.mem),
    time: pick(time, block?.time),
    maxParallel: pick(int('max-parallel', 1), block?.maxParallel),
    requeue: pick(v.requeue as boolean | undefined, block?.requeue),
  };
  for (const [k, x] of Object.entries(fields)) if (x !== undefined) (s as Record<string, unknown>)[k] = x;
  return s;
}

/** A Slurm flag given without `--executor slurm` is a mistake, not something to ignore. */
export function checkNoSlurmFlags(v: Values): void {
  const given = Object.keys(SLURM_FLAGS).filter((k) => v[k] !== undefined);
  if (given.length > 0) throw new UserError(`--${given[0]} is a flag of the Slurm executor: add --executor slurm (or drop it)`);
}

/** The dry run's arrays: what would be submitted, with resources and the cost estimate. */
function formatSlurmPlan(plan: SlurmPlan, s: SlurmSettings, resultsDir: string, calibrated: boolean): string[] {
  const total = plan.arrays.reduce((n, a) => n + a.runs.length, 0);
  const lines = [
    '',
    `slurm: ${plan.arrays.length} job array(s) for ${total} run(s), one task per run${plan.active ? `; ${plan.active} run(s) already queued or running in Slurm, not submitted again` : ''}`,
  ];
  for (const a of plan.arrays) {
    const deps = [...(a.after !== undefined ? [`array ${a.after}`] : []), ...a.afterJobs.map((j) => `job ${j}`)];
    lines.push(
      `  array ${a.index}: ${a.runs.length} task(s)${a.after === undefined ? ': runs without an unfinished parent' : `: runs that start from array ${a.after}'s (initFrom)`}` +
        `${deps.length ? `, after ${deps.join(', ')} (--dependency=afterany)` : ''}; --array=0-${a.runs.length - 1}${s.maxParallel ? `%${s.maxParallel}` : ''}`,
      `           estimated: longest run ${human(a.longestMs)}, all its runs ${human(a.totalMs)}${s.gpusPerRun ? ` (${((a.totalMs / 3_600_000) * s.gpusPerRun).toFixed(0)} GPU-hours)` : ''}; suggested --time ${suggestedTime(a.longestMs)} (1.5 × the longest)`,
    );
  }
  const res = resourceArgs(s);
  lines.push(`  each task: ${res.length ? res.join(' ') : "the cluster's defaults (no partition, GPUs, CPUs, memory or time limit given)"}`);
  const longest = Math.max(0, ...plan.arrays.map((a) => a.longestMs));
  if (!calibrated) lines.push("  the estimates use the cost model's CPU rates (above): on GPU nodes pass --ms-per-token measured there, or let the first finished runs measure it (docs/slurm.md)");
  if (s.time === undefined) lines.push(`  no --time: the partition's default limit applies; the estimate suggests --time ${suggestedTime(longest)}`);
  else if (parseSlurmTime(s.time) < longest) lines.push(`  --time ${s.time} is below the longest estimated run (${human(longest)}): such runs would end in TIMEOUT; raise it or check the estimate (--ms-per-token)`);
  lines.push(`  scripts, run lists and logs: ${resultsDir}/slurm/<submission>/; results: ${resultsDir}/runs/ as with local workers`);
  return lines;
}

/** For the local runner (runner.ts underLock): refuses while runs of the profile are queued or running in Slurm. */
export async function refuseIfSlurmActive(paths: ResultsPaths, client: SlurmClient = new SlurmCommands()): Promise<void> {
  if (readSubmissions(paths).length === 0) return;
  let view;
  try {
    view = await observeSlurm(paths, client);
  } catch (err) {
    if (err instanceof SlurmMissingError) return; // not on the cluster: nothing there can be running from here
    throw err;
  }
  const active = activeRunIds(view);
  if (active.size === 0) return;
  throw new UserError(
    `${paths.root}: ${active.size} run(s) of this profile are queued or running in Slurm (job ${activeJobIds(view).join(', ')}); ` +
      "a local run would run them a second time: follow them with 'lora-repro status', cancel them (scancel), or submit the rest with --executor slurm",
  );
}

export interface SlurmRunInput {
  loaded: LoadedSpec;
  expansion: Expansion;
  selected: PlannedRun[];
  values: Values;
  resultsRoot: string;
  msPerToken?: number;
  /** Flags every task's `run-one` gets besides spec, profile and results (backend, executor module, …). */
  taskFlags: string[];
  prepare?: (runs: PlannedRun[]) => Promise<void>;
  /** The plan of the local dry run, printed first. */
  dryRunPlan?: string;
  client?: SlurmClient;
}

/** `run --executor slurm`: exit code as the run command's. */
export async function runSlurm(x: SlurmRunInput): Promise<number> {
  const baseProfile = x.expansion.rehearsal?.of ?? x.expansion.profile;
  const settings = slurmSettings(x.loaded.spec.profiles?.[baseProfile]?.slurm, x.values);
  const pollMs = 1000 * numberFlag('poll', x.values.poll as string | undefined, 30);
  if (!(pollMs > 0)) throw new UserError('--poll expects a positive number of seconds');
  const client = x.client ?? new SlurmCommands();
  const paths = resultsPaths(profileResultsDir(x.resultsRoot, x.expansion.profile));
  const runOneArgs = [
    resolve(x.expansion.file), '--profile', baseProfile, '--results', resolve(x.resultsRoot),
    ...(x.expansion.rehearsal ? ['--rehearse'] : []), ...x.taskFlags,
  ];
  const common = { expansion: x.expansion, selected: x.selected, resultsRoot: x.resultsRoot, settings, runOneArgs, client, msPerToken: x.msPerToken, log: (l: string) => console.log(l), warn: (l: string) => console.error(l) };
  if (x.dryRunPlan !== undefined) {
    const { plan } = await submitSlurm({ ...common, dryRun: true });
    console.log([x.dryRunPlan, ...formatSlurmPlan(plan, settings, paths.root, x.msPerToken !== undefined || plan.finished > 0)].join('\n'));
    return 0;
  }
  const { plan, submission, following } = await submitSlurm({ ...common, prepare: x.prepare });
  if (submission === undefined) {
    console.log(`${x.expansion.experiment} · profile ${x.expansion.profile}: nothing to submit: ${plan.finished} of ${x.selected.length} selected run(s) finished, ${plan.active} queued or running in Slurm → ${paths.root}`);
  } else {
    for (const a of submission.arrays) {
      console.log(`submitted job array ${a.jobId} (${a.runIds.length} run(s)${a.dependsOn ? `, after array ${submission.arrays[a.dependsOn - 1].jobId}` : ''}): ${a.script}`);
    }
    console.log(`${x.expansion.experiment} · profile ${x.expansion.profile}: ${plan.finished} finished, ${plan.active} already queued or running, ${following.size - plan.active} submitted; logs in ${submission.dir}/logs/`);
  }
  if (!x.values.wait) {
    if (following.size > 0) console.log(`follow with: lora-repro status ${x.expansion.file} --profile ${baseProfile}${x.expansion.rehearsal ? ' --rehearse' : ''}${x.resultsRoot !== 'results' ? ` --results ${x.resultsRoot}` : ''}`);
    return 0;
  }
  const runs = x.expansion.runs.filter((r) => following.has(r.runId));
  if (runs.length === 0) return 0;
  return waitFor(x.expansion, runs, paths, client, pollMs);
}

async function waitFor(expansion: Expansion, runs: PlannedRun[], paths: ResultsPaths, client: SlurmClient, pollMs: number): Promise<number> {
  const controller = new AbortController();
  const onSignal = (): void => {
    if (controller.signal.aborted) process.exit(130); // a second Ctrl-C: leave at once, the arrays keep running
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  try {
    const out = await followSlurm({ expansion, runs, paths, client, pollMs, log: (l) => console.log(l), warn: (l) => console.error(l), signal: controller.signal });
    if (out.interrupted) {
      const jobs = out.activeJobs;
      if (jobs.length > 0 && (await askCancel(jobs))) {
        await client.scancel(jobs);
        console.error(`lora-repro run: cancelled job(s) ${jobs.join(', ')}; runs without a result are submitted again by the next 'run --executor slurm'`);
      } else if (jobs.length > 0) {
        console.error(`lora-repro run: left job(s) ${jobs.join(', ')} running; follow with 'lora-repro status', cancel with 'scancel ${jobs.join(' ')}'`);
      }
      return 130;
    }
    const bad = [...out.states.values()].filter((s) => s.kind !== 'finished').length;
    console.log(`done: ${runs.length - bad} of ${runs.length} run(s) finished${bad ? `, ${bad} not (see above; 'run --executor slurm' again resubmits them)` : ''} → ${paths.root}/runs.csv`);
    return bad > 0 ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
  }
}

/** Asks on the terminal; without one (a script, CI) the arrays are left running. */
async function askCancel(jobs: string[]): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  rl.on('SIGINT', () => process.exit(130)); // Ctrl-C again: leave now, the arrays keep running
  try {
    const a = await rl.question(`\nCancel Slurm job(s) ${jobs.join(', ')}? Their running runs stay unfinished and are resubmitted by the next run. [y/N] `);
    return /^y(es)?$/i.test(a.trim());
  } finally {
    rl.close();
  }
}
