/**
 * Vega-lite specs for the results charts:
 * - scores: per task (Table 2) or metric (Table 3), each row's score with its spread over seeds as
 *   an error bar, next to the paper's value (and its ±) from the same table;
 * - params: score against the number of trainable parameters (log x) per method, ours and the
 *   paper's (the paper's Figure 2 plots GPT-3 accuracy this way);
 * - curves: the per-epoch training loss and headline metric of every run of one table cell.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { RunResult } from '../../train/result-schema.ts';
import { methodDisplay } from '../paper-match.ts';
import type { TableModel } from '../table-model.ts';

interface ScorePoint {
  row: string;
  column: string;
  kind: 'ours' | 'paper';
  value: number;
  lo: number;
  hi: number;
  n?: number;
}

export function scorePoints(t: TableModel): ScorePoint[] {
  const out: ScorePoint[] = [];
  for (const row of t.rows) {
    row.cells.forEach((c, i) => {
      const col = t.columns[i].header;
      if (c.value !== undefined) out.push({ row: row.label, column: col, kind: 'ours', value: c.value, lo: c.value - (c.std ?? 0), hi: c.value + (c.std ?? 0), n: c.n });
      // The paper's value only beside one of ours: a chart of paper-only cells says nothing about us.
      if (c.paper !== undefined && c.value !== undefined) out.push({ row: row.label, column: col, kind: 'paper', value: c.paper.value, lo: c.paper.value - (c.paper.std ?? 0), hi: c.paper.value + (c.paper.std ?? 0) });
    });
  }
  return out;
}

const KIND_SCALE = { domain: ['ours', 'paper'], range: ['#1f77b4', '#d62728'] };

export function scoresSpec(t: TableModel): TopLevelSpec {
  const values = scorePoints(t);
  const columns = [...new Set(values.map((v) => v.column))];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `Table ${t.table} (${t.profile}): ours (${t.agg} ± std over seeds) vs the paper`, anchor: 'start' },
    data: { values },
    facet: { field: 'column', type: 'nominal', title: null, sort: columns },
    columns: Math.min(4, Math.max(1, columns.length)),
    resolve: { scale: { x: 'independent' } },
    spec: {
      width: 170,
      height: { step: 16 },
      layer: [
        {
          mark: { type: 'rule', strokeWidth: 2 },
          encoding: {
            y: { field: 'row', type: 'nominal', title: null },
            yOffset: { field: 'kind', type: 'nominal' },
            x: { field: 'lo', type: 'quantitative', scale: { zero: false }, title: 'score' },
            x2: { field: 'hi' },
            color: { field: 'kind', type: 'nominal', scale: KIND_SCALE, title: null },
          },
        },
        {
          mark: { type: 'point', filled: true, size: 50 },
          encoding: {
            y: { field: 'row', type: 'nominal' },
            yOffset: { field: 'kind', type: 'nominal' },
            x: { field: 'value', type: 'quantitative', scale: { zero: false } },
            color: { field: 'kind', type: 'nominal', scale: KIND_SCALE, title: null },
            shape: { field: 'kind', type: 'nominal', scale: { domain: ['ours', 'paper'], range: ['circle', 'diamond'] }, title: null },
            tooltip: [{ field: 'row' }, { field: 'column' }, { field: 'kind' }, { field: 'value', format: '.2f' }, { field: 'n' }],
          },
        },
      ],
    },
  } as TopLevelSpec;
}

interface ParamPoint {
  row: string;
  method: string;
  column: string;
  kind: 'ours' | 'paper';
  params: number;
  value: number;
}

export function paramPoints(t: TableModel): ParamPoint[] {
  const out: ParamPoint[] = [];
  for (const row of t.rows) {
    const ours = row.params.counted[0];
    const paperParams = row.paper ? Number(row.paper.params) * 1e6 : undefined;
    row.cells.forEach((c, i) => {
      const column = t.columns[i].header;
      const method = methodDisplay(row.method);
      if (c.value !== undefined && ours !== undefined && ours > 0) out.push({ row: row.label, method, column, kind: 'ours', params: ours, value: c.value });
      if (c.paper !== undefined && c.value !== undefined && paperParams !== undefined && paperParams > 0) out.push({ row: row.label, method, column, kind: 'paper', params: paperParams, value: c.paper.value });
    });
  }
  return out;
}

export function paramsSpec(t: TableModel): TopLevelSpec {
  const values = paramPoints(t);
  const columns = [...new Set(values.map((v) => v.column))];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `Table ${t.table} (${t.profile}): score vs trainable parameters`, anchor: 'start' },
    data: { values },
    facet: { field: 'column', type: 'nominal', title: null, sort: columns },
    columns: Math.min(4, Math.max(1, columns.length)),
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 170,
      height: 130,
      mark: { type: 'point', size: 60, strokeWidth: 2 },
      encoding: {
        x: { field: 'params', type: 'quantitative', scale: { type: 'log' }, title: '# trainable parameters (log)', axis: { format: '~s', tickCount: 5 } },
        y: { field: 'value', type: 'quantitative', scale: { zero: false }, title: 'score' },
        color: { field: 'method', type: 'nominal', title: 'method' },
        shape: { field: 'kind', type: 'nominal', scale: { domain: ['ours', 'paper'], range: ['circle', 'diamond'] }, title: null },
        tooltip: [{ field: 'row' }, { field: 'kind' }, { field: 'params', format: ',' }, { field: 'value', format: '.2f' }],
      },
    },
  } as TopLevelSpec;
}

interface CurvePoint {
  run: string;
  epoch: number;
  series: string;
  value: number;
}

/** The epochs of each run: training loss and the headline metric (on the run's own scale). */
export function curvePoints(runs: readonly RunResult[]): CurvePoint[] {
  const out: CurvePoint[] = [];
  for (const r of runs) {
    const name = `seed ${r.seed} (${r.runId.slice(0, 8)})${r.status === 'failed' ? ' failed' : ''}`;
    for (const e of r.epochs) {
      if (Number.isFinite(e.trainLoss)) out.push({ run: name, epoch: e.epoch, series: 'train loss', value: e.trainLoss });
      const m = e.metrics[r.headlineMetric];
      if (m !== undefined && Number.isFinite(m)) out.push({ run: name, epoch: e.epoch, series: `${r.headlineMetric} (${e.split ?? 'dev'})`, value: m });
    }
  }
  return out;
}

export function curvesSpec(title: string, runs: readonly RunResult[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, anchor: 'start' },
    data: { values: curvePoints(runs) },
    facet: { column: { field: 'series', type: 'nominal', title: null } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 220,
      height: 140,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1, format: 'd' }, title: 'epoch' },
        y: { field: 'value', type: 'quantitative', scale: { zero: false }, title: null },
        color: { field: 'run', type: 'nominal', title: 'run' },
      },
    },
  } as TopLevelSpec;
}
