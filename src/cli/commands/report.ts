/** `lora-repro report`: tables, charts and analyses of a profile on one static page, results/<profile>/report.html. */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCharts, listAnalyses, readAnalysis } from '../../report/charts/build.ts';
import { reportHtml } from '../../report/html.ts';
import { writeTables } from '../../report/tables.ts';
import { parseProfileArgs } from '../profile-args.ts';
import type { Command } from '../command.ts';

export const reportCommand: Command = {
  name: 'report',
  summary: 'static HTML report of a profile: tables, charts, subspace analyses, MLflow links (results/<profile>/report.html)',
  usage: [
    'Usage: lora-repro report [--profile P] [--results DIR] [--agg mean|median] [--data-dir DIR]',
    '',
    'Writes Tables 2 and 3 in every format, renders every chart, and puts them with the subspace analyses',
    '(<results>/<profile>/analysis/*) and links to the MLflow runs on one static page,',
    '<results>/<profile>/report.html (images by relative path: keep the folder together).',
  ].join('\n'),
  async run(argv) {
    const { folder, agg, dataDir } = parseProfileArgs('report', argv);
    const { dir, profile } = folder;
    const tables = ([2, 3] as const).map((t) => writeTables(folder, t, { agg, withRuns: true, dataDir }).model);
    const { charts, skipped } = await buildCharts(folder, tables);
    const analyses = listAnalyses(dir).map((d) => readAnalysis(join(d, 'subspace.json')));
    // The study pages `lora-repro analyze section7|intrinsic` write into this folder (make section7 / intrinsic).
    const pages = [
      { title: 'Section 7 (Tables 5-7, Figures 3-4)', href: 'section7.html' },
      { title: 'Intrinsic dimension', href: 'intrinsic.html' },
    ].filter((p) => existsSync(join(dir, p.href)));
    const html = reportHtml({ profile, tables, charts, chartsSkipped: skipped, analyses, runs: folder.runs, generatedAt: new Date().toISOString(), pages });
    const out = join(dir, 'report.html');
    writeFileSync(out, html);
    console.log(out);
    console.error(`${tables.reduce((s, t) => s + t.rows.length, 0)} table row(s), ${charts.length} chart(s), ${analyses.length} analysis/analyses`);
    return 0;
  },
};
