import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DATA_DIR_ENV, dataFile, glueSplitFile, readDataText, resolveDataDir } from '../src/data/data-dir.ts';
import { GLUE_TASKS, parseGlueTaskName, type GlueTaskName } from '../src/data/glue-tasks.ts';
import { parseGlueTsv, readGlueSplit, readGlueTsv, type GlueExample } from '../src/data/glue-tsv.ts';
import { UserError } from '../src/util/errors.ts';
import { sharedOrSkip } from './helpers/skip.ts';

const DATA = fileURLToPath(new URL('../../shared/data/', import.meta.url));

/** Expected values from /work/shared/data/MANIFEST.md. */
interface Expected {
  task: GlueTaskName;
  split: string;
  rows: number;
  /** label name -> count (classification). */
  labels?: Record<string, number>;
  /** rows with a field starting with `"` (MANIFEST "TSV check"). */
  quoteRows: number;
}

const EXPECTED: Expected[] = [
  { task: 'cola', split: 'train', rows: 8551, labels: { acceptable: 6023, unacceptable: 2528 }, quoteRows: 0 },
  { task: 'cola', split: 'dev', rows: 1043, labels: { acceptable: 721, unacceptable: 322 }, quoteRows: 0 },
  { task: 'sst2', split: 'train', rows: 67349, labels: { negative: 29780, positive: 37569 }, quoteRows: 0 },
  { task: 'sst2', split: 'dev', rows: 872, labels: { positive: 444, negative: 428 }, quoteRows: 0 },
  { task: 'mrpc', split: 'train', rows: 3668, labels: { equivalent: 2474, not_equivalent: 1194 }, quoteRows: 455 },
  { task: 'mrpc', split: 'dev', rows: 408, labels: { equivalent: 279, not_equivalent: 129 }, quoteRows: 56 },
  { task: 'stsb', split: 'train', rows: 5749, quoteRows: 124 },
  { task: 'stsb', split: 'dev', rows: 1500, quoteRows: 42 },
  { task: 'qnli', split: 'dev', rows: 5463, labels: { entailment: 2702, not_entailment: 2761 }, quoteRows: 19 },
  { task: 'rte', split: 'train', rows: 2490, labels: { not_entailment: 1241, entailment: 1249 }, quoteRows: 70 },
  { task: 'rte', split: 'dev', rows: 277, labels: { not_entailment: 131, entailment: 146 }, quoteRows: 6 },
];

function labelCounts(task: GlueTaskName, examples: GlueExample[]): Record<string, number> {
  const names = GLUE_TASKS[task].labels.map((l) => l.name);
  const out: Record<string, number> = {};
  for (const e of examples) {
    const name = names[e.label] as string;
    out[name] = (out[name] ?? 0) + 1;
  }
  return out;
}

describe('GLUE TSV: every real file in shared/data/glue against MANIFEST.md', () => {
  before(function () {
    sharedOrSkip(this, 'data/glue');
  });
  for (const exp of EXPECTED) {
    it(`${exp.task} ${exp.split}: ${exp.rows} rows, label counts, quote-starting rows intact`, () => {
      const examples = readGlueSplit(DATA, exp.task, exp.split);
      assert.equal(examples.length, exp.rows);
      if (exp.labels) assert.deepEqual(labelCounts(exp.task, examples), exp.labels);
      const quoted = examples.filter((e) => e.text_a.startsWith('"') || (e.text_b ?? '').startsWith('"')).length;
      assert.equal(quoted, exp.quoteRows);
      const pair = GLUE_TASKS[exp.task].columns.kind === 'header' && 'textB' in GLUE_TASKS[exp.task].columns;
      for (const e of examples) {
        assert.equal(e.text_b !== undefined, pair);
        assert.ok(!e.text_a.includes('\t') && !e.text_a.includes('\n') && !e.text_a.endsWith('\r'));
      }
    });
  }

  it('STS-B scores are floats in [0, 5], first dev rows 5.000 and 4.750', () => {
    const dev = readGlueSplit(DATA, 'stsb', 'dev');
    assert.deepEqual(dev.slice(0, 2), [
      { text_a: 'A man with a hard hat is dancing.', text_b: 'A man wearing a hard hat is dancing.', label: 5 },
      { text_a: 'A young child is riding a horse.', text_b: 'A child is riding a horse.', label: 4.75 },
    ]);
    for (const split of ['train', 'dev']) {
      const labels = readGlueSplit(DATA, 'stsb', split).map((e) => e.label);
      assert.equal(Math.min(...labels), 0);
      assert.equal(Math.max(...labels), 5);
      assert.ok(labels.some((l) => !Number.isInteger(l)));
    }
  });

  it('MRPC: BOM stripped before the header; rows opening with an unbalanced quote are kept as text', () => {
    const path = glueSplitFile(DATA, 'mrpc', 'dev');
    assert.equal(readDataText(path).slice(0, 7), 'Quality');
    const dev = readGlueTsv(path, 'mrpc');
    // dev.tsv line 2: the second sentence opens a quote that never closes.
    assert.deepEqual(dev[0], {
      text_a: "He said the foodservice pie business doesn't fit the company's long-term growth strategy.",
      text_b: '"The foodservice pie business does not fit our long-term growth strategy.',
      label: 1,
    });
    // dev.tsv line 13: both sentences start with a quote; a CSV-quoting reader would mangle them.
    assert.deepEqual(dev[11], {
      text_a: '"Sanitation is poor... there could be typhoid and cholera," he said.',
      text_b: '"Sanitation is poor, drinking water is generally left behind . . . there could be typhoid and cholera."',
      label: 0,
    });
  });

  it('CoLA: header-less; dev.tsv has no final newline and its last row is read', () => {
    const dev = readGlueSplit(DATA, 'cola', 'dev');
    assert.deepEqual(dev[0], { text_a: 'The sailors rode the breeze clear of the rocks.', label: 1 });
    assert.ok((dev[dev.length - 1] as GlueExample).text_a.endsWith('talked to Bill about himself.'));
  });

  it('QNLI / RTE labels follow HF datasets: entailment = 0, not_entailment = 1', () => {
    assert.deepEqual(GLUE_TASKS.qnli.labels.map((l) => l.raw), ['entailment', 'not_entailment']);
    assert.deepEqual(GLUE_TASKS.mnli.labels.map((l) => l.raw), ['entailment', 'neutral', 'contradiction']);
    const rte = parseGlueTsv('index\tsentence1\tsentence2\tlabel\n0\ta\tb\tnot_entailment\n1\tc\td\tentailment\n', 'rte', 'x.tsv');
    assert.deepEqual(rte.map((e) => e.label), [1, 0]);
  });
});

describe('GLUE TSV: parsing rules and errors', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'glue-tsv-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, content: string): string => {
    const p = join(dir, name);
    writeFileSync(p, content);
    return p;
  };
  const userError = (fn: () => unknown, pattern: RegExp) =>
    assert.throws(fn, (err: unknown) => {
      assert.ok(err instanceof UserError, `not a UserError: ${String(err)}`);
      assert.ok(!err.message.includes('\n'), 'message must be one line');
      assert.match(err.message, pattern);
      return true;
    });

  it('CRLF, BOM and a missing final newline give the same rows as plain LF', () => {
    const lf = 'sentence\tlabel\n"quoted start\t1\nplain\t0\n';
    const crlf = '\uFEFFsentence\tlabel\r\n"quoted start\t1\r\nplain\t0';
    const want = [
      { text_a: '"quoted start', label: 1 },
      { text_a: 'plain', label: 0 },
    ];
    assert.deepEqual(parseGlueTsv(lf, 'sst2', 'a.tsv'), want);
    assert.deepEqual(parseGlueTsv(crlf, 'sst2', 'b.tsv'), want);
    assert.deepEqual(readGlueTsv(write('bom.tsv', crlf), 'sst2'), want);
  });

  it('quotes never group fields: a quoted tab still splits', () => {
    const rows = parseGlueTsv('index\tsentence1\tsentence2\tlabel\n7\t"a\tb"\tentailment\n', 'rte', 'q.tsv');
    assert.deepEqual(rows, [{ text_a: '"a', text_b: 'b"', label: 0 }]);
  });

  it('wrong field count -> "file:line: expected N fields, got M"', () => {
    const p = write('bad-count.tsv', 'index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentailment\n1\ta b\tentailment\n');
    userError(() => readGlueTsv(p, 'rte'), new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: expected 4 fields, got 3`));
  });

  it('CoLA rows need 4 fields', () => {
    const p = write('cola.tsv', 'gj04\t1\t\tGood sentence.\ngj04\t0\tBad sentence.\n');
    userError(() => readGlueTsv(p, 'cola'), /cola\.tsv:2: expected 4 fields, got 3/);
  });

  it('unknown label names file:line and the allowed labels', () => {
    const p = write('bad-label.tsv', 'sentence\tlabel\nfine\t1\nodd\tpositive\n');
    userError(() => readGlueTsv(p, 'sst2'), /bad-label\.tsv:3: unknown label "positive" for SST-2: expected one of 0, 1/);
  });

  it('STS-B score that is not a number', () => {
    const header = 'index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n';
    const p = write('stsb.tsv', `${header}0\tg\tf\ty\t0\tn\tn\ta\tb\tfive\n`);
    userError(() => readGlueTsv(p, 'stsb'), /stsb\.tsv:2: label "five" is not a number/);
  });

  it('a header without the task\'s column', () => {
    const p = write('wrong-task.tsv', 'sentence\tlabel\nx\t1\n');
    userError(() => readGlueTsv(p, 'rte'), /wrong-task\.tsv:1: header has no column "sentence1"/);
  });

  it('empty file and invalid UTF-8', () => {
    userError(() => readGlueTsv(write('empty.tsv', ''), 'sst2'), /empty\.tsv:1: file is empty/);
    const p = join(dir, 'latin1.tsv');
    writeFileSync(p, Buffer.concat([Buffer.from('sentence\tlabel\nok\t1\ncaf'), Buffer.from([0xe9]), Buffer.from('\t0\n')]));
    userError(() => readGlueTsv(p, 'sst2'), /latin1\.tsv:3: not valid UTF-8/);
  });

  it('task names: usual spellings accepted', () => {
    assert.equal(parseGlueTaskName('SST-2'), 'sst2');
    assert.equal(parseGlueTaskName('STS-B'), 'stsb');
    assert.equal(parseGlueTaskName('MNLI'), 'mnli');
    assert.equal(parseGlueTaskName('wnli'), undefined);
  });
});

describe('data directory', () => {
  it('precedence: --data-dir, then LORA_REPRO_DATA, then shared/data beside the checkout', function () {
    sharedOrSkip(this, 'data/glue');
    assert.deepEqual(resolveDataDir({ flag: DATA, env: { [DATA_DIR_ENV]: '/nonexistent' } }), { dir: DATA.replace(/\/$/, ''), source: 'flag' });
    assert.equal(resolveDataDir({ env: { [DATA_DIR_ENV]: DATA } }).source, 'env');
    const def = resolveDataDir({ env: {} });
    assert.equal(def.source, 'default');
    assert.equal(readGlueSplit(def.dir, 'rte', 'dev').length, 277);
  });

  it('relative paths resolve against cwd', function () {
    sharedOrSkip(this, 'data');
    assert.equal(resolveDataDir({ flag: 'data', cwd: join(DATA, '..') }).dir, join(DATA, '..', 'data'));
  });

  it('a missing directory or file names the path and LORA_REPRO_DATA', function () {
    sharedOrSkip(this, 'data');
    assert.throws(() => resolveDataDir({ env: { [DATA_DIR_ENV]: '/no/such/dir' } }), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /\/no\/such\/dir \(from LORA_REPRO_DATA\) does not exist: set LORA_REPRO_DATA=/);
      return true;
    });
    assert.throws(() => dataFile(DATA, 'glue/WNLI/dev.tsv'), /glue\/WNLI\/dev\.tsv not found: set LORA_REPRO_DATA=\/path\/to\/data or pass --data-dir/);
  });

  it('splits missing from the shared data say so', function () {
    sharedOrSkip(this, 'data/glue');
    assert.throws(() => readGlueSplit(DATA, 'mnli', 'dev_matched'), /MNLI\/dev_matched\.tsv not found \(this split is not in the shared data, see MANIFEST\.md/);
    assert.throws(() => glueSplitFile(DATA, 'qqp', 'test'), /GLUE task qqp has no split 'test': use one of train, dev/);
  });
});
