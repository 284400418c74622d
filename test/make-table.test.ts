/**
 * `make table2` keeps going past a failed run (the table, charts and report are still written,
 * the failed cells show '—'), then exits non-zero, so CI cannot be green with runs failing
 * (issue 17, item 8). The fake executor stands in for training; a directory model needs no
 * pretraining.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandOrSkip, sharedOrSkip } from './helpers/skip.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const FAKE = fileURLToPath(new URL('./helpers/fake-executor.ts', import.meta.url));
const MODEL = fileURLToPath(new URL('../../shared/fixtures/parity/roberta-tiny', import.meta.url));

describe('make table2: a failed run fails make, after the table is written', function () {
  this.timeout(240_000);
  let dir = '';
  before(function () {
    commandOrSkip(this, 'make', 'apt-get install make');
    sharedOrSkip(this, 'fixtures/parity/roberta-tiny');
    dir = mkdtempSync(join(tmpdir(), 'make-table-'));
    writeFileSync(
      join(dir, 'table2.yaml'),
      `experiment: make-table
seeds: [0]
defaults: { epochs: 1, batchSize: 8, learningRate: 1.0e-3, maxSeqLength: 32, trainLimit: 16 }
grid:
  - models: [${MODEL}]
    methods: [lora]
    tasks: [sst2, mrpc]
profiles:
  t: {}
`,
    );
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  const make = (fail: string): ReturnType<typeof spawnSync> =>
    spawnSync('make', ['--no-print-directory', 'table2', `SPEC_DIR=${dir}`, 'PROFILE=t', `RESULTS=${join(dir, 'results')}`], {
      cwd: REPO,
      encoding: 'utf8',
      env: { ...process.env, LORA_REPRO_EXECUTOR: FAKE, LORA_REPRO_FAKE_FAIL: fail, MLFLOW_TRACKING_URI: '' },
    });

  it('exits non-zero naming the failure, with the table printed and written', () => {
    const r = make('task=sst2');
    const out = `${r.stdout}${r.stderr}`;
    assert.notEqual(r.status, 0, out);
    assert.match(out, /done: 1 finished, 1 failed/);
    assert.match(out, /make table2: FAILED/);
    assert.ok(existsSync(join(dir, 'results', 't', 'table2.md')), 'the table was written despite the failure');
    assert.ok(existsSync(join(dir, 'results', 't', 'report.html')), 'the report was written despite the failure');
  });

  it('exits 0 once the failed run is retried and finishes', () => {
    const r = make('');
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.match(String(r.stdout), /done: 1 finished, 0 failed, 1 were already finished/);
  });
});
