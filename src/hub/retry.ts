/**
 * Retrying one hub exchange, the metadata HEAD of a resolve URL or a file transfer: connection failures
 * and 5xx/429 answers are tried again a few times, pausing `retryDelayMs · 2^attempt`, or as long as
 * the answer's Retry-After asks (seconds or an HTTP date, capped). huggingface_hub does the same for
 * both (utils/_http.py `http_backoff`, used by `get_hf_file_metadata` and `http_get`): the hub
 * rate-limits resolve requests with 429, so one refused HEAD must not end a download. A UserError
 * (a 404, a checksum failure) is final.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { UserError } from '../util/errors.ts';
import { TransientStatus, unreachable, type FileMetadata, type HubHttp } from './http.ts';

export interface RetryOptions {
  /** Retries of a failed request or transfer within one call (default 3). */
  retries?: number;
  /** Pause before the first retry, doubled for each further one (default 1000 ms). */
  retryDelayMs?: number;
  /** Longest pause a Retry-After header can ask for (default 60 s): a command must not hang for hours. */
  maxRetryAfterMs?: number;
  /** How to pause (tests record the pauses instead of waiting). */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Runs `attempt` until it succeeds, throws a UserError, or the retries are spent; then throws the
 * transient answer's own one-line error, or `giveUp(err)` for a connection failure.
 */
export async function withHubRetries<T>(opts: RetryOptions, attempt: () => Promise<T>, giveUp: (err: unknown) => UserError): Promise<T> {
  const retries = opts.retries ?? 3;
  const delay = opts.retryDelayMs ?? 1000;
  const pause = opts.sleep ?? ((ms: number) => sleep(ms));
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (err instanceof UserError) throw err;
      if (i >= retries) throw err instanceof TransientStatus ? err.userError : giveUp(err);
      const asked = err instanceof TransientStatus ? err.retryAfterMs : undefined;
      await pause(asked === undefined ? delay * 2 ** i : Math.min(asked, opts.maxRetryAfterMs ?? 60_000));
    }
  }
}

/** HEAD of a resolve URL (HubHttp.head) with the retries above. */
export function headWithRetries(http: HubHttp, url: string, what: string, opts: RetryOptions): Promise<FileMetadata> {
  return withHubRetries(opts, () => http.head(url, what), (err) => unreachable(url, err));
}
