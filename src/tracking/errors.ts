/**
 * Errors of the MLflow client. Every message is one line (the CLI prints it as is).
 *
 * MLflow's REST error body is `{"error_code": "...", "message": "..."}` (mlflow/exceptions.py,
 * serialize_as_json); the HTTP status comes from ERROR_CODE_TO_HTTP_STATUS, e.g.
 * RESOURCE_DOES_NOT_EXIST -> 404, RESOURCE_ALREADY_EXISTS / INVALID_PARAMETER_VALUE -> 400,
 * REQUEST_LIMIT_EXCEEDED -> 429, INTERNAL_ERROR -> 500, TEMPORARILY_UNAVAILABLE -> 503.
 */

import { UserError } from '../util/errors.ts';

/** Collapses whitespace (server messages may contain multi-line hints) and bounds the length. */
export function oneLine(s: string, max = 400): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}

/** The server answered with a non-retryable error (any 4xx except 408/429, or a bad 2xx body). */
export class MlflowApiError extends Error {
  readonly status: number;
  readonly errorCode: string;
  readonly endpoint: string;
  constructor(endpoint: string, status: number, errorCode: string, serverMessage: string) {
    super(oneLine(`MLflow ${endpoint} failed: HTTP ${status} ${errorCode}: ${serverMessage}`));
    this.name = 'MlflowApiError';
    this.status = status;
    this.errorCode = errorCode;
    this.endpoint = endpoint;
  }
}

/** A failure worth retrying: a retryable status or a connection-level error. Internal to the retry loop. */
export class TransientError extends Error {
  readonly retryAfterMs: number | undefined;
  /**
   * The server took the request and answered nothing within the whole request timeout. Each such try
   * costs the full timeout, so retrying a silent server for the whole budget stalled a run ~90 s
   * after its work was done (issue 23): retry.ts gives a silent server one more try (a server that was
   * slow once recovers), then sends the tracker offline to spool.
   */
  readonly silent: boolean;
  constructor(message: string, retryAfterMs?: number, silent = false) {
    super(oneLine(message));
    this.name = 'TransientError';
    this.retryAfterMs = retryAfterMs;
    this.silent = silent;
  }
}

/** Retries were exhausted (attempts or time budget); the caller should spool instead. */
export class MlflowUnreachableError extends Error {
  readonly attempts: number;
  readonly elapsedMs: number;
  constructor(what: string, attempts: number, elapsedMs: number, last: string) {
    super(
      oneLine(
        `MLflow ${what} unreachable after ${attempts} attempt${attempts === 1 ? '' : 's'} in ${(elapsedMs / 1000).toFixed(1)}s (last error: ${last})`,
      ),
    );
    this.name = 'MlflowUnreachableError';
    this.attempts = attempts;
    this.elapsedMs = elapsedMs;
  }
}

/**
 * errorCode of a server that does not proxy artifacts: `mlflow server --no-serve-artifacts` answers
 * every mlflow-artifacts endpoint with a plain-text 503 (mlflow/server/handlers.py,
 * _disable_unless_serve_artifacts: "Endpoint: ... disabled due to the mlflow server running with
 * `--no-serve-artifacts`"). Waiting does not change that, so it is final, not transient.
 */
export const ARTIFACTS_NOT_SERVED = 'ARTIFACTS_NOT_SERVED';

const NOT_SERVED_RE = /--no-serve-artifacts|disabled due to the mlflow server running/i;

/** Whether a 503 body is the no-artifact-proxy answer (never a JSON error body). */
export function isArtifactsNotServedBody(status: number, text: string): boolean {
  return status === 503 && !text.trimStart().startsWith('{') && NOT_SERVED_RE.test(text);
}

/**
 * An artifact upload that can never succeed against this server: not proxied (above), or a run
 * whose artifact_uri is not `mlflow-artifacts:` (s3://, a local path; resolveArtifactUrl).
 */
export function isArtifactsUnavailable(err: unknown): boolean {
  return err instanceof ArtifactRootError || (err instanceof MlflowApiError && err.errorCode === ARTIFACTS_NOT_SERVED);
}

/** A run's artifact_uri that lora-repro cannot upload to (not `mlflow-artifacts:`). */
export class ArtifactRootError extends UserError {}

export function isUnreachable(err: unknown): err is MlflowUnreachableError {
  return err instanceof MlflowUnreachableError;
}
