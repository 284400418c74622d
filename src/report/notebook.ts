/**
 * What the notebooks (notebooks/*.ipynb, TypeScript on Deno's Jupyter kernel) import to read a
 * results profile and show it: the tables `lora-repro table 2|3` wrote, as the project's own model
 * (so every chart spec and Markdown rendering here is the one the CLI and the report use), one
 * flat record per run for slicing, and Jupyter display bundles.
 *
 * Display: a chart is shown as its vega-lite spec (`application/vnd.vegalite.v5+json`, rendered
 * live by JupyterLab / Notebook 7) plus the PNG the project's renderer draws (charts/render.ts),
 * which nbconvert's HTML export and plain ipynb viewers fall back to: they have no vega-lite
 * renderer, and the HTML must read offline. Objects carry `Symbol.for('Jupyter.display')`, the
 * protocol of Deno's kernel, so this module needs no Deno types and type-checks under Node.
 *
 * Cells show everything through `show()`, which waits SETTLE_MS after the outputs: Deno's kernel
 * (2.9) relays console output and displays to Jupyter through a task of its own and reports the
 * cell done after a 5 ms pause (cli/tools/jupyter/server.rs); on a loaded machine the last
 * outputs then arrive after the cell's "idle" and nbconvert drops them (measured here: 1 to 3 of
 * 3 outputs lost in a third of the cells at load 7-12; none in 48 cells with a 150 ms wait).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { UserError } from '../util/errors.ts';
import { renderChart, withBaseConfig } from './charts/render.ts';
import { toMarkdown } from './format-text.ts';
import { readTableJson, type TableJson } from './table-json.ts';
import type { TableModel } from './table-model.ts';

export const VEGALITE_MIME = 'application/vnd.vegalite.v5+json';
/** Deno's kernel calls this method of a value it displays (the last expression of a cell, or Deno.jupyter.display). */
export const JUPYTER_DISPLAY = Symbol.for('Jupyter.display');

export type MimeBundle = Record<string, unknown>;

export class Display {
  constructor(readonly bundle: MimeBundle) {}
  [JUPYTER_DISPLAY](): MimeBundle {
    return this.bundle;
  }
}

interface DenoJupyter {
  display(obj: unknown, options?: { raw?: boolean }): Promise<void>;
}

function denoJupyter(): DenoJupyter | undefined {
  return (globalThis as { Deno?: { jupyter?: DenoJupyter } }).Deno?.jupyter;
}

export const SETTLE_MS = 200;

/**
 * Shows each item in order (a string as a printed line, a Display as its bundle), then waits for
 * the kernel to send them (see the file comment). Outside Jupyter, prints the text of each.
 */
export async function show(...items: (string | Display | Promise<Display>)[]): Promise<void> {
  const jupyter = denoJupyter();
  for (const item of items) {
    const x = await item;
    if (typeof x === 'string') console.log(x);
    else if (jupyter !== undefined) await jupyter.display(x.bundle, { raw: true });
    else console.log(String(x.bundle['text/plain']));
  }
  if (jupyter !== undefined) await new Promise((done) => setTimeout(done, SETTLE_MS));
}

export function markdown(text: string): Display {
  return new Display({ 'text/markdown': text, 'text/plain': text });
}

/**
 * Our specs name vega-lite v6 (the package the CLI renders with); Jupyter's renderer is vega-lite 5
 * under the v5 MIME type and warns on a newer `$schema`. The specs use nothing v6 added.
 */
export function forJupyter(spec: TopLevelSpec): TopLevelSpec {
  return { ...withBaseConfig(spec), $schema: 'https://vega.github.io/schema/vega-lite/v5.json' } as TopLevelSpec;
}

/** A chart: its vega-lite spec plus a PNG of it (see the file comment). */
export async function chart(spec: TopLevelSpec): Promise<Display> {
  const r = await renderChart(spec);
  const title = (spec as { title?: string | { text?: string } }).title;
  const text = typeof title === 'string' ? title : (title?.text ?? 'chart');
  return new Display({ [VEGALITE_MIME]: forJupyter(spec), 'image/png': r.png.toString('base64'), 'text/plain': `<chart: ${text}>` });
}

export interface ProfileDir {
  /** results/<profile> */
  dir: string;
  profile: string;
}

/** results/<profile>, checked to exist (notebooks run in notebooks/, so the default root is ../results). */
export function openProfile(results: string, profile: string): ProfileDir {
  if (!/^[A-Za-z0-9._-]+$/.test(profile)) throw new UserError(`profile '${profile}': use letters, digits, '.', '_' or '-'`);
  const dir = resolve(results, profile);
  if (!existsSync(dir)) throw new UserError(`${dir}: no results for profile "${profile}"; run make table2 PROFILE=${profile} (or set PROFILE / RESULTS at the top)`);
  return { dir, profile };
}

export interface LoadedTable {
  /** The parts the summaries read, validated (table-json.ts). */
  json: TableJson;
  /**
   * The whole model: table<N>.json is toJson(TableModel) (format-text.ts), validated above in the
   * parts every reader relies on; the chart specs and Markdown take the model as the CLI built it.
   */
  model: TableModel;
  file: string;
}

export function loadTable(p: ProfileDir, table: 2 | 3): LoadedTable {
  const file = join(p.dir, `table${table}.json`);
  const json = readTableJson(file, table, p.profile);
  return { json, model: JSON.parse(readFileSync(file, 'utf8')) as TableModel, file };
}

/** The table as `lora-repro table` prints it: ours ± std [paper, Δ], the baseline row, caption and notes. */
export function tableMarkdown(t: TableModel): Display {
  return markdown(toMarkdown(t));
}

/** Run counts of a table: what its rows rest on. */
export function runCounts(t: TableJson): { runs: number; finished: number } {
  const ids = new Map<string, string>();
  for (const row of t.rows) for (const c of row.cells) for (const r of c.runs) ids.set(r.runId, r.status);
  return { runs: ids.size, finished: [...ids.values()].filter((s) => s === 'finished').length };
}

/** One line: "Table 2 (profile mini): 6 method rows + 1 baseline row × 5 columns, 90 runs (90 finished)". */
export function tableSummaryLine(t: TableJson): string {
  const { runs, finished } = runCounts(t);
  const b = t.baselines.length;
  const what = t.table === 2 ? 'task columns' : 'metric columns';
  return `Table ${t.table} (profile ${t.profile}): ${t.rows.length} method rows + ${b} baseline row${b === 1 ? '' : 's'} × ${t.columns.length} ${what}${t.hasAverage ? ' (+ Avg.)' : ''}, ${runs} runs (${finished} finished)`;
}

/** One record per (row, column, run): the long format to filter, group and chart in a cell. */
export interface RunRecord {
  row: string;
  method: string;
  task: string;
  column: string;
  seed: number;
  runId: string;
  status: string;
  /** On the table's scale (×100 or raw), as the cells; absent for a run without a value. */
  value?: number;
  /** The cell's aggregate over seeds and the column's baseline, to compare against. */
  cell?: number;
  baseline?: number;
}

export function runRecords(t: TableModel): RunRecord[] {
  const out: RunRecord[] = [];
  for (const row of t.rows) {
    row.cells.forEach((c, i) => {
      const col = t.columns[i];
      const base = baselineOf(t, row.task, c.column);
      for (const r of c.runs) {
        out.push({ row: row.label, method: row.method, task: col.task ?? row.task ?? '', column: col.header, seed: r.seed, runId: r.runId, status: r.status, value: r.value, cell: c.value, baseline: base });
      }
    });
  }
  return out;
}

/** The baseline value of a column (Table 3: of the row's task). */
export function baselineOf(t: TableModel, task: string | undefined, column: string): number | undefined {
  const rows = t.table === 3 ? t.baselines.filter((b) => b.task === task) : t.baselines;
  for (const b of rows) {
    const v = b.cells.find((c) => c.column === column)?.value;
    if (v !== undefined) return v;
  }
  return undefined;
}
