/**
 * The Slurm executor's parts that need no cluster (test/slurm-cluster.test.ts runs the real one):
 * the NFS-safe locks, array tasks (`run-one`) committing concurrently into one results folder
 * (exactly one JSON and one CSV row per run, a finished run never redone, a child blocked without
 * its parent), MLflow from tasks that cannot reach the server (per-task spools replayed by
 * `mlflow sync` into one parent per cell with its aggregates and one child per seed, no spool left
 * pending), the arrays planned for initFrom chains and their scripts, the `slurm:` profile block
 * (flags win; absent or present, run ids unchanged), and the paper dry run's arrays.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../src/cli/commands/run.ts';
import { refuseIfSlurmActive, slurmSettings } from '../src/cli/commands/run-slurm.ts';
import { expandSpec, type Expansion } from '../src/spec/expand.ts';
import { parseSpecText } from '../src/spec/load.ts';
import { runTraining } from './helpers/fake-executor.ts';
import { acquireLeaseLock, acquireLock } from '../src/runner/lock.ts';
import { resultsPaths } from '../src/runner/paths.ts';
import { scanResults } from '../src/runner/results-store.ts';
import { csvRow, readRunsCsv } from '../src/runner/runs-csv.ts';
import { parseAcct, parseQueue, SlurmMissingError, type QueueEntry, type SlurmClient } from '../src/runner/slurm-client.ts';
import { jobName, writeSubmission } from '../src/runner/slurm-records.ts';
import { arrayScript, costModel, parseSlurmTime, planArrays, suggestedTime } from '../src/runner/slurm-submit.ts';
import { runOne } from '../src/runner/slurm-task.ts';
import { observeSlurm, reasonFromLog, runStates } from '../src/runner/slurm-state.ts';
import { createTracker, syncSpool } from '../src/tracking/index.ts';
import { FakeMlflowServer } from './helpers/fake-mlflow-server.ts';
import { slurmSpec } from './helpers/slurm-spec.ts';
import { expectUserError } from './helpers/user-error.ts';

const SPEC = (slurm = ''): string => slurmSpec('slurmunit', slurm);
const expand = (text = SPEC()): Expansion => expandSpec(parseSpecText(text, join(tmpdir(), 'slurmunit.yaml')), { profile: 'test' });
const fake = (config: Parameters<typeof runTraining>[0], opts: Parameters<typeof runTraining>[1]) => runTraining(config, opts, {});

const temps: string[] = [];
const tempRoot = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'slurm-unit-'));
  temps.push(d);
  return d;
};
const servers: FakeMlflowServer[] = [];
after(async () => {
  temps.forEach((t) => rmSync(t, { recursive: true, force: true }));
  for (const s of servers) await s.dispose();
});
const quiet = { log: () => {}, warn: () => {} };

describe('slurm executor: locks on a shared folder', () => {
  it('lease locks serialise concurrent holders and take over a dead or expired holder, never a live one', async () => {
    const dir = tempRoot();
    const path = join(dir, '.runs-csv.lock');
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        const lock = await acquireLeaseLock(path, { sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 5))) });
        inside++;
        most = Math.max(most, inside);
        await new Promise((r) => setTimeout(r, 5));
        inside--;
        lock.release();
      }),
    );
    assert.equal(most, 1, 'one holder at a time');
    assert.ok(!existsSync(path));
    // A holder on another host that stopped renewing long ago (aged on the file's own clock) is taken over …
    writeFileSync(path, JSON.stringify({ pid: 1, host: 'elsewhere', nonce: 'old' }));
    const old = new Date(Date.now() - 3_600_000);
    utimesSync(path, old, old);
    const l2 = await acquireLeaseLock(path, { staleMs: 60_000, timeoutMs: 1000 });
    assert.notEqual(JSON.parse(readFileSync(path, 'utf8')).nonce, 'old');
    // … a fresh one is waited for, and the wait gives up with the holder named.
    await assert.rejects(acquireLeaseLock(path, { timeoutMs: 50 }), /held by pid \d+ on /);
    l2.release();
    assert.ok(!existsSync(path));
    // release() never removes a lock that is no longer its own (taken over after its lease ran out).
    const l3 = await acquireLeaseLock(path);
    writeFileSync(path, JSON.stringify({ pid: 1, host: 'elsewhere', nonce: 'someone-else' }));
    l3.release();
    assert.equal(JSON.parse(readFileSync(path, 'utf8')).nonce, 'someone-else');
  });

  it('the runner lock is never seen empty and names a holder on another host', () => {
    const dir = tempRoot();
    const path = join(dir, '.runner.lock');
    const lock = acquireLock(path);
    const held = JSON.parse(readFileSync(path, 'utf8'));
    assert.equal(held.pid, process.pid);
    assert.ok(typeof held.nonce === 'string' && typeof held.host === 'string');
    lock.release();
    writeFileSync(path, JSON.stringify({ pid: 1, host: 'login2', nonce: 'x' }));
    assert.throws(() => acquireLock(path), /locked by a runner on host login2/);
    assert.deepEqual(readdirSync(dir), ['.runner.lock'], 'no temporary file left behind');
  });
});

describe('slurm executor: array tasks (run-one) into one results folder', () => {
  it('concurrent tasks commit one JSON and one CSV row each; a finished run is not redone; a child waits for its parent', async () => {
    const root = tempRoot();
    const e = expand();
    const paths = resultsPaths(join(root, 'test'));
    const children = e.runs.filter((r) => r.config.initFrom !== undefined);
    const parents = e.runs.filter((r) => r.config.initFrom === undefined);
    assert.equal(children.length, 2);
    const tracker = () => createTracker({ trackingUri: '' });
    // A child whose parent has no result yet is recorded blocked (its array normally waits for the parent's).
    const early = await runOne(e, { resultsRoot: root, runId: children[0].runId, executor: fake, tracker: tracker(), ...quiet });
    assert.equal(early.kind === 'recorded' && early.result.status, 'blocked');
    // Every parent at once, as tasks on several nodes; then the children.
    const outs = await Promise.all(parents.map((r) => runOne(e, { resultsRoot: root, runId: r.runId, executor: fake, tracker: tracker(), ...quiet })));
    assert.ok(outs.every((o) => o.kind === 'recorded' && o.result.status === 'finished'));
    const kids = await Promise.all(children.map((r) => runOne(e, { resultsRoot: root, runId: r.runId, executor: fake, tracker: tracker(), ...quiet })));
    assert.ok(kids.every((o) => o.kind === 'recorded' && o.result.status === 'finished'), 'the blocked child is retried and runs');
    const results = scanResults(paths).byId;
    assert.equal(results.size, e.runs.length);
    const { rows, problems } = readRunsCsv(paths.csv);
    assert.deepEqual(problems, []);
    assert.deepEqual(rows.map((r) => r.runId).sort(), e.runs.map((r) => r.runId).sort(), 'one row per run, none twice');
    for (const row of rows) assert.deepEqual(row, csvRow(results.get(row.runId)!), 'the row says what the JSON says');
    // A second task for a finished run (a requeue, a duplicate submission) changes nothing.
    const before = readFileSync(paths.json(parents[0].runId), 'utf8');
    const again = await runOne(e, { resultsRoot: root, runId: parents[0].runId, executor: fake, tracker: tracker(), ...quiet });
    assert.equal(again.kind, 'already-finished');
    assert.equal(readFileSync(paths.json(parents[0].runId), 'utf8'), before);
    assert.ok(!readdirSync(paths.root).some((n) => n.startsWith('.tmp-') || n.endsWith('.lock')), 'no lock or temporary file left');
    await expectUserError(runOne(e, { resultsRoot: root, runId: 'feedbeef00000000', executor: fake, ...quiet }), /not a run of .*spec changed since it was submitted/);
  });

  it('MLflow: tasks that cannot reach the server spool per task; mlflow sync makes one parent per cell and one child per seed', async function () {
    this.timeout(300_000);
    const server = await FakeMlflowServer.start();
    servers.push(server);
    const url = server.url;
    await server.stop();
    const root = tempRoot();
    const e = expand();
    const paths = resultsPaths(join(root, 'test'));
    const retry = { baseDelayMs: 5, maxDelayMs: 20, maxElapsedMs: 300, maxAttempts: 3, requestTimeoutMs: 500 };
    const task = (runId: string) =>
      runOne(e, { resultsRoot: root, runId, executor: fake, trackingUri: url, tracker: createTracker({ trackingUri: url, spoolDir: paths.mlflowSpool, retry, warn: () => {} }), ...quiet });
    const parents = e.runs.filter((r) => r.config.initFrom === undefined);
    await Promise.all(parents.map((r) => task(r.runId)));
    await Promise.all(e.runs.filter((r) => r.config.initFrom !== undefined).map((r) => task(r.runId)));
    await server.restart();
    const report = await syncSpool({ spoolDirs: [paths.mlflowSpool], trackingUri: url, retry });
    assert.deepEqual(report.errors, []);
    assert.equal(report.runsOpen, 0, 'every spool is done (a task that left its cell open is completed by the last one)');
    assert.ok(!readdirSync(paths.mlflowSpool).some((n) => n.endsWith('.jsonl')), 'nothing left pending');
    const runs = [...server.runs.values()];
    const parentsOnServer = runs.filter((r) => !r.tags.has('mlflow.parentRunId'));
    const childrenOnServer = runs.filter((r) => r.tags.has('mlflow.parentRunId'));
    const cells = [...new Set(e.runs.map((r) => r.cellKey))].sort();
    assert.deepEqual(parentsOnServer.map((p) => p.tags.get('lora_repro.cell_key')).sort(), cells, 'one parent per cell');
    assert.deepEqual(childrenOnServer.map((c) => c.tags.get('lora_repro.run_id')).sort(), e.runs.map((r) => r.runId).sort(), 'one child per seed');
    const results = scanResults(paths).byId;
    for (const p of parentsOnServer) {
      assert.equal(p.info.status, 'FINISHED');
      assert.equal(p.tags.get('lora_repro.cell_state'), 'complete');
      const seeds = e.runs.filter((r) => r.cellKey === p.tags.get('lora_repro.cell_key')).map((r) => results.get(r.runId)!.metrics.accuracy);
      const med = p.metrics.filter((m) => m.key === 'median/accuracy');
      assert.deepEqual(med.map((m) => m.value), [(seeds[0] + seeds[1]) / 2], 'aggregates logged once, by the last seed');
    }
    for (const c of childrenOnServer) {
      assert.equal(c.info.status, 'FINISHED');
      const pairs = c.metrics.map((m) => `${m.key}@${m.step}`);
      assert.equal(new Set(pairs).size, pairs.length, 'no metric point twice');
    }
  });
});

describe('slurm executor: what is queued, running, failed or pending', () => {
  it('states from the results folder and squeue; a local run refuses a profile with live tasks', async () => {
    const root = tempRoot();
    const e = expand();
    const paths = resultsPaths(join(root, 'test'));
    const ids = e.runs.map((r) => r.runId);
    writeSubmission({
      v: 1, id: 's1', dir: join(paths.root, 'slurm', 's1'), createdAt: new Date().toISOString(), host: 'login1', spec: 'x.yaml', profile: 'test',
      rehearse: false, resultsRoot: root, cwd: root, settings: { sbatchArgs: [] },
      arrays: [{ index: 1, name: jobName('s1', 1), jobId: '41', runIds: ids.slice(0, 5), script: 'a.sh', runsFile: 'r.txt' }],
    });
    // Run 0 finished, run 1 failed, tasks 2 and 3 running and queued, task 4 gone without a result, the rest never submitted.
    await runOne(e, { resultsRoot: root, runId: ids[0], executor: fake, tracker: createTracker({ trackingUri: '' }), ...quiet });
    const failing = (c: Parameters<typeof runTraining>[0], o: Parameters<typeof runTraining>[1]) => runTraining(c, o, { LORA_REPRO_FAKE_FAIL: `seed=${c.seed}` });
    await runOne(e, { resultsRoot: root, runId: ids[1], executor: failing, tracker: createTracker({ trackingUri: '' }), ...quiet });
    const line = (i: number, state: string, reason = 'None'): QueueEntry => ({ jobId: '41', taskIndex: i, name: jobName('s1', 1), state, reason, nodes: state === 'RUNNING' ? 'n1' : '' });
    let queue: QueueEntry[] = [line(1, 'PENDING', 'Priority'), line(2, 'RUNNING'), line(3, 'PENDING', 'Resources')];
    const client: SlurmClient = { sbatch: async () => '0', squeue: async () => queue, sacct: async () => undefined, scancel: async () => {} };
    const states = runStates(e.runs, scanResults(paths).byId, await observeSlurm(paths, client, { acct: true }));
    assert.deepEqual(ids.map((id) => states.get(id)?.kind), ['finished', 'queued', 'running', 'queued', 'pending', 'pending', 'pending', 'pending'], 'a requeued failed run is queued again');
    const gone = states.get(ids[4]);
    assert.match(gone?.kind === 'pending' ? gone.why : '', /its task 41_4 never started/);
    assert.match(states.get(ids[5])?.kind === 'pending' ? (states.get(ids[5]) as { why: string }).why : '', /not submitted/);
    await expectUserError(refuseIfSlurmActive(paths, client), /3 run\(s\) of this profile are queued or running in Slurm \(job 41\)/);
    queue = [line(1, 'COMPLETED')];
    const after = runStates(e.runs, scanResults(paths).byId, await observeSlurm(paths, client));
    assert.equal(after.get(ids[1])?.kind, 'failed');
    await refuseIfSlurmActive(paths, client);
    await refuseIfSlurmActive(paths, { ...client, squeue: async () => Promise.reject(new SlurmMissingError('squeue not found on PATH')) });
  });
});

describe('slurm executor: arrays, scripts, settings', () => {
  it('initFrom chains become a second array after the first; the script runs line k + 1 through run-one', () => {
    const e = expand();
    const arrays = planArrays(e.runs, undefined, costModel(e, new Map()));
    assert.deepEqual(arrays.map((a) => [a.index, a.runs.length, a.after]), [[1, 6, undefined], [2, 2, 1]]);
    assert.ok(arrays[1].runs.every((r) => r.config.initFrom !== undefined));
    const script = arrayScript({
      name: 'lora-repro.x.1', count: 6, runsFile: "/r/it's/runs-1.txt", logDir: '/r/logs', cwd: '/w', dependency: ['41'],
      settings: { partition: 'gpu', gpusPerRun: 1, cpusPerRun: 8, mem: '64G', time: '12:00:00', maxParallel: 4, requeue: true, sbatchArgs: ['--qos=long'] },
      runOneArgs: ['/s/table2.yaml', '--profile', 'paper'],
    });
    for (const line of ['#SBATCH --array=0-5%4', '#SBATCH --partition=gpu', '#SBATCH --gres=gpu:1', '#SBATCH --cpus-per-task=8', '#SBATCH --mem=64G', '#SBATCH --time=12:00:00', '#SBATCH --requeue', '#SBATCH --qos=long', '#SBATCH --dependency=afterany:41', '#SBATCH --output=/r/logs/%A_%a.out']) {
      assert.ok(script.split('\n').includes(line), `${line} in\n${script}`);
    }
    assert.match(script, /sed -n "\$\(\(SLURM_ARRAY_TASK_ID \+ 1\)\)p" '\/r\/it'\\''s\/runs-1\.txt'/);
    assert.match(script, /'run-one' '\/s\/table2\.yaml' '--profile' 'paper' --run-id "\$RUN_ID"$/m);
    assert.equal(parseSlurmTime('1-02:03:04'), (86400 + 7384) * 1000);
    assert.equal(parseSlurmTime('90'), 5_400_000);
    assert.equal(suggestedTime(3_600_000), '01:30:00');
    assert.equal(suggestedTime(30 * 3_600_000), '1-21:00:00');
  });

  it('squeue, sacct and slurmstepd lines are read as Slurm writes them', () => {
    assert.deepEqual(parseQueue('41|3|lora-repro.x.1|RUNNING|None|node7\n41|4|lora-repro.x.1|PENDING|Resources|\n'), [
      { jobId: '41', taskIndex: 3, name: 'lora-repro.x.1', state: 'RUNNING', reason: 'None', nodes: 'node7' },
      { jobId: '41', taskIndex: 4, name: 'lora-repro.x.1', state: 'PENDING', reason: 'Resources', nodes: '' },
    ]);
    assert.deepEqual(parseAcct('41_3|TIMEOUT|0:0\n41_[5-9]|PENDING|0:0\n'), [{ jobId: '41', taskIndex: 3, state: 'TIMEOUT', exitCode: '0:0' }]);
    const dir = tempRoot();
    const log = join(dir, '41_3.out');
    writeFileSync(log, 'epoch 1\nslurmstepd: error: *** JOB 44 ON node7 CANCELLED AT 2025-01-01T10:00:00 DUE TO TIME LIMIT ***\n');
    assert.equal(reasonFromLog(log), 'cancelled due to time limit');
    writeFileSync(log, 'slurmstepd: error: *** JOB 44 ON node7 CANCELLED AT 2025-01-01T10:00:00 ***\n');
    assert.equal(reasonFromLog(log), 'cancelled (scancel)');
  });

  it("the profile's slurm: block sets the defaults, flags win, and it never changes a run id", async () => {
    const block = " slurm: { partition: gpu, gpusPerRun: 1, time: '04:00:00', sbatchArgs: ['--qos=long'] } ";
    assert.deepEqual(expand(SPEC(block)).runs.map((r) => r.runId), expand().runs.map((r) => r.runId));
    const spec = parseSpecText(SPEC(block), 'x.yaml').spec;
    const s = slurmSettings(spec.profiles?.test?.slurm, { partition: 'a100', 'max-parallel': '8', 'sbatch-arg': ['--constraint=x'] });
    assert.deepEqual(s, { partition: 'a100', gpusPerRun: 1, time: '04:00:00', maxParallel: 8, sbatchArgs: ['--qos=long', '--constraint=x'] });
    assert.throws(() => slurmSettings(undefined, { time: '4 hours' }), /--time expects a Slurm time limit/);
    assert.throws(() => parseSpecText(SPEC(' slurm: { gpus: 1 } '), 'x.yaml'), /slurm.*gpus/);
    await expectUserError(runCommand.run(['experiments/table2.yaml', '--profile', 'mini', '--partition', 'gpu', '--dry-run']), /--partition is a flag of the Slurm executor/);
  });

  it('the paper dry run prints the arrays it would submit, their resources and the cost estimate', async function () {
    this.timeout(120_000);
    const out: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void out.push(a.map(String).join(' '));
    try {
      const code = await runCommand.run(['experiments/table2.yaml', '--profile', 'paper', '--executor', 'slurm', '--dry-run', '--results', tempRoot(), '--partition', 'gpu', '--gpus-per-run', '1', '--max-parallel', '16']);
      assert.equal(code, 0);
    } finally {
      console.log = log;
    }
    const text = out.join('\n');
    assert.match(text, /^estimated time of the \d+ run\(s\) to do/m, 'the local plan and its cost model first');
    assert.match(text, /^slurm: 2 job array\(s\) for \d+ run\(s\), one task per run/m);
    assert.match(text, /^ {2}array 1: \d+ task\(s\): runs without an unfinished parent; --array=0-\d+%16$/m);
    assert.match(text, /^ {2}array 2: \d+ task\(s\): runs that start from array 1's \(initFrom\), after array 1 \(--dependency=afterany\)/m);
    assert.match(text, /estimated: longest run .+, all its runs .+ GPU-hours\); suggested --time \S+ \(1\.5 × the longest\)/);
    assert.match(text, /each task: --partition=gpu --gres=gpu:1$/m);
  });
});
