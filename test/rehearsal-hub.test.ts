/**
 * The paper profile rehearsed end to end against a local Hugging Face hub (issue 17, item 7): tiny
 * checkpoints and datasets under the real repository names (helpers/hub-fixtures.ts) are fetched
 * with `lora-repro download`, then `make table2/table3 PROFILE=paper REHEARSE=1` runs the paper
 * profile's own resolution (hub snapshots), data (the cached parquet: LORA_REPRO_DATA is an empty
 * directory) and dependencies (MNLI → RTE) on the CPU, with sizes capped, and writes tables whose
 * caption says they are a rehearsal.
 *
 * The always-on variant filters each table to one row per method family (Table 2: FT, BitFit,
 * Adapter^D, LoRA with its chained RTE cell, Adapter^P, Adapter^H on MNLI and RTE, and DeBERTa XXL
 * LoRA on MNLI → RTE: its spm.model tokenizer and [CLS] A [SEP] B [SEP] encoding; Table 3: FT,
 * Adapter^H, FT^Top2, PreLayer on GPT-2 M and LoRA, Adapter^L on GPT-2 L). LORA_REPRO_LONG=1 runs
 * every row the rehearsal covers (14 × 8 GLUE cells, 12 E2E cells).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../src/backend/select.ts';
import { runResultSchema, type RunResult } from '../src/train/result-schema.ts';
import { FakeHubServer } from './helpers/fake-hub-server.ts';
import { paperDatasetRepos, paperModelRepos } from './helpers/hub-fixtures.ts';
import { commandOrSkip, sharedOrSkip } from './helpers/skip.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const LONG = process.env.LORA_REPRO_LONG !== undefined && process.env.LORA_REPRO_LONG !== '';
const FILTER2 = 'row=rob-base-ft|rob-base-bitfit|rob-base-adpt-d-0.3m|rob-base-lora|rob-large-adpt-p-0.8m|rob-large-adpt-h-0.8m|deb-xxl-lora,task=mnli|rte';
interface Exited {
  status: number;
  stdout: string;
  stderr: string;
}

const FILTER3 = 'row=gpt2-m-ft|gpt2-m-adapter-h|gpt2-m-ft-top2|gpt2-m-prelayer|gpt2-l-lora|gpt2-l-adapter-l-0.88m';

describe(`paper profile rehearsal against a local hub${LONG ? ' (every row, LORA_REPRO_LONG)' : ' (one row per method family)'}`, function () {
  this.timeout(LONG ? 1_800_000 : 600_000);
  let hub: FakeHubServer;
  let dir = '';
  let env: NodeJS.ProcessEnv = {};
  const results = (): string => join(dir, 'results');
  // Asynchronous: the fake hub answers from this process's event loop.
  const exec = (file: string, args: string[]): Promise<Exited> =>
    new Promise((resolve) => {
      execFile(file, args, { cwd: REPO, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ status: code, stdout, stderr });
      });
    });
  const cli = (args: string[]): Promise<Exited> => exec(process.execPath, [join(REPO, 'bin/lora-repro.mjs'), ...args]);
  const make = (table: 2 | 3): Promise<Exited> =>
    exec('make', ['--no-print-directory', `table${table}`, 'PROFILE=paper', 'REHEARSE=1', `RESULTS=${results()}`, 'WORKERS=2', ...(LONG ? [] : [`FILTER=${table === 2 ? FILTER2 : FILTER3}`])]);
  const runs = (): RunResult[] => {
    const runsDir = join(results(), 'paper-rehearsal', 'runs');
    return readdirSync(runsDir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => runResultSchema.parse(JSON.parse(readFileSync(join(runsDir, f), 'utf8'))));
  };
  const out = (r: Exited): string => `${r.stdout}${r.stderr}`;
  const timings: string[] = [];
  const timed = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    const v = await fn();
    timings.push(`${what} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return v;
  };

  before(async function () {
    commandOrSkip(this, 'make', 'apt-get install make');
    sharedOrSkip(this, 'fixtures/tokenizers/spm-unigram'); // paperModelRepos' DeBERTa tokenizer
    await initBackend('cpu');
    hub = new FakeHubServer([...paperModelRepos(), ...paperDatasetRepos()]);
    await hub.start();
    dir = mkdtempSync(join(tmpdir(), 'rehearsal-'));
    mkdirSync(join(dir, 'empty-data'));
    env = {
      ...process.env,
      HF_ENDPOINT: hub.url,
      LORA_REPRO_CACHE: join(dir, 'cache'),
      // An empty data directory: every split must come from the downloaded parquet (split-source.ts).
      LORA_REPRO_DATA: join(dir, 'empty-data'),
      LORA_REPRO_MODELS: '',
      MLFLOW_TRACKING_URI: '',
    };
  });

  after(async () => {
    console.log(`      timings: ${timings.join(', ')}`);
    await hub?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('an ad hoc `train --model roberta-base` refuses before the download, naming the command', async () => {
    const r = await cli(['train', '--model', 'roberta-base', '--task', 'rte', '--method', 'lora']);
    assert.equal(r.status, 2, out(r));
    assert.match(r.stderr.trim(), /^lora-repro train: model 'roberta-base' \(FacebookAI\/roberta-base\) is not downloaded .*lora-repro download --models roberta-base/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  it('downloads the five models and both datasets from the hub', async () => {
    const r = await timed('download', () => cli(['download', '--models', 'roberta-base,roberta-large,gpt2-medium,gpt2-large,deberta-v2-xxlarge', '--datasets', 'glue,e2e']));
    assert.equal(r.status, 0, out(r));
  });

  it('`train --model roberta-base` then trains from the downloaded snapshot', async () => {
    const o = join(dir, 'adhoc');
    const r = await timed('train', () => cli(['train', '--model', 'roberta-base', '--task', 'rte', '--method', 'lora', '--epochs', '1', '--limit', '8', '--eval-limit', '4', '--max-seq', '32', '--out', o]));
    assert.equal(r.status, 0, out(r));
    const result = runResultSchema.parse(JSON.parse(readFileSync(join(o, 'result.json'), 'utf8')));
    assert.match(result.config.model as string, /models--FacebookAI--roberta-base[\\/]snapshots[\\/][0-9a-f]{40}$/);
    assert.match(readFileSync(join(o, 'train.log'), 'utf8'), /checkpoint tensors of heads this model does not use were not loaded: .*lm_head\.bias/);
  });

  it('--dry-run --rehearse shows the capped plan with every row (DeBERTa XXL included), and starts nothing', async () => {
    const r = await cli(['run', 'experiments/table2.yaml', '--profile', 'paper', '--rehearse', '--dry-run', '--results', results()]);
    assert.equal(r.status, 0, out(r));
    assert.match(r.stdout, /rehearsal of profile 'paper' → .*paper-rehearsal\/: first seed only, 1 epoch, ≤ 16 training examples in passes of ≤ 4/);
    assert.doesNotMatch(r.stdout, /not rehearsed/);
    assert.match(r.stdout, /table2 · profile paper-rehearsal .*\nruns: 112 selected/);
    assert.match(r.stdout, /deb-xxl-lora +deberta-v2-xxlarge +lora +8 +8 /);
    assert.match(r.stdout, /rob-base-bitfit +bitfit +mnli +16 +16 +8 +1 +128 +32 +1/);
  });

  it('make table2 PROFILE=paper REHEARSE=1: green on the CPU, every covered cell filled, MNLI → RTE chained, caption says rehearsal', async () => {
    const r = await timed('make table2', () => make(2));
    assert.equal(r.status, 0, out(r));
    assert.doesNotMatch(r.stdout, /not rehearsed/);
    const all = runs().filter((x) => x.experiment === 'table2');
    assert.equal(all.length, LONG ? 112 : 14);
    for (const x of all) {
      assert.equal(x.status, 'finished', `${x.runId}: ${x.error}`);
      assert.equal(x.profile, 'paper-rehearsal');
      assert.equal(x.config.rehearsal, true);
      assert.equal(x.seed, 0);
      assert.match(x.provenance.model, /./);
      for (const key of Object.keys(x.provenance.datasets)) assert.match(key, /^hf:\/\/datasets\/nyu-mll\/glue@[0-9a-f]{40}\//);
    }
    for (const model of ['roberta-base', 'deberta-v2-xxlarge']) {
      const lora = (task: string) => all.find((x) => x.config.task === task && x.method === 'lora' && x.model === model);
      const parent = lora('mnli');
      const child = lora('rte');
      assert.ok(parent && child, model);
      assert.match(child.provenance.initFrom ?? '', new RegExp(`^run ${parent.runId} \\(mnli\\)`));
    }
    // DeBERTa XXL from its hub snapshot (model.safetensors + spm.model), not a random init of the built-in config.
    const deb = all.find((x) => x.model === 'deberta-v2-xxlarge' && x.config.task === 'mnli');
    assert.match(deb?.provenance.model ?? '', /models--microsoft--deberta-v2-xxlarge[\\/]snapshots[\\/][0-9a-f]{40} \(model\.safetensors sha256:/);

    const table = JSON.parse(readFileSync(join(results(), 'paper-rehearsal', 'table2.json'), 'utf8')) as { caption: string; rows: { label: string; cells: { column: string; value?: number; runs: unknown[] }[] }[] };
    assert.match(table.caption, /^REHEARSAL of profile "paper" \(lora-repro run --rehearse\), not results: /);
    assert.doesNotMatch(table.caption, /Not rehearsed/);
    assert.equal(table.rows.length, LONG ? 14 : 7);
    for (const row of table.rows) for (const c of row.cells) if (c.runs.length > 0) assert.ok(Number.isFinite(c.value), `${row.label} / ${c.column}: no value`);
    const filled = table.rows.flatMap((row) => row.cells.filter((c) => c.value !== undefined)).length;
    assert.equal(filled, all.length);
    assert.match(readFileSync(join(results(), 'paper-rehearsal', 'table2.md'), 'utf8'), /REHEARSAL of profile "paper"/);
  });

  it('make table3 PROFILE=paper REHEARSE=1: E2E decoded on the test split from the parquet, caption says rehearsal', async () => {
    const r = await timed('make table3', () => make(3));
    assert.equal(r.status, 0, out(r));
    const e2e = runs().filter((x) => x.experiment === 'table3');
    assert.equal(e2e.length, LONG ? 12 : 6);
    for (const x of e2e) {
      assert.equal(x.status, 'finished', `${x.runId}: ${x.error}`);
      assert.equal(x.config.rehearsal, true);
      assert.equal(x.reported?.split, 'test');
      assert.deepEqual((x.config.decoding as { maxNewTokens: number }).maxNewTokens, 8);
      assert.ok(Object.keys(x.provenance.datasets).some((k) => k.startsWith('hf://datasets/tuetschek/e2e_nlg@')));
    }
    const table = JSON.parse(readFileSync(join(results(), 'paper-rehearsal', 'table3.json'), 'utf8')) as { caption: string; rows: { cells: { value?: number }[] }[] };
    assert.match(table.caption, /^REHEARSAL of profile "paper"/);
    assert.doesNotMatch(table.caption, /Not rehearsed/);
    assert.equal(table.rows.length, e2e.length);
    for (const row of table.rows) for (const c of row.cells) assert.ok(Number.isFinite(c.value));
  });
});
