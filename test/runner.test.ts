/**
 * The runner (src/runner) with the deterministic fake executor: exactly-once results and CSV rows,
 * skipping finished runs, recording and retrying failures, the CSV reconciliation cases a crash can
 * leave, the lock, worker crashes, interruption, and the --dry-run plan and cost arithmetic.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Papa from 'papaparse';
import { expandSpec, type Expansion } from '../src/spec/expand.ts';
import { applyFilters } from '../src/spec/filter.ts';
import { parseSpecText } from '../src/spec/load.ts';
import { CostModel } from '../src/runner/cost.ts';
import type { Executor } from '../src/runner/executor.ts';
import { runTraining as fakeTraining } from './helpers/fake-executor.ts';
import { acquireLock } from '../src/runner/lock.ts';
import { resultsPaths } from '../src/runner/paths.ts';
import { buildPlan, formatPlan } from '../src/runner/plan.ts';
import { loadSpecFile } from '../src/spec/load.ts';
import type { RunResult } from '../src/train/result-schema.ts';
import { scanResults } from '../src/runner/results-store.ts';
import { runExperiment, type RunnerOptions } from '../src/runner/runner.ts';
import { csvRow, formatCsv, RUNS_CSV_COLUMNS, RunsCsv } from '../src/runner/runs-csv.ts';
import { UserError } from '../src/util/errors.ts';
import { realTinySpec } from './helpers/real-spec.ts';
import { builtinConfig, toHfConfigJson } from '../src/models/config.ts';
import { runTraining as realTraining } from '../src/train/trainer.ts';
import { runKeys } from '../src/train/run-identity.ts';
import { trainRunConfigSchema } from '../src/train/run-config.ts';
import { sharedOrSkip } from './helpers/skip.ts';

const SPEC = `
experiment: rt
seeds: [0, 1, 2]
defaults: { epochs: 2, batchSize: 8, learningRate: 1.0e-3, maxSeqLength: 32, trainLimit: 64 }
grid:
  - row: a
    models: [mini-roberta]
    methods: [lora]
    tasks: [rte, mrpc]
profiles:
  test: {}
`;
const FAKE_MODULE = new URL('./helpers/fake-executor.ts', import.meta.url).pathname;

let savedUri: string | undefined;
before(() => {
  savedUri = process.env.MLFLOW_TRACKING_URI;
  delete process.env.MLFLOW_TRACKING_URI; // the runner must work without a tracking server
});
after(() => {
  if (savedUri !== undefined) process.env.MLFLOW_TRACKING_URI = savedUri;
});

function expansion(): Expansion {
  return expandSpec(parseSpecText(SPEC, 'rt.yaml'), { profile: 'test' });
}

const temps: string[] = [];
after(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

function tempRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), 'runner-'));
  temps.push(dir);
  return dir;
}

interface Recorder {
  executor: Executor;
  calls: string[];
  models: string[];
}

/** The fake executor, counting calls; `fail` makes matching runs throw. */
function recorder(fail?: (task: string, seed: number) => boolean, garbage = false): Recorder {
  const calls: string[] = [];
  const models: string[] = [];
  const executor: Executor = async (config, opts) => {
    calls.push(`${config.task}:${config.seed}`);
    models.push(config.model);
    if (fail?.(config.task, config.seed)) throw new Error(`boom ${config.task} ${config.seed}`);
    if (garbage) return { not: 'a result' } as unknown as RunResult;
    return fakeTraining(config, opts, {});
  };
  return { executor, calls, models };
}

async function run(root: string, rec: Recorder, extra: Partial<RunnerOptions> = {}, filters: string[] = []) {
  const e = expansion();
  return runExperiment(e, applyFilters(e.runs, filters), { resultsRoot: root, workers: 2, executor: rec.executor, log: () => {}, warn: () => {}, ...extra });
}

function readCsv(root: string): Record<string, string>[] {
  const text = readFileSync(join(root, 'test', 'runs.csv'), 'utf8');
  assert.ok(text.endsWith('\n'), 'the CSV ends with a complete line');
  const parsed = Papa.parse<Record<string, string>>(text, { header: true, skipEmptyLines: true });
  assert.deepEqual(parsed.meta.fields, [...RUNS_CSV_COLUMNS]);
  return parsed.data;
}

function jsons(root: string): Map<string, RunResult> {
  return scanResults(resultsPaths(join(root, 'test'))).byId;
}

/** Rows and JSONs are one-to-one, and each row says what its JSON says. */
function assertCsvMirrorsJson(root: string): Record<string, string>[] {
  const rows = readCsv(root);
  const byId = jsons(root);
  assert.equal(rows.length, byId.size);
  assert.equal(new Set(rows.map((r) => r.runId)).size, rows.length, 'no runId twice');
  for (const row of rows) {
    const j = byId.get(row.runId);
    assert.ok(j, `row ${row.runId} has no JSON`);
    assert.equal(row.status, j.status);
    assert.equal(row.seed, String(j.seed));
    assert.equal(row.task, j.task);
    assert.equal(row.finishedAt, j.finishedAt);
    assert.deepEqual(JSON.parse(row.metrics), j.metrics);
    assert.equal(row.headlineValue, j.status === 'finished' ? String(j.metrics[j.headlineMetric]) : '');
  }
  return rows;
}

describe('runner: exactly-once results', () => {
  it('runs every selected run once; one JSON and one CSV row each; no server needed', async () => {
    const root = tempRoot();
    const rec = recorder();
    const s = await run(root, rec);
    assert.equal(rec.calls.length, 6);
    assert.equal(new Set(rec.calls).size, 6);
    assert.deepEqual([s.finished, s.failed, s.skipped, s.interrupted], [6, 0, 0, false]);
    assert.equal(s.tracker?.kind, 'local');
    const rows = assertCsvMirrorsJson(root);
    assert.equal(rows.length, 6);
    const planned = new Set(expansion().runs.map((r) => r.runId));
    assert.deepEqual(new Set(rows.map((r) => r.runId)), planned);
    assert.ok(existsSync(join(root, 'test', 'runs', rows[0].runId, 'predictions.txt')), 'the run wrote into its own directory');
    assert.ok(!existsSync(join(root, 'test', '.runner.lock')), 'the lock is released');
  });

  it('a rerun skips finished runs and leaves every file as it was', async () => {
    const root = tempRoot();
    await run(root, recorder());
    const csvBefore = readFileSync(join(root, 'test', 'runs.csv'), 'utf8');
    const dir = join(root, 'test', 'runs');
    const before = readdirSync(dir).filter((n) => n.endsWith('.json')).map((n) => readFileSync(join(dir, n), 'utf8'));
    const rec = recorder();
    const s = await run(root, rec);
    assert.deepEqual([rec.calls.length, s.skipped, s.finished], [0, 6, 0]);
    assert.equal(readFileSync(join(root, 'test', 'runs.csv'), 'utf8'), csvBefore);
    assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.json')).map((n) => readFileSync(join(dir, n), 'utf8')), before);
  });

  it('records failures without stopping other runs, and retries them next time (row replaced, not added)', async () => {
    const root = tempRoot();
    const s1 = await run(root, recorder((t, seed) => t === 'rte' && seed === 1));
    assert.deepEqual([s1.finished, s1.failed], [5, 1]);
    const failed = [...jsons(root).values()].filter((j) => j.status === 'failed');
    assert.equal(failed.length, 1);
    assert.equal(failed[0].error, 'boom rte 1');
    assert.equal(readCsv(root).filter((r) => r.status === 'failed').length, 1);
    assertCsvMirrorsJson(root);

    const rec = recorder();
    const s2 = await run(root, rec);
    assert.deepEqual(rec.calls, ['rte:1']);
    assert.deepEqual([s2.finished, s2.failed, s2.skipped], [1, 0, 5]);
    const rows = assertCsvMirrorsJson(root);
    assert.equal(rows.length, 6);
    assert.ok(rows.every((r) => r.status === 'finished'));
  });

  it('an executor result that is not a RunResult is a failed run', async () => {
    const root = tempRoot();
    const s = await run(root, recorder(undefined, true), {}, ['task=rte,seed=0']);
    assert.equal(s.failed, 1);
    const [j] = [...jsons(root).values()];
    assert.equal(j.status, 'failed');
    assert.match(j.error ?? '', /^the executor returned an invalid result: /);
  });

  it('runs only what --filter selects', async () => {
    const root = tempRoot();
    const rec = recorder();
    await run(root, rec, {}, ['task=mrpc', 'seed!=2']);
    assert.deepEqual(rec.calls.sort(), ['mrpc:0', 'mrpc:1']);
    assert.equal(readCsv(root).length, 2);
  });

  it('hands the executor the resolved model but records the spec name', async () => {
    const root = tempRoot();
    const rec = recorder();
    await run(root, rec, { resolveModel: (n) => `/weights/${n}` }, ['seed=0']);
    assert.deepEqual(rec.models, ['/weights/mini-roberta', '/weights/mini-roberta']);
    for (const j of jsons(root).values()) {
      assert.equal(j.model, 'mini-roberta');
      assert.equal((j.config as { model: string }).model, 'mini-roberta');
    }
  });

  it('sweeps temporary files of killed writers and restarts unfinished runs in a clean directory', async () => {
    const root = tempRoot();
    const pending = expansion().runs[0].runId;
    const runs = join(root, 'test', 'runs');
    mkdirSync(join(runs, pending), { recursive: true });
    writeFileSync(join(runs, pending, 'stale-checkpoint'), 'from a killed attempt');
    writeFileSync(join(runs, `.tmp-${pending}.json.123.abcd`), '{"half": ');
    await run(root, recorder());
    assert.ok(!existsSync(join(runs, pending, 'stale-checkpoint')));
    assert.deepEqual(readdirSync(runs).filter((n) => n.startsWith('.tmp-')), []);
    assertCsvMirrorsJson(root);
  });
});

describe('runner: runs.csv reconciliation', () => {
  async function results(): Promise<RunResult[]> {
    const e = expansion();
    return Promise.all(e.runs.slice(0, 3).map((r, i) => fakeTraining({ ...r.config }, { outDir: tempRoot() }, {}).then((x) => ({ ...x, finishedAt: `2030-01-0${i + 1}T00:00:00.000Z` }))));
  }
  const header = `${RUNS_CSV_COLUMNS.join(',')}\n`;
  const line = (r: RunResult): string => formatCsv([csvRow(r)], false);

  function reconcile(text: string | undefined, rs: RunResult[]) {
    const dir = tempRoot();
    const path = join(dir, 'runs.csv');
    if (text !== undefined) writeFileSync(path, text);
    const csv = new RunsCsv(path);
    const report = csv.reconcile(new Map(rs.map((r) => [r.runId, r])));
    return { report, text: readFileSync(path, 'utf8'), csv, path };
  }

  it('re-appends rows whose JSON exists (crash between JSON and row), in finish order', async () => {
    const rs = await results();
    const { report, text } = reconcile(header + line(rs[0]), [rs[2], rs[1], rs[0]]);
    assert.deepEqual([report.appended, report.dropped, report.rewritten], [2, 0, false]);
    assert.equal(text, header + line(rs[0]) + line(rs[1]) + line(rs[2]));
  });

  it('drops a torn last line and derives the row again', async () => {
    const rs = await results();
    const torn = line(rs[1]).slice(0, 40);
    const { report, text } = reconcile(header + line(rs[0]) + torn, rs);
    assert.equal(report.rewritten, true);
    assert.deepEqual(report.problems, ['torn last line']);
    assert.equal(text, header + line(rs[0]) + line(rs[1]) + line(rs[2]));
  });

  it('drops duplicates, rows without a JSON, stale rows and invalid rows', async () => {
    const rs = await results();
    const stale = formatCsv([{ ...csvRow(rs[1]), status: 'failed', headlineValue: '' }], false);
    const orphan = formatCsv([{ ...csvRow(rs[2]), runId: 'deadbeefdeadbeef' }], false);
    const invalid = 'x,y,z\n';
    const { report, text } = reconcile(header + line(rs[0]) + line(rs[0]) + stale + orphan + invalid, rs);
    assert.equal(report.rewritten, true);
    assert.equal(report.dropped, 3);
    assert.equal(text, header + line(rs[0]) + line(rs[1]) + line(rs[2]));
  });

  it('rewrites a file whose header is wrong, and creates a missing file', async () => {
    const rs = await results();
    assert.equal(reconcile('garbage\n', rs).text, header + line(rs[0]) + line(rs[1]) + line(rs[2]));
    assert.equal(reconcile(undefined, []).text, header);
  });

  it('commit appends a new row and replaces the row of a retried run', async () => {
    const rs = await results();
    const { csv, path } = reconcile(header, []);
    csv.commit(rs[0]);
    csv.commit(rs[1]);
    assert.equal(readFileSync(path, 'utf8'), header + line(rs[0]) + line(rs[1]));
    const retried = { ...rs[0], finishedAt: '2031-01-01T00:00:00.000Z' };
    csv.commit(retried);
    assert.equal(readFileSync(path, 'utf8'), header + line(rs[1]) + line(retried));
  });
});

describe('runner: lock, workers, interruption', () => {
  it('refuses a directory locked by a live runner and takes over the lock of a dead one', async () => {
    const dir = tempRoot();
    const lockPath = join(dir, '.runner.lock');
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    await new Promise((r) => child.once('spawn', r));
    writeFileSync(lockPath, JSON.stringify({ pid: child.pid }));
    assert.throws(() => acquireLock(lockPath), (e: unknown) => e instanceof UserError && /another lora-repro run \(pid \d+\)/.test(e.message));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const lock = acquireLock(lockPath);
    assert.equal(JSON.parse(readFileSync(lockPath, 'utf8')).pid, process.pid);
    lock.release();
    assert.ok(!existsSync(lockPath));
  });

  it('records a crashed worker process as a failed run; the other workers go on', async () => {
    const root = tempRoot();
    const e = expansion();
    const s = await runExperiment(e, applyFilters(e.runs, ['seed=0|1']), {
      resultsRoot: root,
      workers: 2,
      executorModule: FAKE_MODULE,
      env: { ...process.env, LORA_REPRO_FAKE_CRASH: 'task=rte' },
      log: () => {},
      warn: () => {},
    });
    assert.deepEqual([s.finished, s.failed], [2, 2]);
    for (const j of jsons(root).values()) {
      if (j.task === 'rte') assert.match(j.error ?? '', /worker process ended without a result \(signal SIGKILL\)/);
      else assert.equal(j.status, 'finished');
    }
    assertCsvMirrorsJson(root);
  });

  it('an abort kills the workers and records nothing for the runs they had', async () => {
    const root = tempRoot();
    const e = expansion();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 1500);
    const s = await runExperiment(e, e.runs, {
      resultsRoot: root,
      workers: 2,
      executorModule: FAKE_MODULE,
      env: { ...process.env, LORA_REPRO_FAKE_SLEEP_MS: '20000-30000' },
      signal: controller.signal,
      log: () => {},
      warn: () => {},
    });
    assert.equal(s.interrupted, true);
    assert.equal(s.attempted, 0, [...jsons(root).values()].map((j) => j.error).join('; '));
    assert.equal(jsons(root).size, 0);
    assert.equal(readCsv(root).length, 0);
  });
});

describe('runner: the real trainer, end to end', function () {
  this.timeout(180_000);
  before(function () {
    sharedOrSkip(this, 'fixtures/tokenizers/gpt2'); // realTinySpec's tokenizer
  });

  it('trains a tiny LoRA run (mini-roberta, synthetic-sst2, 2 steps) in a worker and records it', async () => {
    const e = expandSpec(parseSpecText(realTinySpec('real-smoke', '[synthetic-sst2]'), 'real.yaml'), {});
    const root = tempRoot();
    const s = await runExperiment(e, e.runs, { resultsRoot: root, workers: 1, log: () => {}, warn: () => {}, quiet: true });
    const [j] = [...scanResults(resultsPaths(join(root, 'default'))).byId.values()];
    assert.equal(s.finished, 1, j?.error);
    assert.equal(j.status, 'finished');
    assert.equal(j.runId, e.runs[0].runId);
    assert.equal(j.epochs.length, 1);
    assert.equal(j.epochs[0].step, 2); // 16 examples / batch 8
    // LoRA r=2 on W_q and W_v of 4 blocks, d_model 128 (mini-roberta is the stand-in's architecture): 4 · 2 · (128 + 128) · 2.
    assert.equal(j.trainableParams.counted, 4 * 2 * 256 * 2);
    assert.equal(j.trainableParams.formula, j.trainableParams.counted);
    assert.ok(j.tokensPerSecond > 0 && j.peakRssMiB > 0);
    assert.match(j.provenance.backend, /wasm|cpu|tensorflow/);
    const rows = Papa.parse<Record<string, string>>(readFileSync(join(root, 'default', 'runs.csv'), 'utf8'), { header: true, skipEmptyLines: true }).data;
    assert.deepEqual(rows.map((r) => [r.runId, r.status]), [[j.runId, 'finished']]);
    assert.ok(existsSync(join(root, 'default', 'runs', j.runId, 'train.log')), 'the trainer wrote into the run directory');
  });

  it("the trainer's own result.json records the runner's run id, not a hash of the resolved model path; alone, its config's", async () => {
    const e = expandSpec(parseSpecText(realTinySpec('real-ids', '[synthetic-sst2]'), 'real.yaml'), {});
    const root = tempRoot();
    // The model resolves to a config.json file (a random init of the same architecture): another config, so another hash.
    const resolved = join(root, 'mini-roberta.json');
    writeFileSync(resolved, JSON.stringify(toHfConfigJson(builtinConfig('mini-roberta'))));
    const s = await runExperiment(e, e.runs, { resultsRoot: root, workers: 1, executor: (c, o) => realTraining(c, { ...o, log: () => {} }), resolveModel: () => resolved, log: () => {}, warn: () => {}, quiet: true });
    assert.equal(s.finished, 1);
    const planned = e.runs[0];
    const own = JSON.parse(readFileSync(join(root, 'default', 'runs', planned.runId, 'result.json'), 'utf8')) as RunResult;
    assert.equal(own.config.model, resolved, 'the trainer saw the resolved model');
    assert.notEqual(runKeys(own.config as never).runId, planned.runId, 'so its config hashes to another id');
    assert.deepEqual([own.runId, own.cellKey], [planned.runId, planned.cellKey]);
    // Standalone (lora-repro train): no ids given, so the hash of the config it trained.
    const alone = await realTraining(planned.config, { outDir: join(root, 'alone'), log: () => {} });
    assert.equal(alone.runId, runKeys(planned.config).runId);
    assert.equal(alone.runId, planned.runId, 'the spec config unresolved: the same id as the runner gives it');
  });
});

describe('runner: --dry-run plan and cost model', () => {
  it('counts finished, failed and pending runs from the results directory', async () => {
    const root = tempRoot();
    await run(root, recorder((t, seed) => t === 'rte' && seed === 0), {}, ['seed=0|1']);
    const e = expansion();
    const plan = buildPlan(e, e.runs, { resultsRoot: root, workers: 2, msPerToken: 1 });
    assert.deepEqual([plan.total.runs, plan.total.finished, plan.total.failed, plan.total.toRun], [6, 3, 1, 3]);
    assert.equal(plan.total.cells, 2);
  });

  it('estimates tokens × ms/token from the config, preferring measured rates', () => {
    const r = expansion().runs.find((x) => x.config.task === 'rte');
    assert.ok(r);
    // 64 training examples (trainLimit) × 32 tokens × 2 epochs; evaluation: RTE dev (277) × 32 per epoch, forward only (÷3).
    const train = 64 * 32 * 2;
    const evalTokens = (2 * 277 * 32) / 3;
    const flagged = new CostModel({ msPerTokenFlag: 2, finished: [] }).estimate(r);
    assert.equal(flagged.trainTokens, train);
    assert.ok(Math.abs(flagged.evalTokens - evalTokens) < 1e-9);
    assert.ok(Math.abs(flagged.ms - (train + evalTokens) * 2) < 1e-6);
    const measured = { tokensPerSecond: 500, status: 'finished', model: 'mini-roberta', method: 'lora' } as RunResult;
    const rate = new CostModel({ finished: [measured, { ...measured, tokensPerSecond: 250 }, { ...measured, tokensPerSecond: 1000 }] }).rate('mini-roberta', 'lora');
    assert.equal(rate.msPerToken, 2); // median of 2, 4 and 1 ms/token
    assert.match(rate.source, /^measured \(3 finished runs\)/);
    // Unmeasured, unknown to the spec: the bench rate (bench-roberta) scaled by 12·L·d² (roberta-base: 12·768² vs 4·256²).
    const base = new CostModel({ finished: [] });
    const ratio = base.rate('roberta-base', 'lora').msPerToken / base.rate('bench-roberta', 'lora').msPerToken;
    assert.ok(Math.abs(ratio - (12 * 768 * 768) / (4 * 256 * 256)) < 1e-9);
    // mini-roberta is the d-128 stand-in: 4·128² against the bench model's 4·256².
    assert.ok(Math.abs(base.rate('mini-roberta', 'lora').msPerToken / base.rate('bench-roberta', 'lora').msPerToken - 0.25) < 1e-9);
  });

  it("counts real tokens, as measured rates do (tokensPerSecond counts no padding): SST-2's mean length, not maxSeqLength", () => {
    const config = trainRunConfigSchema.parse({
      experiment: 'c', profile: 'p', model: 'mini-roberta', task: 'sst2', method: 'lora', seed: 0, epochs: 2, batchSize: 16, learningRate: 1e-3, maxSeqLength: 128, trainLimit: 1000,
    });
    const run = { ...expansion().runs[0], config };
    // A finished run trained 500 real tokens a second: 2 ms a token.
    const measured = { tokensPerSecond: 500, status: 'finished', model: 'mini-roberta', method: 'lora' } as RunResult;
    const est = new CostModel({ finished: [measured] }).estimate(run);
    // Train: 1000 examples × 14.4 tokens (SST-2 train's mean) × 2 epochs = 28,800 (padded to 128 it was 256,000).
    assert.ok(Math.abs(est.trainTokens - 28_800) < 1e-9, String(est.trainTokens));
    // Dev after each epoch: 2 × 872 examples × 26.0 tokens (SST-2 dev's mean) ÷ 3 (forward only) = 15,114.67.
    assert.ok(Math.abs(est.evalTokens - (2 * 872 * 26) / 3) < 1e-9, String(est.evalTokens));
    assert.ok(Math.abs(est.ms - (28_800 + 15_114.666_666_666_666) * 2) < 1e-6, String(est.ms));
    // A shorter maxSeqLength caps the mean (truncation); an unmeasured task counts maxSeqLength.
    assert.equal(new CostModel({ finished: [measured] }).estimate({ ...run, config: { ...config, maxSeqLength: 8 } }).trainTokens, 1000 * 8 * 2);
    assert.equal(new CostModel({ finished: [measured] }).estimate({ ...run, config: { ...config, task: 'synthetic-sst2' } }).trainTokens, 1000 * 128 * 2);
  });

  it("prints each cell's effective batch, optimizer updates and warm-up (table2 paper, RoB-base LoRA)", () => {
    const e = expandSpec(loadSpecFile('experiments/table2.yaml'), { profile: 'paper' });
    const selected = applyFilters(e.runs, ['row=rob-base-lora']);
    const plan = buildPlan(e, selected, { resultsRoot: tempRoot(), workers: 1 });
    assert.equal(plan.cells.length, 8, 'one line per cell, not per seed');
    const mnli = plan.cells.find((c) => c.task === 'mnli');
    // MNLI: 392702 examples, 16 × 8 devices = 128 per update → 3068 an epoch, × 30 = 92040; warm-up ceil(0.06 × 92040).
    assert.deepEqual(
      [mnli?.devices, mnli?.schedule.effectiveBatch, mnli?.schedule.stepsPerEpoch, mnli?.schedule.totalSteps, mnli?.schedule.warmupSteps],
      [8, 128, 3068, 92040, 5523],
    );
    const text = formatPlan(e, plan, ['row=rob-base-lora']);
    assert.match(text, /rob-base-lora\s+lora\s+mnli\s+392702\s+16\s+8\s+1\s+128\s+8\s+30\s+3068\s+92040\s+5523\s+6\.0/);
    assert.match(text, /rob-base-lora\s+lora\s+cola\s+8551\s+32\s+2\s+1\s+64\s+2\s+80\s+134\s+10720\s+644\s+6\.0/);
  });
});
