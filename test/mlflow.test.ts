/**
 * MLflow tracking against an in-process fake server (test/helpers/fake-mlflow-server.ts).
 * Each fault scenario runs the same workload and must leave the server in exactly the state a
 * fault-free run leaves (modulo ids and timestamps): no lost data, no duplicate runs or metrics.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mlflowCommand } from '../src/cli/commands/mlflow.ts';
import { MlflowApiError, MlflowUnreachableError, TransientError } from '../src/tracking/errors.ts';
import { createTracker, type Tracker } from '../src/tracking/index.ts';
import { parseJsonExact } from '../src/tracking/json-exact.ts';
import { MLFLOW_LIMITS, chunkBatch, keyProblem, toWireMetrics } from '../src/tracking/limits.ts';
import { MlflowApi, resolveArtifactUrl } from '../src/tracking/mlflow-api.ts';
import { RestClient } from '../src/tracking/rest-client.ts';
import { backoffDelay, parseRetryAfter, resolvePolicy, withRetry, type RetryPolicy } from '../src/tracking/retry.ts';
import { readSpoolFile } from '../src/tracking/spool.ts';
import { syncSpool } from '../src/tracking/sync.ts';
import { UserError } from '../src/util/errors.ts';
import { FakeMlflowServer, type Fault } from './helpers/fake-mlflow-server.ts';

const FAST: Partial<RetryPolicy> = { baseDelayMs: 5, maxDelayMs: 40, maxElapsedMs: 8000, maxAttempts: 10, requestTimeoutMs: 2000 };
const SHORT: Partial<RetryPolicy> = { baseDelayMs: 5, maxDelayMs: 20, maxElapsedMs: 300, maxAttempts: 3, requestTimeoutMs: 500 };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let work: string;
let artifactFile: string;
const servers: FakeMlflowServer[] = [];
let warnings: string[] = [];

async function server(opts: Parameters<typeof FakeMlflowServer.start>[0] = {}): Promise<FakeMlflowServer> {
  const s = await FakeMlflowServer.start(opts);
  servers.push(s);
  return s;
}

function tracker(s: FakeMlflowServer, spoolDir: string, retry: Partial<RetryPolicy> = FAST, sleeps?: number[]): Tracker {
  return createTracker({
    trackingUri: s.url,
    spoolDir,
    retry,
    system: { user: 'tester', gitCommit: 'c0ffee'.padEnd(40, '0') },
    warn: (l) => warnings.push(l),
    hooks: sleeps ? { sleep: (ms) => (sleeps.push(ms), sleep(ms)) } : undefined,
  });
}

/** One table cell with two seeds: params, tags, per-step metrics (incl. NaN/±Infinity), artifacts. */
async function workload(t: Tracker): Promise<void> {
  const cell = await t.startCell('lora-e2e', 'gpt2-lora-r4', { rank: 4, lr: 0.0002, method: 'lora' }, { table: 'e2e' });
  for (const seed of [0, 1]) {
    const run = await cell.startSeedRun(`seed-${seed}`, { seed }, { device: 'cpu' });
    for (let step = 0; step < 20; step += 5) {
      await run.logMetrics([
        { key: 'train/loss', value: 2 - step / 10 + seed, step },
        { key: 'train/lr', value: 1e-4, step },
      ]);
    }
    await run.logMetrics([
      { key: 'eval/bleu', value: NaN, step: 20 },
      { key: 'eval/ppl', value: Infinity, step: 20 },
      { key: 'eval/delta', value: -Infinity, step: 20 },
    ]);
    await run.logParams({ steps: 20, seed });
    await run.setTags({ seed_status: 'done' });
    await run.logArtifact(artifactFile, 'results');
    await run.end(seed === 0 ? 'FINISHED' : 'FAILED');
  }
  await cell.logMetrics([{ key: 'bleu_mean', value: 68.25, step: 0 }]);
  await cell.end('FINISHED');
}

let baseline: unknown;

async function runScenario(s: FakeMlflowServer, faults: [string, Fault[]][], retry = FAST, sleeps?: number[]): Promise<Tracker> {
  for (const [route, fs] of faults) s.inject(route, ...fs);
  const spool = await mkdtemp(join(work, 'spool-'));
  const t = tracker(s, spool, retry, sleeps);
  await workload(t);
  const summary = await t.close();
  assert.equal(summary.runsSpooled, 0, 'nothing should be spooled when retries succeed');
  assert.equal(s.pendingFaults(), 0, 'every injected fault was hit');
  assert.deepEqual(s.snapshot(), baseline);
  return t;
}

describe('MLflow tracking (REST client, retries, spool)', function () {
  this.timeout(30_000);

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'lora-mlflow-'));
    artifactFile = join(work, 'metrics.json');
    await writeFile(artifactFile, JSON.stringify({ bleu: 68.25 }));
    const s = await server();
    const t = tracker(s, join(work, 'baseline-spool'));
    await workload(t);
    await t.close();
    baseline = s.snapshot();
  });

  beforeEach(() => {
    warnings = [];
  });

  after(async () => {
    for (const s of servers) await s.dispose();
    await rm(work, { recursive: true, force: true });
  });

  it('fault-free run: nested runs, system tags, statuses, NaN/Infinity, artifacts', () => {
    const snap = baseline as { experiments: string[]; runs: { name: string; parent: string | null; status: string; tags: string[][]; metrics: string[]; artifacts: string[] }[] };
    assert.deepEqual(snap.experiments, ['lora-e2e:active']);
    assert.deepEqual(snap.runs.map((r) => [r.parent, r.name, r.status]), [
      ['gpt2-lora-r4', 'seed-0', 'FINISHED'],
      ['gpt2-lora-r4', 'seed-1', 'FAILED'],
      [null, 'gpt2-lora-r4', 'FINISHED'],
    ]);
    const tags = Object.fromEntries(snap.runs[0].tags);
    assert.equal(tags['mlflow.parentRunId'], '<gpt2-lora-r4>');
    assert.equal(tags['mlflow.runName'], 'seed-0');
    assert.equal(tags['mlflow.user'], 'tester');
    assert.equal(tags['mlflow.source.type'], 'LOCAL');
    assert.equal(tags['mlflow.source.name'], 'lora-repro');
    assert.equal(tags['mlflow.source.git.commit'], 'c0ffee'.padEnd(40, '0'));
    assert.equal(tags['lora_repro.run_key'], '<key>');
    assert.ok(snap.runs[0].metrics.includes('eval/bleu@20=NaN'));
    assert.ok(snap.runs[0].metrics.includes('eval/ppl@20=Infinity'));
    assert.ok(snap.runs[0].metrics.includes('eval/delta@20=-Infinity'));
    assert.equal(snap.runs[0].metrics.length, 11);
    assert.equal(snap.runs[0].artifacts.length, 1);
    assert.match(snap.runs[0].artifacts[0], /^results\/metrics\.json#/);
  });

  it('retries bursts of 500/502/503/504', async () => {
    const s = await server();
    await runScenario(s, [
      ['GET experiments/get-by-name', [{ kind: 'status', status: 502 }]],
      ['POST runs/create', [{ kind: 'status', status: 503 }, { kind: 'status', status: 503 }]],
      ['POST runs/log-batch', [{ kind: 'status', status: 503 }, { kind: 'status', status: 503 }, { kind: 'status', status: 503 }]],
      ['PUT mlflow-artifacts', [{ kind: 'status', status: 504 }]],
      ['POST runs/update', [{ kind: 'status', status: 500, errorCode: 'INTERNAL_ERROR' }]],
    ]);
    assert.equal(s.count('POST runs/log-batch', 503), 3);
  });

  it('honours Retry-After on 429', async () => {
    const s = await server();
    const sleeps: number[] = [];
    await runScenario(s, [['POST runs/log-batch', [{ kind: 'status', status: 429, retryAfter: '1', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]]], FAST, sleeps);
    assert.deepEqual(sleeps, [1000]);
  });

  it('retries connections dropped before a response', async () => {
    const s = await server();
    await runScenario(s, [
      ['POST runs/create', [{ kind: 'drop' }]],
      ['POST runs/log-batch', [{ kind: 'drop' }, { kind: 'drop' }]],
      ['PUT mlflow-artifacts', [{ kind: 'drop' }]],
      ['POST runs/update', [{ kind: 'drop' }]],
    ]);
  });

  it('creates no duplicates when a response is lost after the server applied the request', async () => {
    const s = await server();
    await runScenario(s, [
      ['POST experiments/create', [{ kind: 'dropAfterApply' }]],
      ['POST runs/create', [{ kind: 'dropAfterApply' }, { kind: 'dropAfterApply' }]],
      ['POST runs/log-batch', [{ kind: 'dropAfterApply' }, { kind: 'dropAfterApply' }]],
      ['POST runs/update', [{ kind: 'dropAfterApply' }]],
    ]);
    assert.equal(s.runs.size, 3);
    assert.ok(s.count('POST runs/search') >= 2, 'retried creates searched by run key first');
  });

  it('retries timed-out requests (the late original is deduplicated like the SQL store does)', async () => {
    const s = await server();
    await runScenario(s, [['POST runs/log-batch', [{ kind: 'delay', ms: 600 }]]], { ...FAST, requestTimeoutMs: 200 });
  });

  it('rides out a server that is down for a few seconds mid-run (restarted on the same port)', async () => {
    const s = await server();
    const crash: Fault = {
      kind: 'hook',
      run: (srv) => {
        void srv.stop();
        setTimeout(() => void srv.restart(), 2500);
      },
    };
    const sleeps: number[] = [];
    await runScenario(s, [['POST runs/log-batch', [{ kind: 'hook', run: () => {} }, crash]]], { ...FAST, maxAttempts: 100, maxDelayMs: 300, maxElapsedMs: 30_000 }, sleeps);
    // Down for 2.5 s with backoff capped at 300 ms: the client backed off several times, then delivered everything.
    assert.ok(sleeps.length >= 3, `backoffs: ${sleeps.join(', ')}`);
  });

  it('get-or-create survives a concurrent creator (RESOURCE_ALREADY_EXISTS -> get-by-name)', async () => {
    const s = await server();
    await runScenario(s, [['POST experiments/create', [{ kind: 'hook', run: (srv) => void srv.addExperiment('lora-e2e') }]]]);
    assert.equal(s.count('POST experiments/create', 400), 1);
    assert.equal(s.count('GET experiments/get-by-name'), 2);
  });

  it('spools everything while the server is down, then `mlflow sync` replays it exactly once', async () => {
    const s = await server();
    await s.stop();
    const spool = join(work, 'spool-down');
    const t = tracker(s, spool, SHORT);
    await workload(t);
    assert.equal(t.offline, true);
    const summary = await t.close();
    assert.equal(summary.runsSpooled, 3);
    assert.equal((await readdir(spool)).filter((f) => f.endsWith('.jsonl')).length, 3);
    assert.ok(warnings.some((w) => w.includes('mlflow sync --spool')));

    const args = ['sync', '--spool', spool, '--tracking-uri', s.url, '--max-retry-seconds', '0.3'];
    assert.equal(await quiet(() => mlflowCommand.run(args)), 1, 'sync against a down server fails cleanly');
    await s.restart();
    assert.equal(await quiet(() => mlflowCommand.run(args)), 0);
    assert.deepEqual(s.snapshot(), baseline);
    const before = s.log.length;
    assert.equal(await quiet(() => mlflowCommand.run(args)), 0, 'second sync is a no-op');
    assert.equal(s.log.length, before);
    assert.equal((await readdir(spool)).filter((f) => f.endsWith('.jsonl.synced')).length, 3);
  });

  it('mid-run outage with a lost response: replay dedupes against metric history (file-store semantics)', async () => {
    const s = await server({ dedupeMetrics: false });
    const noop: Fault = { kind: 'hook', run: () => {} };
    s.inject('POST runs/log-batch', noop, noop, { kind: 'hook', run: (srv) => void srv.stop() });
    const spool = join(work, 'spool-mid');
    const t = tracker(s, spool, SHORT);
    await workload(t);
    await t.close();
    const spooled = await Promise.all((await readdir(spool)).filter((f) => f.endsWith('.jsonl')).map((f) => readSpoolFile(join(spool, f))));
    assert.equal(spooled.length, 3);
    assert.ok(spooled.some((r) => r.ops.some((o) => o.inDoubt)), 'the interrupted batch is marked in doubt');
    assert.ok(spooled.every((r) => r.header.runId !== undefined || r.header.parentRunKey !== undefined));
    await s.restart();
    const report = await syncSpool({ spoolDirs: [spool], trackingUri: s.url, retry: FAST });
    assert.deepEqual([report.errors, report.aborted, report.runsCompleted, report.runsCreated], [[], undefined, 3, 1]);
    assert.ok(report.metricsAlreadyPresent > 0, 'the in-doubt batch was on the server already');
    assert.deepEqual(s.snapshot(), baseline);
  });

  it('chunks oversized batches to MLflow limits (counts and the 1 MB body limit)', async () => {
    const s = await server();
    const t = tracker(s, join(work, 'spool-chunk'));
    const cell = await t.startCell('chunking', 'big');
    const metrics = Array.from({ length: 2500 }, (_, i) => ({ key: `m/${i % 7}`, value: i, step: i }));
    await cell.logMetrics(metrics);
    await cell.logParams(Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`p${i}`, i])));
    await cell.setTags(Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`t${i}`, 'x'])));
    // 100 tags at the 5000-character limit (10 kB of UTF-8 each): over 1 MB together, so split by bytes.
    await cell.setTags(Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`wide${i}`, 'é'.repeat(5000)])));
    await t.close();
    assert.equal(s.count('POST runs/log-batch', 400), 0);
    assert.equal(s.count('POST runs/log-batch', 200), 3 + 3 + 2 + 2);
    const run = [...s.runs.values()][0];
    assert.equal(run.metrics.length, 2500);
    assert.equal(run.params.size, 250);
    assert.equal(run.tags.size, 150 + 100 + 6);

    const mixed = { metrics: toWireMetrics(metrics.slice(0, 900), 1), params: [...Array(50)].map((_, i) => ({ key: `p${i}`, value: 'v' })), tags: [...Array(51)].map((_, i) => ({ key: `t${i}`, value: 'v' })) };
    const chunks = chunkBatch('r'.repeat(32), mixed);
    assert.equal(chunks.length, 2);
    for (const c of chunks) assert.ok(c.metrics.length + c.params.length + c.tags.length <= MLFLOW_LIMITS.maxEntitiesPerBatch);
  });

  it('keeps a 2^60-sized numeric experiment id exact', async () => {
    const id = 2n ** 60n + 7n;
    const s = await server({ firstExperimentId: id, numericExperimentIds: true });
    await runScenario(s, []);
    assert.ok([...s.runs.values()].every((r) => r.info.experiment_id === String(id)));
    assert.deepEqual(parseJsonExact('{"a":1152921504606846983,"b":"9007199254740993","c":[-9007199254740993,1.5e300,12]}'), {
      a: '1152921504606846983',
      b: '9007199254740993',
      c: ['-9007199254740993', 1.5e300, 12],
    });
  });

  it('does not retry 400 INVALID_PARAMETER_VALUE and reports it in one line', async () => {
    const s = await server();
    const spool = join(work, 'spool-400');
    const t = tracker(s, spool);
    const cell = await t.startCell('params', 'cell');
    await cell.logParams({ lr: 0.1 });
    await cell.logParams({ lr: 0.1 }); // same value again: accepted (params are idempotent)
    const err = await cell.logParams({ lr: 0.2 }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof MlflowApiError);
    assert.equal(err.errorCode, 'INVALID_PARAMETER_VALUE');
    assert.match(err.message, /^MLflow POST runs\/log-batch failed: HTTP 400 INVALID_PARAMETER_VALUE: Changing param values/);
    assert.ok(!err.message.includes('\n'));
    assert.equal(s.count('POST runs/log-batch', 400), 1);
    await assert.rejects(cell.logMetrics([{ key: '../escape', value: 1, step: 0 }]), UserError);
    await assert.rejects(cell.setTags({ 'lora_repro.run_key': 'x' }), /set by lora-repro itself/);
    await cell.end('FINISHED');
    await t.close();
    assert.equal(t.offline, false);
    await assert.rejects(readdir(spool), { code: 'ENOENT' });
  });

  it('refuses a deleted experiment with a one-line hint', async () => {
    const s = await server();
    const id = s.addExperiment('gone');
    const exp = s.experiments.get(id);
    if (exp) exp.lifecycle_stage = 'deleted';
    const t = tracker(s, join(work, 'spool-del'));
    await assert.rejects(t.startCell('gone', 'c'), /experiment 'gone' .* is deleted; restore it/);
    await t.close();
  });

  it('without MLFLOW_TRACKING_URI: a local tracker that records nothing and never fails on the network', async () => {
    const spool = join(work, 'spool-local');
    const t = createTracker({ env: {}, spoolDir: spool });
    assert.equal(t.kind, 'local');
    await workload(t);
    await assert.rejects(t.startCell('e', 'c', { 'bad key!': 1 }), UserError);
    assert.equal((await t.close()).kind, 'local');
    await assert.rejects(readdir(spool), { code: 'ENOENT' });
  });

  it('uploads artifacts to the mlflow-artifacts path of the run and lists them', async () => {
    const s = await server();
    const api = new MlflowApi(new RestClient({ trackingUri: s.url, retry: FAST }));
    const exp = await api.getOrCreateExperiment('art');
    const info = await api.createRun({ experimentId: exp, runName: 'r', startTime: 1, userId: 'u', tags: [] });
    assert.equal(info.artifact_uri, `mlflow-artifacts:/${exp}/${info.run_id}/artifacts`);
    await api.uploadArtifact(info.artifact_uri ?? '', 'dir/a b.txt', Buffer.from('hi'), 'text/plain');
    assert.equal(s.artifacts.get(`${exp}/${info.run_id}/artifacts/dir/a b.txt`)?.toString(), 'hi');
    assert.deepEqual(await api.listArtifacts(info.artifact_uri ?? '', 'dir'), [{ path: 'a b.txt', isDir: false, size: 2 }]);
    await api.rest.close();
  });

  it('resolves artifact URIs like MlflowArtifactsRepository.resolve_uri', () => {
    const base = '/api/2.0/mlflow-artifacts/artifacts';
    const tr = 'http://localhost:5000';
    assert.equal(resolveArtifactUrl('mlflow-artifacts://myhostname:4242/my/path/hostport', tr), `http://myhostname:4242${base}/my/path/hostport`);
    assert.equal(resolveArtifactUrl('mlflow-artifacts://myhostname/my/path/host', tr), `http://myhostname${base}/my/path/host`);
    assert.equal(resolveArtifactUrl('mlflow-artifacts:/my/path/nohost', tr), `http://localhost:5000${base}/my/path/nohost`);
    assert.equal(resolveArtifactUrl('mlflow-artifacts:///my/path/redundant', tr), `http://localhost:5000${base}/my/path/redundant`);
    assert.equal(resolveArtifactUrl('mlflow-artifacts:/1/abc/artifacts', 'https://h/prefix'), `https://h/prefix${base}/1/abc/artifacts`);
    assert.throws(() => resolveArtifactUrl('s3://bucket/x', tr), /--serve-artifacts/);
  });

  it('retry policy: Retry-After forms, full-jitter bounds, bounded attempts', async () => {
    assert.equal(parseRetryAfter('3'), 3000);
    assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4000), 6000);
    assert.equal(parseRetryAfter('soon'), undefined);
    const p = resolvePolicy({ baseDelayMs: 100, maxDelayMs: 1000 });
    assert.equal(backoffDelay(1, p, () => 0.999), 99);
    assert.equal(backoffDelay(10, p, () => 0.999), 999);
    assert.equal(backoffDelay(3, p, () => 0), 0);
    let calls = 0;
    const err = await withRetry('x', resolvePolicy({ maxAttempts: 3, baseDelayMs: 1 }), async () => {
      calls++;
      throw new TransientError('HTTP 503');
    }).catch((e: unknown) => e);
    assert.ok(err instanceof MlflowUnreachableError);
    assert.equal(calls, 3);
    calls = 0;
    await assert.rejects(withRetry('x', resolvePolicy({ maxAttempts: 5 }), async () => {
      calls++;
      throw new Error('not transient');
    }));
    assert.equal(calls, 1);
  });

  it('validates keys like validation.py and ignores a torn last spool line', async () => {
    assert.equal(keyProblem('train/loss'), undefined);
    assert.equal(keyProblem('a b-d.e_f'), undefined);
    // `:` is 3.x only, `@` never valid: the strictest common rules (limits.ts).
    for (const bad of ['', '/abs', 'a//b', 'a/', './a', 'a/../b', 'x'.repeat(251), 'a$b', 'a:b', 'accuracy@dev_mismatched']) assert.notEqual(keyProblem(bad), undefined, bad);
    const file = join(work, 'torn.jsonl');
    const header = { type: 'run', v: 1, runKey: 'k', experimentName: 'e', runName: 'r', startTime: 1, userId: 'u', tags: [] };
    await writeFile(file, `${JSON.stringify(header)}\n${JSON.stringify({ type: 'end', seq: 1, inDoubt: false, status: 'FINISHED', endTime: 2 })}\n{"type":"ba`);
    const r = await readSpoolFile(file);
    assert.equal(r.ops.length, 1);
  });
});

/** Runs a CLI command with its console output swallowed. */
async function quiet(fn: () => Promise<number>): Promise<number> {
  const { log, error } = console;
  console.log = () => {};
  console.error = () => {};
  try {
    return await fn();
  } finally {
    console.log = log;
    console.error = error;
  }
}
