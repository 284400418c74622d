/**
 * Run lifecycle of the MLflow projection against the strict fake server (MLflow 2.0 rules): whatever
 * fails after a run starts, every run ends FINISHED or FAILED (KILLED only for an interrupted seed),
 * nothing stays spooled, and artifact problems are a tag plus one console line.
 * Faults: a server without artifact proxying (s3:// artifact root), `--no-serve-artifacts` (plain-text
 * 503 on every artifact call, also during `mlflow sync`), MNLI, a failed seed, a seed whose metrics
 * the server rejects (logged again by the next runner), an interrupted seed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandSpec, type PlannedRun } from '../src/spec/expand.ts';
import { parseSpecText } from '../src/spec/load.ts';
import { createTracker, syncSpool } from '../src/tracking/index.ts';
import { FakeMlflowServer, type FakeMlflowOptions } from './helpers/fake-mlflow-server.ts';
import { fakeResult, projectionRig } from './helpers/mlflow-results.ts';

const SPEC = `
experiment: faults
seeds: [0, 1]
defaults: { epochs: 2, batchSize: 8, learningRate: 1.0e-3, maxSeqLength: 32 }
grid:
  - row: m
    models: [roberta-base]
    methods: [{ method: lora, variant: r=8, config: { r: 8 } }]
    tasks: [mnli, rte]
profiles:
  test: {}
`;
const plan: PlannedRun[] = expandSpec(parseSpecText(SPEC, 'faults.yaml'), { profile: 'test' }).runs;
const FAST = { baseDelayMs: 5, maxDelayMs: 20, maxElapsedMs: 2000, maxAttempts: 4, requestTimeoutMs: 2000 };

describe('MLflow projection: every run ends, whatever fails', function () {
  this.timeout(60_000);
  const dirs: string[] = [];
  const servers: FakeMlflowServer[] = [];
  after(async () => {
    for (const s of servers) await s.dispose();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function setup(opts: FakeMlflowOptions = {}, retry: object = FAST) {
    const server = await FakeMlflowServer.start({ rules: 'mlflow-2.0', ...opts });
    servers.push(server);
    const dir = mkdtempSync(join(tmpdir(), 'mlflow-faults-'));
    dirs.push(dir);
    const warn: string[] = [];
    const tracker = createTracker({ trackingUri: server.url, spoolDir: join(dir, 'spool'), retry, warn: (l) => warn.push(l) });
    const rig = projectionRig(tracker, server.url, plan, dir, 'faults', 'test');
    return { server, dir, tracker, rig, trackerWarnings: warn };
  }

  /** Runs the plan as the runner does: start, result, finish, for every seed. */
  function runAll(rig: ReturnType<typeof projectionRig>, fail: (r: PlannedRun) => boolean = () => false): void {
    rig.projection.markPending(plan.map((r) => r.runId));
    for (const run of plan) {
      rig.projection.runStarted(run);
      const result = fakeResult(run, { status: fail(run) ? 'failed' : 'finished', t0: Date.now() });
      rig.put(result);
      rig.projection.runFinished(run, result);
    }
  }

  const statuses = (s: FakeMlflowServer): string[] => [...s.runs.values()].map((r) => `${r.info.run_name}:${r.info.status}`).sort();

  for (const artifacts of ['s3', 'no-serve-artifacts'] as const) {
    it(`server without artifact proxying (${artifacts}): runs FINISHED, a warning tag each, one console line, nothing spooled`, async () => {
      // Default retry policy: a transient reading of the 503 would wait ~90 s here.
      const { server, tracker, rig } = await setup({ artifacts }, {});
      runAll(rig);
      await rig.projection.flush();
      const summary = await tracker.close();
      assert.equal(summary.runsSpooled, 0);
      assert.equal(summary.offlineReason, undefined);
      assert.ok(statuses(server).every((s) => s.endsWith(':FINISHED')), statuses(server).join(' '));
      const seeds = [...server.runs.values()].filter((r) => r.tags.has('mlflow.parentRunId'));
      assert.equal(seeds.length, 4);
      // s3: an artifact URI outside the mlflow-artifacts proxy, so nothing is sent; else one PUT per seed run.
      assert.equal(server.count('PUT mlflow-artifacts'), artifacts === 's3' ? 0 : seeds.length, 'each upload tried once: the 503 was not retried');
      for (const s of seeds) {
        assert.match(s.tags.get('lora_repro.warning') ?? '', /result JSON not uploaded/);
        assert.ok(s.metrics.some((m) => m.key === 'best/accuracy'));
      }
      assert.equal(rig.warnings.length, 1, rig.warnings.join('\n'));
      assert.match(rig.warnings[0], /artifacts not uploaded/);
    });
  }

  it('mlflow sync against --no-serve-artifacts: the artifact is left out with a tag, the rest delivered, the spool completes', async () => {
    const { server, dir, tracker, rig } = await setup({ artifacts: 'no-serve-artifacts' });
    await server.stop(); // offline: everything spools, artifacts included
    runAll(rig);
    await rig.projection.flush();
    assert.equal((await tracker.close()).runsSpooled, plan.length + 2);
    await server.restart();
    const report = await syncSpool({ spoolDirs: [join(dir, 'spool')], trackingUri: server.url, retry: FAST });
    assert.deepEqual(report.errors, []);
    assert.equal(report.aborted, undefined);
    assert.equal(report.artifactsSkipped, plan.length);
    assert.equal(report.runsCompleted, plan.length + 2);
    assert.ok(readdirSync(join(dir, 'spool')).every((f) => !f.endsWith('.jsonl')), 'nothing left pending');
    assert.ok(statuses(server).every((s) => s.endsWith(':FINISHED')), statuses(server).join(' '));
    assert.ok([...server.runs.values()].filter((r) => r.tags.has('mlflow.parentRunId')).every((r) => r.tags.has('lora_repro.warning')));
  });

  it('MNLI: the mismatched split is logged under a valid key; names, params and tags identify each seed', async () => {
    const { server, tracker, rig } = await setup();
    runAll(rig);
    await rig.projection.flush();
    await tracker.close();
    assert.ok(statuses(server).every((s) => s.endsWith(':FINISHED')));
    const seed = [...server.runs.values()].find((r) => r.info.run_name === 'roberta-base·lora·r=8·mnli·seed1');
    assert.ok(seed, statuses(server).join(' '));
    assert.ok(seed.metrics.some((m) => m.key === 'best/accuracy_dev_mismatched'));
    assert.ok(seed.metrics.some((m) => m.key === 'eval/accuracy_dev_mismatched'));
    assert.equal(seed.params.get('methodConfig.r'), '8');
    assert.equal(seed.params.get('seed'), '1');
    assert.equal(seed.tags.get('task'), 'mnli');
    const cell = server.runs.get(seed.tags.get('mlflow.parentRunId') as string);
    assert.equal(cell?.info.run_name, 'roberta-base·lora·r=8·mnli');
    assert.ok(cell?.metrics.some((m) => m.key === 'median/accuracy_dev_mismatched'));
    assert.equal(cell?.tags.get('lora_repro.cell_state'), 'complete');
  });

  it('a failed seed ends FAILED and so does its cell; the other cell FINISHED', async () => {
    const { server, tracker, rig } = await setup();
    runAll(rig, (r) => r.config.task === 'rte' && r.config.seed === 1);
    await rig.projection.flush();
    await tracker.close();
    assert.deepEqual(statuses(server), [
      'roberta-base·lora·r=8·mnli:FINISHED',
      'roberta-base·lora·r=8·mnli·seed0:FINISHED',
      'roberta-base·lora·r=8·mnli·seed1:FINISHED',
      'roberta-base·lora·r=8·rte:FAILED',
      'roberta-base·lora·r=8·rte·seed0:FINISHED',
      'roberta-base·lora·r=8·rte·seed1:FAILED',
    ]);
    // The cells' seed aggregates follow the results table: the sample std (n − 1) over finished seeds,
    // none where one seed finished. fakeResult's first metric is 0.5 + 0.001 × seed.
    const aggregates = (name: string): Map<string, number> => new Map([...server.runs.values()].find((r) => r.info.run_name === name)?.metrics.map((m) => [m.key, m.value]) ?? []);
    const mnli = aggregates('roberta-base·lora·r=8·mnli');
    const firstKey = (task: string): string => fakeResult(plan.find((r) => r.config.task === task) as PlannedRun).headlineMetric;
    const mnliKey = firstKey('mnli');
    assert.ok(Math.abs((mnli.get(`median/${mnliKey}`) as number) - 0.5005) < 1e-12, `median/${mnliKey}`);
    assert.ok(Math.abs((mnli.get(`mean/${mnliKey}`) as number) - 0.5005) < 1e-12, `mean/${mnliKey}`);
    assert.ok(Math.abs((mnli.get(`std/${mnliKey}`) as number) - 0.001 / Math.SQRT2) < 1e-12, `std/${mnliKey}`);
    const rte = aggregates('roberta-base·lora·r=8·rte');
    const rteKey = firstKey('rte');
    assert.equal(rte.get(`median/${rteKey}`), 0.5);
    assert.equal(rte.get(`mean/${rteKey}`), 0.5);
    assert.deepEqual([...rte.keys()].filter((k) => k.startsWith('std/')), []);
  });

  it('a seed whose metrics the server rejects ends FAILED with a warning; the next runner logs it and it ends FINISHED', async () => {
    const { server, dir, tracker, rig } = await setup();
    const victim = plan[0];
    server.inject('POST runs/log-batch', { kind: 'hook', run: () => undefined }); // cell params
    server.inject('POST runs/log-batch', { kind: 'hook', run: () => undefined }); // seed params
    server.inject('POST runs/log-batch', { kind: 'status', status: 400, errorCode: 'INVALID_PARAMETER_VALUE' }); // seed metrics
    rig.projection.markPending([victim.runId]);
    rig.projection.runStarted(victim);
    const result = fakeResult(victim, { t0: Date.now() });
    rig.put(result);
    rig.projection.runFinished(victim, result);
    await rig.projection.flush();
    await tracker.close();
    const seed = () => [...server.runs.values()].find((r) => r.tags.get('lora_repro.run_id') === victim.runId);
    assert.equal(seed()?.info.status, 'FAILED');
    assert.match(seed()?.tags.get('lora_repro.warning') ?? '', /metrics\/tags not logged/);
    assert.ok(rig.warnings.some((w) => /ends FAILED and is logged again/.test(w)), rig.warnings.join('\n'));
    assert.ok(statuses(server).every((s) => !s.endsWith(':RUNNING')), statuses(server).join(' '));

    const tracker2 = createTracker({ trackingUri: server.url, spoolDir: join(dir, 'spool'), retry: FAST, warn: () => {} });
    const rig2 = projectionRig(tracker2, server.url, plan, dir, 'faults', 'test');
    rig2.results.set(victim.runId, result);
    rig2.projection.backfill();
    await rig2.projection.flush();
    await tracker2.close();
    assert.equal(seed()?.info.status, 'FINISHED');
    assert.ok(seed()?.metrics.some((m) => m.key === 'best/accuracy_dev_mismatched'));
    assert.equal(seed()?.info.end_time, Date.parse(result.finishedAt));
  });

  it('an interrupted seed ends KILLED, its incomplete cell says so; nothing stays RUNNING', async () => {
    const { server, tracker, rig } = await setup();
    const [first, second] = plan;
    rig.projection.markPending([first.runId, second.runId]);
    rig.projection.runStarted(first);
    rig.projection.runStarted(second);
    const r = fakeResult(first, { t0: Date.now() });
    rig.put(r);
    rig.projection.runFinished(first, r);
    rig.projection.runAbandoned(second.runId);
    await rig.projection.flush();
    await tracker.close();
    const byName = new Map([...server.runs.values()].map((x) => [x.info.run_name, x]));
    assert.equal(byName.get('roberta-base·lora·r=8·mnli·seed0')?.info.status, 'FINISHED');
    assert.equal(byName.get('roberta-base·lora·r=8·mnli·seed1')?.info.status, 'KILLED');
    const cell = byName.get('roberta-base·lora·r=8·mnli');
    assert.equal(cell?.info.status, 'KILLED');
    assert.match(cell?.tags.get('lora_repro.cell_state') ?? '', /incomplete: 1 of 2 .*interrupted/);
  });

  it('backfilled runs keep their true start and end times', async () => {
    const { server, tracker, rig } = await setup();
    for (const run of plan) rig.put(fakeResult(run));
    rig.projection.backfill();
    await rig.projection.flush();
    await tracker.close();
    for (const run of plan) {
      const r = rig.results.get(run.runId)!;
      const s = [...server.runs.values()].find((x) => x.tags.get('lora_repro.run_id') === run.runId)!;
      assert.equal(s.info.start_time, Date.parse(r.startedAt));
      assert.equal(s.info.end_time, Date.parse(r.finishedAt));
      assert.ok(s.metrics.every((m) => m.timestamp >= s.info.start_time && m.timestamp <= (s.info.end_time as number)));
    }
    const cell = [...server.runs.values()].find((x) => x.info.run_name === 'roberta-base·lora·r=8·rte')!;
    const seeds = plan.filter((p) => p.config.task === 'rte').map((p) => rig.results.get(p.runId)!);
    assert.equal(cell.info.start_time, Math.min(...seeds.map((x) => Date.parse(x.startedAt))));
    assert.equal(cell.info.end_time, Math.max(...seeds.map((x) => Date.parse(x.finishedAt))));
  });
});
