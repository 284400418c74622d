/**
 * Results and plans for the MLflow projection tests: a RunResult for any planned run, carrying every
 * metric key its task can report (all GLUE metrics on every eval split, under splitMetricKey; the
 * E2E scores), and the projection wired to a tracker, a state file and result JSON files.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GLUE_TASKS, parseGlueTaskName } from '../../src/data/glue-tasks.ts';
import { MlflowProjection } from '../../src/runner/mlflow-projection.ts';
import type { RunResult } from '../../src/train/result-schema.ts';
import type { PlannedRun } from '../../src/spec/expand.ts';
import type { Tracker } from '../../src/tracking/index.ts';
import { splitMetricKey } from '../../src/train/classification-task.ts';

/** The E2E scores a run reports (src/eval/e2e/index.ts) and the fake executor's `bleu`. */
const E2E_KEYS = ['BLEU', 'NIST', 'METEOR', 'ROUGE_L', 'CIDEr', 'bleu'];

/** Every metric key a run of `task` can report. */
function taskMetricKeys(task: string): string[] {
  const glue = parseGlueTaskName(task.replace(/^synthetic-/, ''));
  if (glue === undefined) return E2E_KEYS;
  const spec = GLUE_TASKS[glue];
  const headline = spec.evalSplits[0].name;
  return spec.evalSplits.flatMap((s) => spec.metrics.map((m) => splitMetricKey(m, s.name, headline)));
}

export function fakeResult(run: PlannedRun, opts: { status?: 'finished' | 'failed'; metrics?: Record<string, number>; t0?: number } = {}): RunResult {
  const t0 = opts.t0 ?? Date.parse('2024-05-01T10:00:00Z') + run.config.seed * 3_600_000;
  const keys = taskMetricKeys(run.config.task);
  const metrics = opts.metrics ?? Object.fromEntries(keys.map((k, i) => [k, 0.5 + 0.01 * i + 0.001 * run.config.seed]));
  const status = opts.status ?? 'finished';
  return {
    schema: 1,
    runId: run.runId,
    cellKey: run.cellKey,
    experiment: run.config.experiment,
    profile: run.config.profile,
    model: run.config.model,
    method: run.config.method,
    variant: run.config.variant,
    task: run.config.task,
    seed: run.config.seed,
    config: run.config as unknown as Record<string, unknown>,
    status,
    ...(status === 'failed' ? { error: 'injected failure' } : {}),
    epochs: [0, 1].map((e) => ({ epoch: e, step: (e + 1) * 10, trainLoss: 1 / (e + 1), metrics, seconds: 60 })),
    bestEpoch: 1,
    metrics,
    headlineMetric: keys[0],
    trainableParams: { counted: 1000, formula: 1000, head: 0 },
    wallSeconds: 120,
    tokensPerSecond: 1000,
    peakRssMiB: 100,
    provenance: { gitCommit: 'abc', gitDirty: false, packages: {}, backend: 'cpu', cpu: 'x', node: 'v20', model: run.config.model, datasets: {} },
    startedAt: new Date(t0).toISOString(),
    finishedAt: new Date(t0 + 125_000).toISOString(),
  } as RunResult;
}

export interface ProjectionRig {
  projection: MlflowProjection;
  results: Map<string, RunResult>;
  warnings: string[];
  /** Records a result (JSON file + map), as the runner does before runFinished. */
  put(result: RunResult): void;
}

export function projectionRig(tracker: Tracker, trackingUri: string, plan: PlannedRun[], dir: string, experiment = 'keys', profile = 'test'): ProjectionRig {
  mkdirSync(join(dir, 'runs'), { recursive: true });
  const results = new Map<string, RunResult>();
  const warnings: string[] = [];
  const jsonPath = (id: string): string => join(dir, 'runs', `${id}.json`);
  const projection = new MlflowProjection({
    tracker,
    trackingUri,
    experiment,
    profile,
    statePath: join(dir, 'mlflow-logged.json'),
    plan,
    results,
    jsonPath,
    warn: (l) => warnings.push(l),
  });
  return {
    projection,
    results,
    warnings,
    put(result) {
      writeFileSync(jsonPath(result.runId), JSON.stringify(result));
      results.set(result.runId, result);
    },
  };
}
