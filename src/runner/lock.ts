/**
 * One runner per results directory. Two runners on the same profile would both run the same
 * pending runs and both append their rows; the lock makes "exactly once" a single-writer problem.
 * The lock file holds the owner's pid; created with O_EXCL. A lock whose pid is no longer alive
 * (the runner was killed) is stale and taken over, so `kill -9` never blocks the next run.
 */
import { mkdirSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';
import { hostname } from 'node:os';
import { UserError } from '../util/errors.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface RunnerLock {
  release(): void;
}

export function acquireLock(path: string): RunnerLock {
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }));
      closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          rmSync(path, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let owner: { pid?: number; host?: string } = {};
    try {
      owner = JSON.parse(readFileSync(path, 'utf8')) as typeof owner;
    } catch {
      // Empty or torn: the owner died between open and write. Stale.
    }
    const sameHost = owner.host === undefined || owner.host === hostname();
    if (typeof owner.pid === 'number' && owner.pid !== process.pid && sameHost && alive(owner.pid)) {
      throw new UserError(`${path}: another lora-repro run (pid ${owner.pid}) is using this results directory; wait for it to finish or stop it`);
    }
    if (!sameHost) {
      throw new UserError(`${path}: locked by a runner on host ${owner.host}; if it is gone, delete the lock file`);
    }
    rmSync(path, { force: true });
  }
  throw new UserError(`${path}: could not acquire the runner lock`);
}
