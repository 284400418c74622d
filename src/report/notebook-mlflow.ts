/**
 * Runs of an MLflow tracking server as notebooks/mlflow.ipynb compares them, read through the
 * project's client (src/tracking: REST calls, retries, auth from MLFLOW_TRACKING_*). The runner
 * logs one experiment per spec and profile, `lora-repro/<experiment>/<profile>`, with a parent run
 * per table cell and a child run per seed (runner/mlflow-projection.ts): the seed runs carry the
 * tags `lora_repro.run_id`, `lora_repro.label`, `method`, `task` and the metrics `best/<metric>`
 * of their reported checkpoint, which is what is compared here — across methods, and against the
 * committed table's value for the same run id.
 */
import type { TopLevelSpec } from 'vega-lite';
import { GLUE_TASKS } from '../data/glue-tasks.ts';
import { MlflowApi } from '../tracking/mlflow-api.ts';
import { RestClient } from '../tracking/rest-client.ts';
import type { Run } from '../tracking/schemas.ts';
import { glueTaskOf, isE2eTask } from './columns.ts';
import { fmtNum, mdEscape } from './format-text.ts';
import type { TableModel } from './table-model.ts';

export const MLFLOW_HOWTO = 'make mlflow-ui starts a local server (pip install mlflow); then export MLFLOW_TRACKING_URI=http://127.0.0.1:5000 before starting Jupyter, or set TRACKING_URI at the top';

export interface MlflowRunRow {
  mlflowRunId: string;
  name: string;
  status: string;
  /** `lora_repro.run_id` (seed runs): the run's id in results/<profile>/runs/. */
  runId?: string;
  label: string;
  method: string;
  task: string;
  seed?: number;
  parentRunId?: string;
  metrics: Record<string, number>;
}

export interface ExperimentRuns {
  experiment: string;
  experimentId?: string;
  cells: MlflowRunRow[];
  seeds: MlflowRunRow[];
}

function row(r: Run): MlflowRunRow {
  const tags = new Map((r.data?.tags ?? []).map((t) => [t.key, t.value]));
  const params = new Map((r.data?.params ?? []).map((t) => [t.key, t.value]));
  const metrics: Record<string, number> = {};
  for (const m of r.data?.metrics ?? []) if (typeof m.value === 'number') metrics[m.key] = m.value;
  const seed = params.get('seed');
  return {
    mlflowRunId: r.info.run_id ?? r.info.run_uuid ?? '',
    name: r.info.run_name ?? tags.get('mlflow.runName') ?? '',
    status: r.info.status ?? '',
    runId: tags.get('lora_repro.run_id'),
    label: tags.get('lora_repro.label') ?? '',
    method: tags.get('method') ?? '',
    task: tags.get('task') ?? '',
    seed: seed !== undefined && seed !== '' ? Number(seed) : undefined,
    parentRunId: tags.get('mlflow.parentRunId'),
    metrics,
  };
}

/** Every active run of `lora-repro/<experiment>/<profile>`; an absent experiment gives no runs. */
export async function fetchExperimentRuns(trackingUri: string, experiment: string, profile: string): Promise<ExperimentRuns> {
  const name = `lora-repro/${experiment}/${profile}`;
  // A notebook waits for an answer, not for a minute of retries against a server that is down.
  const api = new MlflowApi(new RestClient({ trackingUri, retry: { maxAttempts: 2, maxElapsedMs: 10_000, requestTimeoutMs: 10_000 } }));
  const exp = await api.getExperimentByName(name);
  if (exp === undefined) return { experiment: name, cells: [], seeds: [] };
  const runs = (await api.searchRuns(exp.experiment_id, '')).map(row);
  return {
    experiment: name,
    experimentId: exp.experiment_id,
    cells: runs.filter((r) => r.parentRunId === undefined),
    seeds: runs.filter((r) => r.parentRunId !== undefined).sort((a, b) => a.label.localeCompare(b.label) || a.task.localeCompare(b.task) || (a.seed ?? 0) - (b.seed ?? 0)),
  };
}

/** The metric a task's table column reads (its headline), as the seed runs log it. */
export function headlineKey(task: string): string | undefined {
  const glue = glueTaskOf(task);
  if (glue !== undefined) return `best/${GLUE_TASKS[glue].headline}`;
  return isE2eTask(task) ? 'best/BLEU' : undefined;
}

/** Scale of a headline metric in the tables (×100 for 0–1 scores; NIST and CIDEr raw). */
function tableScale(key: string): number {
  return /NIST|CIDEr/.test(key) ? 1 : 100;
}

export function summaryLine(e: ExperimentRuns): string {
  if (e.experimentId === undefined) return `MLflow: no experiment ${e.experiment} on this server (run the spec with MLFLOW_TRACKING_URI set, or pick another EXPERIMENT / PROFILE)`;
  const finished = e.seeds.filter((s) => s.status === 'FINISHED').length;
  return `MLflow experiment ${e.experiment} (id ${e.experimentId}): ${e.cells.length} cell runs, ${e.seeds.length} seed runs (${finished} FINISHED)`;
}

export interface SeedPoint {
  row: string;
  method: string;
  task: string;
  seed: number;
  metric: string;
  value: number;
}

/** Each seed run's headline metric, on the tables' scale. */
export function seedPoints(e: ExperimentRuns): SeedPoint[] {
  const out: SeedPoint[] = [];
  for (const s of e.seeds) {
    const key = headlineKey(s.task);
    const v = key !== undefined ? s.metrics[key] : undefined;
    if (key === undefined || v === undefined || !Number.isFinite(v)) continue;
    out.push({ row: s.label || s.name, method: s.method, task: s.task, seed: s.seed ?? 0, metric: key, value: v * tableScale(key) });
  }
  return out;
}

export function seedsSpec(e: ExperimentRuns): TopLevelSpec {
  const values = seedPoints(e);
  const tasks = [...new Set(values.map((v) => v.task))];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `MLflow ${e.experiment}: each seed run's headline metric (best/…)`, anchor: 'start' },
    data: { values },
    facet: { field: 'task', type: 'nominal', title: null, sort: tasks },
    columns: Math.min(3, Math.max(1, tasks.length)),
    resolve: { scale: { x: 'independent' } },
    spec: {
      width: 200,
      height: { step: 18 },
      mark: { type: 'point', filled: true, size: 45 },
      encoding: {
        y: { field: 'row', type: 'nominal', title: null },
        x: { field: 'value', type: 'quantitative', scale: { zero: false }, title: 'score' },
        color: { field: 'method', type: 'nominal' },
        tooltip: [{ field: 'row' }, { field: 'task' }, { field: 'seed' }, { field: 'metric' }, { field: 'value', format: '.2f' }],
      },
    },
  } as TopLevelSpec;
}

export interface TableMatch {
  compared: number;
  same: number;
  /** Seed runs whose run id is not in the table (other runs, other profile). */
  notInTable: number;
  lines: string[];
}

/** The MLflow value of each seed run against the committed table's value for the same run id. */
export function compareWithTable(e: ExperimentRuns, t: TableModel): TableMatch {
  const byRun = new Map<string, { row: string; column: string; value: number | undefined }>();
  for (const r of t.rows) r.cells.forEach((c, i) => c.runs.forEach((x) => { if (!byRun.has(x.runId)) byRun.set(x.runId, { row: r.label, column: t.columns[i].header, value: x.value }); }));
  const m: TableMatch = { compared: 0, same: 0, notInTable: 0, lines: [] };
  for (const p of e.seeds) {
    const inTable = p.runId !== undefined ? byRun.get(p.runId) : undefined;
    if (inTable === undefined) {
      m.notInTable++;
      continue;
    }
    const key = headlineKey(p.task);
    const v = key !== undefined ? p.metrics[key] : undefined;
    if (v === undefined || inTable.value === undefined) continue;
    m.compared++;
    const ours = v * tableScale(key as string);
    if (Math.abs(ours - inTable.value) < 1e-6 * Math.max(1, Math.abs(ours))) m.same++;
    else m.lines.push(`| ${mdEscape(inTable.row)} | ${inTable.column} | ${p.seed ?? '?'} | ${fmtNum(ours, 2)} | ${fmtNum(inTable.value, 2)} |`);
  }
  return m;
}
