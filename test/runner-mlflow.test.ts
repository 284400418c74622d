/**
 * The runner's MLflow projection against the in-process fake server (test/helpers/fake-mlflow-
 * server.ts): runs finished without a server are back-filled, the runner is killed (SIGKILL of
 * its process group) at seeded points and restarted, and in the end the server holds exactly one
 * parent run per table cell and one child run per seed, each child with its epochs' metrics once,
 * its result JSON as an artifact, and nothing deleted or duplicated. A further rerun changes nothing.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandSpec } from '../src/spec/expand.ts';
import { parseSpecText } from '../src/spec/load.ts';
import { resultsPaths } from '../src/runner/paths.ts';
import { createTracker, syncSpool } from '../src/tracking/index.ts';
import { scanResults } from '../src/runner/results-store.ts';
import { FakeMlflowServer } from './helpers/fake-mlflow-server.ts';

const SPEC = `
experiment: mltest
seeds: [0, 1, 2, 3]
defaults: { epochs: 3, batchSize: 8, learningRate: 1.0e-3, maxSeqLength: 32, trainLimit: 64 }
grid:
  - row: m
    models: [mini-roberta]
    methods: [{ method: lora, variant: r=8, config: { r: 8 } }, bitfit]
    tasks: [rte]
profiles:
  test: {}
`;
const ENTRY = "import { runCommand } from './src/cli/commands/run.ts'; process.exitCode = await runCommand.run(process.argv.slice(1));";

function runner(specFile: string, root: string, uri: string, extra: string[], killAfterCommits?: number, delayMs = 0): Promise<{ code: number | null; killed: boolean; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', ENTRY, specFile, '--profile', 'test', '--workers', '2', '--results', root, ...extra], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MLFLOW_TRACKING_URI: uri, LORA_REPRO_EXECUTOR: 'test/helpers/fake-executor.ts', LORA_REPRO_FAKE_SLEEP_MS: '20-200' },
  });
  let stderr = '';
  let out = '';
  let killed = false;
  let exited = false;
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (killAfterCommits !== undefined && !killed && (out.match(/^\[\d+\/\d+\] /gm) ?? []).length >= killAfterCommits) {
      killed = true;
      setTimeout(() => {
        if (!exited && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      }, delayMs);
    }
  });
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      exited = true;
      resolve({ code, killed: killed && code === null, stderr });
    }),
  );
}

describe('runner: MLflow tracking (fake server, kill + rerun)', function () {
  this.timeout(180_000);
  let server: FakeMlflowServer;
  before(async () => {
    server = await FakeMlflowServer.start();
  });
  after(async () => {
    await server.dispose();
  });

  it('one parent per cell, one child per seed, nothing lost or duplicated across kills and reruns', async () => {
    const root = mkdtempSync(join(tmpdir(), 'runner-mlflow-'));
    const specFile = join(root, 'mltest.yaml');
    writeFileSync(specFile, SPEC);
    const plan = expandSpec(parseSpecText(SPEC, specFile), { profile: 'test' }).runs;
    const paths = resultsPaths(join(root, 'test'));

    // Two runs (seed 0 of both cells) finish while no server is configured: nothing fails, nothing is sent.
    const offline = await runner(specFile, root, '', ['--filter', 'seed=0']);
    assert.equal(offline.code, 0, offline.stderr);
    assert.equal(server.runs.size, 0);
    assert.ok(!existsSync(paths.mlflowState));

    // Killed after its 1st or 2nd committed run, a few times; then to completion.
    const points = [1, 2, 1, 1];
    let kills = 0;
    for (const [i, n] of points.entries()) {
      const r = await runner(specFile, root, server.url, [], n, 37 * i);
      if (r.killed) kills++;
      else assert.equal(r.code, 0, r.stderr);
    }
    assert.ok(kills >= 2, `only ${kills} kills hit a live runner`);
    const final = await runner(specFile, root, server.url, []);
    assert.equal(final.code, 0, final.stderr);

    const results = scanResults(paths).byId;
    assert.equal(results.size, 8);
    const exps = [...server.experiments.values()].filter((e) => e.name === 'lora-repro/mltest/test');
    assert.equal(exps.length, 1);
    const runs = [...server.runs.values()];
    assert.deepEqual(runs.filter((r) => r.info.lifecycle_stage !== 'active').map((r) => r.info.run_name), [], 'no run was created twice (and deleted)');
    assert.ok(runs.every((r) => r.info.experiment_id === exps[0].experiment_id));

    const parents = runs.filter((r) => !r.tags.has('mlflow.parentRunId'));
    const children = runs.filter((r) => r.tags.has('mlflow.parentRunId'));
    const cellKeys = [...new Set(plan.map((r) => r.cellKey))].sort();
    assert.deepEqual(parents.map((p) => p.tags.get('lora_repro.cell_key')).sort(), cellKeys, 'one parent per cell');
    assert.equal(children.length, plan.length, 'one child per seed');
    assert.deepEqual(children.map((c) => c.tags.get('lora_repro.run_id')).sort(), plan.map((r) => r.runId).sort());

    const head = execFileSync('git', ['rev-parse', 'HEAD']).toString().trim();
    for (const p of parents) {
      assert.equal(p.info.status, 'FINISHED');
      assert.equal(p.tags.get('mlflow.source.git.commit'), head);
      assert.equal(p.params.get('learningRate'), '0.001');
      assert.equal(p.params.get('task'), 'rte');
      assert.equal(p.params.has('seed'), false);
      const seeds = plan.filter((r) => r.cellKey === p.tags.get('lora_repro.cell_key'));
      const values = seeds.map((r) => results.get(r.runId)?.metrics.accuracy as number).sort((a, b) => a - b);
      const med = p.metrics.filter((m) => m.key === 'median/accuracy');
      assert.equal(med.length, 1);
      assert.equal(med[0].value, (values[1] + values[2]) / 2); // median of 4 seeds
      assert.equal(p.metrics.find((m) => m.key === 'seeds_finished')?.value, 4);
    }
    const lora = parents.find((p) => p.params.get('method') === 'lora');
    assert.equal(lora?.params.get('methodConfig.r'), '8');

    for (const c of children) {
      const runId = c.tags.get('lora_repro.run_id') as string;
      const result = results.get(runId);
      assert.ok(result);
      const parent = server.runs.get(c.tags.get('mlflow.parentRunId') as string);
      assert.equal(parent?.tags.get('lora_repro.cell_key'), result.cellKey, 'child nested under its cell');
      assert.equal(c.info.run_name, `${parent?.info.run_name}·seed${result.seed}`, 'the name identifies the cell and the seed');
      assert.equal(c.info.status, 'FINISHED');
      assert.equal(c.params.get('run_id'), runId);
      // The compare view needs the hyper-parameters and identifying tags on the seed runs themselves.
      assert.equal(c.params.get('learningRate'), '0.001');
      assert.equal(c.params.get('method'), parent?.params.get('method'));
      for (const tag of ['model', 'method', 'task', 'lora_repro.cell_key']) assert.equal(c.tags.get(tag), parent?.tags.get(tag), tag);
      // True times: the run spans its result's startedAt..finishedAt, and every metric lies inside.
      assert.equal(c.info.start_time <= Date.parse(result.startedAt) + 5000, true);
      assert.equal(c.info.end_time, Date.parse(result.finishedAt));
      assert.ok(c.metrics.every((m) => m.timestamp >= c.info.start_time - 1000), 'metric timestamps not before the run start');
      // Every metric point once: (key, step) unique, and the epochs' values exactly.
      const pairs = c.metrics.map((m) => `${m.key}@${m.step}`);
      assert.equal(new Set(pairs).size, pairs.length, `duplicate metric points in ${runId}: ${pairs.join(' ')}`);
      const loss = c.metrics.filter((m) => m.key === 'train/loss').sort((a, b) => a.step - b.step);
      assert.deepEqual(loss.map((m) => [m.step, m.value]), result.epochs.map((e) => [e.step, e.trainLoss]));
      assert.equal(c.metrics.filter((m) => m.key === 'eval/accuracy').length, result.epochs.length);
      assert.equal(c.metrics.find((m) => m.key === 'best/accuracy')?.value, result.metrics.accuracy);
      const artifact = server.artifacts.get(`${c.info.experiment_id}/${c.info.run_id}/artifacts/results/${runId}.json`);
      assert.ok(artifact, `no result artifact for ${runId}`);
      assert.equal(artifact.toString('utf8'), readFileSync(paths.json(runId), 'utf8'));
    }

    // A rerun with everything finished and logged sends nothing new.
    const before = JSON.stringify(server.snapshot());
    const count = server.runs.size;
    const again = await runner(specFile, root, server.url, []);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(server.runs.size, count);
    assert.equal(JSON.stringify(server.snapshot()), before);
    rmSync(root, { recursive: true, force: true });
  });

  it('stable run keys: two offline processes spool the same runs; sync makes one run of each', async () => {
    const down = await FakeMlflowServer.start();
    const url = down.url;
    await down.stop();
    const spoolDir = mkdtempSync(join(tmpdir(), 'runner-spool-'));
    const retry = { baseDelayMs: 5, maxDelayMs: 20, maxElapsedMs: 300, maxAttempts: 3, requestTimeoutMs: 500 };
    for (let attempt = 0; attempt < 2; attempt++) {
      const t = createTracker({ trackingUri: url, spoolDir, retry, warn: () => {} });
      const cell = await t.startCell('lora-repro/spool/test', 'cell a', { lr: 0.001 }, {}, { runKey: 'cell-abc' });
      const seed = await cell.startSeedRun('seed 0', { seed: 0 }, {}, { runKey: 'run-def' });
      await seed.logMetrics([{ key: 'train/loss', value: 0.5, step: 1, timestamp: 1000 }]);
      await seed.end('FINISHED');
      await cell.end('FINISHED');
      assert.equal((await t.close()).runsSpooled, 2);
    }
    await down.restart();
    const report = await syncSpool({ spoolDirs: [spoolDir], trackingUri: url, retry });
    assert.deepEqual(report.errors, []);
    assert.equal(report.filesSeen, 4, 'one spool file per process and run');
    const runs = [...down.runs.values()];
    assert.deepEqual(runs.map((r) => r.info.run_name).sort(), ['cell a', 'seed 0']);
    const child = runs.find((r) => r.info.run_name === 'seed 0');
    assert.deepEqual(child?.metrics.map((m) => `${m.key}@${m.step}=${m.value}`), ['train/loss@1=0.5']);
    assert.equal(child?.tags.get('mlflow.parentRunId'), runs.find((r) => r.info.run_name === 'cell a')?.info.run_id);
    await down.dispose();
    rmSync(spoolDir, { recursive: true, force: true });
  });
});
