/**
 * The CLI's one error boundary. Whatever a command throws ends here and becomes exactly one line:
 *
 *   - a UserError (bad flag, missing or corrupt input): its message, exit 2;
 *   - a file-system error on a path (an output path that is a file, a read-only folder, an over-long
 *     name…): `<path>: <what is wrong>: <the fix>`, exit 2 — the user chose that path, so they can fix it;
 *   - anything else is a bug in lora-repro: a short line saying so and where to report it, exit 1.
 *
 * Raw stacks only with LORA_REPRO_DEBUG=1: a stack tells a user nothing they can act on, and the wasm
 * runtime's handlers would otherwise print its whole minified source after it.
 */
import { statSync } from 'node:fs';
import { UserError } from '../util/errors.ts';

export const EXIT_USER = 2;
const EXIT_BUG = 1;
const REPORT_TO = 'the project\'s issue tracker (include the command line and the output of LORA_REPRO_DEBUG=1)';

/** What is wrong and how to fix it, per errno code of a failed file-system call. */
const FS_ERRORS: Record<string, [string, string]> = {
  ENOENT: ['not found', 'check the path, or create it first'],
  EACCES: ['permission denied', 'choose a location you can write to, or change its permissions'],
  EPERM: ['operation not permitted', 'choose a location you can write to, or change its permissions'],
  EROFS: ['on a read-only file system', 'choose a folder on a writable file system'],
  ENOTDIR: ['a part of this path is a file, not a folder', 'choose a path whose parents are folders'],
  EISDIR: ['is a folder where a file is expected', 'name a file, not a folder'],
  EEXIST: ['already exists', 'remove it or choose another path'],
  ENOTEMPTY: ['folder is not empty', 'choose an empty or new folder'],
  ENAMETOOLONG: ['name too long', 'choose a shorter path'],
  ENOSPC: ['no space left on the device', 'free space or choose another folder'],
  EDQUOT: ['disk quota exceeded', 'free space or choose another folder'],
  ELOOP: ['too many symbolic links', 'resolve the link loop'],
  EMLINK: ['too many links', 'choose another folder'],
  EBUSY: ['busy', 'close what holds it and retry'],
  EXDEV: ['on another file system than its temporary sibling', 'choose a folder on one file system'],
};

interface FsError extends Error {
  code: string;
  path?: string;
  dest?: string;
  syscall?: string;
}

function isFsError(err: unknown): err is FsError {
  return err instanceof Error && typeof (err as Partial<FsError>).code === 'string' && typeof (err as Partial<FsError>).syscall === 'string';
}

/** The one line for a file-system error on a path, or undefined when it is not one. */
export function describeFsError(err: unknown): string | undefined {
  if (!isFsError(err) || err.path === undefined) return undefined;
  const known = FS_ERRORS[err.code];
  // A rename names both ends; the destination is the path the user chose.
  const path = err.syscall === 'rename' && err.dest !== undefined ? err.dest : err.path;
  // mkdir -p through a file: the file is in the way of a folder.
  if (err.syscall === 'mkdir' && (err.code === 'EEXIST' || err.code === 'ENOTDIR') && !isFolder(path)) return `${path}: exists and is not a folder: choose a path whose parents are folders`;
  if (known === undefined) return `${path}: ${err.code} (${err.syscall}): check the path and its permissions`;
  return `${path}: ${known[0]}: ${known[1]}`;
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

/** Prints the error as one line on stderr and returns the exit code. */
export function reportError(err: unknown, command: string | undefined, write: (line: string) => void = (l) => console.error(l)): number {
  const prefix = command === undefined ? 'lora-repro' : `lora-repro ${command}`;
  const debug = process.env.LORA_REPRO_DEBUG === '1';
  if (err instanceof UserError) {
    write(`${prefix}: ${oneLine(err.message)}`);
    return EXIT_USER;
  }
  const fs = describeFsError(err);
  if (fs !== undefined) {
    write(`${prefix}: ${oneLine(fs)}`);
    if (debug && err instanceof Error) write(err.stack ?? '');
    return EXIT_USER;
  }
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  write(`${prefix}: internal error (a bug in lora-repro): ${oneLine(what).slice(0, 300)}; please report it at ${REPORT_TO}`);
  if (debug) write(err instanceof Error ? (err.stack ?? what) : what);
  return EXIT_BUG;
}
