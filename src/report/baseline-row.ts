/**
 * The baseline row of Tables 2 and 3: what an untrained rule scores on exactly the
 * evaluation examples the runs of a column were scored on (majority class, train mean, copy input;
 * src/eval/baselines.ts). Every run records the baseline of its own train/eval subsets
 * (RunResult.baseline), so the row is read from the runs behind the column's cells rather than
 * recomputed here: the table needs no data directory, and a column whose runs used other subsets
 * says so instead of being compared with the wrong examples.
 *
 * Each method cell is then compared with its column's baseline, so "every method beats the baseline"
 * can be checked from the table itself: a cell at the baseline (a model that predicts the majority
 * class) or below it is marked.
 */
import { BASELINE_KIND_LABELS, type BaselineKind } from '../eval/baselines.ts';
import { median } from '../util/stats.ts';
import { cellValue, type ColumnDef, isSynthetic } from './columns.ts';
import type { LoadedRun } from './results.ts';

export interface BaselineCell {
  column: string;
  /** On the column's scale (×100 where the method cells are). */
  value?: number;
  /** Why there is no value. */
  reason?: string;
  /** Runs behind the column that recorded a baseline value / that recorded none. */
  n: number;
  nMissing: number;
  /** The distinct values the runs recorded; more than one: the runs disagree and `value` is their median. */
  distinct: number[];
}

export interface BaselineRow {
  /** Marks the row in the JSON output. */
  kind: 'baseline';
  key: string;
  label: string;
  /** The baseline kinds of the runs behind the row, in BASELINE_KIND_LABELS order. */
  kinds: BaselineKind[];
  /** Table 3: the task whose rows it serves; Table 2: undefined (its columns are tasks). */
  task?: string;
  cells: BaselineCell[];
  avg?: BaselineCell;
}

/** How a method cell compares with its column's baseline. */
export type VsBaseline = 'above' | 'equal' | 'below';

/** Values this close are the same number computed twice (a model that predicts the majority class). */
const SAME = 1e-9;

function sameValue(a: number, b: number): boolean {
  return Math.abs(a - b) <= SAME * Math.max(1, Math.abs(a), Math.abs(b));
}

function compareWithBaseline(value: number, baseline: number): VsBaseline {
  return sameValue(value, baseline) ? 'equal' : value > baseline ? 'above' : 'below';
}

function orderedKinds(kinds: Iterable<BaselineKind>): BaselineKind[] {
  const set = new Set(kinds);
  return (Object.keys(BASELINE_KIND_LABELS) as BaselineKind[]).filter((k) => set.has(k));
}

/** "Baseline (majority class / train mean)"; the table's usual kinds when no run recorded one. */
function baselineLabel(table: 2 | 3, kinds: readonly BaselineKind[], task: string | undefined): string {
  const shown = kinds.length > 0 ? kinds : table === 2 ? (['majority', 'mean'] as const) : (['copy-input'] as const);
  const base = `Baseline (${shown.map((k) => BASELINE_KIND_LABELS[k]).join(' / ')})`;
  return task !== undefined && isSynthetic(task) ? `${base} [${task}]` : base;
}

/** The baseline of one column from the finished runs behind its cells. */
function baselineCell(col: ColumnDef, runs: readonly LoadedRun[]): BaselineCell {
  const finished = runs.filter((r) => r.result.status === 'finished');
  const values: number[] = [];
  let nMissing = 0;
  for (const r of finished) {
    const b = r.result.baseline;
    if (b === undefined) {
      nMissing++;
      continue;
    }
    // The baseline's metrics carry the run's keys, so the column reads them as it reads the run's.
    const v = cellValue({ ...r.result, metrics: b.metrics }, col, r.file);
    if ('value' in v) values.push(v.value);
    else nMissing++;
  }
  const cell: BaselineCell = { column: col.key, n: values.length, nMissing, distinct: [] };
  if (finished.length === 0) {
    cell.reason = 'no finished runs';
    return cell;
  }
  if (values.length === 0) {
    cell.reason = `not recorded by the ${finished.length} run(s) (results from before baselines were recorded, or the metric is missing)`;
    return cell;
  }
  for (const v of values) if (!cell.distinct.some((d) => sameValue(d, v))) cell.distinct.push(v);
  cell.distinct.sort((a, b) => a - b);
  cell.value = median(values);
  return cell;
}

/** Mean of the row's cells, when every column has one (as the method rows' Avg.). */
function baselineAverage(cells: readonly BaselineCell[]): BaselineCell {
  const have = cells.filter((c) => c.value !== undefined);
  const cell: BaselineCell = { column: 'avg', n: have.length, nMissing: 0, distinct: [] };
  if (cells.length === 0 || have.length < cells.length) {
    cell.reason = `needs all ${cells.length} columns (${have.length} with a value)`;
    return cell;
  }
  cell.value = have.reduce((s, c) => s + (c.value as number), 0) / have.length;
  cell.distinct = [cell.value];
  return cell;
}

export function buildBaselineRow(table: 2 | 3, columns: readonly ColumnDef[], runsOf: (col: ColumnDef) => readonly LoadedRun[], task: string | undefined): BaselineRow {
  const kinds = orderedKinds(columns.flatMap((c) => runsOf(c).flatMap((r) => (r.result.baseline ? [r.result.baseline.kind] : []))));
  const cells = columns.map((c) => baselineCell(c, runsOf(c)));
  const row: BaselineRow = { kind: 'baseline', key: `baseline|${task ?? ''}`, label: baselineLabel(table, kinds, task), kinds, task, cells };
  if (table === 2) row.avg = baselineAverage(cells);
  return row;
}

/** The footnote that says what the row is, for the kinds it shows. */
export function baselineDefinition(rows: readonly BaselineRow[]): string | undefined {
  const kinds = orderedKinds(rows.flatMap((r) => r.kinds));
  if (kinds.length === 0) return undefined;
  const parts: Record<BaselineKind, string> = {
    majority: "majority class = always the most frequent class of the run's training subset (ties → the lower class id)",
    mean: "train mean (regression) = always the mean score of the run's training subset; the Pearson/Spearman correlation of a constant is undefined and reported as 0",
    'copy-input': 'copy input = each output is the MR as the model reads it (its context string), scored with the same E2E scorer',
  };
  return (
    'Baseline row: an untrained rule (majority class and train mean ignore the input; copy input echoes it unchanged), scored with the task\'s own metrics on exactly the evaluation examples of its column\'s runs (each run records it): ' +
    kinds.map((k) => parts[k]).join('; ') +
    '.'
  );
}

/** Notes on baseline cells whose runs disagree or partly lack a baseline. */
export function baselineCellNotes(row: BaselineRow, header: (column: string) => string, fmt: (column: string, x: number) => string): string[] {
  const out: string[] = [];
  for (const c of row.cells) {
    if (c.distinct.length > 1) {
      out.push(
        `${row.label} / ${header(c.column)}: the runs recorded ${c.distinct.length} different baseline values (${c.distinct.map((x) => fmt(c.column, x)).join(', ')}), so their training or evaluation subsets differ; the median over runs is shown.`,
      );
    }
    if (c.value !== undefined && c.nMissing > 0) out.push(`${row.label} / ${header(c.column)}: ${c.nMissing} of ${c.n + c.nMissing} run(s) recorded no baseline; the value is from the other ${c.n}.`);
  }
  return out;
}

/** The part of a method row the comparison needs (table-model.ts Row). */
interface ComparedRow {
  label: string;
  cells: { value?: number; vsBaseline?: VsBaseline }[];
  avg?: { value?: number; vsBaseline?: VsBaseline };
}

/**
 * Sets `vsBaseline` on every method cell that has a value and a baseline to compare with, and returns
 * the footnote that makes the comparison checkable: which cells are not above their baseline, or that
 * every compared cell is. Undefined when no cell could be compared.
 */
export function compareRows(rows: readonly ComparedRow[], baselineOf: (row: ComparedRow) => BaselineRow | undefined, header: (column: number | 'avg') => string, fmt: (column: number | 'avg', x: number) => string): string | undefined {
  let compared = 0;
  const notAbove: string[] = [];
  for (const row of rows) {
    const base = baselineOf(row);
    if (base === undefined) continue;
    const pairs: [number | 'avg', { value?: number; vsBaseline?: VsBaseline }, BaselineCell | undefined][] = row.cells.map((c, i) => [i, c, base.cells[i]]);
    if (row.avg !== undefined) pairs.push(['avg', row.avg, base.avg]);
    for (const [col, cell, b] of pairs) {
      if (cell.value === undefined || b?.value === undefined) continue;
      compared++;
      cell.vsBaseline = compareWithBaseline(cell.value, b.value);
      if (cell.vsBaseline !== 'above') notAbove.push(`${row.label} / ${header(col)} ${fmt(col, cell.value)} ${cell.vsBaseline === 'equal' ? '=' : '<'} ${fmt(col, b.value)}`);
    }
  }
  if (compared === 0) return undefined;
  if (notAbove.length === 0) return `Every one of the ${compared} cells with a value is above the baseline of its column.`;
  return `Not above baseline ("= baseline": at it, e.g. always predicting the majority class; "< baseline": below it): ${notAbove.length} of the ${compared} cells with a value: ${notAbove.join('; ')}.`;
}
