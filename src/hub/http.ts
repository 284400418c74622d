/**
 * The two HTTP exchanges a hub download needs, on undici's `request` (already a dependency; it hands
 * back status and headers of redirects, which `fetch` hides), and the one-line errors for failures.
 *
 * 1. HEAD `/resolve/` with `Accept-Encoding: identity`, following only relative redirects (a renamed
 *    repository) and stopping at an absolute one (the CDN), exactly as huggingface_hub's
 *    `get_hf_file_metadata` does. From its headers: `X-Repo-Commit` (the commit the revision resolved
 *    to), `X-Linked-Etag` or `ETag` (sha256 / git sha1), `X-Linked-Size` or `Content-Length`, and the
 *    download location (the `Location` of the CDN redirect, else the resolve URL itself).
 * 2. GET of that location, with `Range: bytes=N-` when resuming, following redirects.
 *
 * The hub answers a missing repository, revision or file with 404 (or 401 for a repository it will not
 * confirm exists) plus an `X-Error-Code` header (RepoNotFound, RevisionNotFound, EntryNotFound), which
 * picks the message.
 *
 * Why not @huggingface/hub (2.17.5): its downloadFileToCacheDir restarts interrupted downloads from
 * zero, verifies no checksum, and sends Xet-backed files (the paper models' weights are Xet-backed)
 * through its Xet chunk-reconstruction client, which needs Xet endpoints an offline test cannot fake.
 * The resolve-URL protocol below is the one huggingface_hub and @huggingface/hub both build on.
 */
import { Agent, request, type Dispatcher } from 'undici';
import { UserError } from '../util/errors.ts';
import { parseRetryAfter } from '../util/retry-after.ts';
import { normalizeEtag } from './checksum.ts';

export interface HttpTimeouts {
  connectMs: number;
  /** Until the response headers arrive. */
  headersMs: number;
  /** Longest silence while a body streams; a stalled CDN connection fails and is resumed. */
  bodyMs: number;
}

export const DEFAULT_TIMEOUTS: HttpTimeouts = { connectMs: 10_000, headersMs: 30_000, bodyMs: 60_000 };

export interface FileMetadata {
  /** The resolve URL asked. */
  url: string;
  commit: string;
  etag: string;
  size: number;
  /** Where the bytes are fetched from (CDN URL for LFS files, else the resolve URL). */
  location: string;
}

const MAX_REDIRECTS = 5;
const REDIRECT = new Set([301, 302, 303, 307, 308]);

function header(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** The error code of a failed connection (undici sometimes puts it on `cause`). */
function networkErrorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

export function unreachable(url: string, err: unknown): UserError {
  const code = networkErrorCode(err) ?? (err instanceof Error ? err.message : String(err));
  return new UserError(
    `cannot reach ${url} (${code}): check the network connection and HF_ENDPOINT, then rerun lora-repro download (a partial download resumes)`,
  );
}

/** A transfer that kept failing after it had started; the partial file stays for the next run. */
export function interrupted(url: string, err: unknown, have: number, size: number): UserError {
  const code = networkErrorCode(err) ?? (err instanceof Error ? err.message : String(err));
  return new UserError(
    `${url}: the download was interrupted (${code}) at ${have} of ${size} bytes: rerun lora-repro download to resume it`,
  );
}

/** One-line error for a hub answer other than success. */
function statusError(url: string, status: number, errorCode: string | undefined, what: string): UserError {
  if (errorCode === 'RepoNotFound') {
    return new UserError(`${url}: repository not found (HTTP ${status} RepoNotFound): check the ${what} name`);
  }
  if (errorCode === 'RevisionNotFound') {
    return new UserError(`${url}: revision not found (HTTP ${status} RevisionNotFound): check --revision (a branch, tag or commit id)`);
  }
  if (errorCode === 'EntryNotFound' || status === 404) {
    return new UserError(`${url}: file not found (HTTP ${status}${errorCode ? ` ${errorCode}` : ''}): check the ${what} name and --revision`);
  }
  if (status === 401 || status === 403) {
    return new UserError(`${url}: access denied (HTTP ${status}): the repository is gated or private; use a public one`);
  }
  return new UserError(`${url}: the hub answered HTTP ${status}: try again later, or check HF_ENDPOINT`);
}

/**
 * A 5xx or 429 answer: worth retrying (retry.ts); `userError` is the message once the retries are
 * spent, `retryAfterMs` the pause the answer's Retry-After header asked for.
 */
export class TransientStatus extends Error {
  constructor(
    readonly userError: UserError,
    readonly retryAfterMs?: number,
  ) {
    super(userError.message);
  }
}

/** The error for a failed answer: TransientStatus for 5xx and 429, a final UserError for the rest. */
function answerError(url: string, res: Dispatcher.ResponseData, what: string): Error {
  const err = statusError(url, res.statusCode, header(res.headers, 'x-error-code'), what);
  if (res.statusCode < 500 && res.statusCode !== 429) return err;
  return new TransientStatus(err, parseRetryAfter(header(res.headers, 'retry-after')));
}

export class HubHttp {
  private readonly agent: Agent;

  constructor(private readonly timeouts: HttpTimeouts = DEFAULT_TIMEOUTS) {
    this.agent = new Agent({ connect: { timeout: timeouts.connectMs } });
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private send(url: string, method: 'HEAD' | 'GET', headers: Record<string, string>): Promise<Dispatcher.ResponseData> {
    return request(url, {
      method,
      headers: { 'user-agent': 'lora-repro', ...headers },
      dispatcher: this.agent,
      headersTimeout: this.timeouts.headersMs,
      bodyTimeout: this.timeouts.bodyMs,
    });
  }

  /**
   * HEAD of a resolve URL; `what` ('model', 'dataset') only words the errors. Like `get`, a 5xx/429
   * answer rejects with TransientStatus and a connection failure with undici's error, for
   * retry.ts's headWithRetries to try again.
   */
  async head(url: string, what: string): Promise<FileMetadata> {
    let current = url;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const res = await this.send(current, 'HEAD', { 'accept-encoding': 'identity' });
      await res.body.dump();
      const location = header(res.headers, 'location');
      if (REDIRECT.has(res.statusCode) && location !== undefined && !/^[a-z][a-z0-9+.-]*:/i.test(location)) {
        current = new URL(location, current).toString(); // relative: a renamed repository, follow it
        continue;
      }
      if (res.statusCode >= 400) throw answerError(current, res, what);
      if (res.statusCode >= 300 && location === undefined) throw statusError(current, res.statusCode, undefined, what);
      return metadataFrom(current, res, location);
    }
    throw new UserError(`${url}: more than ${MAX_REDIRECTS} redirects: check HF_ENDPOINT`);
  }

  /**
   * GET with an optional `Range: bytes=<from>-`, following redirects. The caller consumes or dumps
   * the body; statuses other than 200/206/416 are turned into errors here (TransientStatus for 5xx and
   * 429, a UserError for the rest). Connection failures reject with undici's error, to be retried.
   */
  async get(url: string, from: number, what: string): Promise<Dispatcher.ResponseData> {
    let current = url;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const res = await this.send(current, 'GET', from > 0 ? { range: `bytes=${from}-` } : {});
      const location = header(res.headers, 'location');
      if (REDIRECT.has(res.statusCode) && location !== undefined) {
        await res.body.dump();
        current = new URL(location, current).toString();
        continue;
      }
      if (res.statusCode === 200 || res.statusCode === 206 || res.statusCode === 416) return res;
      await res.body.dump();
      throw answerError(current, res, what);
    }
    throw new UserError(`${url}: more than ${MAX_REDIRECTS} redirects: check HF_ENDPOINT`);
  }
}

function metadataFrom(url: string, res: Dispatcher.ResponseData, location: string | undefined): FileMetadata {
  const commit = header(res.headers, 'x-repo-commit');
  if (commit === undefined) {
    throw new UserError(`${url}: the answer has no X-Repo-Commit header, so it is not a Hugging Face hub: check HF_ENDPOINT`);
  }
  const etag = normalizeEtag(header(res.headers, 'x-linked-etag') ?? header(res.headers, 'etag'));
  if (etag === undefined) {
    throw new UserError(`${url}: the hub sent no ETag, so the download cannot be verified: check HF_ENDPOINT`);
  }
  const sizeText = header(res.headers, 'x-linked-size') ?? header(res.headers, 'content-length');
  const size = sizeText === undefined ? NaN : Number(sizeText);
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new UserError(`${url}: the hub sent no file size (X-Linked-Size / Content-Length): check HF_ENDPOINT`);
  }
  return { url, commit, etag, size, location: location ?? url };
}

/** `Content-Range: bytes <start>-<end>/<total>` -> start, or undefined when absent or malformed. */
export function contentRangeStart(res: Dispatcher.ResponseData): number | undefined {
  const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(header(res.headers, 'content-range') ?? '');
  return m === null ? undefined : Number(m[1]);
}
