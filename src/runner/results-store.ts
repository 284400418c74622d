/**
 * The result JSONs of one profile (results/<profile>/runs/<runId>.json): written atomically,
 * read back through runResultSchema. A file that does not parse or validate, or whose runId does
 * not match its name, counts as absent (the run is redone and the file replaced) and is reported.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.ts';
import type { ResultsPaths } from './paths.ts';
import { runResultSchema, type RunResult } from '../train/result-schema.ts';

export interface InvalidResult {
  file: string;
  reason: string;
}

export type ReadOutcome = { ok: true; result: RunResult } | { ok: false; reason: string };

export function readResultFile(file: string, expectedRunId?: string): ReadOutcome {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return { ok: false, reason: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : `not JSON (${(err as Error).message})` };
  }
  const parsed = runResultSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    return { ok: false, reason: `${i.path.join('.') || '(record)'}: ${i.message}` };
  }
  if (expectedRunId !== undefined && parsed.data.runId !== expectedRunId) {
    return { ok: false, reason: `runId ${parsed.data.runId} does not match the file name` };
  }
  return { ok: true, result: parsed.data };
}

export interface ScannedResults {
  byId: Map<string, RunResult>;
  invalid: InvalidResult[];
}

export function scanResults(paths: ResultsPaths): ScannedResults {
  const byId = new Map<string, RunResult>();
  const invalid: InvalidResult[] = [];
  let names: string[];
  try {
    names = readdirSync(paths.runsDir);
  } catch {
    return { byId, invalid };
  }
  for (const name of names.sort()) {
    if (!name.endsWith('.json') || name.startsWith('.')) continue;
    const runId = name.slice(0, -'.json'.length);
    const file = join(paths.runsDir, name);
    const r = readResultFile(file, runId);
    if (r.ok) byId.set(runId, r.result);
    else invalid.push({ file, reason: r.reason });
  }
  return { byId, invalid };
}

/** The commit point of a run: after this returns, the run is finished (or failed) for good. */
export function writeResult(paths: ResultsPaths, result: RunResult): void {
  const checked = runResultSchema.parse(result);
  mkdirSync(paths.runsDir, { recursive: true });
  writeFileAtomic(paths.json(checked.runId), `${JSON.stringify(checked, null, 2)}\n`);
}
