/**
 * Everything one batch of hub downloads shares: the cache directory, the endpoint, one HTTP client
 * (one connection pool, closed at the end) and the retry/progress settings (for metadata requests and
 * transfers alike).
 */
import { hubCacheDir, resolveCacheRoot } from './cache.ts';
import type { TransferOptions } from './download-file.ts';
import { DEFAULT_TIMEOUTS, HubHttp, type HttpTimeouts } from './http.ts';
import { resolveEndpoint } from './repo.ts';

export interface HubOptions extends TransferOptions {
  /** Cache root (its hub/ subfolder holds the repositories); default from LORA_REPRO_CACHE. */
  cacheRoot?: string;
  /** Hub URL; default HF_ENDPOINT or https://huggingface.co. */
  endpoint?: string;
  timeouts?: Partial<HttpTimeouts>;
}

export interface HubSession {
  hubDir: string;
  endpoint: string;
  http: HubHttp;
  transfer: TransferOptions;
}

export async function withHubSession<T>(options: HubOptions, body: (s: HubSession) => Promise<T>): Promise<T> {
  const session: HubSession = {
    hubDir: hubCacheDir(options.cacheRoot ?? resolveCacheRoot()),
    endpoint: resolveEndpoint(options.endpoint),
    http: new HubHttp({ ...DEFAULT_TIMEOUTS, ...options.timeouts }),
    transfer: {
      retries: options.retries,
      retryDelayMs: options.retryDelayMs,
      maxRetryAfterMs: options.maxRetryAfterMs,
      sleep: options.sleep,
      onProgress: options.onProgress,
    },
  };
  try {
    return await body(session);
  } finally {
    await session.http.close();
  }
}
