/**
 * A set of files of one hub repository at one revision, as a snapshot folder in the cache.
 *
 * The revision is resolved to a commit once, by the first HEAD, and written to `refs/<revision>`; every
 * other file is then asked for at that commit, so one snapshot never mixes two commits even if the
 * branch moves during the download (huggingface_hub's snapshot_download resolves the commit first for
 * the same reason). Later calls read the ref and, when every file is in the snapshot with its manifest
 * entry, return without a single request. To follow a branch to a newer commit, delete its
 * `refs/<branch>` file or pass the new commit as --revision.
 */
import { fetchVerified, type CachedFile } from './download-file.ts';
import { COMMIT_HASH, describeRepo, resolveUrl, type HubRepo } from './repo.ts';
import { withHubSession, type HubOptions, type HubSession } from './session.ts';
import { hubCacheDir, RepoCache, resolveCacheRoot } from './cache.ts';
import type { FileMetadata } from './http.ts';
import { headWithRetries } from './retry.ts';
import { UserError } from '../util/errors.ts';

export interface SnapshotRequest {
  repo: HubRepo;
  /** Branch, tag or commit id. */
  revision: string;
  /** Paths inside the repository. */
  files: readonly string[];
}

export interface Snapshot {
  repo: HubRepo;
  revision: string;
  commit: string;
  /** The snapshot folder (for a model: what loadPretrained takes). */
  dir: string;
  files: CachedFile[];
}

function localCommit(cache: RepoCache, revision: string): string | undefined {
  return COMMIT_HASH.test(revision) ? revision : cache.readRef(revision);
}

/** The snapshot when every file is already cached, found without any network request; else undefined. */
export function cachedSnapshot(hubDir: string, req: SnapshotRequest): Snapshot | undefined {
  const cache = new RepoCache(hubDir, req.repo);
  const commit = localCommit(cache, req.revision);
  if (commit === undefined) return undefined;
  const files: CachedFile[] = [];
  for (const repoPath of req.files) {
    const hit = cache.cachedFile(commit, repoPath);
    if (hit === undefined) return undefined;
    files.push({ path: hit.path, repoPath, commit, size: hit.entry.size, etag: hit.entry.etag, cached: true });
  }
  return { repo: req.repo, revision: req.revision, commit, dir: cache.snapshotDir(commit), files };
}

/**
 * The snapshot of `req`, from the cache when complete (no request, no endpoint needed), else fetched
 * in a session of its own. For code that needs one repository's files (model dirs, dataset splits).
 */
export async function ensureSnapshot(req: SnapshotRequest, opts: HubOptions = {}): Promise<Snapshot> {
  const hit = cachedSnapshot(hubCacheDir(opts.cacheRoot ?? resolveCacheRoot()), req);
  return hit ?? withHubSession(opts, (s) => fetchSnapshot(s, req));
}

/** Downloads what is missing of the request and returns the complete snapshot. */
export async function fetchSnapshot(session: HubSession, req: SnapshotRequest): Promise<Snapshot> {
  const hit = cachedSnapshot(session.hubDir, req);
  if (hit !== undefined) return hit;
  const cache = new RepoCache(session.hubDir, req.repo);
  let commit = localCommit(cache, req.revision);
  const files: CachedFile[] = [];
  for (const repoPath of req.files) {
    const inCache = commit === undefined ? undefined : cache.cachedFile(commit, repoPath);
    if (commit !== undefined && inCache !== undefined) {
      files.push({ path: inCache.path, repoPath, commit, size: inCache.entry.size, etag: inCache.entry.etag, cached: true });
      continue;
    }
    const url = resolveUrl(session.endpoint, req.repo, commit ?? req.revision, repoPath);
    const meta: FileMetadata = await headWithRetries(session.http, url, req.repo.type, session.transfer);
    if (commit === undefined) {
      commit = meta.commit;
      if (!COMMIT_HASH.test(commit)) {
        throw new UserError(`${url}: X-Repo-Commit "${commit}" is not a commit id: check HF_ENDPOINT points to the Hugging Face hub`);
      }
      cache.writeRef(req.revision, commit);
    } else if (meta.commit !== commit) {
      throw new UserError(`${url}: the hub resolved commit ${commit} to ${meta.commit}: delete ${cache.dir}/refs and rerun`);
    }
    files.push(await fetchVerified(session.http, cache, repoPath, meta, req.repo.type, session.transfer));
  }
  if (commit === undefined) throw new UserError(`${describeRepo(req.repo)}: no files requested`);
  return { repo: req.repo, revision: req.revision, commit, dir: cache.snapshotDir(commit), files };
}

export interface PlannedFile {
  repoPath: string;
  url: string;
  /** Bytes, when the cache or the hub told. */
  size?: number;
  cached: boolean;
  /** Why the size is unknown (the hub could not be asked, or refused). */
  problem?: string;
}

/** What fetchSnapshot would do, for --dry-run: HEAD requests only, nothing written. */
export async function planSnapshot(session: HubSession, req: SnapshotRequest): Promise<PlannedFile[]> {
  const cache = new RepoCache(session.hubDir, req.repo);
  const commit = localCommit(cache, req.revision);
  const out: PlannedFile[] = [];
  for (const repoPath of req.files) {
    const url = resolveUrl(session.endpoint, req.repo, commit ?? req.revision, repoPath);
    const hit = commit === undefined ? undefined : cache.cachedFile(commit, repoPath);
    if (hit !== undefined) {
      out.push({ repoPath, url, size: hit.entry.size, cached: true });
      continue;
    }
    try {
      const meta = await headWithRetries(session.http, url, req.repo.type, session.transfer);
      out.push({ repoPath, url, size: meta.size, cached: false });
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      out.push({ repoPath, url, cached: false, problem: err.message });
    }
  }
  return out;
}
