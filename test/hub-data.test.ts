/**
 * GLUE and E2E parquet files (the hub's layout) read into the same records as our TSV / CSV readers.
 * Parquet files are written in the test with hyparquet-writer, in the column layout and with the
 * `huggingface` feature metadata that `datasets` writes, from the same rows as the TSV/CSV text: the
 * real shared dev files where present, plus synthetic rows for every task. The hub loaders are then
 * exercised end to end through the fake hub.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GLUE_TASK_NAMES, GLUE_TASKS, type GlueTaskName } from '../src/data/glue-tasks.ts';
import { parseGlueTsv, readGlueTsv, type GlueExample } from '../src/data/glue-tsv.ts';
import { parseE2eCsv, readE2eFile, type E2ePair } from '../src/data/e2e.ts';
import { readGlueHubSplit, readGlueParquet } from '../src/data/glue-hub.ts';
import { readE2eHubSplit, readE2eParquet } from '../src/data/e2e-hub.ts';
import { shortestFloat32 } from '../src/hub/parquet.ts';
import { UserError } from '../src/util/errors.ts';
import { FakeHubServer } from './helpers/fake-hub-server.ts';
import { SHARED } from './helpers/tiny.ts';
import { e2eParquet, glueParquet, parquet } from './helpers/hub-parquet.ts';
import { sharedOrSkip } from './helpers/skip.ts';

/** The same rows as an original-GLUE TSV (header lookup by name; CoLA header-less). */
function glueTsv(task: GlueTaskName, rows: { a: string; b: string; raw: string }[]): string {
  const spec = GLUE_TASKS[task];
  const c = spec.columns;
  if (c.kind === 'headerless') return rows.map((r, i) => `src${i}\t${r.raw}\t\t${r.a}\n`).join('');
  const header = ['index', c.textA, ...(c.textB === undefined ? [] : [c.textB]), 'extra', c.label];
  const body = rows.map((r, i) => [String(i), r.a, ...(c.textB === undefined ? [] : [r.b]), 'x', r.raw].join('\t'));
  return [header.join('\t'), ...body].join('\n') + '\n';
}

const TEXTS = ['"Quoted start', 'Ünïcödé — “curly” ‘quotes’', 'trailing space ', 'plain sentence.', 'It\'s 5 o\'clock.', '', 'a "b" c'];
const SCORES = ['5.000', '4.750', '0.000', '2.400', '3.800', '1.6', '0.333'];

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'lora-hubdata-'));
}

describe('hub parquet readers', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = tmp();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const task of GLUE_TASK_NAMES) {
    it(`${task}: parquet rows equal the TSV reader's on the same rows`, async () => {
      const spec = GLUE_TASKS[task];
      const rows = TEXTS.map((a, i) => ({
        a,
        b: TEXTS[(i + 3) % TEXTS.length] as string,
        raw: spec.isRegression ? (SCORES[i] as string) : (spec.labels[i % spec.labels.length]?.raw as string),
      }));
      const fromTsv = parseGlueTsv(glueTsv(task, rows), task, `${task}.tsv`);
      const file = join(dir, `${task}.parquet`);
      writeFileSync(file, glueParquet(task, fromTsv));
      assert.deepEqual(await readGlueParquet(file, task), fromTsv);
    });
  }

  for (const [task, tsv] of [
    ['rte', 'glue/RTE/dev.tsv'],
    ['stsb', 'glue/STS-B/dev.tsv'],
    ['cola', 'glue/CoLA/dev.tsv'],
    ['mrpc', 'glue/MRPC/dev.tsv'],
  ] as const) {
    it(`real ${tsv}: every row survives the parquet layout unchanged`, async function () {
      const path = sharedOrSkip(this, `data/${tsv}`);
      const fromTsv = readGlueTsv(path, task);
      const file = join(dir, `real-${task}.parquet`);
      writeFileSync(file, glueParquet(task, fromTsv));
      const got = await readGlueParquet(file, task);
      if (task !== 'stsb') {
        assert.deepEqual(got, fromTsv);
        return;
      }
      // The hub stores STS-B scores as float32: the few with more digits than float32 holds
      // (2.33333333333333) come back as the float32 value (2.3333333), the rest exactly.
      assert.deepEqual(got, fromTsv.map((e) => ({ ...e, label: shortestFloat32(e.label) })));
      const changed = got.filter((e, i) => e.label !== fromTsv[i]?.label);
      assert.ok(changed.length < fromTsv.length / 20, `${changed.length} scores changed`);
      for (const [i, e] of got.entries()) assert.ok(Math.abs(e.label - (fromTsv[i]?.label as number)) < 1e-6);
    });
  }

  it('float32 scores come back as the decimals of the text', () => {
    for (const s of ['3.800', '4.750', '0.200', '1.6', '0.333', '2.5']) assert.equal(shortestFloat32(Math.fround(Number(s))), Number(s));
    assert.notEqual(Math.fround(3.8), 3.8); // what a plain read would give
  });

  it('E2E: parquet pairs and instances equal the CSV reader on the same rows (real devset.csv)', async function () {
    const csv = join(SHARED, 'data', 'e2e', 'devset.csv');
    const fromCsv = existsSync(csv)
      ? readE2eFile(csv, 'csv')
      : { pairs: parseE2eCsv('mr,ref\n"name[A], food[B]",x\n"name[A], food[B]",y\nname[C],z\n', 'mini.csv'), instances: [] };
    const pairs: E2ePair[] = fromCsv.pairs;
    const file = join(dir, 'e2e.parquet');
    writeFileSync(file, e2eParquet(pairs));
    const got = await readE2eParquet(file);
    assert.deepEqual(
      got.pairs.map((p) => [p.mr, p.ref]),
      pairs.map((p) => [p.mr, p.ref]),
    );
    assert.deepEqual(got.pairs.slice(0, 2).map((p) => p.line), [1, 2]);
    if (existsSync(csv)) {
      assert.deepEqual(got.instances, fromCsv.instances);
      assert.equal(got.instances.length, 547);
    }
  });

  it('rejects what cannot be read as the TSV reader would, naming the file and row', async () => {
    const rte = (labels: bigint[], names?: string[]) =>
      glueParquet('rte', labels.map((l) => ({ text_a: 'a', text_b: 'b', label: Number(l) })), names);
    const testSplit = join(dir, 'test.parquet');
    writeFileSync(testSplit, rte([0n, -1n]));
    await assert.rejects(readGlueParquet(testSplit, 'rte'), (e: Error) => e instanceof UserError && /test\.parquet: row 2: label -1 is not a class id 0\.\.1/.test(e.message));
    const swapped = join(dir, 'swapped.parquet');
    writeFileSync(swapped, rte([0n], ['not_entailment', 'entailment']));
    await assert.rejects(readGlueParquet(swapped, 'rte'), /label names \[not_entailment, entailment\] are not the rte order lora-repro uses \[entailment, not_entailment\]/);
    const wrongTask = join(dir, 'wrong.parquet');
    writeFileSync(wrongTask, rte([0n]));
    await assert.rejects(readGlueParquet(wrongTask, 'qnli'), /wrong\.parquet: no column "question" \(found: sentence1, sentence2, label, idx\)/);
    const nulls = join(dir, 'nulls.parquet');
    writeFileSync(nulls, parquet([{ name: 'sentence', data: ['ok', null], type: 'STRING' }, { name: 'label', data: [0n, 1n], type: 'INT64' }]));
    await assert.rejects(readGlueParquet(nulls, 'sst2'), /nulls\.parquet: column "sentence" row 2: expected a string, got null/);
    const garbage = join(dir, 'garbage.parquet');
    writeFileSync(garbage, 'this is not parquet at all');
    await assert.rejects(readGlueParquet(garbage, 'sst2'), /garbage\.parquet: not a readable parquet file .*rerun lora-repro download/);
  });
});

describe('hub data loaders (fake hub)', function () {
  this.timeout(60_000);
  let hub: FakeHubServer;
  let cacheRoot: string;
  const rteDev: GlueExample[] = [
    { text_a: 'A man sleeps.', text_b: 'Someone sleeps.', label: 0 },
    { text_a: 'It rains.', text_b: 'It is dry.', label: 1 },
  ];
  const mnliMm: GlueExample[] = [{ text_a: 'p', text_b: 'h', label: 2 }];
  const e2eDev: [string, string][] = [
    ['name[The Eagle], eatType[coffee shop]', 'The Eagle is a coffee shop.'],
    ['name[The Eagle], eatType[coffee shop]', 'A coffee shop: The Eagle.'],
    ['name[Aromi], area[city centre]', 'Aromi is in the city centre.'],
  ];

  before(async () => {
    hub = new FakeHubServer([
      {
        type: 'dataset',
        id: 'nyu-mll/glue',
        files: {
          'rte/validation-00000-of-00001.parquet': glueParquet('rte', rteDev),
          'mnli/validation_mismatched-00000-of-00001.parquet': glueParquet('mnli', mnliMm),
        },
        lfs: ['rte/validation-00000-of-00001.parquet'],
      },
      {
        type: 'dataset',
        id: 'tuetschek/e2e_nlg',
        refs: ['refs/convert/parquet'],
        files: {
          'default/validation/0000.parquet': parquet([
            { name: 'meaning_representation', data: e2eDev.map((r) => r[0]), type: 'STRING' },
            { name: 'human_reference', data: e2eDev.map((r) => r[1]), type: 'STRING' },
          ]),
        },
      },
    ]);
    await hub.start();
    cacheRoot = tmp();
  });

  after(async () => {
    await hub.stop();
    rmSync(cacheRoot, { recursive: true, force: true });
  });

  it('GLUE splits by our split names, downloaded once then read from the cache', async () => {
    const opts = { cacheRoot, endpoint: hub.url, retries: 0 };
    assert.deepEqual(await readGlueHubSplit('rte', 'dev', opts), rteDev);
    assert.deepEqual(await readGlueHubSplit('mnli', 'dev_mismatched', opts), mnliMm);
    assert.ok(hub.requests.some((r) => r.path === '/datasets/nyu-mll/glue/resolve/main/rte/validation-00000-of-00001.parquet'));
    hub.clearLog();
    assert.deepEqual(await readGlueHubSplit('rte', 'dev', opts), rteDev);
    assert.deepEqual(hub.requests, []);
    await assert.rejects(readGlueHubSplit('rte', 'dev_matched', opts), /GLUE task rte has no split 'dev_matched': use one of train, dev/);
    await assert.rejects(readGlueHubSplit('rte', 'train', opts), /rte\/train-00000-of-00001\.parquet: file not found/);
  });

  it('E2E from refs/convert/parquet, grouped into instances like the CSV reader', async () => {
    const data = await readE2eHubSplit('dev', { cacheRoot, endpoint: hub.url, retries: 0 });
    assert.deepEqual(data.instances, [
      { mr: 'name[The Eagle], eatType[coffee shop]', refs: ['The Eagle is a coffee shop.', 'A coffee shop: The Eagle.'] },
      { mr: 'name[Aromi], area[city centre]', refs: ['Aromi is in the city centre.'] },
    ]);
    assert.ok(hub.requests.some((r) => r.path === '/datasets/tuetschek/e2e_nlg/resolve/refs%2Fconvert%2Fparquet/default/validation/0000.parquet'));
  });
});
