/**
 * `--dry-run`: what a run would do, read-only (no lock, nothing written): how many runs are
 * selected, finished, failed (to be retried) and to run, per spec row, and what the rest costs
 * under the time model of cost.ts.
 */
import { availableParallelism } from 'node:os';
import type { Expansion, PlannedRun } from '../spec/expand.ts';
import { trainingSchedule, type TrainingSchedule } from '../train/batching.ts';
import { CostModel, trainExamples } from './cost.ts';
import { withUnfinishedParents } from './dependencies.ts';
import { profileResultsDir, resultsPaths } from './paths.ts';
import type { RunResult } from '../train/result-schema.ts';
import { scanResults } from './results-store.ts';

export interface PlanRow {
  row: string;
  label: string;
  models: string[];
  methods: string[];
  cells: number;
  runs: number;
  finished: number;
  failed: number;
  toRun: number;
  /** Estimated CPU milliseconds of the runs still to do. */
  ms: number;
}

/** One table cell (its seeds share it): how its batch fields become optimizer updates. */
export interface PlanCell {
  row: string;
  model: string;
  method: string;
  variant: string;
  task: string;
  batchSize: number;
  devices: number;
  gradAccumulation: number;
  epochs: number;
  schedule: TrainingSchedule;
  /** Where the cell's method weights start (initFrom): `task mnli` or `checkpoint <file>`. */
  initFrom?: string;
}

export interface Plan {
  resultsDir: string;
  rows: PlanRow[];
  cells: PlanCell[];
  total: PlanRow;
  rates: Map<string, string>;
  workers: number;
  wallMs: number;
  /** Rows whose runs are the same computation as an earlier row's under this profile. */
  shared: Map<string, { withRow: string; runs: number }>;
  /** Unfinished parents (initFrom) the selection lacked: they run first (dependencies.ts). */
  parentsAdded: PlannedRun[];
}

export interface PlanOptions {
  resultsRoot: string;
  workers: number;
  msPerToken?: number;
}

export function buildPlan(expansion: Expansion, selected: PlannedRun[], opts: PlanOptions): Plan {
  const paths = resultsPaths(profileResultsDir(opts.resultsRoot, expansion.profile));
  const { byId } = scanResults(paths);
  const cost = new CostModel({ msPerTokenFlag: opts.msPerToken, specMsPerToken: expansion.cost?.msPerToken, finished: [...byId.values()] });
  const rows = new Map<string, PlanRow & { cellSet: Set<string> }>();
  const rates = new Map<string, string>();
  const empty = (row: string, label: string): PlanRow & { cellSet: Set<string> } => ({
    row, label, models: [], methods: [], cells: 0, runs: 0, finished: 0, failed: 0, toRun: 0, ms: 0, cellSet: new Set(),
  });
  const total = empty('total', 'total');
  const shared = new Map<string, { withRow: string; runs: number }>();
  const cells = new Map<string, PlanCell>();
  const { added } = withUnfinishedParents(expansion.runs, selected, (id) => byId.get(id)?.status === 'finished');
  for (const run of [...added, ...selected]) {
    const c = run.config;
    if (!cells.has(run.cellKey)) {
      const init = c.initFrom === undefined ? undefined : 'run' in c.initFrom ? `task ${c.initFrom.task}` : `checkpoint ${c.initFrom.checkpoint}`;
      cells.set(run.cellKey, {
        row: run.row, model: c.model, method: c.method, variant: c.variant, task: c.task,
        batchSize: c.batchSize, devices: c.devices ?? 1, gradAccumulation: c.gradAccumulation, epochs: c.epochs,
        schedule: trainingSchedule(c, trainExamples(c)),
        ...(init !== undefined ? { initFrom: init } : {}),
      });
    }
    for (const s of run.sharedWith) {
      const e = shared.get(s.row) ?? { withRow: run.row, runs: 0 };
      e.runs++;
      shared.set(s.row, e);
    }
    const r = rows.get(run.row) ?? empty(run.row, run.label);
    rows.set(run.row, r);
    const status: RunResult['status'] | undefined = byId.get(run.runId)?.status;
    for (const t of [r, total]) {
      if (!t.models.includes(run.config.model)) t.models.push(run.config.model);
      const m = `${run.config.method}`;
      if (!t.methods.includes(m)) t.methods.push(m);
      t.cellSet.add(run.cellKey);
      t.cells = t.cellSet.size;
      t.runs++;
      if (status === 'finished') t.finished++;
      else {
        if (status !== undefined) t.failed++;
        t.toRun++;
      }
    }
    if (status !== 'finished') {
      const est = cost.estimate(run);
      r.ms += est.ms;
      total.ms += est.ms;
      rates.set(`${run.config.model} ${run.config.method}`, `${est.rate.msPerToken.toPrecision(3)} ms/token (${est.rate.source})`);
    }
  }
  const workers = Math.max(1, opts.workers);
  // Workers share the cores: more workers than cores do not run faster.
  const parallel = Math.min(workers, availableParallelism());
  return { resultsDir: paths.root, rows: [...rows.values()], cells: [...cells.values()], total, rates, workers, wallMs: total.ms / parallel, shared, parentsAdded: added };
}

/** A duration for people: s, min, h, days or years. */
export function human(ms: number): string {
  const s = ms / 1000;
  if (s < 90) return `${s.toFixed(0)} s`;
  if (s < 5400) return `${(s / 60).toFixed(0)} min`;
  if (s < 3 * 86400) return `${(s / 3600).toFixed(1)} h`;
  if (s < 365 * 86400) return `${(s / 86400).toFixed(0)} days`;
  return `${(s / (365 * 86400)).toFixed(1)} years`;
}

/** Columns padded to their widest cell; columns from `firstNumeric` on right-aligned. */
function columns(head: string[], body: string[][], firstNumeric: number): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const fmt = (cells: string[]): string => cells.map((c, i) => (i >= firstNumeric ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [head, ...body].map(fmt);
}

/** Per cell: effective batch, optimizer updates and warm-up (src/train/batching.ts). */
function formatCells(cells: readonly PlanCell[]): string[] {
  const head = ['row', 'method', 'task', 'examples', 'batch', 'devices', 'acc', 'effective', 'passes', 'epochs', 'upd/epoch', 'updates', 'warm-up', 'warm-up %'];
  const body = cells.map((c) => {
    const s = c.schedule;
    return [c.row, c.method, c.task, s.trainExamples, c.batchSize, c.devices, c.gradAccumulation, s.effectiveBatch, s.microBatchesPerStep, c.epochs, s.stepsPerEpoch, s.totalSteps, s.warmupSteps, (100 * s.warmupFraction).toFixed(1)].map(String);
  });
  return [
    'optimizer updates per cell: effective batch = batch (per device) × devices × acc (gradAccumulation), in `passes`',
    '  forward/backward passes of ≤ microBatchSize (default: batch); examples = trainLimit, else the official train split size',
    ...columns(head, body, 3).map((l) => `  ${l}`),
  ];
}

/** The cells that start from another run or a file (initFrom), and the parents a filter took along. */
function formatChains(plan: Plan): string[] {
  const chained = plan.cells.filter((c) => c.initFrom !== undefined);
  if (chained.length === 0) return [];
  const body = chained.map((c) => [c.row, c.model, c.method, c.task, `← ${c.initFrom}`]);
  return [
    '',
    `chained cells: ${chained.length} start from another run's trained method weights (initFrom; head new), each seed from the same seed's run,`,
    '  which runs first; if it fails they are recorded blocked',
    ...columns(['row', 'model', 'method', 'task', 'starts from'], body, 5).map((l) => `  ${l}`),
    ...(plan.parentsAdded.length > 0
      ? [`  + ${plan.parentsAdded.length} unfinished parent run(s) not selected by the filter, run first: ${plan.parentsAdded.map((r) => `${r.row}/${r.config.task} seed ${r.config.seed}`).join(', ')}`]
      : []),
  ];
}

export function formatPlan(expansion: Expansion, plan: Plan, filters: readonly string[]): string {
  const t = plan.total;
  const head = ['row', 'models', 'methods', 'cells', 'runs', 'finished', 'failed', 'to run', 'est. CPU'];
  const body = plan.rows.map((r) => [r.row, r.models.join(' '), r.methods.join(' '), r.cells, r.runs, r.finished, r.failed, r.toRun, human(r.ms)].map(String));
  body.push(['total', '', '', t.cells, t.runs, t.finished, t.failed, t.toRun, human(t.ms)].map(String));
  const lines = [
    `${expansion.experiment} · profile ${expansion.profile} · ${expansion.file}${filters.length ? ` · filter ${filters.join(' AND ')}` : ''}`,
    `runs: ${t.runs} selected${plan.parentsAdded.length ? ` (${plan.parentsAdded.length} parent run(s) added)` : ''} · ${t.finished} finished · ${t.failed} failed or blocked (retried) · ${t.toRun} to run · results in ${plan.resultsDir}`,
    '',
    ...columns(head, body, 3),
    ...[...plan.shared].map(([row, s]) => `  ${row}: its ${s.runs} run(s) are identical to ${s.withRow}'s under this profile (the same model after mapping): run once, counted there`),
    '',
    `estimated time of the ${t.toRun} run(s) to do: ${human(t.ms)} CPU; with ${plan.workers} worker(s) on ${availableParallelism()} core(s) ≈ ${human(plan.wallMs)} wall`,
    'cost model: tokens = examples (min of trainLimit and the train split) × real tokens per example (the split\'s mean,',
    '  at most maxSeqLength; padding not counted, as in measured rates) × epochs, plus evaluation (forward only, ÷3)',
    '  per epoch. ms/token per model and method:',
    ...[...plan.rates].map(([k, v]) => `    ${k}: ${v}`),
    '',
    ...formatCells(plan.cells),
    ...formatChains(plan),
  ];
  return lines.join('\n');
}
