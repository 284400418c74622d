/** `lora-repro table 2|3`: the paper's Table 2 (GLUE) or 3 (E2E) rebuilt from our runs, beside the paper's numbers. */
import { UserError } from '../../util/errors.ts';
import { AGGS, type Agg } from '../../report/aggregate.ts';
import { loadResults, resolveProfile } from '../../report/results.ts';
import { buildSamples, DEFAULT_SAMPLES, SAMPLES_FILE, writeSamples } from '../../report/notebook-samples.ts';
import { optionalDataDir, renderTable, TABLE_FORMATS, type TableFormat, writeTables } from '../../report/tables.ts';
import { intFlag, parseCommandArgs } from '../args.ts';
import type { Command } from '../command.ts';

export const tableCommand: Command = {
  name: 'table',
  summary: "the paper's Table 2 or 3 from results/<profile>/ (table 2|3 [--profile P] [--format md|tex|csv|json])",
  usage: [
    'Usage: lora-repro table 2|3 [--profile P] [--results DIR] [--format md|tex|csv|json] [--agg mean|median] [--with-runs] [--data-dir DIR] [--spec FILE] [--samples N]',
    '',
    "Rebuilds the paper's Table 2 (GLUE, RoBERTa) or Table 3 (E2E, GPT-2) from the runs in",
    '<results>/<profile>/runs/*.json: rows = model × method with the trainable-parameter count, columns =',
    'tasks + average (Table 2) or BLEU, NIST, METEOR, ROUGE-L, CIDEr (Table 3), each cell aggregated over',
    "seeds (each run at its best epoch) with the paper's value and our difference beside it, and a",
    'baseline row (majority class / train mean / copy input on the same evaluation examples) with every',
    'cell not above it marked. Writes',
    'table<N>.md, .tex, .csv and .json to <results>/<profile>/ and prints the chosen format.',
    '  --profile    results profile (default: the only one under --results)',
    '  --results    results root (default: results)',
    '  --format     what to print: md (default), tex, csv or json',
    '  --agg        median (Table 2 default, the paper\'s GLUE rule) or mean (Table 3 default)',
    '  --with-runs  list the run ids (and MLflow links) behind every number',
    '  --data-dir   data directory, to say which cells lack task data (default: as for training)',
    "  --spec       Table 2: the spec whose profile says which task columns to show (default:",
    '               experiments/table<N>.yaml when it defines the profile; otherwise all columns)',
    `  --samples    Table 3: also write ${SAMPLES_FILE}, N MRs (default ${DEFAULT_SAMPLES}, 0: none) with their`,
    "               references and every run's output (for notebooks/table3.ipynb; src/report/notebook-samples.ts)",
  ].join('\n'),
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      profile: { type: 'string' },
      results: { type: 'string', default: 'results' },
      format: { type: 'string', default: 'md' },
      agg: { type: 'string' },
      'with-runs': { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
      spec: { type: 'string' },
      samples: { type: 'string' },
    });
    if (positionals.length !== 1 || (positionals[0] !== '2' && positionals[0] !== '3')) throw new UserError('give the table number: lora-repro table 2 or lora-repro table 3');
    const table = Number(positionals[0]) as 2 | 3;
    const format = values.format as TableFormat;
    if (!TABLE_FORMATS.includes(format)) throw new UserError(`--format must be one of ${TABLE_FORMATS.join(', ')}, got '${values.format}'`);
    if (values.agg !== undefined && !AGGS.includes(values.agg as Agg)) throw new UserError(`--agg must be mean or median, got '${values.agg}'`);
    const { dir, profile } = resolveProfile(values.results as string, values.profile);
    const folder = loadResults(dir, profile);
    const samples = intFlag('samples', values.samples, DEFAULT_SAMPLES);
    const dataDir = optionalDataDir(values['data-dir']);
    const { model, files, kept } = writeTables(folder, table, { agg: values.agg as Agg | undefined, withRuns: values['with-runs'], dataDir, spec: values.spec });
    process.stdout.write(renderTable(model, format));
    const written = `${files.md.replace(/\.md$/, '')}.{md,tex,csv,json}`;
    console.error(kept ? `kept ${written}: no runs of Table ${table} in ${dir} (${folder.runs.length} run file(s) read)` : `wrote ${written} (${model.rows.length} row(s), ${folder.runs.length} run file(s) read)`);
    const s = table === 3 && samples > 0 ? buildSamples(folder, model, { count: samples, dataDir, command: `lora-repro table 3 --profile ${profile} --samples ${samples}` }) : undefined;
    if (s !== undefined) console.error(`wrote ${writeSamples(dir, s)} (${s.samples.length} of ${s.evalSize} MRs${s.mrNote !== undefined ? `; ${s.mrNote}` : ''})`);
    return 0;
  },
};
