/** `lora-repro report`: tables, charts and analyses of a profile on one static page, results/<profile>/report.html. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AGGS, type Agg } from '../../report/aggregate.ts';
import { buildCharts, listAnalyses, readAnalysis } from '../../report/charts/build.ts';
import { reportHtml } from '../../report/html.ts';
import { loadResults, resolveProfile } from '../../report/results.ts';
import { optionalDataDir, writeTables } from '../../report/tables.ts';
import { UserError } from '../../util/errors.ts';
import { parseCommandArgs } from '../args.ts';
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
    const { values, positionals } = parseCommandArgs(argv, {
      profile: { type: 'string' },
      results: { type: 'string', default: 'results' },
      agg: { type: 'string' },
      'data-dir': { type: 'string' },
    });
    if (positionals.length > 0) throw new UserError(`report takes no positional arguments (got '${positionals.join(' ')}')`);
    if (values.agg !== undefined && !AGGS.includes(values.agg as Agg)) throw new UserError(`--agg must be mean or median, got '${values.agg}'`);
    const { dir, profile } = resolveProfile(values.results as string, values.profile);
    const folder = loadResults(dir, profile);
    const dataDir = optionalDataDir(values['data-dir']);
    const tables = ([2, 3] as const).map((t) => writeTables(folder, t, { agg: values.agg as Agg | undefined, withRuns: true, dataDir }).model);
    const { charts, skipped } = await buildCharts(folder, tables);
    const analyses = listAnalyses(dir).map((d) => readAnalysis(join(d, 'subspace.json')));
    const html = reportHtml({ profile, tables, charts, chartsSkipped: skipped, analyses, runs: folder.runs, generatedAt: new Date().toISOString() });
    const out = join(dir, 'report.html');
    writeFileSync(out, html);
    console.log(out);
    console.error(`${tables.reduce((s, t) => s + t.rows.length, 0)} table row(s), ${charts.length} chart(s), ${analyses.length} analysis/analyses`);
    return 0;
  },
};
