/**
 * What of paper Section 7 a results profile holds, for notebooks/subspace.ipynb:
 * - `lora-repro analyze subspace` outputs: results/<profile>/analysis/<name>/subspace.json, shown
 *   through the same chart specs the command renders (charts/build.ts subspaceChartSpecs);
 * - the Section 7 study and the rank sweep / intrinsic-dimension work: every `section7*` or
 *   `intrinsic*` entry of the profile folder (files, or folders searched below) and their charts
 *   in charts/. Their charts are read as written (`<name>.vl.json` beside `<name>.png`,
 *   charts/render.ts writeChart), so any chart those commands add shows up without code here.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import type { SubspaceAnalysis } from '../analysis/analysis-schema.ts';
import { listAnalyses, readAnalysis } from './charts/build.ts';
import { Display, forJupyter, markdown, VEGALITE_MIME, type ProfileDir } from './notebook.ts';

const STUDY_PREFIXES = ['section7', 'intrinsic'];

export interface StudyChart {
  /** Path of the .vl.json, relative to the profile folder. */
  file: string;
  name: string;
  /** The kind of result, from the chart's name (what the notebook groups by). */
  kind: 'rank sweep' | 'intrinsic dimension' | 'section 7';
}

export interface Section7Inventory {
  analyses: { name: string; file: string; analysis: SubspaceAnalysis }[];
  /** Every section7* / intrinsic* file (relative to the profile folder), folders expanded. */
  files: string[];
  charts: StudyChart[];
  /** section7*.md / intrinsic*.md: the tables those commands write. */
  tables: string[];
}

function isStudy(name: string): boolean {
  return STUDY_PREFIXES.some((p) => name.startsWith(p));
}

function walk(dir: string, depth = 0): string[] {
  if (!statSync(dir).isDirectory()) return [dir];
  if (depth > 4) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((e) => walk(join(dir, e), depth + 1));
}

function kindOf(name: string): StudyChart['kind'] {
  if (/intrinsic/.test(name)) return 'intrinsic dimension';
  // Table 6 of the paper is the score against r: the rank sweep.
  if (/table6|rank-sweep|ranks?-/.test(name)) return 'rank sweep';
  return 'section 7';
}

export function section7Inventory(p: ProfileDir): Section7Inventory {
  const analyses = listAnalyses(p.dir).map((d) => ({ name: basename(d), file: join(d, 'subspace.json'), analysis: readAnalysis(join(d, 'subspace.json')) }));
  const entries = existsSync(p.dir) ? readdirSync(p.dir).filter(isStudy).sort() : [];
  const chartsDir = join(p.dir, 'charts');
  const chartFiles = existsSync(chartsDir) ? readdirSync(chartsDir).filter((f) => isStudy(f)).map((f) => join(chartsDir, f)) : [];
  const files = [...entries.flatMap((e) => walk(join(p.dir, e))), ...chartFiles].map((f) => relative(p.dir, f));
  const charts = files
    .filter((f) => f.endsWith('.vl.json'))
    .map((f) => {
      const name = basename(f, '.vl.json');
      return { file: f, name, kind: kindOf(name) };
    });
  const tables = files.filter((f) => !f.includes('/') && f.endsWith('.md'));
  return { analyses, files, charts, tables };
}

/** One line: what there is, or (when nothing) that the cells below skip and how to make results. */
export function inventoryLine(p: ProfileDir, inv: Section7Inventory): string {
  if (inv.analyses.length === 0 && inv.files.length === 0) {
    return `No Section 7 results in ${p.dir} (no analysis/*/subspace.json, no section7*/intrinsic* files): \`lora-repro analyze subspace --a CKPT --profile ${p.profile}\` (or \`make analyze-real\`) writes them; the cells below skip.`;
  }
  const kinds = (k: StudyChart['kind']): number => inv.charts.filter((c) => c.kind === k).length;
  return `Section 7 in ${p.dir}: ${inv.analyses.length} subspace analys${inv.analyses.length === 1 ? 'is' : 'es'} (${inv.analyses.map((a) => a.name).join(', ') || 'none'}), ${inv.files.length} section7*/intrinsic* files, charts: ${kinds('section 7')} Section 7, ${kinds('rank sweep')} rank sweep, ${kinds('intrinsic dimension')} intrinsic dimension.`;
}

/** A chart as written by writeChart: its spec, and its PNG when one lies beside it. */
export function writtenChart(p: ProfileDir, c: StudyChart): Display {
  const specFile = join(p.dir, c.file);
  const spec = JSON.parse(readFileSync(specFile, 'utf8')) as TopLevelSpec;
  const png = specFile.replace(/\.vl\.json$/, '.png');
  return new Display({
    [VEGALITE_MIME]: forJupyter(spec),
    ...(existsSync(png) ? { 'image/png': readFileSync(png).toString('base64') } : {}),
    'text/plain': `<chart: ${c.file}>`,
  });
}

/** A table file of the study (section7*.md), as Markdown. */
export function studyTable(p: ProfileDir, file: string): Display {
  return markdown(readFileSync(join(p.dir, file), 'utf8'));
}
