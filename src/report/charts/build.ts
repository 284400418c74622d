/**
 * Renders every chart of a results folder: scores and params charts of Tables 2 and 3 and the
 * training curves of each table cell into results/<profile>/charts/, and the subspace charts of
 * each analysis (results/<profile>/analysis/<name>/subspace.json) next to that JSON. A manifest
 * (charts/charts.json) lists them for the HTML report.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { subspaceAnalysisSchema, type SubspaceAnalysis } from '../../analysis/analysis-schema.ts';
import { UserError } from '../../util/errors.ts';
import type { ResultsFolder } from '../results.ts';
import type { TableModel } from '../table-model.ts';
import { writeChart } from './render.ts';
import { crossLayerSpec, pairHeatmapSpec, spectrumSpec, table7Spec } from './subspace-specs.ts';
import { curvesSpec, paramPoints, paramsSpec, scorePoints, scoresSpec } from './table-specs.ts';

export interface ChartEntry {
  group: string;
  name: string;
  title: string;
  /** Paths relative to the profile folder. */
  svg: string;
  png: string;
  width: number;
  height: number;
  ms: number;
}

export function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60) || 'x';
}

async function emit(out: ChartEntry[], base: string, dir: string, group: string, name: string, title: string, spec: TopLevelSpec): Promise<void> {
  const w = await writeChart(dir, name, spec);
  out.push({ group, name, title, svg: relative(base, w.svgPath), png: relative(base, w.pngPath), width: w.width, height: w.height, ms: w.ms });
}

export async function tableCharts(folder: ResultsFolder, t: TableModel, out: ChartEntry[], skipped: string[]): Promise<void> {
  const dir = join(folder.dir, 'charts');
  if (scorePoints(t).length === 0) skipped.push(`Table ${t.table}: no values to chart (no finished runs and no paper values)`);
  else await emit(out, folder.dir, dir, `table${t.table}`, `scores-table${t.table}`, `Table ${t.table}: scores vs the paper`, scoresSpec(t));
  if (paramPoints(t).length === 0) skipped.push(`Table ${t.table}: no score/parameter pairs to chart`);
  else await emit(out, folder.dir, dir, `table${t.table}`, `params-table${t.table}`, `Table ${t.table}: score vs trainable parameters`, paramsSpec(t));
  const byId = new Map(folder.runs.map((r) => [r.result.runId, r.result]));
  const seen = new Set<string>();
  for (const row of t.rows) {
    for (let i = 0; i < row.cells.length; i++) {
      const cell = row.cells[i];
      const runs = cell.runs.map((r) => byId.get(r.runId)).filter((r) => r !== undefined && r.epochs.length > 0);
      if (runs.length === 0) continue;
      const key = runs.map((r) => r!.runId).sort().join(',');
      if (seen.has(key)) continue; // Table 3: every metric column shows the same runs
      seen.add(key);
      const what = t.table === 2 ? t.columns[i].header : (row.task ?? 'e2e');
      const name = `curves-table${t.table}-${slug(row.label)}-${slug(what)}`;
      await emit(out, folder.dir, dir, 'curves', name, `Training curves: ${row.label} / ${what}`, curvesSpec(`${row.label} / ${what}: training curves`, runs as NonNullable<(typeof runs)[number]>[]));
    }
  }
}

export function readAnalysis(file: string): SubspaceAnalysis {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserError(`${file}: not valid JSON (${(err as Error).message}); rerun lora-repro analyze subspace`);
  }
  const p = subspaceAnalysisSchema.safeParse(raw);
  if (!p.success) throw new UserError(`${file}: not a subspace analysis (${p.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}); rerun lora-repro analyze subspace`);
  return p.data;
}

/** The analysis folders of a profile: results/<profile>/analysis/<name>/subspace.json. */
export function listAnalyses(profileDir: string): string[] {
  const root = join(profileDir, 'analysis');
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .map((d) => join(root, d))
    .filter((d) => statSync(d).isDirectory() && existsSync(join(d, 'subspace.json')))
    .sort();
}

/** The charts of one analysis (name, title, spec), in the order they are written and shown. */
export function subspaceChartSpecs(a: SubspaceAnalysis): { name: string; title: string; spec: TopLevelSpec }[] {
  const out: { name: string; title: string; spec: TopLevelSpec }[] = [];
  if (a.pair !== undefined) {
    for (const layer of [...new Set(a.pair.modules.filter((m) => m.grid !== undefined).map((m) => m.layer))]) {
      out.push({ name: `phi-pair-layer${layer}`, title: `φ between ${a.pair.labels.join(' and ')}, layer ${layer}`, spec: pairHeatmapSpec(a.pair, layer) });
    }
  }
  for (const c of a.checkpoints) {
    const s = slug(c.label);
    if (c.crossLayer.some((x) => x.layers.length > 1)) out.push({ name: `phi-layers-${s}`, title: `${c.label}: φ between layers`, spec: crossLayerSpec(c) });
    if (c.modules.some((m) => m.singularValues !== null)) out.push({ name: `spectrum-${s}`, title: `${c.label}: ΔW spectra, stable rank, norm`, spec: spectrumSpec(c) });
    const t7 = table7Spec(c);
    if (t7 !== undefined) out.push({ name: `table7-${s}`, title: `${c.label}: ΔW vs W (Table 7)`, spec: t7 });
  }
  return out;
}

/** Renders the charts of one analysis into `dir`; paths in the entries are relative to `base`. */
export async function subspaceCharts(a: SubspaceAnalysis, dir: string, base: string, out: ChartEntry[]): Promise<void> {
  for (const c of subspaceChartSpecs(a)) await emit(out, base, dir, `subspace: ${a.name}`, c.name, c.title, c.spec);
}

export async function buildCharts(folder: ResultsFolder, tables: TableModel[]): Promise<{ charts: ChartEntry[]; skipped: string[] }> {
  const charts: ChartEntry[] = [];
  const skipped: string[] = [];
  for (const t of tables) await tableCharts(folder, t, charts, skipped);
  for (const dir of listAnalyses(folder.dir)) await subspaceCharts(readAnalysis(join(dir, 'subspace.json')), dir, folder.dir, charts);
  mkdirSync(join(folder.dir, 'charts'), { recursive: true });
  writeFileSync(join(folder.dir, 'charts', 'charts.json'), JSON.stringify({ charts, skipped }, null, 1) + '\n');
  return { charts, skipped };
}
