/**
 * Tables 2 and 3 from a results folder (test/helpers/results-fixture.ts): aggregates computed by
 * hand, the paper's values and differences, the reason of every empty cell, the caption's account
 * of what ran, all four formats, and the CLI end to end.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCsv } from '../src/util/csv.ts';
import { mean, median, sampleStd } from '../src/util/stats.ts';
import { toTex } from '../src/report/format-tex.ts';
import { TABLE_CSV_COLUMNS, toCsv, toMarkdown } from '../src/report/format-text.ts';
import { loadPaperTable, PAPER_TABLE_FILES } from '../src/report/paper-tables.ts';
import { loadResults } from '../src/report/results.ts';
import { buildTable, type Cell, type TableModel } from '../src/report/table-model.ts';
import { UserError } from '../src/util/errors.ts';
import { namedConfig, toHfConfigJson } from '../src/models/config.ts';
import { standardRuns, tempRoot, writeResultsFolder } from './helpers/results-fixture.ts';
import { commandOrSkip, sharedOrSkip } from './helpers/skip.ts';

const SHARED_DATA = fileURLToPath(new URL('../../shared/data', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/lora-repro.mjs', import.meta.url));

function cell(t: TableModel, rowLabel: string, column: string): Cell {
  const row = t.rows.find((r) => r.label === rowLabel);
  assert.ok(row, `row ${rowLabel} in ${t.rows.map((r) => r.label).join(', ')}`);
  if (column === 'avg') return row.avg!;
  const i = t.columns.findIndex((c) => c.header === column);
  assert.ok(i >= 0, `column ${column}`);
  return row.cells[i];
}

const close = (a: number | undefined, b: number, tol = 1e-9) => assert.ok(a !== undefined && Math.abs(a - b) < tol, `${a} ≈ ${b}`);

describe('aggregation over seeds', () => {
  it('median (odd and even counts), mean and sample std on hand-computed cases', () => {
    assert.equal(median([95, 94, 96, 93, 95.5]), 95);
    assert.equal(median([90, 88]), 89);
    close(mean([95, 94, 96, 93, 95.5]), 94.7);
    // deviations 0.3, −0.7, 1.3, −1.7, 0.8 → squares sum 5.8 → /4 → sqrt(1.45)
    close(sampleStd([95, 94, 96, 93, 95.5]), Math.sqrt(1.45));
    assert.equal(sampleStd([1]), undefined);
  });
});

describe('the paper tables (datasets/paper/)', () => {
  it("are byte-identical copies of ../shared/reference/paper-table{2,3}.csv", function () {
    for (const t of [2, 3] as const) {
      const ref = sharedOrSkip(this, `reference/paper-table${t}.csv`);
      assert.ok(readFileSync(PAPER_TABLE_FILES[t]).equals(readFileSync(ref)), `datasets/paper/table${t}.csv drifted from the reference`);
    }
  });

  it('parse with the printed text kept: RoB-base LoRA MNLI 87.5 ± .3, avg 87.2; GPT-2 L Adapter^L CIDEr 2.49 ± .0; FT rows without ±', () => {
    const t2 = loadPaperTable(2);
    const t3 = loadPaperTable(3);
    assert.equal(t2.length, 14);
    assert.equal(t3.length, 12);
    const lora = t2.find((r) => r.model === 'RoBERTa-base' && r.method === 'LoRA')!;
    assert.deepEqual(lora.values.MNLI, { value: 87.5, text: '87.5', std: 0.3, stdText: '.3' });
    assert.equal(lora.avg?.text, '87.2');
    assert.equal(lora.params, '0.3');
    assert.equal(t2[0].values.MNLI.std, undefined);
    const al = t3.find((r) => r.model === 'GPT-2-L' && r.variant === 'bottleneck not stated (small)')!;
    assert.deepEqual(al.values.CIDEr, { value: 2.49, text: '2.49', std: 0, stdText: '.0' });
  });
});

describe('Table 2 and 3 from a results folder', () => {
  let root: string;
  let t2: TableModel;
  let t3: TableModel;
  before(() => {
    root = tempRoot();
    const { dir } = writeResultsFolder(root, 'fx', standardRuns(), { extraCsvIds: ['0123ghost'] });
    const folder = loadResults(dir, 'fx');
    t2 = buildTable(2, folder, { dataDir: existsSync(SHARED_DATA) ? SHARED_DATA : undefined, withRuns: true });
    t3 = buildTable(3, folder, {});
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it("Table 2 defaults to the paper's median; SST-2 of RoB-base LoRA is median 95.0 ± 1.204 over 5 seeds, paper 95.1 ± .2, Δ −0.1", () => {
    assert.equal(t2.agg, 'median');
    const c = cell(t2, 'RoB-base LoRA', 'SST-2');
    close(c.value, 95);
    close(c.std, Math.sqrt(1.45));
    assert.equal(c.n, 5);
    assert.deepEqual(c.runs.map((r) => r.seed), [0, 1, 2, 3, 4]);
    assert.equal(c.paper?.text, '95.1');
    close(c.diff, -0.1, 1e-9);
  });

  it('a failed seed is left out and counted: MRPC median of .90 and .88 = 89.0 from 2 of 3 runs', () => {
    const c = cell(t2, 'RoB-base LoRA', 'MRPC');
    close(c.value, 89);
    assert.equal(c.n, 2);
    assert.equal(c.nFailed, 1);
    assert.match(c.runs.find((r) => r.seed === 1)!.problem!, /failed: out of memory/);
  });

  it("the headline metric of each task is used: STS-B is Pearson (91.5), not Spearman", () => {
    close(cell(t2, 'RoB-base LoRA', 'STS-B').value, 91.5);
  });

  it("empty cells say why: all runs failed / no runs / task data missing", () => {
    assert.match(cell(t2, 'RoB-base LoRA', 'CoLA').reason!, /^all 2 run\(s\) failed \(NaN loss at step 12\)$/);
    assert.equal(cell(t2, 'RoB-base LoRA', 'RTE').reason, 'no runs');
    assert.match(cell(t2, 'RoB-base LoRA', 'avg').reason!, /needs all 9 columns \(3 with a value\)/);
  });

  it('with the data directory, a cell whose task data is missing says so (MNLI: glue/MNLI/train.tsv)', function () {
    sharedOrSkip(this, 'data');
    assert.match(cell(t2, 'RoB-base LoRA', 'MNLI').reason!, /^task data missing: glue\/MNLI\/train\.tsv/);
  });

  it('another config of a cell (an older lr) is left out with a footnote; the config with more finished runs wins', () => {
    const c = cell(t2, 'RoB-base FT*', 'SST-2');
    close(c.value, 94.8);
    assert.equal(c.n, 3);
    assert.equal(c.ignored.length, 1);
    assert.ok(t2.footnotes.some((f) => /RoB-base FT\* \/ sst2: 1 run\(s\) of config [0-9a-f]+ left out/.test(f)));
  });

  it("a synthetic stand-in gets its own column, labelled, with no paper value; the mini model is named a stand-in", () => {
    const c = cell(t2, 'mini-roberta LoRA', 'SST-2 (synthetic)');
    close(c.value, 85);
    assert.equal(c.paper, undefined);
    assert.match(c.paperNote!, /synthetic stand-in/);
    assert.match(t2.caption, /synthetic stand-in data \(synthetic-sst2\), not GLUE data/);
    assert.match(t2.caption, /mini-roberta \(d_model 128, 4 layers\), a scaled-down stand-in, not the paper's model/);
    assert.match(t2.caption, /5 seed\(s\) \(0, 1, 2, 3, 4\)/);
    assert.match(t2.caption, /median over seeds/);
    assert.ok(t2.footnotes.some((f) => /mini-roberta LoRA: paper values are those of "RoB-base LoRA"/.test(f)));
  });

  it("the parameter count and the paper's formula appear per row (294,912 = 2·24·768·8 for RoB-base LoRA)", () => {
    const row = t2.rows.find((r) => r.label === 'RoB-base LoRA')!;
    assert.equal(row.params.formula, 294912);
    assert.deepEqual(row.params.counted, [294912]);
    assert.equal(row.params.display, '0.295M');
    assert.equal(row.paper?.params, '0.3');
    assert.ok(t2.footnotes.some((f) => f.startsWith('RoB-base LoRA: |Θ| = 2·L̂_LoRA·d_model·r') && f.includes('294,912')));
  });

  it('Table 3 means over 3 seeds on the paper scales: BLEU 70.5, NIST 8.85, METEOR 46.5, ROUGE-L 72.0, CIDEr 2.53, beside the paper', () => {
    assert.equal(t3.agg, 'mean');
    const want: Record<string, [number, string]> = { BLEU: [70.5, '70.4'], NIST: [8.85, '8.85'], MET: [46.5, '46.8'], 'ROUGE-L': [72, '71.8'], CIDEr: [2.53, '2.53'] };
    for (const [col, [v, paper]] of Object.entries(want)) {
      const c = cell(t3, 'GPT-2 M LoRA', col);
      close(c.value, v, 1e-9);
      assert.equal(c.paper?.text, paper);
    }
    close(cell(t3, 'GPT-2 M LoRA', 'MET').diff, -0.3, 1e-9);
    assert.ok(t3.footnotes.some((f) => /METEOR: computed without the paraphrase module/.test(f)));
    assert.equal(t3.hasAverage, false);
  });

  it('--agg mean overrides the rule (SST-2 mean 94.7)', () => {
    const folder = loadResults(join(root, 'fx'), 'fx');
    close(cell(buildTable(2, folder, { agg: 'mean' }), 'RoB-base LoRA', 'SST-2').value, 94.7, 1e-9);
  });

  it('markdown: caption, paper layout, "—" with reasons, the run ids with --with-runs', () => {
    const md = toMarkdown(t2);
    assert.match(md, /^\*\*Table 2, profile "fx"/);
    assert.match(md, /\| Model & Method \| # Trainable Parameters \| MNLI \| SST-2 \| SST-2 \(synthetic\) \| MRPC \| CoLA \| QNLI \| QQP \| RTE \| STS-B \| Avg\. \|/);
    assert.match(md, /\| RoB-base LoRA \| 0\.295M \[paper 0\.3M\] \| .*95\.0 ± 1\.2 \[paper 95\.1 ± \.2, Δ −0\.1\]/);
    assert.match(md, /— \(all 2 run\(s\) failed/);
    for (const r of t2.rows) for (const c of r.cells) for (const run of c.runs) assert.ok(md.includes(run.runId), `run ${run.runId} listed`);
    assert.match(md, /runs\.csv lists 1 run\(s\) without a runs\/<runId>\.json.*0123ghost/);
  });

  it('csv: long format, one line per (row, column), numbers parse back', () => {
    const csv = toCsv(t2);
    const recs = parseCsv(csv, 'table2.csv');
    assert.deepEqual(recs[0].fields, [...TABLE_CSV_COLUMNS, 'run_ids']);
    const kind = TABLE_CSV_COLUMNS.indexOf('row_kind');
    assert.equal(recs.filter((r) => r.fields[kind] === 'method').length, t2.rows.length * (t2.columns.length + 1));
    assert.equal(recs.filter((r) => r.fields[kind] === 'baseline').length, t2.baselines.length * (t2.columns.length + 1));
    assert.equal(recs.length - 1, (t2.rows.length + t2.baselines.length) * (t2.columns.length + 1));
    const sst = recs.find((r) => r.fields[2] === 'RoB-base LoRA' && r.fields[9] === 'SST-2')!;
    const f = Object.fromEntries(TABLE_CSV_COLUMNS.map((c, i) => [c, sst.fields[i]]));
    assert.equal(Number(f.value), 95);
    assert.equal(Number(f.paper_value), 95.1);
    assert.equal(Number(f.diff), -0.1);
  });

  it('tex: every brace balanced, no "$$", escapes in place', () => {
    const tex = toTex(t2);
    let depth = 0;
    for (let i = 0; i < tex.length; i++) {
      if (tex[i] === '\\') {
        i++;
        continue;
      }
      if (tex[i] === '{') depth++;
      if (tex[i] === '}') depth--;
      assert.ok(depth >= 0, `unbalanced at ${i}`);
    }
    assert.equal(depth, 0);
    assert.ok(!tex.includes('$$'));
    assert.match(tex, /\\begin\{tabular\}/);
    assert.match(tex, /d\\_model/);
  });

  it('tex: compiles with pdflatex (booktabs only) when pdflatex is installed', function () {
    commandOrSkip(this, 'pdflatex', 'apt-get install texlive-latex-base texlive-latex-recommended');
    const dir = tempRoot();
    for (const t of [t2, t3]) {
      writeFileSync(join(dir, `t${t.table}.tex`), toTex(t));
      const doc = `\\documentclass{article}\n\\usepackage[utf8]{inputenc}\n\\usepackage[T1]{fontenc}\n\\usepackage{booktabs}\n\\usepackage[margin=1cm,landscape]{geometry}\n\\begin{document}\n\\input{t${t.table}}\n\\end{document}\n`;
      writeFileSync(join(dir, `doc${t.table}.tex`), doc);
      const r = spawnSync('pdflatex', ['-interaction=nonstopmode', '-halt-on-error', `doc${t.table}.tex`], { cwd: dir, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stdout.split('\n').filter((l) => l.startsWith('!')).join('\n'));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('a stand-in model is compared with its family\'s paper row by variant (mini-roberta Adapter^P r=16 → RoB-large Adpt^P† (r=16))', () => {
    const r2 = tempRoot();
    writeResultsFolder(r2, 'mini', [0, 1, 2].map((seed) => ({ model: 'mini-roberta', method: 'adapter-p', methodConfig: { r: 16 }, variant: 'bottleneck r=16', task: 'rte', seed, metrics: { accuracy: 0.6 }, trainLimit: 256, counted: 33312 })));
    const t = buildTable(2, loadResults(join(r2, 'mini'), 'mini'));
    const row = t.rows[0];
    assert.equal(row.label, 'mini-roberta Adapter^P (bottleneck r=16)');
    assert.equal(row.paper?.label, 'RoB-large Adpt^P† (r=16)');
    assert.equal(row.paper?.sameScale, false);
    close(cell(t, row.label, 'RTE').value, 60);
    assert.equal(cell(t, row.label, 'RTE').paper?.text, '80.1');
    assert.match(t.caption, /subsampled: rte: train 256, full eval/);
    assert.ok(t.footnotes.some((f) => /the paper row is the restricted setup \(†\)/.test(f)));
    rmSync(r2, { recursive: true, force: true });
  });

  it("a stand-in whose pretraining cache is gone is captioned and counted as the stand-in it is (d_model 128), COUNT = FORMULA", () => {
    const r2 = tempRoot();
    // The runs trained weights from a cache entry since deleted: the table can only go by the name.
    const gone = (f: string) => `${join(r2, 'gone-cache', 'pretrained', `${f}-0123456789abcdef`)} (model.safetensors sha256:${'0'.repeat(64)})`;
    const lora8 = { r: 8, alpha: 16, targets: ['q', 'v'] };
    const lora4 = { r: 4, alpha: 32, targets: ['q', 'v'] };
    writeResultsFolder(r2, 'mini', [
      // What the stand-ins' runs count: LoRA on W_q and W_v of 4 layers at d_model 128, 2·L·2·d·r: 2·4·2·128·8 = 16,384 and 2·4·2·128·4 = 8,192.
      ...[0, 1].map((seed) => ({ model: 'mini-roberta', method: 'lora', methodConfig: lora8, task: 'sst2', seed, metrics: { accuracy: 0.7 }, counted: 16384, formula: 16384, provenanceModel: gone('roberta') })),
      ...[0, 1].map((seed) => ({ model: 'mini-gpt2', method: 'lora', methodConfig: lora4, task: 'e2e', seed, headlineMetric: 'BLEU', metrics: { BLEU: 0.6, NIST: 7, METEOR: 0.4, ROUGE_L: 0.6, CIDEr: 1.5 }, counted: 8192, formula: 8192, provenanceModel: gone('gpt2') })),
    ]);
    const results = loadResults(join(r2, 'mini'), 'mini');
    for (const [table, model, formula] of [[2, 'mini-roberta', 16384], [3, 'mini-gpt2', 8192]] as const) {
      const t = buildTable(table, results);
      assert.match(t.caption, new RegExp(`${model} \\(d_model 128, 4 layers\\), a scaled-down stand-in`));
      const row = t.rows.find((r) => r.model === model)!;
      assert.equal(row.params.formula, formula);
      assert.deepEqual(row.params.counted, [formula]);
      assert.doesNotMatch(row.params.text, /COUNT ≠ FORMULA/);
      assert.ok(!t.footnotes.some((f) => f.includes('COUNT ≠ FORMULA')), t.footnotes.join('\n'));
    }
    rmSync(r2, { recursive: true, force: true });
  });

  it("a run that recorded its modelConfig (d_model 64, 2 layers) is captioned and counted by it, though the name and the cache say d_model 128", () => {
    const r2 = tempRoot();
    // The cache still holds config.json of the stand-in the name stands for (d_model 128, 4 layers) ...
    const cache = (family: 'roberta' | 'gpt2') => {
      const d = join(r2, 'cache', 'pretrained', `${family}-0123456789abcdef`);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'config.json'), JSON.stringify(toHfConfigJson(namedConfig(`mini-${family}`)!)));
      return `${d} (model.safetensors sha256:${'0'.repeat(64)})`;
    };
    // ... but the runs recorded what they built: d_model 64, 2 layers. LoRA on W_q, W_v: 2·L·2·d·r =
    // 2·2·2·64·8 = 4,096 (r 8) and 2·2·2·64·4 = 2,048 (r 4).
    const robertaBuilt = { model_type: 'roberta', vocab_size: 1000, hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 256, max_position_embeddings: 130 };
    const gpt2Built = { model_type: 'gpt2', vocab_size: 1000, n_embd: 64, n_layer: 2, n_head: 4, n_positions: 128 };
    const lora8 = { r: 8, alpha: 16, targets: ['q', 'v'] };
    const lora4 = { r: 4, alpha: 32, targets: ['q', 'v'] };
    writeResultsFolder(r2, 'mini', [
      ...[0, 1].map((seed) => ({ model: 'mini-roberta', method: 'lora', methodConfig: lora8, task: 'sst2', seed, metrics: { accuracy: 0.7 }, counted: 4096, formula: 4096, provenanceModel: cache('roberta'), modelConfig: robertaBuilt })),
      ...[0, 1].map((seed) => ({ model: 'mini-gpt2', method: 'lora', methodConfig: lora4, task: 'e2e', seed, headlineMetric: 'BLEU', metrics: { BLEU: 0.6, NIST: 7, METEOR: 0.4, ROUGE_L: 0.6, CIDEr: 1.5 }, counted: 2048, formula: 2048, provenanceModel: cache('gpt2'), modelConfig: gpt2Built })),
    ]);
    const results = loadResults(join(r2, 'mini'), 'mini');
    for (const [table, model, formula] of [[2, 'mini-roberta', 4096], [3, 'mini-gpt2', 2048]] as const) {
      const t = buildTable(table, results);
      assert.match(t.caption, new RegExp(`${model} \\(d_model 64, 2 layers\\), a scaled-down stand-in`));
      assert.doesNotMatch(t.caption, /d_model 128/);
      const row = t.rows.find((r) => r.model === model)!;
      assert.equal(row.params.formula, formula);
      assert.deepEqual(row.params.counted, [formula]);
      assert.ok(!t.footnotes.some((f) => f.includes('COUNT ≠ FORMULA')), t.footnotes.join('\n'));
    }
    rmSync(r2, { recursive: true, force: true });
  });

  it('a metric stored as a percentage (against the schema) is an error naming the file, not a silent ×100', () => {
    const r2 = tempRoot();
    writeResultsFolder(r2, 'p', [{ model: 'roberta-base', method: 'ft', task: 'rte', seed: 0, metrics: { accuracy: 78.7 } }]);
    assert.throws(() => buildTable(2, loadResults(join(r2, 'p'), 'p')), (e: unknown) => e instanceof UserError && /runs\/[0-9a-f]+\.json: metric accuracy = 78\.7 is not on the 0–1 scale/.test(e.message));
    rmSync(r2, { recursive: true, force: true });
  });

  it('an invalid run file stops the table with one line naming it', () => {
    const r2 = tempRoot();
    const { dir, results } = writeResultsFolder(r2, 'p', [{ model: 'roberta-base', method: 'ft', task: 'rte', seed: 0 }]);
    const file = join(dir, 'runs', `${results[0].runId}.json`);
    writeFileSync(file, JSON.stringify({ ...results[0], status: 'done' }));
    assert.throws(() => loadResults(dir, 'p'), (e: unknown) => e instanceof UserError && e.message.startsWith(file) && /status/.test(e.message) && !e.message.includes('\n'));
    rmSync(r2, { recursive: true, force: true });
  });
});

describe('lora-repro table (CLI)', () => {
  let root: string;
  before(() => {
    root = tempRoot();
    writeResultsFolder(root, 'fx', standardRuns());
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('table 3 prints Markdown and writes table3.{md,tex,csv,json}; bad input exits 2 with one line', () => {
    const r = spawnSync(process.execPath, [BIN, 'table', '3', '--results', root], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\| GPT-2 M LoRA \| 0\.393M \[paper 0\.35M\] \| 70\.5 ± 0\.5 \[paper 70\.4 ± \.1, Δ \+0\.1\]/);
    for (const f of ['md', 'tex', 'csv', 'json']) assert.ok(existsSync(join(root, 'fx', `table3.${f}`)), `table3.${f}`);
    const json = JSON.parse(readFileSync(join(root, 'fx', 'table3.json'), 'utf8')) as TableModel;
    assert.equal(json.rows[0].cells[0].runs.length, 3);
    const bad = spawnSync(process.execPath, [BIN, 'table', '4', '--results', root], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
    const noProfile = spawnSync(process.execPath, [BIN, 'table', '2', '--results', join(root, 'nothing')], { encoding: 'utf8' });
    assert.equal(noProfile.status, 2);
    assert.match(noProfile.stderr, /no results/);
  });
});

describe('writeTables: a folder without runs of a table keeps its files', () => {
  it('Table 3 files stay as they were where only Table 2 ran (make table2 in a fresh clone); Table 2 is written', async () => {
    const { writeTables } = await import('../src/report/tables.ts');
    const root = tempRoot();
    const table2Only = standardRuns().filter((r) => r.task !== 'e2e');
    const { dir } = writeResultsFolder(root, 'fx', table2Only);
    writeFileSync(join(dir, 'table3.md'), 'the committed Table 3\n');
    const folder = loadResults(dir, 'fx');
    const t3 = writeTables(folder, 3, {});
    assert.equal(t3.kept, true);
    assert.equal(readFileSync(join(dir, 'table3.md'), 'utf8'), 'the committed Table 3\n');
    assert.ok(!existsSync(join(dir, 'table3.json')), 'no other format is written beside the kept one');
    const t2 = writeTables(folder, 2, {});
    assert.equal(t2.kept, false);
    assert.ok(readFileSync(join(dir, 'table2.md'), 'utf8').includes('SST-2'));
    // Without any file of it, an empty table is written (it says there are no runs).
    rmSync(join(dir, 'table3.md'));
    assert.equal(writeTables(folder, 3, {}).kept, false);
    assert.ok(existsSync(join(dir, 'table3.json')));
    rmSync(root, { recursive: true, force: true });
  });
});
