/**
 * The Slurm executor against a real Slurm (.ci/slurm.sh start: one node, no accounting): the CLI
 * submits a small chained spec (fake executor, LORA_REPRO_FAKE_SLEEP_MS per run) as job arrays, the
 * arrays are scancelled half-way, the same command is run again with --wait, and then: every run
 * has exactly one result JSON and one runs.csv row, no run finished before the cancel was run
 * again, the children ran after their parents, and the results equal the local executor's (same
 * run ids, same metrics). Skips, saying why, when no Slurm controller answers.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { statusLines } from '../src/cli/commands/status.ts';
import { expandSpec } from '../src/spec/expand.ts';
import { parseSpecText } from '../src/spec/load.ts';
import { runTraining } from './helpers/fake-executor.ts';
import { resultsPaths } from '../src/runner/paths.ts';
import { scanResults } from '../src/runner/results-store.ts';
import { runExperiment } from '../src/runner/runner.ts';
import { csvRow, readRunsCsv } from '../src/runner/runs-csv.ts';
import { readSubmissions } from '../src/runner/slurm-records.ts';
import { createTracker } from '../src/tracking/index.ts';
import { slurmSpec } from './helpers/slurm-spec.ts';
import { skipBecause } from './helpers/skip.ts';

const SPEC = slurmSpec('slurmci', " slurm: { cpusPerRun: 1, sbatchArgs: ['--comment=lora-repro-ci'] } ");
const BIN = resolve('bin/lora-repro.mjs');
const FAKE = resolve('test/helpers/fake-executor.ts');

function slurmProblem(): string | undefined {
  try {
    const state = execFileSync('sinfo', ['-h', '-o', '%T'], { timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim();
    return /^(idle|mixed|allocated)/m.test(state) ? undefined : `the Slurm node is '${state || 'absent'}'`;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    return e.code === 'ENOENT' ? 'Slurm is not installed' : `no Slurm controller answers (${(e.stderr?.toString() || e.message).trim().split('\n')[0]})`;
  }
}

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((r) => child.once('exit', (code) => r({ code, out, err })));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ms: number, check: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

describe('slurm executor on a real Slurm (one node)', function () {
  this.timeout(600_000);
  let root: string;
  before(function () {
    const problem = slurmProblem();
    if (problem !== undefined) {
      skipBecause(this, `${problem}; '.ci/slurm.sh start' sets up a one-node cluster (root, Debian)`);
    }
    root = mkdtempSync(join(tmpdir(), 'slurm-ci-'));
  });
  after(() => {
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });

  it('submit, scancel half-way, resubmit with --wait: nothing lost or duplicated, the same results as local workers', async () => {
    const specFile = join(root, 'slurmci.yaml');
    writeFileSync(specFile, SPEC);
    const plan = expandSpec(parseSpecText(SPEC, specFile), { profile: 'test' });
    const ids = plan.runs.map((r) => r.runId).sort();
    const slurmRoot = join(root, 'slurm-results');
    const paths = resultsPaths(join(slurmRoot, 'test'));
    const env = { ...process.env, MLFLOW_TRACKING_URI: '', LORA_REPRO_FAKE_SLEEP_MS: '1500-2500' };
    const args = ['run', specFile, '--profile', 'test', '--results', slurmRoot, '--executor', 'slurm', '--executor-module', FAKE];

    const first = await cli(args, env);
    assert.equal(first.code, 0, first.err);
    assert.match(first.out, /submitted job array \d+ \(6 run\(s\)\)/);
    assert.match(first.out, /submitted job array \d+ \(2 run\(s\), after array \d+\)/);
    const jobs = readSubmissions(paths).flatMap((s) => s.arrays.map((a) => a.jobId as string));
    assert.equal(jobs.length, 2);

    // Cancel both arrays once a few runs have finished.
    const finishedNow = (): string[] => [...scanResults(paths).byId.values()].filter((r) => r.status === 'finished').map((r) => r.runId);
    await until('3 finished runs', 240_000, () => finishedNow().length >= 3);
    execFileSync('scancel', jobs);
    // squeue -j errors once the jobs are purged (MinJobAge): then they are gone too.
    const queued = (): string => {
      try {
        return execFileSync('squeue', ['-h', '-j', jobs.join(',')], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
      } catch {
        return '';
      }
    };
    await until('the cancelled arrays to leave the queue', 60_000, () => queued() === '');
    const before = new Map([...scanResults(paths).byId.values()].filter((r) => r.status === 'finished').map((r) => [r.runId, r.finishedAt]));
    assert.ok(before.size >= 3 && before.size < ids.length, `${before.size} of ${ids.length} finished before the cancel`);

    // status: the finished ones, and why the others have no result (no accounting: from the task logs).
    const status = await statusLines([specFile, '--profile', 'test', '--results', slurmRoot]);
    assert.match(status[0], new RegExp(`${before.size} finished`));
    for (const id of ids.filter((i) => !before.has(i))) {
      assert.match(status.find((l) => l.includes(id)) ?? '', /^pending .*(ended without a result|never started)|^blocked|^failed/);
    }

    const second = await cli([...args, '--wait', '--poll', '1'], env);
    assert.equal(second.code, 0, `${second.out}\n${second.err}`);
    const resubmitted = readSubmissions(paths).slice(1).flatMap((s) => s.arrays.flatMap((a) => a.runIds));
    assert.deepEqual(resubmitted.filter((id) => before.has(id)), [], 'no finished run is submitted again');
    assert.match(second.out, /done: \d+ of \d+ run\(s\) finished/);

    // Exactly once: one finished JSON and one CSV row per run; what finished before the cancel untouched.
    const results = scanResults(paths).byId;
    assert.deepEqual([...results.keys()].sort(), ids);
    assert.ok([...results.values()].every((r) => r.status === 'finished'), [...results.values()].map((r) => `${r.runId} ${r.status} ${r.error ?? ''}`).join('; '));
    for (const [id, at] of before) assert.equal(results.get(id)?.finishedAt, at, `${id} was not run again`);
    const csv = readRunsCsv(paths.csv);
    assert.deepEqual(csv.problems, []);
    assert.deepEqual(csv.rows.map((r) => r.runId).sort(), ids);
    for (const row of csv.rows) assert.deepEqual(row, csvRow(results.get(row.runId)!));
    for (const r of plan.runs.filter((x) => x.config.initFrom !== undefined)) assert.match(results.get(r.runId)?.provenance.initFrom ?? '', /^run /, 'the child started from its parent');

    // The local executor on the same spec: the same runs with the same metrics.
    const localRoot = join(root, 'local-results');
    await runExperiment(plan, plan.runs, { resultsRoot: localRoot, workers: 2, executor: (c, o) => runTraining(c, o, {}), tracker: createTracker({ trackingUri: '' }), log: () => {}, warn: () => {} });
    const local = scanResults(resultsPaths(join(localRoot, 'test'))).byId;
    assert.deepEqual([...local.keys()].sort(), ids);
    for (const id of ids) {
      const a = results.get(id)!;
      const b = local.get(id)!;
      assert.deepEqual(a.metrics, b.metrics, id);
      assert.deepEqual(a.epochs.map((e) => [e.epoch, e.step, e.trainLoss, e.metrics]), b.epochs.map((e) => [e.epoch, e.step, e.trainLoss, e.metrics]), id);
      assert.equal(a.bestEpoch, b.bestEpoch);
    }
    const logs = readFileSync(join(readSubmissions(paths)[0].dir, 'logs', `${jobs[0]}_0.out`), 'utf8');
    assert.match(logs, /lora-repro: task \d+_0 on /, "the task's log is where the docs say");
  });
});
