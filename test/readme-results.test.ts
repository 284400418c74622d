/**
 * The README's results block (src/report/readme-results.ts, `lora-repro summary`): the guard that the
 * block in README.md is exactly what results/mini/table{2,3}.json give (issue 18), the rendering of
 * hand-made tables (cells with std, a cell without a value, the baseline row, a Table 3 column with two
 * decimals), the caption and verdict it reuses from tables built by the real table code, and
 * --write / --check on a temporary README (missing markers: exit 2; a stale block: exit 1).
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summaryCommand } from '../src/cli/commands/summary.ts';
import { EXIT_USER, reportError } from '../src/cli/error-boundary.ts';
import { toJson } from '../src/report/format-text.ts';
import { baselineVerdict, beginMarker, evidenceLines, currentBlock, endMarker, markerBody, protocolEssentials, renderResultsBlock, resultsBlockFrom } from '../src/report/readme-results.ts';
import { loadResults } from '../src/report/results.ts';
import { buildTable } from '../src/report/table-model.ts';
import { tableJsonSchema, type TableJson } from '../src/report/table-json.ts';
import type { RunBaseline } from '../src/train/result-schema.ts';
import { lineDiff } from '../src/util/line-diff.ts';
import { tempRoot, writeResultsFolder, type FixtureRun } from './helpers/results-fixture.ts';
import { skipBecause } from './helpers/skip.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('README results block: in sync with results/mini/', () => {
  it('README.md holds exactly the block `lora-repro summary --profile mini` renders from results/mini/table{2,3}.json', function () {
    const missing = ['table2.json', 'table3.json'].filter((f) => !existsSync(join(ROOT, 'results', 'mini', f)));
    if (missing.length > 0) {
      skipBecause(this, `results/mini/${missing.join(', ')} not in this checkout (make table2 / make table3 write them)`);
    }
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const now = currentBlock(readme, 'mini', 'README.md');
    const want = markerBody(resultsBlockFrom(join(ROOT, 'results', 'mini'), 'mini', 'results/mini'));
    const d = lineDiff(now, want);
    assert.ok(now === want, `README.md's results:mini block disagrees with results/mini/table*.json; run make readme-results:\n${d.lines.join('\n')}`);
  });
});

const run = (runId: string, seed: number, epoch: number) => ({ runId, seed, status: 'finished', value: 1, bestEpoch: epoch, reported: { split: 'dev', checkpoint: 'best', epoch } });

/** A hand-made Table 2 in the shape of table2.json: one row with std and a partly failed cell, one with a failed cell and a cell at the baseline. */
function table2(): TableJson {
  return tableJsonSchema.parse({
    table: 2,
    profile: 'mini',
    agg: 'median',
    columns: [
      { key: 'sst2', header: 'SST-2', scale: 100, decimals: 1 },
      { key: 'stsb', header: 'STS-B', scale: 100, decimals: 1 },
    ],
    hasAverage: true,
    rows: [
      {
        label: 'mini-roberta LoRA (r=8)',
        method: 'lora',
        model: 'mini-roberta',
        modelDescription: 'mini-roberta (d_model 128, 4 layers)',
        params: { display: '0.033M' },
        cells: [
          { column: 'sst2', value: 90.123, std: 1.26, n: 3, nFailed: 0, runs: [run('aaaa', 0, 3), run('bbbb', 1, 2), run('cccc', 2, 3)], vsBaseline: 'above' },
          { column: 'stsb', value: 50.04, std: 0.5, n: 2, nFailed: 1, runs: [run('dddd', 0, 1), { ...run('eeee', 1, 1), status: 'failed', value: undefined }, run('ffff', 2, 1)], vsBaseline: 'above' },
        ],
        avg: { column: 'avg', value: 70.0815, n: 2, nFailed: 0, runs: [], vsBaseline: 'above' },
      },
      {
        label: 'mini-roberta FT',
        method: 'ft',
        model: 'mini-roberta',
        modelDescription: 'mini-roberta (d_model 128, 4 layers)',
        params: { display: '0.8M' },
        cells: [
          { column: 'sst2', n: 0, nFailed: 3, runs: [], reason: 'all 3 run(s) failed (out of memory)' },
          { column: 'stsb', value: 0, std: 0, n: 3, nFailed: 0, runs: [], vsBaseline: 'equal' },
        ],
        avg: { column: 'avg', n: 1, nFailed: 0, runs: [], reason: 'needs all 2 columns (1 with a value)' },
      },
    ],
    baselines: [
      {
        label: 'Baseline (majority class / train mean)',
        cells: [
          { column: 'sst2', value: 51, distinct: [51] },
          { column: 'stsb', value: 0, distinct: [0] },
        ],
        avg: { column: 'avg', value: 25.5, distinct: [25.5] },
      },
    ],
    droppedColumns: ['CoLA', 'RTE'],
    caption: 'Table 2, profile "mini": mini-roberta (d_model 128, 4 layers); 3 seed(s) (0, 1, 2); each cell is the median over seeds ± sample std over seeds, then [paper value, Δ = ours − paper]. More.',
    footnotes: ['Baseline row: an untrained rule.', 'Not above baseline (…): 1 of the 5 cells with a value: mini-roberta FT / STS-B 0.0 = 0.0.', 'a parameter formula'],
    notes: [],
  });
}

describe('README results block: rendering', () => {
  it('Table 2: median ± std at the columns\' decimals, "(2/3 runs)", "(= baseline)", a failed cell as — with its reason below, the baseline row, the parameters', () => {
    const block = renderResultsBlock('mini', [table2()], 'results/mini');
    const lines = block.split('\n');
    const at = lines.indexOf('| Model & Method | # Trainable Parameters | SST-2 | STS-B | Avg. |');
    assert.ok(at >= 0, block);
    assert.deepEqual(lines.slice(at + 1, at + 5), [
      '|---|---:|---:|---:|---:|',
      '| mini-roberta LoRA (r=8) | 0.033M | 90.1 ± 1.3 | 50.0 ± 0.5 (2/3 runs) | 70.1 |',
      '| mini-roberta FT | 0.8M | — | 0.0 ± 0.0 (= baseline) | — |',
      '| Baseline (majority class / train mean) | — (not trained) | 51.0 | 0.0 | 25.5 |',
    ]);
    // The caption up to the paper's part, the columns the profile leaves out, the table's own verdict.
    assert.ok(
      lines.includes(
        'Table 2, profile "mini": mini-roberta (d_model 128, 4 layers); 3 seed(s) (0, 1, 2); each cell is the median over seeds ± sample std over seeds. Not run in this profile: CoLA, RTE. Not above baseline (…): 1 of the 5 cells with a value: mini-roberta FT / STS-B 0.0 = 0.0.',
      ),
      block,
    );
    assert.ok(lines.includes('Cells without a value (—): mini-roberta FT / SST-2: all 3 run(s) failed (out of memory).'), block);
    assert.ok(!block.includes('needs all 2 columns'), 'a missing average is said once, at its column');
    assert.ok(lines.includes('- mini-roberta LoRA (r=8) / SST-2: seed 0 `aaaa` (best epoch 3 on dev); seed 1 `bbbb` (best epoch 2 on dev); seed 2 `cccc` (best epoch 3 on dev)'), block);
    assert.ok(lines.includes('- mini-roberta LoRA (r=8) / STS-B: seed 0 `dddd` (best epoch 1 on dev); seed 1 `eeee` (failed); seed 2 `ffff` (best epoch 1 on dev)'), block);
    assert.ok(block.includes('The 6 run(s) behind Table 2'), block);
    assert.ok(block.includes('[results/mini/table2.md](results/mini/table2.md)'), block);
    assert.ok(!/paper value|a parameter formula/.test(block), 'the paper\'s values and the formulas stay in table2.md');
  });

  it('evidence: cells above the baseline by more than 2 seed std counted by hand, the others named by column; LoRA\'s average beside FT\'s', () => {
    const t = table2();
    // SST-2 LoRA 90.123 − 51 > 2·1.26: clears; STS-B LoRA 50.04 − 0 > 2·0.5: clears; FT STS-B 0 − 0: does not
    // (FT SST-2 has no value). No FT average: no comparison line.
    assert.deepEqual(evidenceLines(t), ['Above the baseline by more than 2 standard deviations of the seeds: 2 of 3 cells; not: STS-B (mini-roberta FT).']);
    const ftRow = t.rows[1];
    ftRow.avg = { column: 'avg', value: 72.5, n: 2, nFailed: 0, runs: [] };
    // A cell whose margin is exactly 2 std does not clear ("more than").
    t.rows[0].cells[1] = { ...t.rows[0].cells[1], value: 1, std: 0.5 };
    assert.deepEqual(evidenceLines(t), [
      'Above the baseline by more than 2 standard deviations of the seeds: 1 of 3 cells; not: STS-B (every row).',
      'LoRA\'s average over the 2 task columns: 70.1 against full fine-tuning\'s 72.5 (−2.4 points).',
    ]);
    assert.ok(renderResultsBlock('mini', [t], 'results/mini').includes('1 of 3 cells; not: STS-B (every row).'));
    // A second model's FT and LoRA rows (Table 2's DeBERTa): each LoRA is compared with its own model's FT.
    const other = (row: (typeof t.rows)[number], avg: number) => ({ ...row, model: 'mini-deberta', modelDescription: 'mini-deberta (d_model 128, 4 layers)', avg: { column: 'avg', value: avg, n: 2, nFailed: 0, runs: [] } });
    t.rows.push(other(t.rows[1], 60), other(t.rows[0], 61.25));
    assert.deepEqual(evidenceLines(t).slice(1), [
      'LoRA\'s average over the 2 task columns (mini-roberta (d_model 128, 4 layers)): 70.1 against full fine-tuning\'s 72.5 (−2.4 points).',
      'LoRA\'s average over the 2 task columns (mini-deberta (d_model 128, 4 layers)): 61.3 against full fine-tuning\'s 60.0 (+1.3 points).',
    ]);
  });

  it('Table 3: each column at its own decimals (NIST two), one run line per row, the whole caption when its paper part is not found', () => {
    const t3 = tableJsonSchema.parse({
      table: 3,
      profile: 'mini',
      agg: 'mean',
      columns: [
        { key: 'BLEU', header: 'BLEU', scale: 100, decimals: 1 },
        { key: 'NIST', header: 'NIST', scale: 1, decimals: 2 },
      ],
      hasAverage: false,
      rows: [
        {
          label: 'mini-gpt2 LoRA',
          method: 'lora',
          model: 'mini-gpt2',
          modelDescription: 'mini-gpt2',
          task: 'e2e',
          params: { display: '0.066M' },
          cells: [
            { column: 'BLEU', value: 64.6223, std: 1.5993, n: 3, nFailed: 0, runs: [run('r0', 0, 2), run('r1', 1, 3)] },
            { column: 'NIST', value: 7.6017, std: 0.131, n: 3, nFailed: 0, runs: [run('r0', 0, 2), run('r1', 1, 3)] },
          ],
        },
      ],
      baselines: [{ label: 'Baseline (copy input)', task: 'e2e', cells: [{ column: 'BLEU', value: 9.8577, distinct: [9.8577] }, { column: 'NIST', value: 3.4991, distinct: [3.4991] }] }],
      droppedColumns: [],
      caption: 'A caption in another wording.',
      footnotes: [],
      notes: ['runs.csv lists 1 run without a result file'],
    });
    const lines = renderResultsBlock('mini', [t3], 'results/mini').split('\n');
    assert.ok(lines.includes('| mini-gpt2 LoRA | 0.066M | 64.6 ± 1.6 | 7.60 ± 0.13 |'), lines.join('\n'));
    assert.ok(lines.includes('| Baseline (copy input) | — (not trained) | 9.9 | 3.50 |'), lines.join('\n'));
    assert.ok(lines.includes('A caption in another wording.'), lines.join('\n'));
    assert.ok(lines.includes('- mini-gpt2 LoRA: seed 0 `r0` (best epoch 2 on dev); seed 1 `r1` (best epoch 3 on dev)'), lines.join('\n'));
    assert.ok(lines.includes('- Results folder: runs.csv lists 1 run without a result file'), lines.join('\n'));
  });
});

const majority = (accuracy: number): RunBaseline => ({ kind: 'majority', description: 'majority class', metrics: { accuracy } });
const copy: RunBaseline = { kind: 'copy-input', description: 'copy input', metrics: { BLEU: 0.1, NIST: 3.5, METEOR: 0.35, ROUGE_L: 0.45, CIDEr: 0.7 } };

describe('README results block: the tables the table code writes', () => {
  it('table2.json / table3.json as buildTable writes them validate, and their captions and verdicts are found', () => {
    const lim = { trainLimit: 2000, evalLimit: 300 };
    const runs: FixtureRun[] = [
      ...[0.58, 0.59, 0.6].map((accuracy, seed) => ({ model: 'mini-roberta', method: 'lora', methodConfig: { r: 8, alpha: 16, targets: ['q', 'v'] }, task: 'sst2', seed, metrics: { accuracy }, baseline: majority(0.51), ...lim, counted: 1, formula: 1 })),
      ...[0.3, 0.32].map((BLEU, seed) => ({ model: 'mini-gpt2', method: 'lora', methodConfig: { r: 4, alpha: 32, targets: ['q', 'v'] }, task: 'e2e', seed, headlineMetric: 'BLEU', metrics: { BLEU, NIST: 4, METEOR: 0.3, ROUGE_L: 0.5, CIDEr: 0.8 }, baseline: copy, trainLimit: 3000, evalLimit: 50, counted: 1, formula: 1 })),
    ];
    const root = tempRoot();
    const { dir } = writeResultsFolder(root, 'mini', runs);
    const folder = loadResults(dir, 'mini');
    for (const n of [2, 3] as const) {
      const t = tableJsonSchema.parse(JSON.parse(toJson(buildTable(n, folder))));
      const essentials = protocolEssentials(t.caption);
      assert.notEqual(essentials, t.caption, `Table ${n}'s caption no longer has ", then [paper value": update protocolEssentials`);
      assert.match(essentials, new RegExp(`^Table ${n}, profile "mini": .*subsampled: .*seed\\(s\\).*sample std over seeds\\.$`));
      assert.ok(baselineVerdict(t.footnotes), `Table ${n}: no baseline verdict among ${JSON.stringify(t.footnotes)}`);
    }
  });
});

/** Runs `lora-repro summary` in-process as the CLI does (its error boundary gives the exit code), capturing stdout. */
async function summary(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const write = process.stdout.write.bind(process.stdout);
  const error = console.error;
  let out = '';
  let err = '';
  process.stdout.write = ((s: string | Uint8Array) => ((out += String(s)), true)) as typeof process.stdout.write;
  console.error = (...a: unknown[]) => void (err += `${a.join(' ')}\n`);
  try {
    const code = await summaryCommand.run(argv).catch((e: unknown) => reportError(e, 'summary'));
    return { code, out, err };
  } finally {
    process.stdout.write = write;
    console.error = error;
  }
}

describe('lora-repro summary --write / --check', () => {
  let root: string;
  let readme: string;
  const flags = () => ['--results', join(root, 'results'), '--profile', 'mini'];

  beforeEach(() => {
    root = tempRoot();
    mkdirSync(join(root, 'results', 'mini'), { recursive: true });
    const t2 = table2();
    writeFileSync(join(root, 'results', 'mini', 'table2.json'), JSON.stringify(t2));
    writeFileSync(join(root, 'results', 'mini', 'table3.json'), JSON.stringify({ ...t2, table: 3, hasAverage: false, droppedColumns: [], rows: [], baselines: [] }));
    readme = join(root, 'README.md');
  });

  it('--write fills the markers and keeps the text around them; --check then passes; an edited number fails --check with a diff (exit 1)', async () => {
    writeFileSync(readme, `# Title\n\nBefore.\n\n${beginMarker('mini')}\nold, hand-typed 99.9\n${endMarker('mini')}\n\nAfter.\n`);
    const w = await summary([...flags(), '--write', readme]);
    assert.equal(w.code, 0, w.err);
    const text = readFileSync(readme, 'utf8');
    const printed = await summary(flags());
    assert.equal(printed.code, 0, printed.err);
    assert.equal(text, `# Title\n\nBefore.\n\n${beginMarker('mini')}\n${printed.out}${endMarker('mini')}\n\nAfter.\n`);
    assert.ok(printed.out.includes('| mini-roberta LoRA (r=8) | 0.033M | 90.1 ± 1.3 |'), printed.out);
    assert.equal((await summary([...flags(), '--check', readme])).code, 0);
    writeFileSync(readme, text.replace('90.1 ± 1.3', '91.0 ± 1.3'));
    const c = await summary([...flags(), '--check', readme]);
    assert.equal(c.code, 1, c.err);
    assert.match(c.out, /^--- .*README\.md \(results:mini block\)\n\+\+\+ /);
    assert.match(c.out, /\n-\| mini-roberta LoRA \(r=8\) \| 0\.033M \| 91\.0 ± 1\.3 .*\n\+\| mini-roberta LoRA \(r=8\) \| 0\.033M \| 90\.1 ± 1\.3 /);
    assert.match(c.err, /differs .*1 line\(s\) only in .*1 only in the results.*make readme-results/);
  });

  it('missing markers, --write and --check together, or a missing table file: one line, exit 2', async () => {
    writeFileSync(readme, '# No markers here\n');
    for (const mode of ['--write', '--check']) {
      const r = await summary([...flags(), mode, readme]);
      assert.equal(r.code, EXIT_USER);
      assert.match(r.err, /README\.md: no <!-- results:mini:begin --> marker; put the lines <!-- results:mini:begin --> and <!-- results:mini:end -->/);
      assert.equal(r.err.trim().split('\n').length, 1, r.err);
    }
    assert.equal(readFileSync(readme, 'utf8'), '# No markers here\n', 'left as it was');
    writeFileSync(readme, `${endMarker('mini')}\n${beginMarker('mini')}\n`);
    assert.match((await summary([...flags(), '--write', readme])).err, /comes before/);
    assert.equal((await summary([...flags(), '--write', readme, '--check', readme])).code, EXIT_USER);
    const none = await summary(['--results', join(root, 'nothing'), '--profile', 'mini']);
    assert.equal(none.code, EXIT_USER);
    assert.match(none.err, /table2\.json: not found; write it with lora-repro table 2 --profile mini/);
  });
});

describe('lineDiff', () => {
  it('hunks with context, counts of removed and added lines; nothing for equal texts', () => {
    assert.deepEqual(lineDiff('a\nb\nc', 'a\nb\nc').lines, []);
    const d = lineDiff('1\n2\n3\n4\n5\n6\n7\n8\n9', '1\n2\n3\nfour\n5\n6\n7\n8\n9\nten', 1);
    assert.deepEqual(d.lines, ['@@ -3,3 +3,3 @@', ' 3', '-4', '+four', ' 5', '@@ -9,1 +9,2 @@', ' 9', '+ten']);
    assert.equal(d.removed, 1);
    assert.equal(d.added, 2);
    // With the 10 lines before the texts in their file: its line numbers.
    assert.deepEqual(lineDiff('a\nb', 'a\nc', 0, 10).lines, ['@@ -12,1 +12,1 @@', '-b', '+c']);
  });
});
