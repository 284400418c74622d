/**
 * Kill-and-resume: the runner (real CLI command, fake executor with random sleeps, several worker
 * processes) is killed with SIGKILL — the whole process group, runner and workers — at seeded
 * random points, restarted each time, and finally run to completion. Then: every planned run has
 * exactly one result JSON and exactly one CSV row, the rows say what the JSONs say, no line is
 * torn, no finished run was ever redone, and restarted runs started in a clean directory.
 * LORA_REPRO_LONG=1 runs a bigger variant.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Papa from 'papaparse';
import { expandSpec } from '../src/spec/expand.ts';
import { parseSpecText } from '../src/spec/load.ts';
import { resultsPaths } from '../src/runner/paths.ts';
import { RUNS_CSV_COLUMNS } from '../src/runner/runs-csv.ts';
import { scanResults } from '../src/runner/results-store.ts';

const LONG = process.env.LORA_REPRO_LONG !== undefined && process.env.LORA_REPRO_LONG !== '';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function specText(seeds: number): string {
  return `
experiment: killtest
seeds: [${Array.from({ length: seeds }, (_, i) => i).join(', ')}]
defaults: { epochs: 2, batchSize: 8, learningRate: 1.0e-3, maxSeqLength: 32, trainLimit: 64 }
grid:
  - row: k
    models: [mini-roberta]
    methods: [lora, bitfit]
    tasks: [rte, mrpc, stsb]
profiles:
  test: {}
`;
}

// The run command without the full CLI registry (which loads every command): same code path, faster start.
const ENTRY = "import { runCommand } from './src/cli/commands/run.ts'; process.exitCode = await runCommand.run(process.argv.slice(1));";

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  killed: boolean;
  stderr: string;
}

/** Progress of a live runner, from its output: resolves after `n` committed runs (or at exit). */
type Progress = (n: number) => Promise<void>;

/**
 * Starts the runner in its own process group. `killAt` decides when to SIGKILL the group, given
 * the runner's progress. Resolves when the runner exits.
 */
function runOnce(
  specFile: string,
  root: string,
  workers: number,
  sleepMs: string,
  killAt?: (progress: Progress) => Promise<void>,
  failpoints = '',
): Promise<Outcome> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', ENTRY, specFile, '--profile', 'test', '--workers', String(workers), '--results', root],
    {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        MLFLOW_TRACKING_URI: '',
        LORA_REPRO_EXECUTOR: 'test/helpers/fake-executor.ts',
        LORA_REPRO_FAKE_SLEEP_MS: sleepMs,
        LORA_REPRO_FAILPOINTS: failpoints,
      },
    },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  let exited = false;
  let killed = false;
  let out = '';
  const waiters: { n: number; resolve: () => void }[] = [];
  const committed = (): number => (out.match(/^\[\d+\/\d+\] /gm) ?? []).length;
  const wake = (): void => {
    for (const w of waiters.splice(0)) {
      if (exited || committed() >= w.n) w.resolve();
      else waiters.push(w);
    }
  };
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    wake();
  });
  const progress: Progress = (n) => new Promise((resolve) => {
    waiters.push({ n, resolve });
    wake();
  });
  const exit = new Promise<Outcome>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = true;
      wake();
      resolve({ code, signal, killed, stderr });
    }),
  );
  if (killAt) {
    void killAt(progress).then(() => {
      if (exited || child.pid === undefined) return;
      killed = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    });
  }
  return exit;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function completeCsvLines(text: string): Record<string, string>[] {
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  return Papa.parse<Record<string, string>>(complete, { header: true, skipEmptyLines: true }).data;
}

/** One results directory killed repeatedly until its runs are all done. */
class Round {
  readonly root = mkdtempSync(join(tmpdir(), 'runner-kill-'));
  readonly specFile = join(this.root, 'killtest.yaml');
  readonly paths = resultsPaths(join(this.root, 'test'));
  /** Every finished result ever seen, with its timestamp: a finished run must never run again. */
  readonly finishedAt = new Map<string, string>();

  constructor(readonly text: string, readonly planned: string[]) {
    writeFileSync(this.specFile, text);
  }

  /** Invariants that hold after any kill: valid JSONs; complete CSV lines unique and backed by a JSON. */
  checkIntermediate(label: string): number {
    const { byId, invalid } = scanResults(this.paths);
    assert.deepEqual(invalid, [], 'no torn or invalid result JSON');
    for (const [id, r] of byId) {
      assert.equal(r.status, 'finished', `${id}: ${r.error}`);
      const seen = this.finishedAt.get(id);
      assert.ok(seen === undefined || seen === r.finishedAt, `finished run ${id} was run again (${label})`);
      this.finishedAt.set(id, r.finishedAt);
    }
    if (existsSync(this.paths.csv)) {
      const ids = completeCsvLines(readFileSync(this.paths.csv, 'utf8')).map((r) => r.runId);
      assert.equal(new Set(ids).size, ids.length, `duplicate CSV row (${label})`);
      for (const id of ids) assert.ok(byId.has(id), `CSV row ${id} without a result JSON (${label})`);
    }
    // Debris in the directories of unfinished runs: a restart must wipe it.
    for (const name of existsSync(this.paths.runsDir) ? readdirSync(this.paths.runsDir) : []) {
      if (!name.endsWith('.json') && !name.startsWith('.') && !byId.has(name)) writeFileSync(join(this.paths.runsDir, name, 'stale'), 'x');
    }
    return byId.size;
  }

  /** After a run to completion: one JSON and one row per planned run, equal, nothing torn or redone. */
  checkFinal(): void {
    const { byId, invalid } = scanResults(this.paths);
    assert.deepEqual(invalid, []);
    assert.deepEqual([...byId.keys()].sort(), [...this.planned].sort(), 'every planned run has a result');
    for (const [id, r] of byId) {
      assert.equal(r.status, 'finished');
      const seen = this.finishedAt.get(id);
      assert.ok(seen === undefined || seen === r.finishedAt, `finished run ${id} was run again`);
      assert.ok(!existsSync(join(this.paths.runsDir, id, 'stale')), `run ${id} restarted in a dirty directory`);
    }
    const text = readFileSync(this.paths.csv, 'utf8');
    assert.ok(text.endsWith('\n'), 'no torn last line');
    const parsed = Papa.parse<Record<string, string>>(text, { header: true, skipEmptyLines: true });
    assert.deepEqual(parsed.errors, []);
    assert.deepEqual(parsed.meta.fields, [...RUNS_CSV_COLUMNS]);
    const rows = parsed.data;
    assert.equal(rows.length, this.planned.length, 'one row per run');
    assert.equal(new Set(rows.map((r) => r.runId)).size, rows.length, 'no duplicated row');
    for (const row of rows) {
      const j = byId.get(row.runId);
      assert.ok(j, `row without JSON: ${row.runId}`);
      assert.equal(row.finishedAt, j.finishedAt);
      assert.equal(row.status, 'finished');
      assert.deepEqual(JSON.parse(row.metrics), j.metrics);
    }
    assert.deepEqual(readdirSync(this.paths.runsDir).filter((n) => n.startsWith('.tmp-')), []);
    assert.ok(!existsSync(this.paths.lock), 'lock released');
  }
}

/**
 * `kills` SIGKILLs of live runners with work left. When a round's runs are all done, it is run to
 * completion once more (a no-op that must change nothing), checked, and a fresh round begins, so
 * every kill lands on an unfinished experiment.
 */
async function killAndResume(opts: { seeds: number; kills: number; workers: number; seed: number; sleepMs: string }): Promise<void> {
  const text = specText(opts.seeds);
  const planned = expandSpec(parseSpecText(text, 'killtest.yaml'), { profile: 'test' }).runs.map((r) => r.runId);
  const rand = mulberry32(opts.seed);
  let round = new Round(text, planned);
  let rounds = 1;
  let kills = 0;
  let selfKilled = 0;
  const finish = async (r: Round): Promise<void> => {
    const final = await runOnce(r.specFile, r.root, opts.workers, opts.sleepMs);
    assert.equal(final.code, 0, final.stderr);
    r.checkFinal();
    rmSync(r.root, { recursive: true, force: true });
  };

  for (let k = 0; kills < opts.kills; k++) {
    assert.ok(k < opts.kills * 3, 'too many invocations ended without a kill');
    // A quarter of the kills land anywhere in the first 1.5 s (loading, lock, reconciliation,
    // first runs); the rest shortly after the 1st or 2nd commit of this invocation, while the other
    // workers are mid-run. Every third invocation also arms the failpoints, which kill the runner
    // between a JSON and its CSV row, or halfway through writing the row.
    const early = rand() < 0.25;
    const after = 1 + Math.floor(rand() * 2);
    const delay = early ? rand() * 1500 : rand() * 250;
    const failpoints = k % 3 === 2 ? 'after-json:0.5,torn-csv:0.5' : '';
    const outcome = await runOnce(
      round.specFile,
      round.root,
      opts.workers,
      opts.sleepMs,
      async (progress) => {
        if (!early) await progress(after);
        await sleep(delay);
      },
      failpoints,
    );
    if (outcome.killed) kills++;
    else if (outcome.signal === 'SIGKILL' && failpoints !== '') selfKilled++;
    else assert.equal(outcome.code, 0, `invocation ${k} failed: ${outcome.stderr}`);
    const done = round.checkIntermediate(`invocation ${k}`);
    if (process.env.DEBUG_KILL) console.log(k, early, after, Math.round(delay), failpoints, outcome.killed, outcome.signal, done);
    if (done === planned.length) {
      await finish(round);
      round = new Round(text, planned);
      rounds++;
    }
  }
  assert.ok(selfKilled >= 1, 'no failpoint fired');
  await finish(round);
  if (process.env.DEBUG_KILL) console.log({ rounds, kills, selfKilled });
}

describe('runner: kill -9 and resume', function () {
  this.timeout(LONG ? 1_800_000 : 240_000);

  it('20 random kills of runner + workers lose and duplicate nothing', async () => {
    await killAndResume({ seeds: 4, kills: 20, workers: 3, seed: 20240611, sleepMs: '10-300' });
  });

  (LONG ? it : it.skip)('100 random kills, 96 runs, 4 workers (LORA_REPRO_LONG)', async () => {
    await killAndResume({ seeds: 16, kills: 100, workers: 4, seed: 7, sleepMs: '10-600' });
  });
});
