/**
 * An exclusive lock file beside a partial download, so two `lora-repro download` processes never append
 * to the same .partial file (huggingface_hub takes a FileLock for the same reason). The lock holds the
 * owner's pid; a lock whose process is gone (killed mid-download) is stale and taken over.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { UserError } from '../util/errors.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/** Takes the lock or throws a UserError naming the process that holds it; returns the release function. */
export function acquireLock(path: string, what: string): () => void {
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let owner = NaN;
    try {
      owner = Number(readFileSync(path, 'utf8').trim());
    } catch {
      // vanished between open and read: try again
    }
    if (Number.isInteger(owner) && owner > 0 && alive(owner)) {
      throw new UserError(
        `${what} is being downloaded by process ${owner} (lock ${path}): wait for it to finish, or delete the lock if that process is not lora-repro`,
      );
    }
    rmSync(path, { force: true }); // stale: its owner died
  }
  throw new UserError(`cannot take the download lock ${path}: delete it and rerun`);
}
