/**
 * What the MLflow projection (mlflow-projection.ts) logs for a planned run besides its metrics:
 * run names, params and identifying tags. Every key here is valid under MLflow's strictest rules
 * (tracking/limits.ts); test/mlflow-keys.test.ts checks all of them for every spec.
 */
import type { PlannedRun } from '../spec/expand.ts';
import { validMlflowKey, type Params, type Tags } from '../tracking/index.ts';

/**
 * Config keys that differ between the seeds of one cell: a chained cell's parent run id (each seed
 * starts from the same seed's parent). On the cell they would conflict (MLflow params are immutable)
 * whenever two processes start the cell from different seeds (Slurm tasks; a rerun): seeds only.
 */
const PER_SEED_KEYS = new Set(['initFrom.run']);

/** Params of a cell: the resolved config without the seed, the per-seed and the bookkeeping fields, flattened. */
export function cellParams(run: PlannedRun): Params {
  const out: Params = {};
  const skip = new Set(['seed', 'experiment', 'profile', 'dataDir']);
  const put = (key: string, v: unknown): void => {
    if (v === undefined || v === null || PER_SEED_KEYS.has(key)) return;
    if (Array.isArray(v)) out[validMlflowKey(key)] = JSON.stringify(v);
    else if (typeof v === 'object') for (const [k, x] of Object.entries(v)) put(`${key}.${k}`, x);
    else out[validMlflowKey(key)] = v as string | number | boolean;
  };
  for (const [k, v] of Object.entries(run.config)) if (!skip.has(k)) put(k, v);
  return out;
}

/** Params of a seed run: its cell's, plus what tells the seeds apart. */
export function seedParams(run: PlannedRun): Params {
  const init = run.config.initFrom;
  return { ...cellParams(run), ...(init !== undefined && 'run' in init ? { 'initFrom.run': init.run } : {}), seed: run.config.seed, run_id: run.runId };
}

/** Run name of a cell (`roberta-base·lora·r=8·rte`) and of one of its seeds (`…·seed0`). */
export function cellRunName(run: PlannedRun): string {
  const c = run.config;
  return [c.model, c.method, c.variant, c.task].filter((x) => x !== undefined && x !== '').join('·');
}
export function seedRunName(run: PlannedRun): string {
  return `${cellRunName(run)}·seed${run.config.seed}`;
}

/** The tags that identify a cell, on its parent run and on every seed run. */
export function cellTags(run: PlannedRun): Tags {
  const c = run.config;
  const tags: Tags = {
    'lora_repro.experiment': c.experiment,
    'lora_repro.profile': c.profile,
    'lora_repro.cell_key': run.cellKey,
    'lora_repro.row': run.row,
    'lora_repro.label': run.label,
    model: c.model,
    method: c.method,
    variant: c.variant,
    task: c.task,
  };
  return tags;
}

/** MLflow metric name of a result key under `prefix` in MLflow (legacy `accuracy@dev_mismatched` → `accuracy_dev_mismatched`). */
export const mkey = (prefix: string, name: string): string => `${prefix}/${validMlflowKey(name)}`;

