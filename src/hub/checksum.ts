/**
 * What a hub ETag promises about a file's bytes, and checking a downloaded file against it.
 *
 * The hub's ETag is "its git-sha1 if stored in git, or its sha256 if stored in git-lfs" (huggingface_hub
 * `hf_hub_url` docs); for LFS files the resolve endpoint sends the sha256 as `X-Linked-Etag` next to the
 * redirect to the CDN. huggingface_hub itself checks only the size while downloading (`http_get`
 * "Consistency check failed") and hashes in `hf cache verify` (utils/_verification.py): sha256 of the
 * bytes for LFS files, `git hash-object` (sha1 of `blob <size>\0` + bytes) for regular files. We do the
 * size check and then that hash on every download, before the file is moved into place.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export type ChecksumAlgorithm = 'sha256' | 'git-sha1';

export interface Checksum {
  algorithm: ChecksumAlgorithm;
  /** Lower-case hex digest. */
  hex: string;
}

/** `W/"abc"` / `"abc"` -> `abc`, as huggingface_hub's `_normalize_etag`. */
export function normalizeEtag(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const v = raw.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
  return v === '' ? undefined : v;
}

/** The checksum an ETag stands for, or undefined when it is neither a sha256 nor a git sha1. */
export function checksumFromEtag(etag: string): Checksum | undefined {
  const hex = etag.toLowerCase();
  if (/^[0-9a-f]{64}$/.test(hex)) return { algorithm: 'sha256', hex };
  if (/^[0-9a-f]{40}$/.test(hex)) return { algorithm: 'git-sha1', hex };
  return undefined;
}

function newHash(algorithm: ChecksumAlgorithm, size: number): Hash {
  if (algorithm === 'sha256') return createHash('sha256');
  // git hash-object: sha1 over the header "blob <size>\0" followed by the content.
  return createHash('sha1').update(`blob ${size}\0`);
}

/** Streams the file through the hash; `size` is its length (needed up front for the git header). */
export async function digestFile(path: string, algorithm: ChecksumAlgorithm, size: number): Promise<string> {
  const hash = newHash(algorithm, size);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
