/**
 * Bringing one hub file, whose metadata a HEAD returned, into the cache: resumable, verified, atomic.
 *
 * - Bytes go to `incomplete/<etag>.partial`. A later attempt (in this call after a dropped connection,
 *   or in the next run after an interruption) sends `Range: bytes=<partial length>-` and appends, as
 *   huggingface_hub's `http_get(resume_size=…)` does. A server that ignores the range (200 instead of
 *   206) restarts the file from zero.
 * - When the partial is complete its size must equal the hub's size and its hash the ETag (sha256 for
 *   LFS files, git blob sha1 for regular ones, see checksum.ts). Only then is it renamed into the
 *   snapshot folder, so a snapshot never holds half a file or a corrupt one; a mismatch deletes the
 *   partial and fails with one line.
 * - Connection failures and 5xx/429 answers during the transfer are retried (resuming) a few times with
 *   a doubling pause or the pause Retry-After asks (retry.ts); 4xx answers and checksum failures are not.
 */
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, statSync, truncateSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { UserError } from '../util/errors.ts';
import type { RepoCache } from './cache.ts';
import { checksumFromEtag, digestFile, type Checksum } from './checksum.ts';
import { contentRangeStart, interrupted, unreachable, type FileMetadata, type HubHttp } from './http.ts';
import { acquireLock } from './lock.ts';
import { withHubRetries, type RetryOptions } from './retry.ts';

export interface FileProgress {
  /** `owner/name:path`, for display. */
  label: string;
  received: number;
  total: number;
}

/** The retry settings (each retry of a transfer resumes it) and a progress callback. */
export interface TransferOptions extends RetryOptions {
  onProgress?: (p: FileProgress) => void;
}

export interface CachedFile {
  /** Absolute path of the file in its snapshot folder. */
  path: string;
  repoPath: string;
  commit: string;
  size: number;
  etag: string;
  /** True when no bytes were transferred (already in the cache). */
  cached: boolean;
}

/** A transfer that ended early without an HTTP error; resuming is the cure. */
class ShortTransfer extends Error {}

function expectedChecksum(meta: FileMetadata): Checksum {
  const sum = checksumFromEtag(meta.etag);
  if (sum === undefined) {
    throw new UserError(
      `${meta.url}: the ETag "${meta.etag}" is neither a sha256 nor a git sha1, so the file cannot be verified: check HF_ENDPOINT points to the Hugging Face hub`,
    );
  }
  return sum;
}

async function verify(file: string, meta: FileMetadata, sum: Checksum): Promise<string | undefined> {
  const size = statSync(file).size;
  if (size !== meta.size) return `has ${size} bytes, the hub says ${meta.size}`;
  const got = await digestFile(file, sum.algorithm, size);
  return got === sum.hex ? undefined : `has ${sum.algorithm} ${got}, the hub's ETag says ${sum.hex}`;
}

/** One GET into the partial file, appending from its current length. */
async function transferOnce(http: HubHttp, meta: FileMetadata, partial: string, what: string, label: string, opts: TransferOptions): Promise<void> {
  let have = existsSync(partial) ? statSync(partial).size : 0;
  if (have > meta.size) {
    truncateSync(partial, 0);
    have = 0;
  }
  if (have === meta.size) return;
  const res = await http.get(meta.location, have, what);
  let start = 0;
  if (res.statusCode === 206) {
    start = contentRangeStart(res) ?? -1;
    if (start !== have) {
      await res.body.dump();
      truncateSync(partial, 0);
      throw new ShortTransfer(`range answer starts at ${start}, asked ${have}`);
    }
  } else if (res.statusCode === 416) {
    // The server thinks our partial is past the end: it is not the file we are after. Start over.
    await res.body.dump();
    truncateSync(partial, 0);
    throw new ShortTransfer('range not satisfiable');
  }
  // Plain synchronous appends, chunk by chunk: every byte that arrived is on disk when the connection
  // fails, so the next attempt resumes from exactly there (a write stream would drop its queue).
  mkdirSync(dirname(partial), { recursive: true });
  const fd = openSync(partial, start === 0 ? 'w' : 'a');
  let received = start;
  let open = true;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      received += chunk.length;
      if (received > meta.size) {
        closeSync(fd);
        open = false;
        rmSync(partial, { force: true }); // not the file the hub described: do not resume from it
        throw new UserError(`${meta.url}: the server sent more than the ${meta.size} bytes the hub announced: rerun lora-repro download`);
      }
      writeSync(fd, chunk);
      opts.onProgress?.({ label, received, total: meta.size });
    }
  } finally {
    if (open) closeSync(fd);
  }
  if (received < meta.size) throw new ShortTransfer(`connection ended after ${received} of ${meta.size} bytes`);
}

function transfer(http: HubHttp, meta: FileMetadata, partial: string, what: string, label: string, opts: TransferOptions): Promise<void> {
  return withHubRetries(
    opts,
    () => transferOnce(http, meta, partial, what, label, opts),
    (err) => {
      const have = existsSync(partial) ? statSync(partial).size : 0;
      // Nothing received yet: the CDN could not be reached at all; else the transfer broke off.
      return have === 0 ? unreachable(meta.url, err) : interrupted(meta.url, err, have, meta.size);
    },
  );
}

/**
 * Puts `repoPath` of `meta.commit` into the snapshot folder and returns it. `what` ('model',
 * 'dataset') only words errors.
 */
export async function fetchVerified(
  http: HubHttp,
  cache: RepoCache,
  repoPath: string,
  meta: FileMetadata,
  what: string,
  opts: TransferOptions = {},
): Promise<CachedFile> {
  const sum = expectedChecksum(meta);
  const dest = cache.filePath(meta.commit, repoPath);
  const result = (cached: boolean): CachedFile => ({ path: dest, repoPath, commit: meta.commit, size: meta.size, etag: meta.etag, cached });
  const record = () =>
    cache.recordFile(meta.commit, repoPath, {
      size: meta.size,
      etag: meta.etag,
      algorithm: sum.algorithm,
      url: meta.url,
      downloadedAt: new Date().toISOString(),
    });

  const known = cache.cachedFile(meta.commit, repoPath);
  if (known !== undefined && known.entry.etag === meta.etag) return result(true);
  // A file in place that the manifest does not vouch for (a lost manifest write, a copy by hand):
  // keep it if it is the right one, else it is replaced below.
  if (existsSync(dest) && (await verify(dest, meta, sum)) === undefined) {
    record();
    return result(true);
  }

  const label = `${cache.repo.id}:${repoPath}`;
  const partial = cache.partialPath(meta.etag);
  const release = acquireLock(`${partial}.lock`, label);
  try {
    await transfer(http, meta, partial, what, label, opts);
    const problem = await verify(partial, meta, sum);
    if (problem !== undefined) {
      rmSync(partial, { force: true });
      throw new UserError(`${meta.url}: the download ${problem}; the bad copy was deleted: rerun lora-repro download`);
    }
    mkdirSync(dirname(dest), { recursive: true });
    renameSync(partial, dest);
    record();
  } finally {
    release();
  }
  return result(false);
}
