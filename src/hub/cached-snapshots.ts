/**
 * Finding what `lora-repro download` already put in the cache, without the hub: the snapshots of a
 * repository that hold a set of files, whatever revision they were downloaded at. Runs read models and
 * dataset splits from here, so a run never needs the network (and never downloads behind the user's
 * back: what it reads is exactly what `download` fetched and verified).
 *
 * "Newest" is the latest `downloadedAt` the manifest records for the files asked for: the cache keeps
 * no commit dates, and the snapshot fetched last is the one the user most recently asked for.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { RepoCache } from './cache.ts';
import { COMMIT_HASH, type HubRepo } from './repo.ts';
import { cachedSnapshot, type Snapshot } from './snapshot.ts';

/** Every snapshot of `repo` in which all of `files` are cached and verified, newest download first. */
export function cachedSnapshots(hubDir: string, repo: HubRepo, files: readonly string[]): Snapshot[] {
  const cache = new RepoCache(hubDir, repo);
  const root = join(cache.dir, 'snapshots');
  if (!existsSync(root)) return [];
  const found: { snapshot: Snapshot; at: string }[] = [];
  for (const commit of readdirSync(root)) {
    // Only folders named by a commit are snapshots; anything else was not written by download.
    if (!COMMIT_HASH.test(commit)) continue;
    const snapshot = cachedSnapshot(hubDir, { repo, revision: commit, files });
    if (snapshot === undefined) continue;
    const entries = cache.readManifest(commit).files;
    const at = files.map((f) => entries[f]?.downloadedAt ?? '').reduce((a, b) => (b > a ? b : a), '');
    found.push({ snapshot, at });
  }
  // ISO-8601 times compare as strings; the commit breaks ties so the choice never depends on readdir order.
  found.sort((x, y) => (x.at !== y.at ? (x.at < y.at ? 1 : -1) : x.snapshot.commit < y.snapshot.commit ? -1 : 1));
  return found.map((f) => f.snapshot);
}

/** The snapshot at `revision` when given (a branch or tag downloaded before, or a commit), else the newest. */
export function findCachedSnapshot(hubDir: string, repo: HubRepo, files: readonly string[], revision?: string): Snapshot | undefined {
  if (revision !== undefined) return cachedSnapshot(hubDir, { repo, revision, files });
  return cachedSnapshots(hubDir, repo, files)[0];
}
