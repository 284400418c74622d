/**
 * Retry policy: exponential backoff with full jitter, bounded in attempts and in total time,
 * honouring Retry-After. The transient statuses are exactly MLflow's own Python client's
 * (mlflow/utils/request_utils.py, _TRANSIENT_FAILURE_RESPONSE_CODES = 408, 429, 500, 502, 503,
 * 504); every other 4xx is final. Connection-level failures (refused, reset, hang-up, timeouts)
 * are retried too.
 */
import { MlflowUnreachableError, TransientError } from './errors.ts';

export interface RetryPolicy {
  /** Total attempts including the first; at least 1. */
  maxAttempts: number;
  /** Backoff cap for attempt k is min(maxDelayMs, baseDelayMs * 2^(k-1)); the delay is uniform in [0, cap]. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** No new attempt starts once this much time has passed since the first one. */
  maxElapsedMs: number;
  /** Per-attempt budget for connecting and for receiving headers/body. */
  requestTimeoutMs: number;
}

const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 7,
  baseDelayMs: 500,
  maxDelayMs: 20_000,
  maxElapsedMs: 90_000,
  // A log-batch or a small artifact answers in well under a second; 15 s leaves room for a slow
  // store, and with MAX_SILENT_TRIES a silent server costs at most 30 s once.
  requestTimeoutMs: 15_000,
};

/** Tries that end with no answer at all before the client gives up (TransientError.silent). */
export const MAX_SILENT_TRIES = 2;

export function resolvePolicy(p: Partial<RetryPolicy> | undefined): RetryPolicy {
  const r = { ...DEFAULT_RETRY_POLICY, ...(p ?? {}) };
  r.maxAttempts = Math.max(1, Math.floor(r.maxAttempts));
  // One attempt may not outlast the whole retry budget (--max-retry-seconds 3 waited 34 s on a
  // server that accepted connections and never answered).
  r.requestTimeoutMs = Math.min(r.requestTimeoutMs, Math.max(1000, r.maxElapsedMs));
  return r;
}

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUS.has(status);
}

// Node socket errors and undici's own codes for dropped/timed-out connections.
const RETRYABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

/** The code of a connection-level error worth retrying (walking `cause` and AggregateError), else undefined. */
export function retryableNetworkCode(err: unknown, depth = 0): string | undefined {
  if (depth > 4 || err === null || typeof err !== 'object') return undefined;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && RETRYABLE_CODES.has(e.code)) return e.code;
  if (typeof e.message === 'string' && /socket hang up|other side closed/i.test(e.message)) return 'ECONNRESET';
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const c = retryableNetworkCode(inner, depth + 1);
      if (c !== undefined) return c;
    }
  }
  return retryableNetworkCode(e.cause, depth + 1);
}

// Shared with the hub downloads (src/hub/retry.ts); re-exported for this module's callers.
export { parseRetryAfter } from '../util/retry-after.ts';

/** Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): uniform in [0, cap]. */
export function backoffDelay(attempt: number, p: RetryPolicy, random: () => number = Math.random): number {
  const cap = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * cap);
}

export interface RetryHooks {
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn(attempt)` until it succeeds or throws something other than TransientError. After the
 * budget is spent, throws MlflowUnreachableError naming `what` and the last transient failure.
 */
export async function withRetry<T>(
  what: string,
  policy: RetryPolicy,
  fn: (attempt: number) => Promise<T>,
  hooks: RetryHooks = {},
): Promise<T> {
  const sleep = hooks.sleep ?? defaultSleep;
  const now = hooks.now ?? Date.now;
  const started = now();
  let attempt = 0;
  let silent = 0;
  for (;;) {
    attempt++;
    try {
      return await fn(attempt);
    } catch (err) {
      if (!(err instanceof TransientError)) throw err;
      const elapsed = now() - started;
      const delay = err.retryAfterMs ?? backoffDelay(attempt, policy, hooks.random);
      if (err.silent) silent++;
      if (silent >= MAX_SILENT_TRIES || attempt >= policy.maxAttempts || elapsed + delay > policy.maxElapsedMs) {
        throw new MlflowUnreachableError(what, attempt, elapsed, err.message);
      }
      await sleep(delay);
    }
  }
}
