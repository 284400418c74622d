/**
 * HTTP transport for the MLflow REST API, over undici (pinned 6.x: its engines allow every
 * Node 20, unlike undici 7/8).
 *
 * - Endpoints live under `<tracking-uri>/api/2.0/mlflow/` (REST API docs); GET endpoints take
 *   their request fields as query parameters, POST endpoints as a JSON body with
 *   `Content-Type: application/json`.
 * - Auth mirrors MLflow's env vars: MLFLOW_TRACKING_TOKEN (Bearer) or MLFLOW_TRACKING_USERNAME /
 *   MLFLOW_TRACKING_PASSWORD (Basic); MLFLOW_TRACKING_INSECURE_TLS=true skips TLS verification.
 * - Responses are parsed with parseJsonExact (ids never rounded) and validated with zod.
 * - Each call retries transient failures per retry.ts unless `retry: false` is passed (used by
 *   callers that run their own retry loop, e.g. the idempotent run creation).
 */
import { Agent, request } from 'undici';
import type { z } from 'zod';
import { UserError } from '../util/errors.ts';
import { readPackageVersion } from '../util/provenance.ts';
import { ARTIFACTS_NOT_SERVED, MlflowApiError, MlflowUnreachableError, TransientError, isArtifactsNotServedBody, oneLine } from './errors.ts';
import { parseJsonExact } from './json-exact.ts';
import {
  isRetryableStatus,
  parseRetryAfter,
  resolvePolicy,
  retryableNetworkCode,
  withRetry,
  type RetryHooks,
  type RetryPolicy,
} from './retry.ts';
import { ErrorBody, describeIssues } from './schemas.ts';

export interface RestClientOptions {
  trackingUri: string;
  retry?: Partial<RetryPolicy>;
  /** Source of MLFLOW_TRACKING_* auth settings; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  hooks?: RetryHooks;
}

export interface CallOptions {
  /** false: one attempt; a transient failure is thrown as TransientError for the caller's loop. */
  retry?: boolean;
}

type Query = Record<string, string | number | undefined>;

/** Checks that a tracking URI is http(s) and strips a trailing slash. */
function normalizeTrackingUri(uri: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new UserError(`MLFLOW_TRACKING_URI '${uri}' is not a URL; expected e.g. http://127.0.0.1:5000`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UserError(
      `MLFLOW_TRACKING_URI '${uri}' uses ${url.protocol}; lora-repro talks to an MLflow tracking server over http(s) only (start one with 'mlflow server')`,
    );
  }
  url.search = '';
  url.hash = '';
  return url.toString().replace(/\/+$/, '');
}

export class RestClient {
  readonly trackingUri: string;
  readonly policy: RetryPolicy;
  private readonly agent: Agent;
  private readonly headers: Record<string, string>;
  private readonly hooks: RetryHooks;

  constructor(opts: RestClientOptions) {
    this.trackingUri = normalizeTrackingUri(opts.trackingUri);
    this.policy = resolvePolicy(opts.retry);
    this.hooks = opts.hooks ?? {};
    const env = opts.env ?? process.env;
    const insecure = (env.MLFLOW_TRACKING_INSECURE_TLS ?? '').toLowerCase() === 'true';
    this.agent = new Agent({
      connect: { timeout: this.policy.requestTimeoutMs, rejectUnauthorized: !insecure },
      headersTimeout: this.policy.requestTimeoutMs,
      bodyTimeout: this.policy.requestTimeoutMs,
    });
    this.headers = { 'user-agent': `lora-repro/${readPackageVersion()}`, accept: 'application/json' };
    if (env.MLFLOW_TRACKING_TOKEN) this.headers.authorization = `Bearer ${env.MLFLOW_TRACKING_TOKEN}`;
    else if (env.MLFLOW_TRACKING_USERNAME && env.MLFLOW_TRACKING_PASSWORD) {
      const basic = Buffer.from(`${env.MLFLOW_TRACKING_USERNAME}:${env.MLFLOW_TRACKING_PASSWORD}`).toString('base64');
      this.headers.authorization = `Basic ${basic}`;
    }
  }

  /** Calls `/api/2.0/mlflow/<endpoint>` and validates the JSON answer against `schema`. */
  async call<S extends z.ZodType>(
    method: 'GET' | 'POST',
    endpoint: string,
    payload: Record<string, unknown>,
    schema: S,
    opts: CallOptions = {},
  ): Promise<z.output<S>> {
    const base = `${this.trackingUri}/api/2.0/mlflow/${endpoint}`;
    const url = method === 'GET' ? withQuery(base, payload as Query) : base;
    const body = method === 'POST' ? JSON.stringify(payload) : undefined;
    const headers = { ...this.headers, 'content-type': 'application/json' };
    return this.run(`${method} ${endpoint}`, opts, () => this.once(method, url, body, headers, `${method} ${endpoint}`, schema));
  }

  /** GET of an absolute URL returning JSON (the mlflow-artifacts list endpoint). */
  async getUrl<S extends z.ZodType>(url: string, query: Query, what: string, schema: S, opts: CallOptions = {}): Promise<z.output<S>> {
    const full = withQuery(url, query);
    return this.run(`GET ${what}`, opts, () => this.once('GET', full, undefined, this.headers, what, schema));
  }

  /** PUT of raw bytes to an absolute URL (mlflow-artifacts upload). */
  async putBytes(url: string, data: Buffer, contentType: string, what: string, opts: CallOptions = {}): Promise<void> {
    const headers = { ...this.headers, 'content-type': contentType };
    await this.run(`PUT ${what}`, opts, () => this.once('PUT', url, data, headers, what, undefined));
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private run<T>(what: string, opts: CallOptions, attempt: () => Promise<T>): Promise<T> {
    if (opts.retry === false) return attempt();
    return withRetry(`${what} at ${this.trackingUri}`, this.policy, attempt, this.hooks);
  }

  /** One HTTP exchange. Throws TransientError (retry), MlflowApiError (final) or returns the parsed body. */
  private async once<S extends z.ZodType>(
    method: 'GET' | 'POST' | 'PUT',
    url: string,
    body: string | Buffer | undefined,
    headers: Record<string, string>,
    what: string,
    schema: S | undefined,
  ): Promise<z.output<S>> {
    let status: number;
    let text: string;
    let retryAfter: string | string[] | undefined;
    try {
      const res = await request(url, {
        method,
        headers,
        body,
        dispatcher: this.agent,
        headersTimeout: this.policy.requestTimeoutMs,
        bodyTimeout: this.policy.requestTimeoutMs,
        // One deadline for the whole exchange: the per-phase timeouts above restart with every body
        // chunk, so a server dripping bytes could otherwise hold a request for ever.
        signal: AbortSignal.timeout(this.policy.requestTimeoutMs),
      });
      status = res.statusCode;
      retryAfter = res.headers['retry-after'];
      text = await res.body.text();
    } catch (err) {
      if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
        throw new TransientError(`no complete answer within ${this.policy.requestTimeoutMs} ms`, undefined, true);
      }
      const code = retryableNetworkCode(err);
      // undici's own connect/header/body timeouts run with the same budget: the same silent server.
      const silent = code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
      if (code !== undefined) throw new TransientError(`${code} (${(err as Error).message})`, undefined, silent);
      throw err;
    }
    if (status >= 200 && status < 300) {
      if (schema === undefined) return undefined as z.output<S>;
      let json: unknown;
      try {
        json = text.trim() === '' ? {} : parseJsonExact(text);
      } catch {
        // A 200 that is not JSON (an HTML login page, a proxy, another service on the port) means no
        // MLflow server answers there: unusable like an unreachable one, so the data is spooled.
        throw new MlflowUnreachableError(what, 1, 0, `HTTP ${status} answer is not JSON, so not an MLflow server: ${oneLine(text, 80)}`);
      }
      const parsed = schema.safeParse(json);
      if (!parsed.success) {
        throw new MlflowApiError(what, status, 'BAD_RESPONSE', `unexpected response shape: ${describeIssues(parsed.error)}`);
      }
      return parsed.data;
    }
    if (isArtifactsNotServedBody(status, text)) throw new MlflowApiError(what, status, ARTIFACTS_NOT_SERVED, oneLine(text, 200));
    const { errorCode, message } = parseErrorBody(text, status);
    if (isRetryableStatus(status)) {
      throw new TransientError(`HTTP ${status} ${errorCode}: ${message}`, parseRetryAfter(retryAfter));
    }
    throw new MlflowApiError(what, status, errorCode, message);
  }
}

function withQuery(url: string, query: Query): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.append(k, String(v));
  const qs = params.toString();
  return qs === '' ? url : `${url}?${qs}`;
}

function parseErrorBody(text: string, status: number): { errorCode: string; message: string } {
  try {
    const parsed = ErrorBody.safeParse(parseJsonExact(text));
    if (parsed.success && (parsed.data.error_code || parsed.data.message)) {
      return { errorCode: parsed.data.error_code ?? `HTTP_${status}`, message: parsed.data.message ?? '' };
    }
  } catch {
    // not JSON (an HTML error page from a proxy, say): fall through to the raw text
  }
  return { errorCode: `HTTP_${status}`, message: oneLine(text, 200) || '(empty body)' };
}
