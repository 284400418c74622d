/**
 * The result record of a run that produced no result (the executor threw, the worker crashed, or
 * returned something that is not a RunResult). It is a full RunResult with status `failed`, so a
 * failure is visible in runs.csv and MLflow like any run, and a rerun retries it. A `blocked` run
 * (its parent run failed: dependencies.ts) is recorded the same way, with the reason as its error.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import type { PlannedRun } from '../spec/expand.ts';
import { readPackageVersion } from '../util/provenance.ts';
import type { Provenance, RunResult } from '../train/result-schema.ts';

let cached: Omit<Provenance, 'model' | 'datasets'> | undefined;

function git(args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  } catch {
    return undefined;
  }
}

/** What the runner itself knows about the environment (the trainer records more). Cached per process. */
function runnerProvenance(): Omit<Provenance, 'model' | 'datasets'> {
  if (cached === undefined) {
    const commit = git(['rev-parse', 'HEAD'])?.trim();
    const status = git(['status', '--porcelain', '--untracked-files=no']);
    cached = {
      gitCommit: commit !== undefined && /^[0-9a-f]{40}$/.test(commit) ? commit : 'unknown',
      gitDirty: status === undefined ? false : status.trim() !== '',
      packages: { 'lora-repro': readPackageVersion() },
      backend: 'none (run failed before training)',
      cpu: cpus()[0]?.model ?? 'unknown',
      node: process.version,
    };
  }
  return cached;
}

/**
 * The fields of a result that come from the plan, not from the executor: ids, the spec's model name
 * (the executor may have seen a resolved path) and the resolved config.
 */
export function runIdentity(run: PlannedRun) {
  const c = run.config;
  return {
    runId: run.runId,
    cellKey: run.cellKey,
    experiment: c.experiment,
    profile: c.profile,
    model: c.model,
    method: c.method,
    variant: c.variant,
    task: c.task,
    seed: c.seed,
    config: c as unknown as Record<string, unknown>,
  };
}

export function failedResult(run: PlannedRun, error: string, startedAt: Date, finishedAt: Date, status: 'failed' | 'blocked' = 'failed'): RunResult {
  return {
    schema: 1,
    ...runIdentity(run),
    status,
    error: error.split('\n')[0].slice(0, 2000),
    epochs: [],
    bestEpoch: null,
    metrics: {},
    headlineMetric: '',
    trainableParams: { counted: 0, formula: 0, head: 0 },
    wallSeconds: Math.max(0, (finishedAt.getTime() - startedAt.getTime()) / 1000),
    tokensPerSecond: 0,
    peakRssMiB: 0,
    provenance: { ...runnerProvenance(), model: run.config.model, datasets: {} },
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
  };
}
