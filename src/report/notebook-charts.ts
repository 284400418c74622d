/**
 * The notebooks' own views of a table (the tables' fixed charts are charts/table-specs.ts):
 * - per-seed: every run's value in each cell, the cell's aggregate as a tick and the column's
 *   baseline as a rule, so the spread behind "± std" and the distance to the baseline are visible;
 * - against full fine-tuning: each method's cell minus the FT row's cell of the same model (and
 *   task), with FT's own seed spread (± 2 std) as a band: a difference inside the band is not one
 *   the seeds can tell from noise.
 */
import type { TopLevelSpec } from 'vega-lite';
import { fmtNum, fmtSigned, mdEscape } from './format-text.ts';
import { baselineOf, runRecords, type RunRecord } from './notebook.ts';
import type { Cell, Row, TableModel } from './table-model.ts';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
/** Row labels ("mini-roberta Adapter^H (bottleneck r=8)") are what tells the points apart: do not cut them. */
const LABEL_LIMIT = 320;

/** The rows' labels on the y axis (shared by every layer of a facet). */
const ROW_AXIS = { field: 'row', type: 'nominal', title: null, axis: { labelLimit: LABEL_LIMIT } } as const;

/**
 * One panel per table column (up to three a line, each with its own x scale), rows on the y axis;
 * `layers` draw inside every panel.
 */
function facetByColumn(title: string, values: readonly { column: string }[], layers: unknown[]): TopLevelSpec {
  const columns = [...new Set(values.map((v) => v.column))];
  return {
    $schema: SCHEMA,
    title: { text: title, anchor: 'start' },
    data: { values },
    facet: { field: 'column', type: 'nominal', title: null, sort: columns },
    columns: Math.min(3, Math.max(1, columns.length)),
    resolve: { scale: { x: 'independent' } },
    spec: { width: 200, height: { step: 18 }, layer: layers },
  } as TopLevelSpec;
}

export function perSeedPoints(t: TableModel): (RunRecord & { value: number })[] {
  return runRecords(t).filter((r): r is RunRecord & { value: number } => r.value !== undefined);
}

export function perSeedSpec(t: TableModel): TopLevelSpec {
  const y = ROW_AXIS;
  return facetByColumn(`Table ${t.table} (${t.profile}): every seed per cell (tick: ${t.agg}; rule: baseline)`, perSeedPoints(t), [
    { mark: { type: 'rule', color: '#888', strokeDash: [4, 3] }, encoding: { x: { field: 'baseline', aggregate: 'max', type: 'quantitative' } } },
    { mark: { type: 'tick', color: 'black', thickness: 2 }, encoding: { y, x: { field: 'cell', aggregate: 'max', type: 'quantitative' } } },
    {
      mark: { type: 'point', filled: true, size: 45, opacity: 0.8 },
      encoding: {
        y,
        x: { field: 'value', type: 'quantitative', scale: { zero: false }, title: 'score' },
        color: { field: 'seed', type: 'nominal', title: 'seed' },
        tooltip: [{ field: 'row' }, { field: 'column' }, { field: 'seed' }, { field: 'runId' }, { field: 'value', format: '.2f' }, { field: 'baseline', format: '.2f' }],
      },
    },
  ]);
}

export interface VsFullFt {
  row: string;
  column: string;
  value: number;
  ft: number;
  delta: number;
  /** FT's sample std over seeds; absent where the table gives none (one seed, the average column). */
  ftStd?: number;
  /** |delta| ≤ 2·ftStd: within the spread of FT's own seeds; absent without ftStd. */
  withinFtSpread?: boolean;
  decimals: number;
}

function cellsWithAvg(t: TableModel, row: Row): { header: string; cell: Cell | undefined; decimals: number }[] {
  const out = t.columns.map((c, i) => ({ header: c.header, cell: row.cells[i] as Cell | undefined, decimals: c.decimals }));
  if (t.hasAverage) out.push({ header: 'Avg.', cell: row.avg, decimals: 1 });
  return out;
}

/** Each non-FT row's cells against the FT row of the same model (Table 3: and task); empty without an FT row. */
export function vsFullFt(t: TableModel): VsFullFt[] {
  const out: VsFullFt[] = [];
  for (const row of t.rows) {
    if (row.method === 'ft') continue;
    const ft = t.rows.find((r) => r.method === 'ft' && r.model === row.model && r.task === row.task);
    if (ft === undefined) continue;
    const ftCells = cellsWithAvg(t, ft);
    cellsWithAvg(t, row).forEach(({ header, cell, decimals }, i) => {
      const f = ftCells[i].cell;
      if (cell?.value === undefined || f?.value === undefined) return;
      const delta = cell.value - f.value;
      const ftStd = f.std;
      out.push({ row: row.label, column: header, value: cell.value, ft: f.value, delta, ftStd, withinFtSpread: ftStd !== undefined ? Math.abs(delta) <= 2 * ftStd : undefined, decimals });
    });
  }
  return out;
}

/** Markdown: one line per method row, one column per table column, "Δ (ours vs FT)" with "≈" inside FT's spread. */
export function vsFullFtMarkdown(t: TableModel, rows: readonly VsFullFt[]): string {
  const headers = [...new Set(rows.map((r) => r.column))];
  const labels = [...new Set(rows.map((r) => r.row))];
  const lines = [`| Method (vs full fine-tuning) | ${headers.map(mdEscape).join(' | ')} |`, `|---|${headers.map(() => '---:').join('|')}|`];
  for (const label of labels) {
    const cells = headers.map((h) => {
      const r = rows.find((x) => x.row === label && x.column === h);
      return r === undefined ? '—' : `${fmtSigned(r.delta, r.decimals)}${r.withinFtSpread ? ' ≈' : ''}`;
    });
    lines.push(`| ${mdEscape(label)} | ${cells.join(' | ')} |`);
  }
  const ftSpread = headers.map((h) => {
    const r = rows.find((x) => x.column === h);
    return r === undefined ? '—' : `${fmtNum(r.ft, r.decimals)}${r.ftStd !== undefined ? ` ± ${fmtNum(r.ftStd, r.decimals)}` : ''}`;
  });
  lines.push(`| *FT itself* | ${ftSpread.join(' | ')} |`);
  return [`Table ${t.table}: each cell minus full fine-tuning's (${t.agg} over seeds); "≈": within 2 standard deviations of FT's seeds.`, '', ...lines].join('\n');
}

export function vsFullFtSpec(t: TableModel, rows: readonly VsFullFt[] = vsFullFt(t)): TopLevelSpec {
  const spread = (r: VsFullFt): string => (r.withinFtSpread === undefined ? 'FT spread unknown' : r.withinFtSpread ? 'within FT ± 2 std' : 'outside FT ± 2 std');
  const values = rows.map((r) => ({ ...r, spread: spread(r), lo: r.ftStd !== undefined ? -2 * r.ftStd : undefined, hi: r.ftStd !== undefined ? 2 * r.ftStd : undefined }));
  const y = ROW_AXIS;
  return facetByColumn(`Table ${t.table} (${t.profile}): each method minus full fine-tuning (band: FT ± 2 std over seeds)`, values, [
    // The band per row: each row is compared with the FT row of its own model, whose spread it is.
    { mark: { type: 'rect', color: '#ddd' }, encoding: { y, x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } } },
    { mark: { type: 'rule', color: 'black' }, encoding: { x: { datum: 0, type: 'quantitative' } } },
    {
      mark: { type: 'bar', height: 12 },
      encoding: {
        y,
        x: { field: 'delta', type: 'quantitative', title: 'Δ vs FT' },
        color: { field: 'spread', type: 'nominal', title: null, scale: { domain: ['within FT ± 2 std', 'outside FT ± 2 std', 'FT spread unknown'], range: ['#9ecae1', '#de2d26', '#999'] } },
        tooltip: [{ field: 'row' }, { field: 'column' }, { field: 'value', format: '.2f' }, { field: 'ft', format: '.2f' }, { field: 'delta', format: '+.2f' }, { field: 'ftStd', format: '.2f' }],
      },
    },
  ]);
}

/** The baseline row(s) as Markdown, with how many method cells of each column are above / at / below it. */
export function baselineMarkdown(t: TableModel): string {
  const lines = [`| Baseline | ${t.columns.map((c) => mdEscape(c.header)).join(' | ')} |`, `|---|${t.columns.map(() => '---:').join('|')}|`];
  for (const b of t.baselines) {
    const cells = t.columns.map((c) => {
      const v = baselineOf(t, b.task, c.key);
      if (v === undefined) return '—';
      const methodCells = t.rows.filter((r) => t.table === 2 || r.task === b.task).map((r) => r.cells.find((x) => x.column === c.key));
      const n = (k: string): number => methodCells.filter((x) => x?.vsBaseline === k).length;
      return `${fmtNum(v, c.decimals)} (${n('above')} above, ${n('equal')} at, ${n('below')} below)`;
    });
    lines.push(`| ${mdEscape(b.label)} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
