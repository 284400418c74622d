/**
 * The harness of the malformed-input suite (issue 23): a case is one command line against a fresh temp
 * folder; it runs in-process through the CLI's main() (fast) or, for the exit-code/stack subset, as a
 * real `node bin/lora-repro.mjs` process, and is checked for the promise of the README: the exit code,
 * exactly one error line (naming what is wrong), no stack trace, nothing that existed before deleted or
 * changed, and a bounded time.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(REPO, 'bin/lora-repro.mjs');

export type Kind =
  | 'missing'
  | 'empty'
  | 'truncated'
  | 'wrong type'
  | 'wrong dtype'
  | 'non-finite'
  | 'out of range'
  | 'path is a file'
  | 'path is a folder'
  | 'path under a file'
  | 'path too long'
  | 'read-only'
  | 'pathological size'
  | 'slow or wrong server'
  | 'unknown name'
  | 'bad flag'
  | 'existing output';

export interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Case<F> {
  command: string;
  kind: Kind;
  title: string;
  /** The command line, after `lora-repro`; `dir` is the case's own empty temp folder. */
  argv: (dir: string, fx: F) => string[];
  /** Writes the case's inputs into `dir` before the snapshot. */
  setup?: (dir: string, fx: F) => void;
  /** Expected exit code (default 2). */
  exit?: number;
  /** The one error line must match (default: it names something; any line for exit 0). */
  line?: RegExp;
  /** Extra checks after the command. */
  check?: (dir: string, out: Output, fx: F) => void | Promise<void>;
  /** Files under `dir` the command may change (default none: everything is kept byte for byte). */
  mayChange?: RegExp;
  /** The case's mocha timeout (default 20 s): mocha fails a case that runs longer, even one blocked in sync code. */
  maxMs?: number;
  /** Run as a real process (exit code, no stack from the bin wrapper). */
  spawn?: boolean;
  env?: Record<string, string>;
  /** Set to a reason to skip (root ignores chmod, say). */
  skip?: string;
}

const STACK = /^\s+at .+\(.*:\d+:\d+\)|^\s+at (file|node):|^\s+at async /m;

/** Every file under `dir` (relative path → sha256; folders as 'dir'). */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) {
        out.set(relative(dir, p), 'dir');
        walk(p);
      } else if (st.isFile()) out.set(relative(dir, p), createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/** Runs `lora-repro <argv>` in this process, capturing everything it prints. */
export async function runInProcess(argv: string[], env: Record<string, string> = {}): Promise<Output> {
  const out: string[] = [];
  const err: string[] = [];
  const saved = { log: console.log, error: console.error, warn: console.warn, info: console.info, so: process.stdout.write, se: process.stderr.write };
  const savedEnv = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  const fmt = (args: unknown[]): string => args.map((a) => (typeof a === 'string' ? a : a instanceof Error ? (a.stack ?? a.message) : JSON.stringify(a))).join(' ') + '\n';
  console.log = (...a: unknown[]) => void out.push(fmt(a));
  console.info = console.log;
  console.error = (...a: unknown[]) => void err.push(fmt(a));
  console.warn = console.error;
  process.stdout.write = ((chunk: string | Uint8Array) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => (err.push(String(chunk)), true)) as typeof process.stderr.write;
  Object.assign(process.env, env);
  let code: number;
  try {
    code = await main(argv);
  } catch (e) {
    // main() must never throw: record it as the failure it is.
    err.push(`UNCAUGHT ${(e as Error).stack ?? String(e)}\n`);
    code = -1;
  } finally {
    Object.assign(console, { log: saved.log, error: saved.error, warn: saved.warn, info: saved.info });
    process.stdout.write = saved.so;
    process.stderr.write = saved.se;
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  return { code, stdout: out.join(''), stderr: err.join('') };
}

export function runSpawned(argv: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Output {
  const r = spawnSync(process.execPath, [BIN, ...argv], { cwd: REPO, encoding: 'utf8', env: { ...process.env, ...env }, timeout: timeoutMs });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The checks every case gets. */
export function assertOutcome<F>(c: Case<F>, out: Output, before: Map<string, string>, after: Map<string, string>): void {
  const exit = c.exit ?? 2;
  const shown = `exit ${out.code}\n--- stderr\n${out.stderr}\n--- stdout\n${out.stdout.slice(0, 2000)}`;
  assert.equal(out.code, exit, `exit code\n${shown}`);
  assert.doesNotMatch(out.stderr + out.stdout, STACK, `no stack trace\n${shown}`);
  assert.doesNotMatch(out.stderr, /UNCAUGHT|internal error/, `no internal error\n${shown}`);
  if (exit !== 0) {
    const errorLines = out.stderr.split('\n').filter((l) => l.startsWith('lora-repro'));
    assert.equal(errorLines.length, 1, `exactly one error line\n${shown}`);
    const line = errorLines[0] as string;
    assert.ok(line.length < 1500, `a short line: ${line.slice(0, 300)}…`);
    if (c.line !== undefined) assert.match(line, c.line, `the error line\n${shown}`);
  } else if (c.line !== undefined) assert.match(out.stderr + out.stdout, c.line, shown);
  for (const [path, sum] of before) {
    if (c.mayChange?.test(path)) continue;
    assert.ok(after.has(path), `${path} still exists\n${shown}`);
    assert.equal(after.get(path), sum, `${path} unchanged\n${shown}`);
  }
}

export function caseDir(): string {
  return mkdtempSync(join(tmpdir(), 'lora-malformed-'));
}

export const isRoot = (): boolean => process.getuid?.() === 0;

/** A path of `n` characters' worth of one name (ENAMETOOLONG: one component over 255 bytes). */
export const longName = (dir: string): string => join(dir, 'x'.repeat(300));

/** Counts of cases by command and by kind, for the closing note. */
export function tally<F>(cases: readonly Case<F>[]): { byCommand: Record<string, number>; byKind: Record<string, number> } {
  const byCommand: Record<string, number> = {};
  const byKind: Record<string, number> = {};
  for (const c of cases) {
    byCommand[c.command] = (byCommand[c.command] ?? 0) + 1;
    byKind[c.kind] = (byKind[c.kind] ?? 0) + 1;
  }
  return { byCommand, byKind };
}
