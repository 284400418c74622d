/**
 * The on-disk cache of hub downloads.
 *
 * Root: `--cache DIR`, else LORA_REPRO_CACHE, else `.cache/lora-repro` in the repository checkout (the
 * path .gitignore already ignores). Hub files live under `<root>/hub/`, one folder per repository named
 * as huggingface_hub names it, with the same refs/snapshots split so a revision is resolved once:
 *
 *   hub/models--FacebookAI--roberta-base/
 *     refs/main                       the commit `main` resolved to (plain text)
 *     snapshots/<commit>/config.json  complete, verified files only: a snapshot folder is what
 *     snapshots/<commit>/model.safetensors   loadPretrained(dir) reads
 *     manifests/<commit>.json         per file: size, ETag, checksum algorithm, source URL, time
 *     incomplete/<etag>.partial       a download in progress (resumed from its length), + .lock
 *
 * Snapshot files are plain files, not symlinks into a blob store (huggingface_hub's layout): our
 * readers take a directory, and the four models share no files worth deduplicating.
 * A file counts as cached only when the manifest lists it with the size it has on disk, so a file
 * someone copied in by hand, or one whose manifest write was lost, is checked against the hub again.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { UserError } from '../util/errors.ts';
import { checkRepoPath, repoFolderName, type HubRepo } from './repo.ts';

const CACHE_ENV = 'LORA_REPRO_CACHE';

/** `.cache/lora-repro` beside src/ (this file is src/hub/cache.ts). */
function defaultCacheRoot(): string {
  return fileURLToPath(new URL('../../.cache/lora-repro', import.meta.url));
}

export interface CacheDirOptions {
  /** Value of --cache, if given. */
  flag?: string;
  env?: Readonly<Record<string, string | undefined>>;
  cwd?: string;
}

/** The cache root (flag, then LORA_REPRO_CACHE, then the checkout's .cache/lora-repro). */
export function resolveCacheRoot(options: CacheDirOptions = {}): string {
  const env = options.env ?? process.env;
  const raw = options.flag !== undefined && options.flag !== '' ? options.flag : env[CACHE_ENV] !== undefined && env[CACHE_ENV] !== '' ? env[CACHE_ENV] : undefined;
  return raw === undefined ? defaultCacheRoot() : resolve(options.cwd ?? process.cwd(), raw);
}

/** `<root>/hub`, where every hub repository has its folder. */
export function hubCacheDir(root: string): string {
  return join(root, 'hub');
}

const entrySchema = z.object({
  size: z.number().int().nonnegative(),
  etag: z.string(),
  algorithm: z.enum(['sha256', 'git-sha1']),
  url: z.string(),
  downloadedAt: z.string(),
});
export type ManifestEntry = z.infer<typeof entrySchema>;

const manifestSchema = z.object({
  repo: z.object({ type: z.enum(['model', 'dataset']), id: z.string() }),
  commit: z.string(),
  files: z.record(z.string(), entrySchema),
});
type Manifest = z.infer<typeof manifestSchema>;

/** Writes through a temporary file and a rename, so readers never see half a file. */
function writeFileAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** A revision becomes a path under refs/, so it gets the same checks as a repo path. */
function checkRevision(revision: string): string {
  try {
    return checkRepoPath(revision);
  } catch {
    throw new UserError(`'${revision}' is not a revision: use a branch, a tag or a 40-character commit id`);
  }
}

export class RepoCache {
  readonly dir: string;

  constructor(
    hubDir: string,
    readonly repo: HubRepo,
  ) {
    this.dir = join(hubDir, repoFolderName(repo));
  }

  snapshotDir(commit: string): string {
    return join(this.dir, 'snapshots', commit);
  }

  filePath(commit: string, path: string): string {
    return join(this.snapshotDir(commit), ...checkRepoPath(path).split('/'));
  }

  /** Partial downloads are keyed by ETag (the content), so a resume can only extend the same bytes. */
  partialPath(etag: string): string {
    return join(this.dir, 'incomplete', `${etag.replace(/[^0-9A-Za-z._-]/g, '_')}.partial`);
  }

  readRef(revision: string): string | undefined {
    const path = join(this.dir, 'refs', ...checkRevision(revision).split('/'));
    if (!existsSync(path)) return undefined;
    const commit = readFileSync(path, 'utf8').trim();
    return commit === '' ? undefined : commit;
  }

  writeRef(revision: string, commit: string): void {
    writeFileAtomic(join(this.dir, 'refs', ...checkRevision(revision).split('/')), commit);
  }

  private manifestPath(commit: string): string {
    return join(this.dir, 'manifests', `${commit}.json`);
  }

  readManifest(commit: string): Manifest {
    const path = this.manifestPath(commit);
    const empty: Manifest = { repo: { ...this.repo }, commit, files: {} };
    if (!existsSync(path)) return empty;
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      return empty; // a damaged manifest only costs a re-check of the files against the hub
    }
    const parsed = manifestSchema.safeParse(json);
    return parsed.success ? parsed.data : empty;
  }

  recordFile(commit: string, path: string, entry: ManifestEntry): void {
    const manifest = this.readManifest(commit);
    manifest.files[path] = entry;
    writeFileAtomic(this.manifestPath(commit), `${JSON.stringify(manifest, null, 2)}\n`);
  }

  /** The snapshot file, when it is in place with the size its manifest entry recorded. */
  cachedFile(commit: string, path: string): { path: string; entry: ManifestEntry } | undefined {
    const file = this.filePath(commit, path);
    const entry = this.readManifest(commit).files[path];
    if (entry === undefined || !existsSync(file)) return undefined;
    return statSync(file).size === entry.size ? { path: file, entry } : undefined;
  }
}
