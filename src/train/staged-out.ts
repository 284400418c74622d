/**
 * `train --out DIR` without losing anything: the run writes into a temporary sibling of DIR and only a
 * finished (or first) run is moved into place, entry by entry, so
 *   - a folder holding files this tool did not write is refused (unless --force, and even then only the
 *     run's own entries — RUN_FILES — are replaced; other files stay);
 *   - a folder holding a previous run of the same config is replaced, said on the console;
 *   - a failed rerun never mixes with, nor replaces, a finished run: it is kept beside it as DIR.failed-<time>.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { UserError } from '../util/errors.ts';
import { TEMP_PREFIX } from '../util/atomic-write.ts';
import { RUN_FILES } from './run-dir.ts';

const OWN = new Set<string>(Object.values(RUN_FILES));

export interface StagedOut {
  /** Where the run writes. */
  stage: string;
  /** The folder the user named. */
  target: string;
  /** What the target held before: nothing, or a previous run (its status). */
  previous: { runId: string; status: string } | undefined;
}

function previousRun(dir: string): { runId: string; status: string } | undefined {
  try {
    const json = JSON.parse(readFileSync(join(dir, RUN_FILES.result), 'utf8')) as { runId?: unknown; status?: unknown };
    if (typeof json.runId === 'string') return { runId: json.runId, status: typeof json.status === 'string' ? json.status : 'unknown' };
  } catch {
    /* no (readable) result.json: not a previous run */
  }
  return undefined;
}

/**
 * Checks DIR before anything is written and makes the staging sibling. Throws a UserError naming DIR
 * and the fix when DIR holds something that is not a previous run of `runId`.
 */
export function stageOutDir(target: string, runId: string, force: boolean, say: (line: string) => void): StagedOut {
  let previous: StagedOut['previous'];
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) throw new UserError(`${target}: is a file, not a folder: choose another --out`);
    const entries = readdirSync(target).filter((n) => !n.startsWith(TEMP_PREFIX));
    if (entries.length > 0) {
      previous = previousRun(target);
      const foreign = entries.filter((n) => !OWN.has(n));
      if (!force) {
        if (previous === undefined) {
          throw new UserError(`${target}: not empty and holds no run of lora-repro train (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}): choose a new --out, or pass --force to write the run's files beside them`);
        }
        if (previous.runId !== runId) {
          throw new UserError(`${target}: holds run ${previous.runId}, not this config's ${runId}: choose another --out, or pass --force to replace that run's files`);
        }
        if (foreign.length > 0) {
          throw new UserError(`${target}: holds files lora-repro train did not write (${foreign.slice(0, 3).join(', ')}): move them, choose another --out, or pass --force (they are kept)`);
        }
      }
      if (previous !== undefined) say(`${target}: replacing the previous ${previous.status} run ${previous.runId} when this one finishes${force ? ' (--force)' : ''}`);
    }
  }
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  const stage = join(parent, `${TEMP_PREFIX}${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}`);
  mkdirSync(stage);
  return { stage, target, previous };
}

/**
 * Moves the staged run into place. A failed run over a finished one is kept beside it instead.
 * Returns the folder the run is now in.
 */
export function commitOutDir(s: StagedOut, status: string): string {
  if (!existsSync(s.target)) {
    renameSync(s.stage, s.target);
    return s.target;
  }
  if (status !== 'finished' && s.previous?.status === 'finished') {
    const aside = `${s.target}.failed-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    renameSync(s.stage, aside);
    return aside;
  }
  // Only the run's own entries move; old ones of these names go to a trash sibling first so a crash
  // in between leaves every file somewhere, then the trash (only files of a previous run) is removed.
  const trash = `${s.stage}.old`;
  mkdirSync(trash);
  for (const name of OWN) {
    if (existsSync(join(s.target, name))) renameSync(join(s.target, name), join(trash, name));
  }
  for (const name of readdirSync(s.stage)) renameSync(join(s.stage, name), join(s.target, name));
  rmSync(trash, { recursive: true, force: true });
  rmSync(s.stage, { recursive: true, force: true });
  return s.target;
}

/** Removes the staging folder of a run that ended before it wrote a result (bad input). */
export function abandonOutDir(s: StagedOut): void {
  rmSync(s.stage, { recursive: true, force: true });
}
