/**
 * The baseline row of Tables 2 and 3 (src/report/baseline-row.ts) from the baselines the runs
 * recorded, the marks on cells not above it, its lines in every format, results written before
 * baselines existed, and Table 2 narrowed to the task columns of the spec's profile.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCsv } from '../src/util/csv.ts';
import { toTex } from '../src/report/format-tex.ts';
import { TABLE_CSV_COLUMNS, toCsv, toJson, toMarkdown } from '../src/report/format-text.ts';
import { tableHtml } from '../src/report/html.ts';
import { profileTasks } from '../src/report/profile-tasks.ts';
import { loadResults, readRunFile } from '../src/report/results.ts';
import { buildTable, type Cell, type TableModel } from '../src/report/table-model.ts';
import type { RunBaseline } from '../src/train/result-schema.ts';
import { UserError } from '../src/util/errors.ts';
import { tempRoot, writeResultsFolder, type FixtureRun } from './helpers/results-fixture.ts';
import { commandOrSkip } from './helpers/skip.ts';

const BIN = fileURLToPath(new URL('../bin/lora-repro.mjs', import.meta.url));
const close = (a: number | undefined, b: number, tol = 1e-9) => assert.ok(a !== undefined && Math.abs(a - b) < tol, `${a} ≈ ${b}`);

const LORA = { model: 'roberta-base', method: 'lora', methodConfig: { r: 8, alpha: 16, targets: ['q', 'v'] }, counted: 294912 };
const FT = { model: 'roberta-base', method: 'ft', counted: 124055040 };
const majority = (metrics: Record<string, number>): RunBaseline => ({ kind: 'majority', description: 'majority class: always class 1', metrics, prediction: 1 });
const seeds = (base: Omit<FixtureRun, 'seed'>, values: Record<string, number>[]): FixtureRun[] => values.map((metrics, seed) => ({ ...base, seed, metrics }));

/**
 * MRPC baseline 70% (LoRA exactly at it, FT above); CoLA baseline MCC 0 (LoRA at it, FT −0.02
 * below); STS-B train mean (0) under LoRA's .5; SST-2 baselines that disagree between rows (.51 for
 * LoRA's runs, .49 for FT's: median 50.0); RTE from before baselines were recorded.
 */
function table2Runs(): FixtureRun[] {
  const mrpcB = majority({ accuracy: 0.7, f1: 0.82 });
  const colaB = majority({ matthews: 0 });
  const stsbB: RunBaseline = { kind: 'mean', description: 'train mean', metrics: { pearson: 0, spearman: 0 }, prediction: 2.7 };
  return [
    ...seeds({ ...LORA, task: 'mrpc', baseline: mrpcB }, [{ accuracy: 0.7, f1: 0.82 }, { accuracy: 0.7, f1: 0.82 }, { accuracy: 0.7, f1: 0.82 }]),
    ...seeds({ ...FT, task: 'mrpc', baseline: mrpcB }, [{ accuracy: 0.8 }, { accuracy: 0.82 }, { accuracy: 0.84 }]),
    ...seeds({ ...LORA, task: 'cola', baseline: colaB, headlineMetric: 'matthews' }, [{ matthews: 0 }, { matthews: 0 }]),
    ...seeds({ ...FT, task: 'cola', baseline: colaB, headlineMetric: 'matthews' }, [{ matthews: -0.02 }, { matthews: -0.02 }]),
    ...seeds({ ...LORA, task: 'stsb', baseline: stsbB, headlineMetric: 'pearson' }, [{ pearson: 0.5, spearman: 0.4 }, { pearson: 0.52, spearman: 0.4 }]),
    ...seeds({ ...LORA, task: 'sst2', baseline: majority({ accuracy: 0.51 }) }, [{ accuracy: 0.6 }, { accuracy: 0.6 }, { accuracy: 0.6 }]),
    ...seeds({ ...FT, task: 'sst2', baseline: majority({ accuracy: 0.49 }) }, [{ accuracy: 0.7 }, { accuracy: 0.7 }, { accuracy: 0.7 }]),
    ...seeds({ ...LORA, task: 'rte' }, [{ accuracy: 0.6 }]),
  ];
}

function cellOf(t: TableModel, label: string, header: string): Cell {
  const row = t.rows.find((r) => r.label === label)!;
  assert.ok(row, `row ${label} in ${t.rows.map((r) => r.label).join(', ')}`);
  return header === 'Avg.' ? row.avg! : row.cells[t.columns.findIndex((c) => c.header === header)];
}

function baselineOf(t: TableModel, header: string, i = 0) {
  const b = t.baselines[i];
  return header === 'Avg.' ? b.avg! : b.cells[t.columns.findIndex((c) => c.header === header)];
}

describe('table: the baseline row', () => {
  let root: string;
  let t2: TableModel;
  before(() => {
    root = tempRoot();
    const { dir } = writeResultsFolder(root, 'fx', table2Runs());
    t2 = buildTable(2, loadResults(dir, 'fx'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('one row under the methods, each cell the recorded baseline of the column\'s runs ×100', () => {
    assert.equal(t2.baselines.length, 1);
    const b = t2.baselines[0];
    assert.equal(b.kind, 'baseline');
    assert.equal(b.label, 'Baseline (majority class / train mean)');
    close(baselineOf(t2, 'MRPC').value, 70);
    assert.equal(baselineOf(t2, 'MRPC').n, 6);
    close(baselineOf(t2, 'CoLA').value, 0);
    close(baselineOf(t2, 'STS-B').value, 0);
    assert.equal(baselineOf(t2, 'MNLI').reason, 'no finished runs');
    assert.match(baselineOf(t2, 'Avg.').reason!, /^needs all 8 columns \(4 with a value\)$/);
  });

  it('runs that disagree on the baseline: the median over runs, and a note', () => {
    const c = baselineOf(t2, 'SST-2');
    close(c.value, 50);
    assert.deepEqual(c.distinct.map((v) => Math.round(v)), [49, 51]);
    assert.ok(t2.footnotes.some((f) => /^Baseline \(majority class \/ train mean\) \/ SST-2: the runs recorded 2 different baseline values \(49\.000, 51\.000\), so their training or evaluation subsets differ; the median over runs is shown\.$/.test(f)), t2.footnotes.join('\n'));
  });

  it('results written before baselines existed still load; their column says the baseline was not recorded', () => {
    const rte = t2.rows.find((r) => r.label === 'RoB-base LoRA')!.cells[t2.columns.findIndex((c) => c.header === 'RTE')];
    const file = join(root, 'fx', 'runs', `${rte.runs[0].runId}.json`);
    assert.ok(!('baseline' in JSON.parse(readFileSync(file, 'utf8'))));
    assert.equal(readRunFile(file).result.baseline, undefined);
    assert.match(baselineOf(t2, 'RTE').reason!, /^not recorded by the 1 run\(s\)/);
    assert.equal(rte.vsBaseline, undefined);
  });

  it('cells not above the baseline are marked (= at it, < below it) and listed in a footnote; cells above are not', () => {
    assert.equal(cellOf(t2, 'RoB-base LoRA', 'MRPC').vsBaseline, 'equal');
    assert.equal(cellOf(t2, 'RoB-base FT*', 'MRPC').vsBaseline, 'above');
    assert.equal(cellOf(t2, 'RoB-base LoRA', 'CoLA').vsBaseline, 'equal');
    assert.equal(cellOf(t2, 'RoB-base FT*', 'CoLA').vsBaseline, 'below');
    assert.equal(cellOf(t2, 'RoB-base LoRA', 'STS-B').vsBaseline, 'above');
    const note = t2.footnotes.find((f) => f.startsWith('Not above baseline'));
    assert.ok(note, t2.footnotes.join('\n'));
    assert.match(note, /: 3 of the 7 cells with a value: /);
    assert.ok(note.includes('RoB-base LoRA / MRPC 70.0 = 70.0'), note);
    assert.ok(note.includes('RoB-base FT* / CoLA -2.0 < 0.0'), note);
    assert.ok(t2.footnotes.some((f) => f.startsWith('Baseline row: an untrained rule (majority class and train mean ignore the input; copy input echoes it unchanged)') && /majority class = always the most frequent class/.test(f) && /correlation of a constant is undefined and reported as 0/.test(f)));
    assert.match(t2.caption, /The baseline row is an untrained rule \(majority class, train mean or copy input\) on the same evaluation examples/);
  });

  it('markdown: the row after the methods, the marks in the cells', () => {
    const md = toMarkdown(t2);
    const lines = md.split('\n');
    const base = lines.findIndex((l) => l.startsWith('| Baseline (majority class / train mean) |'));
    assert.ok(base > 0);
    assert.ok(lines.slice(base + 1).every((l) => !l.startsWith('| RoB-')), 'after every method row');
    assert.equal(
      lines[base],
      '| Baseline (majority class / train mean) | — (not trained) | — (no finished runs) | 50.0 (median; runs disagree) | 70.0 | 0.0 | — (no finished runs) | — (no finished runs) | — (not recorded by the 1 run(s) (results from before baselines were recorded, or the metric is missing)) | 0.0 | — (needs all 8 columns (4 with a value)) |',
    );
    assert.match(md, /\| RoB-base LoRA \| [^\n]*\| 70\.0 ± 0\.0 \(= baseline\) \[paper 89\.7 ± \.7, Δ −19\.7\] \|/);
    assert.match(md, /-2\.0 ± 0\.0 \(< baseline\) \[paper 63\.6, Δ −65\.6\]/);
  });

  it('csv: baseline lines marked row_kind=baseline; method lines carry vs_baseline', () => {
    const recs = parseCsv(toCsv(t2), 'table2.csv');
    const at = (name: (typeof TABLE_CSV_COLUMNS)[number]) => TABLE_CSV_COLUMNS.indexOf(name);
    const base = recs.filter((r) => r.fields[at('row_kind')] === 'baseline');
    assert.equal(base.length, t2.columns.length + 1);
    const mrpc = base.find((r) => r.fields[at('column')] === 'MRPC')!;
    assert.equal(Number(mrpc.fields[at('value')]), 70);
    assert.equal(mrpc.fields[at('method')], 'baseline');
    assert.equal(mrpc.fields[at('variant')], 'majority mean');
    const sst = base.find((r) => r.fields[at('column')] === 'SST-2')!;
    assert.match(sst.fields[at('reason')], /runs disagree \(2 values\)/);
    const lora = recs.find((r) => r.fields[at('row')] === 'RoB-base LoRA' && r.fields[at('column')] === 'MRPC')!;
    assert.equal(lora.fields[at('row_kind')], 'method');
    assert.equal(lora.fields[at('vs_baseline')], 'equal');
  });

  it('json carries the row (kind "baseline"); html renders it; tex stays balanced', () => {
    const json = JSON.parse(toJson(t2)) as TableModel;
    assert.equal(json.baselines[0].kind, 'baseline');
    assert.equal(json.baselines[0].cells.length, json.columns.length);
    const html = tableHtml(t2);
    assert.match(html, /<tbody class="baselines"><tr class="baseline"><th scope="row">Baseline \(majority class \/ train mean\)<\/th>/);
    assert.match(html, /70\.0 ± 0\.0 \(= baseline\)/);
    const tex = toTex(t2);
    let depth = 0;
    for (let i = 0; i < tex.length; i++) {
      if (tex[i] === '\\') i++;
      else if (tex[i] === '{') depth++;
      else if (tex[i] === '}') assert.ok(--depth >= 0, `unbalanced at ${i}`);
    }
    assert.equal(depth, 0);
    assert.match(tex, /\\textit\{Baseline \(majority class \/ train mean\)\}/);
    assert.match(tex, /\{\\scriptsize\(\\ensuremath\{<\} baseline\)\}/);
  });

  it('tex with the baseline row compiles with pdflatex (booktabs only)', function () {
    commandOrSkip(this, 'pdflatex', 'apt-get install texlive-latex-base texlive-latex-recommended');
    const dir = tempRoot();
    writeFileSync(join(dir, 't.tex'), toTex(t2));
    writeFileSync(join(dir, 'doc.tex'), '\\documentclass{article}\n\\usepackage[utf8]{inputenc}\n\\usepackage[T1]{fontenc}\n\\usepackage{booktabs}\n\\usepackage[margin=1cm,landscape]{geometry}\n\\begin{document}\n\\input{t}\n\\end{document}\n');
    const r = spawnSync('pdflatex', ['-interaction=nonstopmode', '-halt-on-error', 'doc.tex'], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout.split('\n').filter((l) => l.startsWith('!')).join('\n'));
    rmSync(dir, { recursive: true, force: true });
  });

  it('Table 3: one copy-input row per task (NIST and CIDEr raw, the rest ×100), each row compared with its own task\'s', () => {
    const r3 = tempRoot();
    const copy = (bleu: number, nist: number): RunBaseline => ({ kind: 'copy-input', description: 'copy input', metrics: { BLEU: bleu, NIST: nist, METEOR: 0.35, ROUGE_L: 0.45, CIDEr: 0.9 } });
    const e2e = { model: 'gpt2-medium', method: 'lora', methodConfig: { r: 4, alpha: 32, targets: ['q', 'v'] }, headlineMetric: 'BLEU', counted: 393216 };
    const m = (bleu: number, nist: number) => ({ BLEU: bleu, NIST: nist, METEOR: 0.4, ROUGE_L: 0.5, CIDEr: 1.5 });
    writeResultsFolder(r3, 'fx', [
      ...seeds({ ...e2e, task: 'e2e', baseline: copy(0.3, 4) }, [m(0.6, 8), m(0.62, 8.2)]),
      ...seeds({ ...e2e, model: 'mini-gpt2', task: 'synthetic-e2e', baseline: copy(0.1, 2.5) }, [m(0.2, 2), m(0.2, 2)]),
    ]);
    const t3 = buildTable(3, loadResults(join(r3, 'fx'), 'fx'));
    assert.deepEqual(t3.baselines.map((b) => [b.label, b.task]), [['Baseline (copy input)', 'e2e'], ['Baseline (copy input) [synthetic-e2e]', 'synthetic-e2e']]);
    close(baselineOf(t3, 'BLEU', 0).value, 30);
    close(baselineOf(t3, 'NIST', 0).value, 4);
    close(baselineOf(t3, 'CIDEr', 0).value, 0.9);
    close(baselineOf(t3, 'NIST', 1).value, 2.5);
    assert.equal(t3.baselines[0].avg, undefined);
    assert.equal(cellOf(t3, 'GPT-2 M LoRA', 'NIST').vsBaseline, 'above');
    const syn = t3.rows.find((r) => r.task === 'synthetic-e2e')!;
    assert.deepEqual(syn.cells.map((c) => c.vsBaseline), ['above', 'below', 'above', 'above', 'above']);
    assert.match(toMarkdown(t3), /\| Baseline \(copy input\) \| — \(not trained\) \| 30\.0 \| 4\.00 \| 35\.0 \| 45\.0 \| 0\.90 \|/);
    assert.ok(t3.footnotes.some((f) => /copy input = each output is the MR as the model reads it/.test(f)));
    // Runs without recorded data files: the caption names no split.
    assert.doesNotMatch(t3.caption, /scored on/);
    rmSync(r3, { recursive: true, force: true });
  });

  it('Table 3 caption names the E2E split the runs were scored on, from their provenance, beside the paper\'s test split', () => {
    const e2e = { model: 'gpt2-medium', method: 'lora', methodConfig: { r: 4, alpha: 32, targets: ['q', 'v'] }, task: 'e2e', headlineMetric: 'BLEU', counted: 393216 };
    const m = { BLEU: 0.6, NIST: 8, METEOR: 0.4, ROUGE_L: 0.5, CIDEr: 1.5 };
    const captionFor = (datasets: Record<string, string>[]): string => {
      const root = tempRoot();
      writeResultsFolder(root, 'fx', seeds({ ...e2e }, datasets.map(() => m)).map((r, i) => ({ ...r, datasets: datasets[i] })));
      const c = buildTable(3, loadResults(join(root, 'fx'), 'fx')).caption;
      rmSync(root, { recursive: true, force: true });
      return c;
    };
    const dev = { 'e2e/trainset.csv': 'a', 'e2e/devset.csv': 'b' };
    const test = { 'e2e/trainset.csv': 'a', '/data/e2e/testset_w_refs.csv': 'c' };
    // Results from before runs recorded `reported`: split from provenance, best epoch.
    const paper = 'the paper: the test split at each run\'s final checkpoint';
    assert.ok(captionFor([dev, dev]).includes(`E2E NLG Challenge data (e2e), scored on the dev split at each run's best dev epoch (${paper});`));
    assert.ok(captionFor([test]).includes(`E2E NLG Challenge data (e2e), scored on the test split at each run's best dev epoch (${paper});`));
    assert.match(captionFor([dev, test]), /scored with MIXED protocols: 1 run\(s\) on the dev split at each run's best dev epoch; 1 run\(s\) on the test split at each run's best dev epoch/);
    assert.match(captionFor([{ 'e2e/train.txt': 'a', 'e2e/valid.txt': 'b' }]), /scored on the dev split/);
  });

  it('Table 3 caption and run lines say which split and checkpoint each run reports; a table mixing protocols says so, row by row', () => {
    const lora = { model: 'gpt2-medium', method: 'lora', methodConfig: { r: 4, alpha: 32, targets: ['q', 'v'] }, task: 'e2e', headlineMetric: 'BLEU', counted: 393216 };
    const ft = { model: 'gpt2-medium', method: 'ft', task: 'e2e', headlineMetric: 'BLEU', counted: 354_823_168 };
    const m = [0.6, 0.62, 0.64].map((b) => ({ BLEU: b, NIST: 8, METEOR: 0.4, ROUGE_L: 0.5, CIDEr: 1.5 }));
    const both = { 'e2e/trainset.csv': 'a', 'e2e/devset.csv': 'b', 'e2e/testset_w_refs.csv': 'c' };
    const build = (runs: FixtureRun[]): TableModel => {
      const root = tempRoot();
      writeResultsFolder(root, 'fx', runs);
      const t = buildTable(3, loadResults(join(root, 'fx'), 'fx'), { withRuns: true });
      rmSync(root, { recursive: true, force: true });
      return t;
    };
    // The paper's protocol everywhere: said once, as the paper; the provenance (dev and test read) does not matter.
    const paper = build([...seeds({ ...lora, evalSplit: 'test', checkpoint: 'final', datasets: both }, m), ...seeds({ ...ft, evalSplit: 'test', checkpoint: 'final', datasets: both }, m)]);
    assert.match(paper.caption, /E2E NLG Challenge data \(e2e\), scored on the test split at each run's final checkpoint, as the paper;/);
    assert.match(paper.caption, /each run's final-checkpoint scores/);
    assert.ok(!paper.footnotes.some((f) => /scored on the/.test(f)), paper.footnotes.join('\n'));
    assert.match(toMarkdown(paper), /final epoch 3 on test/);
    // LoRA on the test split's final checkpoint, FT on dev at the best epoch: the caption says MIXED, the notes say which row used which.
    const mixed = build([...seeds({ ...lora, evalSplit: 'test', checkpoint: 'final', datasets: both }, m), ...seeds({ ...ft, datasets: { 'e2e/devset.csv': 'b' } }, m)]);
    assert.match(mixed.caption, /scored with MIXED protocols: 3 run\(s\) on the dev split at each run's best dev epoch; 3 run\(s\) on the test split at each run's final checkpoint \(the paper: the test split at each run's final checkpoint; the notes name each row's\)/);
    assert.match(mixed.caption, /each run's reported \(best-epoch or final-checkpoint, see the notes\) scores/);
    assert.ok(mixed.footnotes.includes('GPT-2 M LoRA: scored on the test split, final checkpoint.'), mixed.footnotes.join('\n'));
    assert.ok(mixed.footnotes.some((f) => /FT.*: scored on the dev split, best dev epoch\.$/.test(f)), mixed.footnotes.join('\n'));
    assert.match(toMarkdown(mixed), /best epoch 2 on dev/);
  });
});

const SPEC = `
seeds: [0]
defaults: { epochs: 1, batchSize: 4, learningRate: 1.0e-3, maxSeqLength: 32 }
grid:
  - row: lora
    models: [roberta-base]
    methods: [{ method: lora, config: { r: 8, alpha: 16, targets: [q, v] } }]
    tasks: [mnli, sst2, mrpc, cola, qnli, qqp, rte, stsb]
profiles:
  paper: {}
  mini: { tasks: [mrpc, cola] }
  mini-synthetic: { tasks: [sst2, rte], taskMap: { sst2: synthetic-sst2, rte: synthetic-rte } }
`;

describe('table 2: the task columns of the spec\'s profile', () => {
  let root: string;
  let spec: string;
  before(() => {
    root = tempRoot();
    spec = join(root, 'table2.yaml');
    writeFileSync(spec, SPEC);
    const b = majority({ accuracy: 0.7 });
    writeResultsFolder(root, 'mini', [
      ...seeds({ ...LORA, task: 'mrpc', baseline: b }, [{ accuracy: 0.8 }, { accuracy: 0.8 }]),
      ...seeds({ ...LORA, task: 'cola', headlineMetric: 'matthews', baseline: majority({ matthews: 0 }) }, [{ matthews: 0 }, { matthews: 0 }]),
      // A run of a task the profile does not list (an older spec): its column stays, results are never hidden.
      ...seeds({ ...LORA, task: 'qnli', baseline: majority({ accuracy: 0.5 }) }, [{ accuracy: 0.6 }]),
    ]);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('profile mini (mrpc, cola): only those columns and the one with runs; Avg. over the columns shown, said in the caption', () => {
    const lookup = profileTasks(spec, 'mini', true);
    assert.deepEqual(lookup.found?.tasks, ['cola', 'mrpc']);
    const t = buildTable(2, loadResults(join(root, 'mini'), 'mini'), { profileTasks: lookup.found });
    assert.deepEqual(t.columns.map((c) => c.header), ['MRPC', 'CoLA', 'QNLI']);
    assert.deepEqual(t.droppedColumns, ['MNLI', 'SST-2', 'QQP', 'RTE', 'STS-B']);
    assert.match(t.caption, /Avg\. is the mean over the 3 task column\(s\) shown/);
    assert.ok(t.caption.includes(`Columns MNLI, SST-2, QQP, RTE, STS-B are left out: profile "mini" of ${spec} runs none of their tasks.`), t.caption);
    const row = t.rows[0];
    close(row.avg?.value, (80 + 0 + 60) / 3);
    assert.equal(row.avg?.paper, undefined, "the paper's average is over its eight tasks");
    close(t.baselines[0].avg?.value, (70 + 0 + 50) / 3);
    assert.equal(row.avg?.vsBaseline, 'above');
    assert.match(toMarkdown(t), /\| Model & Method \| # Trainable Parameters \| MRPC \| CoLA \| QNLI \| Avg\. \|/);
  });

  it('profile paper keeps all eight columns; a taskMap profile shows its synthetic columns; no profile: every column', () => {
    const folder = loadResults(join(root, 'mini'), 'mini');
    const paper = buildTable(2, folder, { profileTasks: profileTasks(spec, 'paper', true).found });
    assert.equal(paper.columns.length, 8);
    assert.deepEqual(paper.droppedColumns, []);
    const syn = profileTasks(spec, 'mini-synthetic', true).found;
    assert.deepEqual(syn?.tasks, ['synthetic-rte', 'synthetic-sst2']);
    assert.deepEqual(buildTable(2, folder, { profileTasks: syn }).columns.map((c) => c.header), ['SST-2 (synthetic)', 'MRPC', 'CoLA', 'QNLI', 'RTE (synthetic)']);
    assert.equal(buildTable(2, folder).columns.length, 8);
  });

  it('lookup: a spec without the profile or no spec leaves the columns alone; an explicit bad --spec is a UserError', () => {
    assert.deepEqual(profileTasks(spec, 'custom', false), {});
    assert.deepEqual(profileTasks(join(root, 'none.yaml'), 'mini', false), {});
    assert.throws(() => profileTasks(join(root, 'none.yaml'), 'mini', true), (e: unknown) => e instanceof UserError && /no such file/.test(e.message));
    assert.throws(() => profileTasks(spec, 'custom', true), (e: unknown) => e instanceof UserError && /defines no profile 'custom'/.test(e.message));
    const broken = join(root, 'broken.yaml');
    writeFileSync(broken, 'grid: 3\n');
    assert.match(profileTasks(broken, 'mini', false).note ?? '', /broken\.yaml: not read \(.*\); every task column is shown/);
  });

  it('CLI: table 2 --spec narrows the columns and prints the baseline row', () => {
    const r = spawnSync(process.execPath, [BIN, 'table', '2', '--results', root, '--profile', 'mini', '--spec', spec], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\| Model & Method \| # Trainable Parameters \| MRPC \| CoLA \| QNLI \| Avg\. \|/);
    assert.match(r.stdout, /\| Baseline \(majority class\) \| — \(not trained\) \| 70\.0 \| 0\.0 \| 50\.0 \| 40\.0 \|/);
    const bad = spawnSync(process.execPath, [BIN, 'table', '2', '--results', root, '--profile', 'mini', '--spec', join(root, 'none.yaml')], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--spec .*none\.yaml: no such file/);
  });
});
