/**
 * Lock files in a results directory, safe where that directory is on NFS (a Slurm cluster's
 * shared file system, written by the login node and every compute node):
 *  - no flock/fcntl: not honoured on every NFS mount, nor between clients without lockd;
 *  - a lock is taken with link(2) of a complete temporary file: atomic on every NFS version (O_EXCL
 *    create is not on NFSv2) and never seen empty (an O_EXCL file is empty until written, and a
 *    reader taking that for a torn, stale lock would take over a live one). Where link(2) reports an
 *    error, the temporary file's link count says whether it took (open(2), "O_EXCL" on NFS);
 *  - a stale lock is renamed aside (atomic) and removed only if it is still the one judged stale,
 *    so two processes taking over the same stale lock cannot remove each other's new one.
 *
 * Two kinds:
 *  - the runner lock (`acquireLock`): one runner or Slurm submitter per results directory. It holds
 *    the owner's host and pid; a dead pid on the same host is stale and taken over (so `kill -9`
 *    never blocks the next run); a pid on another host cannot be checked from here, so that lock is
 *    reported with its host and left for a person to remove;
 *  - lease locks (`acquireLeaseLock`): short critical sections shared by processes on many hosts
 *    (a Slurm array task updating runs.csv). Besides a dead pid on the same host, a lock older
 *    than `staleMs` is stale, aged on the file server's clock (the lock's mtime against the mtime of
 *    the temporary file just written), so clock skew between nodes does not matter.
 */
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { hostname } from 'node:os';
import { TEMP_PREFIX } from '../util/atomic-write.ts';
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

interface Owner {
  pid?: number;
  host?: string;
  since?: string;
  nonce?: string;
}

interface Attempt {
  taken: boolean;
  /** The file server's clock now (mtime of the file this attempt wrote), ms. */
  serverNow: number;
}

/** Sibling temporary name: `.tmp-` so the runner's sweep removes what a killed process left. */
const tempName = (path: string, tag: string): string => join(dirname(path), `${TEMP_PREFIX}${basename(path)}.${tag}.${randomBytes(4).toString('hex')}`);

/** One try at creating `path` holding `text`, complete from the first moment anyone can see it. */
function tryCreate(path: string, text: string): Attempt {
  const tmp = tempName(path, String(process.pid));
  writeFileSync(tmp, text, { flag: 'wx' });
  try {
    const serverNow = statSync(tmp).mtimeMs;
    try {
      linkSync(tmp, path);
      return { taken: true, serverNow };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // NFS: the link may have been made and its reply lost; the link count tells.
      if (statSync(tmp).nlink === 2) return { taken: true, serverNow };
      if (code === 'EEXIST') return { taken: false, serverNow };
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS' || code === 'EOPNOTSUPP') return { taken: createExclusive(path, text), serverNow };
      throw err;
    }
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Fallback for file systems without hard links: O_EXCL, then the content. */
function createExclusive(path: string, text: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  return true;
}

function readOwner(path: string): { text: string; owner: Owner; mtimeMs: number } | undefined {
  try {
    const text = readFileSync(path, 'utf8');
    const mtimeMs = statSync(path).mtimeMs;
    let owner: Owner = {};
    try {
      owner = JSON.parse(text) as Owner;
    } catch {
      // Torn: only possible from the O_EXCL fallback or an older version; judged by its age.
    }
    return { text, owner, mtimeMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Removes the lock at `path` if it still holds `judged` (the text found stale). Returns false when
 * the file moved aside was a newer lock: it is put back (unless a third process took the place).
 */
function removeIfSame(path: string, judged: string): boolean {
  const aside = tempName(path, 'stale');
  try {
    renameSync(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true; // someone else removed it
    throw err;
  }
  let text = '';
  try {
    text = readFileSync(aside, 'utf8');
  } catch {
    /* vanished: treat as different */
  }
  if (text !== judged) {
    try {
      linkSync(aside, path);
    } catch {
      /* the place was taken meanwhile: that holder wins */
    }
  }
  rmSync(aside, { force: true });
  return text === judged;
}

function ownerText(): { text: string; nonce: string } {
  const nonce = randomBytes(8).toString('hex');
  return { text: JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString(), nonce }), nonce };
}

function releaser(path: string, nonce: string): RunnerLock {
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      // Only our own lock: a lease that outlived `staleMs` may have been taken over.
      const now = readOwner(path);
      if (now !== undefined && now.owner.nonce === nonce) removeIfSame(path, now.text);
    },
  };
}

/** The runner lock of a results directory (see the file comment). Throws a UserError if it is held. */
export function acquireLock(path: string): RunnerLock {
  mkdirSync(dirname(path), { recursive: true });
  const { text, nonce } = ownerText();
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(path, text).taken) return releaser(path, nonce);
    const found = readOwner(path);
    if (found === undefined) continue; // released meanwhile
    const { owner } = found;
    const sameHost = owner.host === undefined || owner.host === hostname();
    if (typeof owner.pid === 'number' && owner.pid !== process.pid && sameHost && alive(owner.pid)) {
      throw new UserError(`${path}: another lora-repro run (pid ${owner.pid}) is using this results directory; wait for it to finish or stop it`);
    }
    if (!sameHost) {
      throw new UserError(`${path}: locked by a runner on host ${owner.host} (pid ${owner.pid ?? '?'}); if it is gone, delete the lock file`);
    }
    removeIfSame(path, found.text);
  }
  throw new UserError(`${path}: could not acquire the runner lock`);
}

export interface LeaseOptions {
  /** A lock older than this (file server's clock) is stale: its holder died mid-section. Default 60 s. */
  staleMs?: number;
  /** Give up after waiting this long. Default 120 s. */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A lease lock for a short critical section shared across hosts (see the file comment). */
export async function acquireLeaseLock(path: string, opts: LeaseOptions = {}): Promise<RunnerLock> {
  const staleMs = opts.staleMs ?? 60_000;
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const sleep = opts.sleep ?? defaultSleep;
  mkdirSync(dirname(path), { recursive: true });
  const { text, nonce } = ownerText();
  const start = Date.now();
  let delay = 10;
  for (;;) {
    const attempt = tryCreate(path, text);
    if (attempt.taken) return releaser(path, nonce);
    const found = readOwner(path);
    if (found === undefined) continue;
    const { owner } = found;
    const age = attempt.serverNow - found.mtimeMs;
    const deadHere = owner.host === hostname() && typeof owner.pid === 'number' && owner.pid !== process.pid && !alive(owner.pid);
    const torn = owner.nonce === undefined && age > 10_000;
    if (deadHere || torn || age > staleMs) {
      removeIfSame(path, found.text);
      continue;
    }
    if (Date.now() - start > timeoutMs) {
      throw new Error(`${path}: held by pid ${owner.pid ?? '?'} on ${owner.host ?? '?'} for ${(age / 1000).toFixed(0)} s; gave up after ${(timeoutMs / 1000).toFixed(0)} s`);
    }
    await sleep(delay * (0.5 + Math.random()));
    delay = Math.min(1000, delay * 2);
  }
}
