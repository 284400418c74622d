/**
 * Typed MLflow REST endpoints (mlflow/protos/service.proto, MlflowService) plus the idempotent
 * compositions the tracker and `mlflow sync` rely on:
 * - getOrCreateExperiment: get-by-name -> create -> on RESOURCE_ALREADY_EXISTS get-by-name again
 *   (another process, or our own earlier attempt whose response was lost, created it);
 * - createRunOnce: runs/create is not idempotent, so every run carries a client-generated key tag
 *   (lora_repro.run_key) and a retry first searches for a run an earlier attempt already created;
 * - artifact upload through the mlflow-artifacts proxy (mlflow/store/artifact/mlflow_artifacts_repo.py).
 */
import { UserError } from '../util/errors.ts';
import { ArtifactRootError, MlflowApiError } from './errors.ts';
import { chunkBatch, type WireBatch, type WireKV } from './limits.ts';
import type { RestClient } from './rest-client.ts';
import { withRetry } from './retry.ts';
import { RUN_KEY_TAG } from './system-tags.ts';
import {
  CreateExperimentResponse,
  EmptyResponse,
  GetExperimentResponse,
  ListArtifactsResponse,
  MetricHistoryResponse,
  RunResponse,
  SearchRunsResponse,
  UpdateRunResponse,
  type Experiment,
  type Metric,
  type Run,
  type RunInfo,
} from './schemas.ts';

export type EndStatus = 'FINISHED' | 'FAILED' | 'KILLED';

export interface CreateRunRequest {
  experimentId: string;
  runName: string;
  startTime: number;
  userId: string;
  tags: WireKV[];
}

// Run keys appear inside a search filter string literal; keep them to characters that need no escaping.
const RUN_KEY_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export function checkRunKey(key: string): void {
  if (!RUN_KEY_RE.test(key)) throw new UserError(`invalid run key '${key}': use letters, digits, '.', '_', ':' or '-'`);
}

export class MlflowApi {
  constructor(readonly rest: RestClient) {}

  /** GET experiments/get-by-name; undefined on RESOURCE_DOES_NOT_EXIST (404). */
  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    try {
      const r = await this.rest.call('GET', 'experiments/get-by-name', { experiment_name: name }, GetExperimentResponse);
      return r.experiment;
    } catch (err) {
      if (err instanceof MlflowApiError && err.errorCode === 'RESOURCE_DOES_NOT_EXIST') return undefined;
      throw err;
    }
  }

  /** Returns the id of the active experiment called `name`, creating it if needed. */
  async getOrCreateExperiment(name: string): Promise<string> {
    const found = await this.getExperimentByName(name);
    if (found !== undefined) return activeId(found);
    try {
      const r = await this.rest.call('POST', 'experiments/create', { name }, CreateExperimentResponse);
      return r.experiment_id;
    } catch (err) {
      // Matched on the code, not the status: MLflow maps it to 400, some deployments to 409.
      if (!(err instanceof MlflowApiError && err.errorCode === 'RESOURCE_ALREADY_EXISTS')) throw err;
    }
    const again = await this.getExperimentByName(name);
    if (again === undefined) {
      throw new MlflowApiError('experiments/create', 400, 'RESOURCE_ALREADY_EXISTS', `experiment '${name}' exists but get-by-name cannot find it`);
    }
    return activeId(again);
  }

  async createRun(req: CreateRunRequest, retry = true): Promise<RunInfo> {
    const body = {
      experiment_id: req.experimentId,
      user_id: req.userId,
      run_name: req.runName,
      start_time: req.startTime,
      tags: req.tags,
    };
    const r = await this.rest.call('POST', 'runs/create', body, RunResponse, { retry });
    return r.run.info;
  }

  async getRun(runId: string): Promise<Run | undefined> {
    try {
      return (await this.rest.call('GET', 'runs/get', { run_id: runId }, RunResponse)).run;
    } catch (err) {
      if (err instanceof MlflowApiError && err.errorCode === 'RESOURCE_DOES_NOT_EXIST') return undefined;
      throw err;
    }
  }

  /** runs/search over one experiment, following next_page_token (bounded to 100 pages). */
  async searchRuns(experimentId: string, filter: string, retry = true): Promise<Run[]> {
    const out: Run[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < 100; page++) {
      const body = { experiment_ids: [experimentId], filter, run_view_type: 'ACTIVE_ONLY', max_results: 1000, page_token: pageToken };
      const r = await this.rest.call('POST', 'runs/search', body, SearchRunsResponse, { retry });
      out.push(...(r.runs ?? []));
      pageToken = r.next_page_token;
      if (!pageToken) break;
    }
    return out;
  }

  /** Active runs tagged with `runKey`, oldest first (ties broken by run id, so all clients agree). */
  async findRunsByKey(experimentId: string, runKey: string, retry = true): Promise<RunInfo[]> {
    checkRunKey(runKey);
    const runs = await this.searchRuns(experimentId, `tags.${RUN_KEY_TAG} = '${runKey}'`, retry);
    return runs
      .map((r) => r.info)
      .sort((a, b) => (a.start_time ?? 0) - (b.start_time ?? 0) || a.run_id.localeCompare(b.run_id));
  }

  /**
   * Creates the run tagged `runKey` exactly once. `mayExist` (replay) searches before the first
   * attempt; every retry searches before re-creating, because a failed attempt may have been
   * applied with only its response lost. If a slow first attempt still lands after a retry
   * created the run, the later duplicates are soft-deleted (runs/delete) so one run remains.
   */
  async createRunOnce(req: CreateRunRequest, runKey: string, mayExist: boolean): Promise<RunInfo> {
    if (!req.tags.some((t) => t.key === RUN_KEY_TAG && t.value === runKey)) {
      throw new Error(`createRunOnce: tags must include ${RUN_KEY_TAG}=${runKey}`);
    }
    if (mayExist) {
      const existing = await this.findRunsByKey(req.experimentId, runKey);
      if (existing.length > 0) return this.keepFirst(existing);
    }
    let retried = false;
    const created = await withRetry(`POST runs/create at ${this.rest.trackingUri}`, this.rest.policy, async (attempt) => {
      if (attempt > 1) {
        retried = true;
        const found = await this.findRunsByKey(req.experimentId, runKey, false);
        if (found.length > 0) return found[0];
      }
      return this.createRun(req, false);
    });
    if (!retried) return created;
    const all = await this.findRunsByKey(req.experimentId, runKey);
    return all.length > 0 ? this.keepFirst(all) : created;
  }

  private async keepFirst(runs: RunInfo[]): Promise<RunInfo> {
    const [first, ...dupes] = runs;
    for (const d of dupes) await this.rest.call('POST', 'runs/delete', { run_id: d.run_id }, EmptyResponse);
    return first;
  }

  /** runs/update with a terminal status; idempotent, so safe to retry. */
  async endRun(runId: string, status: EndStatus, endTime: number): Promise<void> {
    await this.rest.call('POST', 'runs/update', { run_id: runId, status, end_time: endTime }, UpdateRunResponse);
  }

  /** One runs/log-batch request; the caller chunks (see chunkBatch). */
  async logBatchChunk(runId: string, chunk: WireBatch): Promise<void> {
    await this.rest.call('POST', 'runs/log-batch', { run_id: runId, metrics: chunk.metrics, params: chunk.params, tags: chunk.tags }, EmptyResponse);
  }

  /** Sends a batch of any size as as many log-batch requests as MLflow's limits need. */
  async logBatch(runId: string, batch: WireBatch): Promise<number> {
    const chunks = chunkBatch(runId, batch);
    for (const c of chunks) await this.logBatchChunk(runId, c);
    return chunks.length;
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.rest.call('POST', 'runs/set-tag', { run_id: runId, key, value }, EmptyResponse);
  }

  /** Full history of one metric (metrics/get-history, paginated on servers that support it). */
  async metricHistory(runId: string, key: string): Promise<Metric[]> {
    const out: Metric[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const q = { run_id: runId, metric_key: key, max_results: 25000, page_token: pageToken };
      const r = await this.rest.call('GET', 'metrics/get-history', q, MetricHistoryResponse);
      out.push(...(r.metrics ?? []));
      pageToken = r.next_page_token;
      if (!pageToken) break;
    }
    return out;
  }

  /** Uploads one file to `<artifact_uri>/<relPath>` through the mlflow-artifacts proxy. */
  async uploadArtifact(artifactUri: string, relPath: string, data: Buffer, contentType: string): Promise<void> {
    const url = `${resolveArtifactUrl(artifactUri, this.rest.trackingUri)}/${encodePath(relPath)}`;
    await this.rest.putBytes(url, data, contentType, `mlflow-artifacts ${relPath}`);
  }

  /** Lists `<artifact_uri>/<relPath>` (GET /api/2.0/mlflow-artifacts/artifacts?path=...). */
  async listArtifacts(artifactUri: string, relPath = ''): Promise<{ path: string; isDir: boolean; size?: number }[]> {
    const root = new URL(resolveArtifactUrl(artifactUri, this.rest.trackingUri));
    const marker = '/api/2.0/mlflow-artifacts/artifacts';
    const at = root.pathname.indexOf(marker);
    const base = `${root.origin}${root.pathname.slice(0, at + marker.length)}`;
    const tail = decodeURIComponent(root.pathname.slice(at + marker.length)).replace(/^\/+/, '');
    const path = [tail, relPath].filter((s) => s !== '').join('/');
    const r = await this.rest.getUrl(base, { path }, 'mlflow-artifacts list', ListArtifactsResponse);
    return (r.files ?? []).map((f) => ({ path: f.path, isDir: f.is_dir ?? false, size: f.file_size }));
  }
}

function activeId(e: Experiment): string {
  if (e.lifecycle_stage === 'deleted') {
    throw new UserError(
      `MLflow experiment '${e.name}' (id ${e.experiment_id}) is deleted; restore it with 'mlflow experiments restore --experiment-id ${e.experiment_id}' or use another name`,
    );
  }
  return e.experiment_id;
}

function encodePath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

/**
 * Maps a run's artifact_uri to the HTTP URL of its directory, as MlflowArtifactsRepository.resolve_uri
 * does: `mlflow-artifacts:/<path>` (or `mlflow-artifacts://host[:port]/<path>`) becomes
 * `<scheme>://<host of the artifact URI, else of the tracking URI><tracking path>/api/2.0/mlflow-artifacts/artifacts/<path>`.
 * Other schemes (s3://, file paths, ...) need a storage client this tool does not have.
 */
export function resolveArtifactUrl(artifactUri: string, trackingUri: string): string {
  if (!artifactUri.startsWith('mlflow-artifacts:')) {
    throw new ArtifactRootError(
      `run artifact_uri '${artifactUri}' is not served by the tracking server; start it with '--serve-artifacts' (default artifact root mlflow-artifacts:/) to upload artifacts over REST`,
    );
  }
  const track = new URL(trackingUri);
  const rest = artifactUri.slice('mlflow-artifacts:'.length);
  let host = track.host;
  let path = rest;
  const m = /^\/\/([^/]*)(\/.*)?$/.exec(rest);
  if (m !== null) {
    if (m[1] !== '') host = m[1];
    path = m[2] ?? '/';
  }
  const joined = `${track.pathname}/api/2.0/mlflow-artifacts/artifacts/${path}`.replace(/\/{2,}/g, '/').replace(/\/+$/, '');
  return `${track.protocol}//${host}${joined}`;
}
