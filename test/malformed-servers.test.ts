/**
 * Issue 23, the cases that need more than one command line: MLflow servers on 127.0.0.1 that accept and
 * never answer, drip their body or answer HTML (bounded time, spooled, `mlflow sync` honours
 * --max-retry-seconds); cache entries that were truncated (verified by checksum, rebuilt); a failed
 * `train` rerun over a finished run (kept aside, never mixed); and the error boundary itself (every
 * file-system error on a path is one line with exit 2, a bug is one line with exit 1, the stack only
 * with LORA_REPRO_DEBUG=1).
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { reportError } from '../src/cli/error-boundary.ts';
import { verifyEntry } from '../src/pretrain/cache.ts';
import { PRETRAIN_FILES } from '../src/pretrain/artifacts.ts';
import { RestClient } from '../src/tracking/rest-client.ts';
import { MAX_SILENT_TRIES } from '../src/tracking/retry.ts';
import { createTracker, MlflowUnreachableError } from '../src/tracking/index.ts';
import { commitOutDir, stageOutDir } from '../src/train/run-dir.ts';
import { UserError } from '../src/util/errors.ts';
import { runInProcess, runSpawned } from './helpers/malformed.ts';
import { badServer } from './malformed/specs.ts';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'lora-malformed-srv-'));
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('malformed inputs: slow and wrong MLflow servers on 127.0.0.1 (issue 23)', function () {
  this.timeout(30_000);
  const FAST = { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 20, maxElapsedMs: 1500, requestTimeoutMs: 30_000 };

  for (const kind of ['silent', 'drip'] as const) {
    it(`mlflow [slow or wrong server] a ${kind} server: one request ends within its retry budget, not the 30 s request timeout`, async function () {
      // The guard is mocha's timeout, far above the 1.5 s budget and below the 30 s request timeout.
      this.timeout(15_000);
      const { url, server } = await badServer(kind);
      const client = new RestClient({ trackingUri: url, retry: FAST });
      try {
        await assert.rejects(client.call('GET', 'experiments/get-by-name', { experiment_name: 'x' }, z.object({})), MlflowUnreachableError);
      } finally {
        await client.close();
        server.closeAllConnections();
        server.close();
      }
    });
  }

  it('mlflow [slow or wrong server] defect: a silent server costs two request timeouts, not the whole retry budget (the runner spools)', async () => {
    const { url, server } = await badServer('silent');
    const dir = tmp();
    // The default budget (90 s, 7 attempts) with a short request timeout: retrying it all would take ~7 s.
    const client = new RestClient({ trackingUri: url, retry: { requestTimeoutMs: 1000 } });
    try {
      await assert.rejects(client.call('GET', 'experiments/get-by-name', { experiment_name: 'x' }, z.object({})), (e: unknown) => {
        assert.ok(e instanceof MlflowUnreachableError);
        assert.equal(e.attempts, MAX_SILENT_TRIES, 'a silent server gets one more try, not the whole budget');
        return true;
      });
      const tracker = createTracker({ trackingUri: url, spoolDir: join(dir, 'spool'), retry: { requestTimeoutMs: 1000 }, warn: () => {} });
      const cell = await tracker.startCell('exp', 'cell-1', { a: '1' });
      await cell.end('FINISHED');
      const summary = await tracker.close();
      assert.ok(summary.runsSpooled >= 1, `spooled: ${JSON.stringify(summary)}`);
    } finally {
      await client.close();
      server.closeAllConnections();
      server.close();
    }
  });

  it('mlflow [slow or wrong server] defect: a server answering HTML with 200 is unusable: the run is spooled', async () => {
    const { url, server } = await badServer('html');
    const dir = tmp();
    const warn: string[] = [];
    try {
      const tracker = createTracker({ trackingUri: url, spoolDir: join(dir, 'spool'), retry: FAST, warn: (l) => warn.push(l) });
      const cell = await tracker.startCell('exp', 'cell-1', { a: '1' });
      await cell.end('FINISHED');
      const summary = await tracker.close();
      assert.ok(summary.runsSpooled >= 1, `spooled: ${JSON.stringify(summary)} ${warn.join(' | ')}`);
      assert.ok(readdirSync(join(dir, 'spool')).length > 0, 'spool written');
      assert.match(warn.join('\n'), /not an MLflow server/);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('mlflow [slow or wrong server] defect: `mlflow sync --max-retry-seconds 2` against a silent server ends in ~2 s, exit 1, spool kept', async () => {
    const dir = tmp();
    // A spool made offline: a tracker against a closed port.
    const tracker = createTracker({ trackingUri: 'http://127.0.0.1:9', spoolDir: join(dir, 'spool'), retry: { ...FAST, maxElapsedMs: 100 }, warn: () => {} });
    const cell = await tracker.startCell('exp', 'cell-1', { a: '1' });
    await cell.end('FINISHED');
    await tracker.close();
    const before = readdirSync(join(dir, 'spool')).sort();
    const { url, server } = await badServer('silent');
    try {
      // Without --max-retry-seconds the default 90 s budget would run into the suite's 30 s mocha timeout.
      const out = await runInProcess(['mlflow', 'sync', '--spool', join(dir, 'spool'), '--tracking-uri', url, '--max-retry-seconds', '2']);
      assert.equal(out.code, 1, out.stderr);
      assert.doesNotMatch(out.stderr, /^\s+at /m);
    } finally {
      server.closeAllConnections();
      server.close();
    }
    assert.deepEqual(readdirSync(join(dir, 'spool')).sort(), before, 'spool left in place');
  });
});

describe('malformed inputs: caches verify what they reuse (issue 23)', () => {
  function entry(): string {
    const dir = join(tmp(), 'roberta-abc');
    mkdirSync(dir);
    writeFileSync(join(dir, PRETRAIN_FILES.config), '{"model_type":"roberta"}');
    writeFileSync(join(dir, PRETRAIN_FILES.weights), Buffer.alloc(4096, 7));
    writeFileSync(join(dir, PRETRAIN_FILES.tokenizer), '{}');
    const files = Object.fromEntries([PRETRAIN_FILES.config, PRETRAIN_FILES.weights, PRETRAIN_FILES.tokenizer].map((f) => [f, sha(readFileSync(join(dir, f)))]));
    writeFileSync(join(dir, PRETRAIN_FILES.meta), JSON.stringify({ format: 3, files }));
    return dir;
  }
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

  it('pretrain [truncated] an intact entry verifies', () => assert.equal(verifyEntry(entry()), undefined));
  it('pretrain [truncated] defect: a truncated model.safetensors is refused for reuse, naming the file', () => {
    const dir = entry();
    writeFileSync(join(dir, PRETRAIN_FILES.weights), Buffer.alloc(100, 7));
    assert.match(verifyEntry(dir) ?? '', /model\.safetensors does not match/);
  });
  it('pretrain [missing] a missing tokenizer.json is refused', () => {
    const dir = entry();
    rmSync(join(dir, PRETRAIN_FILES.tokenizer));
    assert.match(verifyEntry(dir) ?? '', /tokenizer\.json is missing/);
  });
  it('pretrain [truncated] a truncated pretrain.json is refused', () => {
    const dir = entry();
    writeFileSync(join(dir, PRETRAIN_FILES.meta), '{"format": 3, "fi');
    assert.match(verifyEntry(dir) ?? '', /pretrain\.json is unreadable/);
  });
});

describe('malformed inputs: train --out never mixes two runs (issue 23)', () => {
  const finished = (dir: string, runId: string, status: string): void => {
    mkdirSync(join(dir, 'adapter'), { recursive: true });
    writeFileSync(join(dir, 'result.json'), JSON.stringify({ runId, status }));
    writeFileSync(join(dir, 'adapter', 'w.bin'), status);
  };
  it('train [existing output] defect: a failed rerun over a finished run is kept beside it; the finished run is untouched', () => {
    const root = tmp();
    const out = join(root, 'out');
    finished(out, 'r1', 'finished');
    const staged = stageOutDir(out, 'r1', false, () => {});
    finished(staged.stage, 'r1', 'failed');
    const where = commitOutDir(staged, 'failed');
    assert.notEqual(where, out);
    assert.equal(JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')).status, 'finished');
    assert.equal(readFileSync(join(out, 'adapter', 'w.bin'), 'utf8'), 'finished');
    assert.equal(JSON.parse(readFileSync(join(where, 'result.json'), 'utf8')).status, 'failed');
    assert.deepEqual(readdirSync(root).filter((n) => n.startsWith('.tmp-')), [], 'no staging folder left');
  });
  it('train [existing output] a finished rerun replaces the run\'s own entries as a whole, stale ones too', () => {
    const root = tmp();
    const out = join(root, 'out');
    finished(out, 'r1', 'finished');
    writeFileSync(join(out, 'base-config.json'), '{}');
    const staged = stageOutDir(out, 'r1', false, () => {});
    finished(staged.stage, 'r1', 'finished');
    writeFileSync(join(staged.stage, 'adapter', 'w.bin'), 'second');
    assert.equal(commitOutDir(staged, 'finished'), out);
    assert.equal(readFileSync(join(out, 'adapter', 'w.bin'), 'utf8'), 'second');
    assert.deepEqual(readdirSync(out).sort(), ['adapter', 'result.json'], 'the old run\'s base-config.json does not mix in');
  });
});

describe('malformed inputs: the error boundary (issue 23)', () => {
  const line = (err: unknown): { code: number; lines: string[] } => {
    const lines: string[] = [];
    const code = reportError(err, 'x', (l) => lines.push(l));
    return { code, lines };
  };
  const fsError = (code: string, syscall: string, path: string): Error => Object.assign(new Error(`${code}: ${syscall} '${path}'`), { code, syscall, path, errno: -1 });
  for (const code of ['ENOENT', 'EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EISDIR', 'EEXIST', 'ENAMETOOLONG', 'ENOSPC', 'ENOTEMPTY']) {
    it(`lora-repro [path is a file] a ${code} on a path is one line naming the path, exit 2`, () => {
      const { code: exit, lines } = line(fsError(code, 'open', '/some/where/out.json'));
      assert.equal(exit, 2);
      assert.equal(lines.length, 1);
      assert.match(lines[0] as string, /^lora-repro x: \/some\/where\/out\.json: .+: .+/);
    });
  }
  it('lora-repro [wrong type] a UserError is its message, exit 2', () => assert.deepEqual(line(new UserError('a.json: bad: fix it')), { code: 2, lines: ['lora-repro x: a.json: bad: fix it'] }));
  it('lora-repro [wrong type] a bug is one short line saying where to report it, exit 1', () => {
    const { code, lines } = line(new TypeError('cannot read properties of undefined'));
    assert.equal(code, 1);
    assert.equal(lines.length, 1);
    assert.match(lines[0] as string, /internal error.*report/);
  });
  it('lora-repro [wrong type] a spawned bug-free failure prints no stack; LORA_REPRO_DEBUG=1 adds it', () => {
    const quiet = runSpawned(['metrics', 'e2e', '--refs', '/nonexistent/r.txt', '--hyps', '/nonexistent/h.txt']);
    assert.equal(quiet.code, 2, quiet.stderr);
    assert.doesNotMatch(quiet.stderr, /^\s+at /m);
    const saved = process.env.LORA_REPRO_DEBUG;
    process.env.LORA_REPRO_DEBUG = '1';
    try {
      const { code, lines } = line(new Error('boom'));
      assert.equal(code, 1);
      assert.match(lines.join('\n'), /^\s+at /m, 'the stack, for a developer');
    } finally {
      if (saved === undefined) delete process.env.LORA_REPRO_DEBUG;
      else process.env.LORA_REPRO_DEBUG = saved;
    }
  });
});
