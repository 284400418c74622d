/**
 * Crash-safe file writes. A reader (or a rerun after `kill -9` or a power cut) sees either the
 * old file or the complete new one, never a prefix: the bytes go to a temporary file in the same
 * directory, are fsync'd, and rename(2) replaces the target in one step; the directory is fsync'd
 * so the rename itself survives a power cut. Temporary names start with `.tmp-` so a runner can
 * sweep the ones a killed process left behind.
 */
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export const TEMP_PREFIX = '.tmp-';

function fsyncDir(dir: string): void {
  // Directories cannot be opened for fsync on every platform (Windows); the rename is still atomic.
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* best effort */
  }
}

export function writeFileAtomic(path: string, data: string | Buffer): void {
  const dir = dirname(path);
  const tmp = join(dir, `${TEMP_PREFIX}${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}`);
  const fd = openSync(tmp, 'wx');
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
  fsyncDir(dir);
}

/**
 * Appends `line` (which must end in '\n') with one write(2) on an O_APPEND descriptor, then
 * fsyncs. A crash can at worst leave a torn last line, which readers drop (runs-csv.ts).
 */
export function appendLineDurable(path: string, line: string): void {
  const fd = openSync(path, 'a');
  try {
    const buf = Buffer.from(line, 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Removes temporary files left by killed writers (call only while holding the runner lock). */
export function sweepTempFiles(dir: string): number {
  let n = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    if (name.startsWith(TEMP_PREFIX)) {
      rmSync(join(dir, name), { force: true, recursive: true });
      n++;
    }
  }
  return n;
}
