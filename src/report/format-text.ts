/**
 * Markdown, CSV and JSON renderings of a table model (table-model.ts). Markdown follows the paper's
 * layout (rows = model × method with "# Trainable Parameters", columns = tasks + average) with
 * every cell "ours ± std [paper value, Δ]", "(= baseline)" / "(< baseline)" on cells not above the
 * baseline row, which follows the method rows; CSV is long format, one line per (row, column), for
 * spreadsheets and plots, baseline lines marked by row_kind; JSON is the whole model.
 */
import type { BaselineCell, BaselineRow } from './baseline-row.ts';
import type { Cell, Row, TableModel } from './table-model.ts';
import type { ColumnDef } from './columns.ts';
import { describeRunReport } from './protocol.ts';
import { csvField } from '../util/csv.ts';

export function fmtNum(x: number, decimals: number): string {
  const s = x.toFixed(decimals);
  return s === `-${(0).toFixed(decimals)}` ? (0).toFixed(decimals) : s;
}

/** "+0.3" / "−0.1" (a real minus sign, as typeset). */
export function fmtSigned(x: number, decimals: number): string {
  const s = fmtNum(Math.abs(x), decimals);
  if (Number(s) === 0) return `±${s}`;
  return x > 0 ? `+${s}` : `−${s}`;
}

export function paperText(cell: Cell): string | undefined {
  if (cell.paper === undefined) return undefined;
  return cell.paper.stdText !== undefined ? `${cell.paper.text} ± ${cell.paper.stdText}` : cell.paper.text;
}

/** "= baseline" / "< baseline" for a cell not above its column's baseline, else undefined. */
export function baselineMark(cell: Pick<Cell, 'vsBaseline'>): string | undefined {
  return cell.vsBaseline === 'equal' ? '= baseline' : cell.vsBaseline === 'below' ? '< baseline' : undefined;
}

/** Our part of a cell: "95.0 ± 1.2", "89.0 ± 1.4 (2/3 runs)", "70.3 ± 0.0 (= baseline)", or "— (no runs)". */
export function oursText(cell: Pick<Cell, 'column' | 'value' | 'std' | 'n' | 'nFailed' | 'reason' | 'vsBaseline'>, decimals: number): string {
  if (cell.value === undefined) return `— (${cell.reason ?? 'no value'})`;
  const std = cell.std !== undefined ? ` ± ${fmtNum(cell.std, decimals)}` : cell.column === 'avg' ? '' : ' (1 run)';
  const part = cell.nFailed > 0 ? ` (${cell.n}/${cell.n + cell.nFailed} runs)` : '';
  const mark = baselineMark(cell);
  return `${fmtNum(cell.value, decimals)}${std}${part}${mark !== undefined ? ` (${mark})` : ''}`;
}

/** A baseline cell: "68.4", "68.4 (median; runs disagree)" or "— (why)". */
export function baselineCellText(cell: Pick<BaselineCell, 'value' | 'reason' | 'distinct'>, decimals: number): string {
  if (cell.value === undefined) return `— (${cell.reason ?? 'no value'})`;
  return `${fmtNum(cell.value, decimals)}${cell.distinct.length > 1 ? ' (median; runs disagree)' : ''}`;
}

function cellText(cell: Cell, decimals: number): string {
  const ours = oursText(cell, decimals);
  const paper = paperText(cell);
  if (paper === undefined) return ours;
  const diff = cell.diff !== undefined ? `, Δ ${fmtSigned(cell.diff, decimals)}` : '';
  return `${ours} [paper ${paper}${diff}]`;
}

export function paramsText(row: Row): string {
  return row.paper ? `${row.params.display} [paper ${row.paper.params}M]` : row.params.display;
}

export const AVG: ColumnDef = { key: 'avg', header: 'Avg.', paperColumn: 'avg', task: undefined, metric: undefined, scale: 100, decimals: 1, synthetic: false };

export function allColumns(t: TableModel): ColumnDef[] {
  return t.hasAverage ? [...t.columns, AVG] : t.columns;
}

export function cellsOf(t: TableModel, row: Row): Cell[] {
  return t.hasAverage && row.avg ? [...row.cells, row.avg] : row.cells;
}

export function baselineCellsOf(t: TableModel, row: BaselineRow): BaselineCell[] {
  return t.hasAverage && row.avg ? [...row.cells, row.avg] : row.cells;
}

/** The parameter column of a baseline row: it trains nothing. */
export const BASELINE_PARAMS = '— (not trained)';

export function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|');
}

export function runLines(t: TableModel, link: (url: string) => string): string[] {
  const out: string[] = [];
  for (const row of t.rows) {
    row.cells.forEach((cell, i) => {
      if (cell.runs.length === 0) return;
      const col = t.columns[i];
      const parts = cell.runs.map((r) => {
        const what = r.value !== undefined ? `${fmtNum(r.value, col.decimals)} (${describeRunReport(r.reported)})` : r.problem ?? r.status;
        return `seed ${r.seed} ${r.runId}: ${what}${r.mlflowUrl ? ` ${link(r.mlflowUrl)}` : ''}`;
      });
      out.push(`${row.label} / ${col.header}: ${parts.join('; ')}`);
    });
  }
  return out;
}

export function toMarkdown(t: TableModel): string {
  const cols = allColumns(t);
  const lines: string[] = [];
  lines.push(`**${mdEscape(t.caption)}**`, '');
  lines.push(`| Model & Method | # Trainable Parameters | ${cols.map((c) => mdEscape(c.header)).join(' | ')} |`);
  lines.push(`|---|---|${cols.map(() => '---').join('|')}|`);
  if (t.rows.length === 0) lines.push(`| — (no runs for Table ${t.table} in profile "${t.profile}") | | ${cols.map(() => '').join(' | ')} |`);
  for (const row of t.rows) {
    const cells = cellsOf(t, row).map((c, i) => mdEscape(cellText(c, cols[i].decimals)));
    lines.push(`| ${mdEscape(row.label)} | ${mdEscape(paramsText(row))} | ${cells.join(' | ')} |`);
  }
  for (const b of t.baselines) {
    const cells = baselineCellsOf(t, b).map((c, i) => mdEscape(baselineCellText(c, cols[i].decimals)));
    lines.push(`| ${mdEscape(b.label)} | ${BASELINE_PARAMS} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  if (t.footnotes.length > 0) {
    lines.push('Notes:', '');
    t.footnotes.forEach((f, i) => lines.push(`${i + 1}. ${mdEscape(f)}`));
    lines.push('');
  }
  if (t.notes.length > 0) {
    lines.push('Results folder:', '');
    for (const n of t.notes) lines.push(`- ${mdEscape(n)}`);
    lines.push('');
  }
  if (t.withRuns) {
    lines.push('Runs behind each number (seed, run id, value at its reported checkpoint):', '');
    for (const l of runLines(t, (u) => `[MLflow](${u})`)) lines.push(`- ${l}`);
    lines.push('');
  }
  return lines.join('\n');
}

function csvCell(v: string | number | undefined): string {
  if (v === undefined) return '';
  // Numbers to 10 significant digits: enough for any score, without float noise (0.0999999…).
  return csvField(typeof v === 'number' ? String(Number(v.toPrecision(10))) : v);
}

export const TABLE_CSV_COLUMNS = [
  'table',
  'profile',
  'row',
  'model',
  'method',
  'variant',
  'task',
  'params_counted',
  'params_formula',
  'column',
  'agg',
  'value',
  'std',
  'n_finished',
  'n_failed',
  'paper_value',
  'paper_std',
  'diff',
  'reason',
  /** 'method' (a row of the table) or 'baseline' (the baseline row). */
  'row_kind',
  /** Method cells: above, equal or below the column's baseline; empty when not compared. */
  'vs_baseline',
] as const;

export function toCsv(t: TableModel): string {
  const cols = allColumns(t);
  const header: string[] = [...TABLE_CSV_COLUMNS, ...(t.withRuns ? ['run_ids'] : [])];
  const lines = [header.join(',')];
  for (const row of t.rows) {
    cellsOf(t, row).forEach((c, i) => {
      const col = cols[i];
      const task = t.table === 2 ? col.task ?? '' : row.task ?? '';
      const fields: (string | number | undefined)[] = [
        t.table,
        t.profile,
        row.label,
        row.model,
        row.method,
        row.variant,
        task,
        row.params.counted.join(' '),
        row.params.formula,
        col.header,
        t.agg,
        c.value,
        c.std,
        c.n,
        c.nFailed,
        c.paper?.value,
        c.paper?.std,
        c.diff,
        c.reason ?? c.paperNote,
        'method',
        c.vsBaseline,
      ];
      if (t.withRuns) fields.push(c.runs.map((r) => r.runId).join(' '));
      lines.push(fields.map(csvCell).join(','));
    });
  }
  for (const b of t.baselines) {
    baselineCellsOf(t, b).forEach((c, i) => {
      const col = cols[i];
      const task = t.table === 2 ? col.task ?? '' : b.task ?? '';
      const notes = [c.distinct.length > 1 ? `runs disagree (${c.distinct.length} values); median of runs` : '', c.value !== undefined && c.nMissing > 0 ? `${c.nMissing} run(s) recorded no baseline` : ''].filter((x) => x !== '');
      const reason = c.reason ?? (notes.length > 0 ? notes.join('; ') : undefined);
      // n_finished: the runs whose recorded baseline gives the value.
      const fields: (string | number | undefined)[] = [t.table, t.profile, b.label, '', 'baseline', b.kinds.join(' '), task, '0', '', col.header, '', c.value, undefined, c.n, undefined, undefined, undefined, undefined, reason, 'baseline', undefined];
      if (t.withRuns) fields.push('');
      lines.push(fields.map(csvCell).join(','));
    });
  }
  return lines.join('\n') + '\n';
}

export function toJson(t: TableModel): string {
  return JSON.stringify(t, null, 1) + '\n';
}
