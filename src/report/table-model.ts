/**
 * Builds Table 2 or 3 of the paper from our runs: rows = model × method (+ variant and method
 * config) with the number of trainable parameters, columns = tasks (Table 2, plus the average) or
 * E2E metrics (Table 3). Each cell aggregates the finished runs of one config over seeds (each run's
 * reported metrics: split and checkpoint as the run records them, protocol.ts), with the paper's value and our difference beside
 * it. Under the method rows, a baseline row (baseline-row.ts) gives what an untrained rule
 * scores on the same evaluation examples, and each method cell says whether it is above it. Table 2
 * shows the task columns the profile runs (profile-tasks.ts) when the spec says which those are.
 * The model is format-free; format-*.ts and html.ts render it.
 */
import { PAPER_ROWS } from './paper-rows.ts';
import type { RunResult } from '../train/result-schema.ts';
import { canonicalJson } from '../util/canonical-json.ts';
import { aggregate, type Agg } from './aggregate.ts';
import { sampleStd } from '../util/stats.ts';
import { baselineCellNotes, baselineDefinition, buildBaselineRow, compareRows, type BaselineRow, type VsBaseline } from './baseline-row.ts';
import { cellValue, type ColumnDef, isSynthetic, missingTaskData, table2Columns, table3Columns, tableOf } from './columns.ts';
import { findPaperRow, loadPaperTable, type PaperTableRow, type PaperValue } from './paper-tables.ts';
import { describeModel, matchPaperRow, methodDisplay, modelInfo, normalisedMethodConfig, type ModelInfo, type PaperMatch } from './paper-match.ts';
import { formulaFor, type ParamInfo } from './params.ts';
import type { ProfileTasks } from './profile-tasks.ts';
import type { Rehearsal } from '../spec/expand.ts';
import { describeCaps, rehearsedProfile } from '../spec/rehearsal.ts';
import { checkpointAdjective, e2eProtocolCaption, heldoutSelectionCaption, protocolNotes, runReport, type RunReport } from './protocol.ts';
import type { LoadedRun, ResultsFolder } from './results.ts';

export interface CellRun {
  runId: string;
  seed: number;
  /** `blocked`: not run, its initFrom parent failed (runner/dependencies.ts). */
  status: RunResult['status'];
  value?: number;
  bestEpoch: number | null;
  /** Which checkpoint and split its value comes from (protocol.ts). */
  reported: RunReport;
  /** Why a run gives no value (failed, metric missing). */
  problem?: string;
  mlflowUrl?: string;
}

export interface Cell {
  column: string;
  value?: number;
  std?: number;
  /** Finished runs with a value / runs that failed or gave none. */
  n: number;
  nFailed: number;
  runs: CellRun[];
  /** Why there is no value ('no runs', 'all 3 runs failed: …', 'task data missing: …'). */
  reason?: string;
  paper?: PaperValue;
  /** Ours − paper, on the paper's scale. */
  diff?: number;
  /** Why no paper value is shown although the row has a paper row. */
  paperNote?: string;
  /** Other configs (cell keys) in this cell that were left out, and how many runs each had. */
  ignored: { cellKey: string; runs: number }[];
  /** Against the baseline row's value of this column; absent when either has no value. */
  vsBaseline?: VsBaseline;
}

export interface Row {
  key: string;
  label: string;
  model: string;
  modelDescription: string;
  method: string;
  variant: string;
  task?: string;
  methodConfig: Record<string, unknown>;
  params: ParamInfo;
  paper?: { label: string; marker: string; params: string; sameScale: boolean; sameConfig: boolean; note: string };
  cells: Cell[];
  avg?: Cell;
}

export interface TableModel {
  table: 2 | 3;
  profile: string;
  agg: Agg;
  columns: ColumnDef[];
  hasAverage: boolean;
  rows: Row[];
  /** Untrained baselines on the runs' eval examples: one row (Table 2) or one per task (Table 3). */
  baselines: BaselineRow[];
  /** Table 2: task columns left out because the spec's profile runs none of their tasks (headers). */
  droppedColumns: string[];
  caption: string;
  footnotes: string[];
  notes: string[];
  withRuns: boolean;
}

export interface BuildOptions {
  agg?: Agg;
  withRuns?: boolean;
  /** Data directory, to say "task data missing" for a task without runs; undefined: not checked. */
  dataDir?: string;
  paperRows?: PaperTableRow[];
  /** Table 2: the tasks the spec's profile runs; columns of other tasks without runs are left out. */
  profileTasks?: ProfileTasks;
  /** The results are a rehearsal (src/spec/rehearsal.ts): what it rehearsed and left out, from the spec. */
  rehearsal?: Rehearsal;
}

function methodConfigOf(r: RunResult): Record<string, unknown> {
  const mc = r.config.methodConfig;
  return mc !== null && typeof mc === 'object' && !Array.isArray(mc) ? (mc as Record<string, unknown>) : {};
}

/**
 * Where to see a run in MLflow: the run's page when its experiment and run ids were recorded,
 * else the tracking server (the run is tagged `lora_repro.run_id`).
 */
export function mlflowUrl(run: LoadedRun): string | undefined {
  const m = run.mlflow;
  if (m === undefined) return undefined;
  const base = m.trackingUri.replace(/\/+$/, '');
  if (m.runId === undefined || m.experimentId === undefined) return base;
  return `${base}/#/experiments/${encodeURIComponent(m.experimentId)}/runs/${encodeURIComponent(m.runId)}`;
}

/** Picks the config (cell key) with the most finished runs; ties go to the most recent. */
function pickCellKey(runs: LoadedRun[]): { chosen: LoadedRun[]; ignored: Cell['ignored'] } {
  const by = new Map<string, LoadedRun[]>();
  for (const r of runs) by.set(r.result.cellKey, [...(by.get(r.result.cellKey) ?? []), r]);
  if (by.size <= 1) return { chosen: runs, ignored: [] };
  const score = (rs: LoadedRun[]): [number, string] => [rs.filter((r) => r.result.status === 'finished').length, rs.map((r) => r.result.finishedAt).sort().pop() ?? ''];
  const sorted = [...by.entries()].sort((a, b) => {
    const [na, ta] = score(a[1]);
    const [nb, tb] = score(b[1]);
    return nb - na || (tb > ta ? 1 : tb < ta ? -1 : 0);
  });
  return { chosen: sorted[0][1], ignored: sorted.slice(1).map(([cellKey, rs]) => ({ cellKey, runs: rs.length })) };
}

/**
 * One cell from the runs of its config. `used` collects the runs the cell is built from (by run id),
 * for the baseline row: it must be read from exactly the runs behind the numbers it is compared with.
 */
function buildCell(col: ColumnDef, runs: LoadedRun[], agg: Agg, dataDir: string | undefined, task: string | undefined, used: Map<string, LoadedRun>): Cell {
  if (runs.length === 0) {
    const missing = task !== undefined ? missingTaskData(task, dataDir) : undefined;
    return { column: col.key, n: 0, nFailed: 0, runs: [], reason: missing ?? 'no runs', ignored: [] };
  }
  const { chosen, ignored } = pickCellKey(runs);
  for (const r of chosen) used.set(r.result.runId, r);
  const cellRuns: CellRun[] = [];
  const values: number[] = [];
  for (const lr of [...chosen].sort((a, b) => a.result.seed - b.result.seed)) {
    const r = lr.result;
    const base: CellRun = { runId: r.runId, seed: r.seed, status: r.status, bestEpoch: r.bestEpoch, reported: runReport(r), mlflowUrl: mlflowUrl(lr) };
    if (r.status !== 'finished') {
      cellRuns.push({ ...base, problem: `${r.status}: ${r.error ?? 'no error recorded'}` });
      continue;
    }
    const v = cellValue(r, col, lr.file);
    if ('missing' in v) cellRuns.push({ ...base, problem: v.missing });
    else {
      values.push(v.value);
      cellRuns.push({ ...base, value: v.value });
    }
  }
  const nFailed = cellRuns.length - values.length;
  const cell: Cell = { column: col.key, n: values.length, nFailed, runs: cellRuns, ignored };
  if (values.length === 0) {
    const first = cellRuns.find((c) => c.problem)?.problem ?? '';
    const allFailed = cellRuns.every((c) => c.status !== 'finished');
    const how = cellRuns.every((c) => c.status === 'blocked') ? 'blocked' : 'failed';
    cell.reason = allFailed ? `all ${cellRuns.length} run(s) ${how} (${first.replace(/^(failed|blocked): /, '')})` : `no finished run with a value (${first})`;
    return cell;
  }
  cell.value = aggregate(values, agg);
  cell.std = sampleStd(values);
  return cell;
}

function rowKey(r: RunResult, table: 2 | 3, cfg: Record<string, unknown>): string {
  return [r.model, r.method, r.variant, canonicalJson(cfg), table === 3 ? r.task : ''].join('|');
}

/** Model families in the order the paper's tables list them. */
const FAMILY_ORDER: readonly string[] = ['roberta', 'deberta-v2', 'gpt2'];

export function buildTable(table: 2 | 3, folder: ResultsFolder, opts: BuildOptions = {}): TableModel {
  const agg: Agg = opts.agg ?? (table === 2 ? 'median' : 'mean');
  const paperRows = opts.paperRows ?? loadPaperTable(table);
  const runs = folder.runs.filter((r) => tableOf(r.result) === table);
  const { columns, dropped } = table === 2 ? narrowedTable2Columns(runs, opts.profileTasks) : { columns: table3Columns(), dropped: [] };
  // Runs behind the cells: Table 2 per column (a task), Table 3 per task (its columns are metrics).
  const used = new Map<string, Map<string, LoadedRun>>();
  const usedBy = (k: string): Map<string, LoadedRun> => used.get(k) ?? used.set(k, new Map()).get(k)!;
  const groups = new Map<string, LoadedRun[]>();
  const configs = new Map<string, Record<string, unknown>>();
  for (const r of runs) {
    const cfg = normalisedMethodConfig(r.result.method, methodConfigOf(r.result));
    const k = rowKey(r.result, table, cfg);
    groups.set(k, [...(groups.get(k) ?? []), r]);
    configs.set(k, cfg);
  }
  const footnotes: string[] = [];
  const models = new Map<string, ModelInfo>();
  // The architecture a run of each model name recorded (absent in results older than `modelConfig`).
  const recorded = new Map<string, Record<string, unknown>>();
  for (const r of runs) if (r.result.modelConfig !== undefined && !recorded.has(r.result.model)) recorded.set(r.result.model, r.result.modelConfig);
  const rows: Row[] = [];
  for (const [key, rs] of groups) {
    const first = rs[0].result;
    const info = models.get(first.model) ?? modelInfo(first.model, first.provenance.model, recorded.get(first.model));
    models.set(first.model, info);
    const cfg = configs.get(key)!;
    const match = matchPaperRow(table, info, first.method, cfg, first.variant);
    const paperRow = match ? findPaperRow(paperRows, match.row.csv) : undefined;
    const synthetic = table === 3 && isSynthetic(first.task);
    const label = rowLabel(first, match, synthetic);
    const params = formulaFor(info, first.method, cfg, rs.map((r) => r.result));
    const cells = columns.map((col) => {
      const inCol = table === 2 ? rs.filter((r) => r.result.task === col.task) : rs;
      const cell = buildCell(col, inCol, agg, opts.dataDir, table === 2 ? col.task : first.task, usedBy(table === 2 ? col.key : first.task));
      attachPaper(cell, col, paperRow, synthetic);
      return cell;
    });
    const row: Row = {
      key,
      label,
      model: first.model,
      modelDescription: describeModel(info),
      method: first.method,
      variant: first.variant,
      task: table === 3 ? first.task : undefined,
      methodConfig: cfg,
      params,
      paper:
        match && paperRow
          ? { label: match.row.label, marker: paperRow.marker, params: paperRow.params, sameScale: match.sameScale, sameConfig: match.sameConfig, note: match.row.note }
          : undefined,
      cells,
    };
    if (table === 2) row.avg = averageCell(cells, columns, paperRow);
    rows.push(row);
  }
  // The paper's row order for rows of the paper's models, then the stand-ins by family in the paper's
  // order (RoBERTa before DeBERTa, as Table 2 lists them), model and label.
  const familyRank = (r: Row): number => {
    const i = FAMILY_ORDER.indexOf(models.get(r.model)?.family ?? '');
    return i < 0 ? FAMILY_ORDER.length : i;
  };
  const order = (r: Row): number => (r.paper?.sameScale ? PAPER_ROWS.findIndex((p) => p.label === r.paper?.label) : PAPER_ROWS.length + familyRank(r));
  rows.sort((a, b) => order(a) - order(b) || a.model.localeCompare(b.model) || a.label.localeCompare(b.label));
  const baselines =
    table === 2
      ? rows.length === 0
        ? []
        : [buildBaselineRow(2, columns, (c) => [...(used.get(c.key)?.values() ?? [])], undefined)]
      : [...new Set(rows.map((r) => r.task as string))].sort().map((task) => buildBaselineRow(3, columns, () => [...(used.get(task)?.values() ?? [])], task));
  const header = (c: number | 'avg'): string => (c === 'avg' ? 'Avg.' : columns[c].header);
  const fmt = (c: number | 'avg', x: number): string => x.toFixed(c === 'avg' ? 1 : columns[c].decimals);
  const comparison = compareRows(rows, (r) => (table === 2 ? baselines[0] : baselines.find((b) => b.task === (r as Row).task)), header, fmt);
  const definition = baselineDefinition(baselines);
  if (definition !== undefined) footnotes.push(definition);
  // Two more digits than the cells: values that disagree may print alike at the cells' precision.
  const colOf = (k: string): ColumnDef | undefined => columns.find((c) => c.key === k);
  for (const b of baselines) footnotes.push(...baselineCellNotes(b, (k) => colOf(k)?.header ?? k, (k, x) => x.toFixed((colOf(k)?.decimals ?? 1) + 2)));
  if (comparison !== undefined) footnotes.push(comparison);
  footnotes.push(...paramFootnotes(rows), ...paperFootnotes(rows));
  // A table whose runs do not share one split / checkpoint says which each row used.
  const byId = new Map(runs.map((r) => [r.result.runId, r.result]));
  footnotes.push(...protocolNotes(rows.map((r) => ({ label: r.label, runs: [...new Set(r.cells.flatMap((c) => c.runs.map((x) => byId.get(x.runId)!)))] }))));
  if (table === 3) footnotes.push('METEOR: computed without the paraphrase module (its English paraphrase table is not obtainable), i.e. METEOR 1.5 with the exact, stem and synonym modules; the paper\'s scorer had it, so our METEOR is expected to be slightly lower.');
  const ignored = rows.flatMap((r) => r.cells.filter((c) => c.ignored.length > 0).map((c) => `${r.label} / ${c.column}: ${c.ignored.map((i) => `${i.runs} run(s) of config ${i.cellKey}`).join(', ')} left out (another config of this cell has more finished runs)`));
  footnotes.push(...ignored);
  return {
    table,
    profile: folder.profile,
    agg,
    columns,
    hasAverage: table === 2,
    rows,
    baselines,
    droppedColumns: dropped.map((c) => c.header),
    caption: rehearsalCaption(folder.profile, runs, opts.rehearsal) + caption(table, folder.profile, agg, runs, [...models.values()], columns, dropped, opts.profileTasks),
    footnotes,
    notes: folder.notes,
    withRuns: opts.withRuns ?? false,
  };
}

/**
 * Table 2's columns: those of the tasks with runs, plus, when the spec's profile is known, those of
 * the tasks it runs (so a task not run yet still shows '— (no runs)'); a column of neither is left
 * out. Without the profile's tasks every paper column is shown, as before.
 */
function narrowedTable2Columns(runs: LoadedRun[], profile: ProfileTasks | undefined): { columns: ColumnDef[]; dropped: ColumnDef[] } {
  const ran = runs.map((r) => r.result.task);
  if (profile === undefined) return { columns: table2Columns(ran), dropped: [] };
  const keep = new Set([...ran, ...profile.tasks]);
  const all = table2Columns([...keep]);
  return { columns: all.filter((c) => c.task !== undefined && keep.has(c.task)), dropped: all.filter((c) => c.task === undefined || !keep.has(c.task)) };
}

function rowLabel(r: RunResult, match: PaperMatch | undefined, synthetic: boolean): string {
  const base = match && match.sameScale && match.sameConfig ? match.row.label : `${r.model} ${methodDisplay(r.method)}${r.variant ? ` (${r.variant})` : ''}`;
  return synthetic ? `${base} [${r.task}]` : base;
}

function attachPaper(cell: Cell, col: ColumnDef, paperRow: PaperTableRow | undefined, synthetic: boolean): void {
  if (paperRow === undefined) return;
  if (col.paperColumn === undefined || synthetic) {
    cell.paperNote = 'synthetic stand-in: not comparable with the paper';
    return;
  }
  cell.paper = paperRow.values[col.paperColumn];
  if (cell.value !== undefined && cell.paper !== undefined) cell.diff = cell.value - cell.paper.value;
}

function averageCell(cells: Cell[], columns: ColumnDef[], paperRow: PaperTableRow | undefined): Cell {
  const have = cells.filter((c) => c.value !== undefined);
  const cell: Cell = { column: 'avg', n: have.length, nFailed: 0, runs: [], ignored: [] };
  if (have.length < cells.length || cells.length === 0) {
    cell.reason = `needs all ${cells.length} columns (${have.length} with a value)`;
    return cell;
  }
  cell.value = have.reduce((s, c) => s + (c.value as number), 0) / have.length;
  // The paper's average is over its eight GLUE tasks: comparable only when ours are those eight.
  const realEight = columns.length === 8 && columns.every((c) => !c.synthetic);
  if (paperRow?.avg !== undefined && realEight) {
    cell.paper = paperRow.avg;
    cell.diff = cell.value - paperRow.avg.value;
  }
  return cell;
}

function paramFootnotes(rows: Row[]): string[] {
  return rows.map((r) => `${r.label}: ${r.params.text}`);
}

function paperFootnotes(rows: Row[]): string[] {
  const out: string[] = [];
  for (const r of rows) {
    if (r.paper === undefined) {
      out.push(`${r.label}: no row of the paper's table has this model family and method; no paper values.`);
      continue;
    }
    const parts: string[] = [];
    if (!r.paper.sameScale) parts.push(`paper values are those of "${r.paper.label}" (the paper's model), shown for orientation: ours is ${r.modelDescription}`);
    if (!r.paper.sameConfig) parts.push(`our method config ${canonicalJson(r.methodConfig)} differs from the one the paper row counts`);
    if (r.paper.marker === '*') parts.push('the paper row is a number from prior work (*)');
    if (r.paper.marker === '†') parts.push('the paper row is the restricted setup (†)');
    if (parts.length > 0) out.push(`${r.label}: ${parts.join('; ')}.`);
  }
  return out;
}

function caption(table: 2 | 3, profile: string, agg: Agg, runs: LoadedRun[], models: ModelInfo[], columns: ColumnDef[], dropped: ColumnDef[], profileTasks: ProfileTasks | undefined): string {
  const modelText = models.length === 0 ? 'no runs' : models.map((m) => (m.paperScale ? describeModel(m) : `${describeModel(m)}, a scaled-down stand-in, not the paper's model`)).join('; ');
  const tasks = [...new Set(runs.map((r) => r.result.task))].sort();
  const synth = tasks.filter(isSynthetic);
  const real = tasks.filter((t) => !isSynthetic(t));
  const limits = new Set<string>();
  for (const r of runs) {
    const c = r.result.config;
    if (!isSynthetic(r.result.task) && (typeof c.trainLimit === 'number' || typeof c.evalLimit === 'number')) {
      limits.add(`${r.result.task}: ${typeof c.trainLimit === 'number' ? `train ${c.trainLimit}` : 'full train'}, ${typeof c.evalLimit === 'number' ? `eval ${c.evalLimit}` : 'full eval'}`);
    }
  }
  const dataParts: string[] = [];
  if (real.length > 0) dataParts.push(`${table === 2 ? 'GLUE dev sets' : 'E2E NLG Challenge data'} (${real.join(', ')})${limits.size > 0 ? `, subsampled: ${[...limits].sort().join('; ')}` : ''}${e2eProtocolCaption(runs.map((r) => r.result))}`);
  if (synth.length > 0) dataParts.push(`synthetic stand-in data (${synth.join(', ')}), not ${table === 2 ? 'GLUE' : 'E2E'} data`);
  const data = dataParts.length > 0 ? dataParts.join(' and ') : 'no data (no runs)';
  const seeds = [...new Set(runs.map((r) => r.result.seed))].sort((a, b) => a - b);
  const what = table === 2 ? 'dev score ×100 (MNLI matched accuracy, CoLA Matthews corr., STS-B Pearson corr., accuracy elsewhere)' : 'scores (BLEU, METEOR, ROUGE-L ×100; NIST, CIDEr raw)';
  const results = runs.map((r) => r.result);
  const adjective = checkpointAdjective(results);
  return (
    `Table ${table}, profile "${profile}": ${modelText}; data: ${data}; ` +
    `${seeds.length} seed(s) (${seeds.join(', ') || 'none'}); each cell is the ${agg} over seeds of each run's ${adjective === '' ? '' : `${adjective} `}${what} ± sample std over seeds, ` +
    `${heldoutSelectionCaption(results)}then [paper value, Δ = ours − paper]. Paper (Hu et al. 2021, Table ${table}): ${table === 2 ? 'median of 5 seeds, best epoch per run' : 'mean of 3 seeds, the test split decoded from each run\'s final checkpoint (the reference code)'}. ` +
    `"—" marks a cell without a value and says why. ` +
    (table === 2 ? `Avg. is the mean over the ${columns.length} task column(s) shown (compared with the paper's average only when they are its eight GLUE tasks). ` : '') +
    (dropped.length > 0 ? `Columns ${dropped.map((c) => c.header).join(', ')} are left out: ${profileTasks?.source ?? 'the profile'} runs none of their tasks. ` : '') +
    `The baseline row is an untrained rule (majority class, train mean or copy input) on the same evaluation examples; "= baseline" / "< baseline" mark cells not above it.`
  );
}

/**
 * The caption's first sentence when the runs are a rehearsal (any run says `rehearsal: true`, or the
 * spec knows the profile as one): they are no results, and which rows were not rehearsed. '' otherwise.
 */
function rehearsalCaption(profile: string, runs: LoadedRun[], rehearsal: Rehearsal | undefined): string {
  if (rehearsal === undefined && !runs.some((r) => r.result.config.rehearsal === true)) return '';
  const of = rehearsal?.of ?? rehearsedProfile(profile) ?? profile;
  const left = rehearsal?.leftOut ?? [];
  const leftText =
    left.length === 0
      ? ''
      : ` Not rehearsed: ${left.map((l) => l.label).join(', ')} (${[...new Set(left.map((l) => l.reason))].join('; ')}).`;
  return `REHEARSAL of profile "${of}" (lora-repro run --rehearse), not results: ${describeCaps()}; the numbers only show that every path runs.${leftText} `;
}
