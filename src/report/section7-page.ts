/**
 * `lora-repro analyze section7`: from the section7 spec's runs in one results folder, the analyses
 * (section7-analysis.ts), the model (section7.ts), section7.{json,md,tex,csv}, the charts (SVG + PNG
 * in charts/), the figures' subspace.json (analysis/section7-…/) and the page section7.html, in `out`
 * (default: the runs' profile folder; `make section7` writes them beside Tables 2/3's, results/<profile>/).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { UserError } from '../util/errors.ts';
import type { ChartEntry } from './charts/build.ts';
import { writeChart } from './charts/render.ts';
import type { ResultsFolder } from './results.ts';
import { analyseSection7 } from './section7-analysis.ts';
import { figureSpec, table5Spec, table6Spec, table7Spec } from './section7-charts.ts';
import { captionOf, section7Csv, section7Markdown, section7Tables, section7Tex, taskName } from './section7-format.ts';
import { studyPageHtml } from './section7-html.ts';
import { scoredRuns } from './section7-runs.ts';
import { buildSection7, type Section7Model } from './section7.ts';

/** Renders one chart into <outDir>/charts/ and records it for the page (paths relative to outDir). */
export async function emitChart(outDir: string, out: ChartEntry[], group: string, name: string, chartTitle: string, spec: TopLevelSpec): Promise<void> {
  const w = await writeChart(join(outDir, 'charts'), name, spec);
  out.push({ group, name, title: chartTitle, svg: relative(outDir, w.svgPath), png: relative(outDir, w.pngPath), width: w.width, height: w.height, ms: w.ms });
}

export interface WrittenStudy<M> {
  model: M;
  files: string[];
  charts: ChartEntry[];
}

/** Writes `<name>.<format>` in `outDir` for each format given (a study's json, md, tex, csv, then html); the paths, in that order. */
export function writeStudyFiles(outDir: string, name: string, texts: Record<string, string>): string[] {
  return Object.entries(texts).map(([format, text]) => {
    const file = join(outDir, `${name}.${format}`);
    writeFileSync(file, text);
    return file;
  });
}

export async function writeSection7(folder: ResultsFolder, opts: { out?: string; log?: (line: string) => void } = {}): Promise<WrittenStudy<Section7Model>> {
  const outDir = opts.out ?? folder.dir;
  mkdirSync(outDir, { recursive: true });
  const runs = scoredRuns(folder, 'section7');
  if (runs.length === 0) {
    throw new UserError(`${folder.dir}: no runs of experiment 'section7'; run 'lora-repro run experiments/section7.yaml --profile ${folder.profile} --results ${join(folder.dir, '..')}' first (or make section7)`);
  }
  const lora = runs.filter((r) => r.method === 'lora');
  const analyses = analyseSection7(outDir, lora, opts.log);
  const model = buildSection7(folder.profile, lora, analyses, outDir);
  const files = writeStudyFiles(outDir, 'section7', {
    json: JSON.stringify(model, null, 1) + '\n',
    md: section7Markdown(model),
    tex: section7Tex(model),
    csv: section7Csv(model),
  });

  const charts: ChartEntry[] = [];
  const g = 'section 7';
  if (model.table5.some((r) => r.cells.some((c) => c.mean !== undefined))) await emitChart(outDir, charts, g, 'section7-table5', 'Table 5: weight types at one budget', table5Spec(model, lora));
  if (model.table6.some((r) => r.cells.some((c) => c.mean !== undefined))) await emitChart(outDir, charts, g, 'section7-table6', 'Table 6: score against r', table6Spec(model));
  for (const f of analyses.figures) {
    const fig = f.comparison === 'ranks' ? 'Figure 3' : 'Figure 4';
    await emitChart(outDir, charts, g, `section7-${f.comparison === 'ranks' ? 'figure3' : 'figure4'}-${f.task}`, `${fig}: ${taskName(f.task)}, ${f.what}`, figureSpec(model, f));
  }
  if (model.table7.length > 0) await emitChart(outDir, charts, g, 'section7-table7', 'Table 7: ΔW against W per layer', table7Spec(model));

  files.push(
    ...writeStudyFiles(outDir, 'section7', {
      html: studyPageHtml({
        title: `Paper Section 7 from our runs: profile “${folder.profile}”`,
        caption: captionOf(model),
        tables: section7Tables(model),
        charts,
        closing: {
          heading: 'The paper’s findings beside ours',
          items: model.findings.map((f) => ({ head: `${f.verdict.toUpperCase()}: ${f.paper}`, lines: f.ours.length > 0 ? f.ours : ['no runs for it in this profile'] })),
          footer: 'Within seed noise: a difference within 2 standard errors of the two means, from the seed std pooled over the table row. Top direction shared: φ(1,1) > 0.5 (the paper’s reading of Figure 3), above chance at 10× its random expectation; directions 2–8 random-like: φ within twice their random expectation. Reproduced: every comparison as the paper; partly: some.',
        },
        notes: [...model.skipped, ...folder.notes],
        generatedAt: model.generatedAt,
      }),
    }),
  );
  return { model, files, charts };
}
