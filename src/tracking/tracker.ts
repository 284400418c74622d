/**
 * The MLflow-backed tracker: parent run per results-table cell, child run per seed.
 *
 * Delivery model: each call is validated immediately (bad keys reject at the call site), then
 * queued per run so the server sees one run's calls in call order. A call is sent with retries
 * (retry.ts); if the server stays unreachable the tracker goes offline for the rest of the
 * process (so later calls don't each wait out the retry budget) and that call and every later
 * one are appended to the run's spool (spool.ts) for `lora-repro mlflow sync`. A call whose
 * delivery was attempted is spooled as `inDoubt`, because the server may have applied it.
 * Non-transient server errors (e.g. INVALID_PARAMETER_VALUE for a changed param) reject the
 * call and are not spooled: replaying them could never succeed.
 */
import { randomUUID } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import { basename, extname, posix } from 'node:path';
import { UserError } from '../util/errors.ts';
import { isUnreachable } from './errors.ts';
import {
  batchSize,
  checkExperimentName,
  chunkBatch,
  mergeBatches,
  toWireMetrics,
  toWireParams,
  toWireTags,
  type WireBatch,
  type WireKV,
} from './limits.ts';
import { checkRunKey, MlflowApi } from './mlflow-api.ts';
import { RestClient } from './rest-client.ts';
import type { RetryHooks, RetryPolicy } from './retry.ts';
import { RunSpool } from './spool.ts';
import {
  PARENT_RUN_KEY_TAG,
  RUN_KEY_TAG,
  TAG_PARENT_RUN_ID,
  checkNotReserved,
  dedupeTags,
  detectSystemInfo,
  systemTags,
  type SystemInfo,
} from './system-tags.ts';
import type { CellRun, MetricInput, Params, RunEndStatus, SeedRun, StartRunOptions, Tags, Tracker, TrackerSummary } from './types.ts';

export interface MlflowTrackerOptions {
  trackingUri: string;
  /** Where undeliverable calls are spooled, e.g. results/<profile>/mlflow-spool. */
  spoolDir: string;
  retry?: Partial<RetryPolicy>;
  system?: Partial<SystemInfo>;
  /** One-line warnings (going offline, spool summary); default: stderr. */
  warn?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  hooks?: RetryHooks;
  now?: () => number;
}

const END_STATUSES = new Set(['FINISHED', 'FAILED', 'KILLED']);

const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.jsonl': 'application/x-ndjson',
  '.txt': 'text/plain',
  '.log': 'text/plain',
  '.md': 'text/markdown',
  '.csv': 'text/csv',
  '.yaml': 'application/x-yaml',
  '.yml': 'application/x-yaml',
  '.html': 'text/html',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

function contentTypeFor(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** Destination path of an artifact, checked like MLflow's verify_artifact_path (relative, normalized). */
export function artifactDestination(localPath: string, artifactDir: string | undefined): string {
  const dir = (artifactDir ?? '').replace(/^\.\/?/, '');
  if (dir !== '' && (dir.startsWith('/') || posix.normalize(dir) !== dir.replace(/\/+$/, '') || dir.split('/').includes('..'))) {
    throw new UserError(`invalid artifact path '${artifactDir}': use a relative path without '.' or '..' segments`);
  }
  const name = basename(localPath);
  return dir === '' ? name : `${dir.replace(/\/+$/, '')}/${name}`;
}

export class MlflowTracker implements Tracker {
  readonly kind = 'mlflow' as const;
  readonly api: MlflowApi;
  readonly spoolDir: string;
  readonly system: SystemInfo;
  readonly now: () => number;
  private offlineReason: string | undefined;
  private readonly experiments = new Map<string, Promise<string>>();
  private readonly runs: MlflowRun[] = [];
  private readonly warn: (line: string) => void;
  private readonly truncated = new Set<string>();

  constructor(opts: MlflowTrackerOptions) {
    this.api = new MlflowApi(new RestClient({ trackingUri: opts.trackingUri, retry: opts.retry, env: opts.env, hooks: opts.hooks }));
    this.spoolDir = opts.spoolDir;
    this.system = detectSystemInfo(opts.system, opts.env);
    this.warn = opts.warn ?? ((line) => console.error(line));
    this.now = opts.now ?? Date.now;
  }

  /** Warns once per key whose value was cut to MLflow's limit (limits.ts). */
  readonly onTruncate = (kind: 'param' | 'tag', key: string, length: number, limit: number): void => {
    if (this.truncated.has(`${kind}:${key}`)) return;
    this.truncated.add(`${kind}:${key}`);
    this.warn(`lora-repro: MLflow ${kind} '${key}' is ${length} characters; logged truncated to ${limit} (the limit every MLflow 2.x/3.x server accepts)`);
  };

  get offline(): boolean {
    return this.offlineReason !== undefined;
  }

  goOffline(err: Error): void {
    if (this.offlineReason !== undefined) return;
    this.offlineReason = err.message;
    this.warn(`lora-repro: ${err.message}; spooling MLflow data to ${this.spoolDir} (replay with 'lora-repro mlflow sync --spool ${this.spoolDir}')`);
  }

  /** The experiment id for `name` (cached), or undefined if the tracker is or goes offline. */
  async experimentId(name: string): Promise<string | undefined> {
    if (this.offline) return undefined;
    let p = this.experiments.get(name);
    if (p === undefined) {
      p = this.api.getOrCreateExperiment(name);
      this.experiments.set(name, p);
    }
    try {
      return await p;
    } catch (err) {
      this.experiments.delete(name);
      if (!isUnreachable(err)) throw err;
      this.goOffline(err);
      return undefined;
    }
  }

  async startCell(experimentName: string, cellKey: string, params: Params = {}, tags: Tags = {}, opts: StartRunOptions = {}): Promise<CellRun> {
    checkExperimentName(experimentName);
    const run = new MlflowRun(this, experimentName, cellKey, undefined, opts.runKey);
    this.runs.push(run);
    await run.start(params, tags, opts.startTime);
    return run;
  }

  /** @internal used by MlflowRun.startSeedRun */
  async startChild(parent: MlflowRun, seedKey: string, params: Params, tags: Tags, opts: StartRunOptions = {}): Promise<SeedRun> {
    const run = new MlflowRun(this, parent.experimentName, seedKey, parent, opts.runKey);
    this.runs.push(run);
    await run.start(params, tags, opts.startTime);
    return run;
  }

  async close(): Promise<TrackerSummary> {
    await Promise.all(this.runs.map((r) => r.idle()));
    await this.api.rest.close();
    const spooled = this.runs.filter((r) => r.spooled).length;
    if (spooled > 0) {
      this.warn(`lora-repro: ${spooled} MLflow run(s) spooled in ${this.spoolDir}; run 'lora-repro mlflow sync --spool ${this.spoolDir}' when the server is back`);
    }
    return { kind: 'mlflow', runsStarted: this.runs.length, runsSpooled: spooled, spoolDir: this.spoolDir, offlineReason: this.offlineReason };
  }
}

function checkTime(what: string, t: number | undefined): void {
  if (t !== undefined && (!Number.isSafeInteger(t) || t < 0)) throw new UserError(`run ${what} time must be a non-negative integer of ms, got ${t}`);
}

class MlflowRun implements CellRun {
  readonly runKey: string;
  /** A caller-given key may name a run created earlier (by a killed process): search before creating. */
  private readonly mayExist: boolean;
  runId: string | undefined;
  experimentId: string | undefined;
  artifactUri: string | undefined;
  private spool: RunSpool | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private ended = false;
  private startTime = 0;
  private createTags: WireKV[] = [];

  constructor(
    private readonly tracker: MlflowTracker,
    readonly experimentName: string,
    readonly runName: string,
    private readonly parent: MlflowRun | undefined,
    runKey?: string,
  ) {
    if (runKey !== undefined) checkRunKey(runKey);
    this.runKey = runKey ?? randomUUID();
    this.mayExist = runKey !== undefined;
  }

  get spooled(): boolean {
    return this.spool !== undefined;
  }

  idle(): Promise<unknown> {
    return this.queue;
  }

  async start(params: Params, tags: Tags, startTime: number | undefined): Promise<void> {
    if (typeof this.runName !== 'string' || this.runName.trim() === '') throw new UserError('run name (cell or seed key) must not be empty');
    checkTime('start', startTime);
    const wireParams = toWireParams(params, this.tracker.onTruncate);
    const userTags = toWireTags(tags, this.tracker.onTruncate);
    checkNotReserved(userTags);
    this.startTime = startTime ?? this.tracker.now();
    this.createTags = dedupeTags([
      ...systemTags(this.tracker.system, this.runName),
      { key: RUN_KEY_TAG, value: this.runKey },
      ...(this.parent ? [{ key: PARENT_RUN_KEY_TAG, value: this.parent.runKey }] : []),
      ...userTags,
    ]);
    await this.enqueue(async () => {
      if (!this.tracker.offline && (this.parent === undefined || this.parent.runId !== undefined)) {
        try {
          const experimentId = this.parent?.experimentId ?? (await this.tracker.experimentId(this.experimentName));
          if (experimentId !== undefined) {
            const tags = this.parent?.runId ? [...this.createTags, { key: TAG_PARENT_RUN_ID, value: this.parent.runId }] : this.createTags;
            const req = { experimentId, runName: this.runName, startTime: this.startTime, userId: this.tracker.system.user, tags };
            const info = await this.tracker.api.createRunOnce(req, this.runKey, this.mayExist);
            this.runId = info.run_id;
            this.experimentId = info.experiment_id;
            this.artifactUri = info.artifact_uri;
            return;
          }
        } catch (err) {
          if (!isUnreachable(err)) throw err;
          this.tracker.goOffline(err);
        }
      }
      await this.ensureSpool();
    });
    if (wireParams.length > 0) await this.logWire({ metrics: [], params: wireParams, tags: [] });
  }

  async startSeedRun(seedKey: string, params: Params = {}, tags: Tags = {}, opts: StartRunOptions = {}): Promise<SeedRun> {
    this.checkOpen();
    if (this.parent !== undefined) throw new UserError('seed runs can only be started from a cell run');
    return this.tracker.startChild(this, seedKey, params, tags, opts);
  }

  async logMetrics(points: MetricInput[]): Promise<void> {
    this.checkOpen();
    await this.logWire({ metrics: toWireMetrics(points, this.tracker.now()), params: [], tags: [] });
  }

  async logParams(params: Params): Promise<void> {
    this.checkOpen();
    await this.logWire({ metrics: [], params: toWireParams(params, this.tracker.onTruncate), tags: [] });
  }

  async setTags(tags: Tags): Promise<void> {
    this.checkOpen();
    const wire = toWireTags(tags, this.tracker.onTruncate);
    checkNotReserved(wire);
    await this.logWire({ metrics: [], params: [], tags: wire });
  }

  async logArtifact(localPath: string, artifactDir?: string): Promise<void> {
    this.checkOpen();
    const dest = artifactDestination(localPath, artifactDir);
    try {
      await access(localPath);
    } catch {
      throw new UserError(`artifact file '${localPath}' does not exist or is not readable`);
    }
    const contentType = contentTypeFor(localPath);
    await this.enqueue(async () => {
      if (this.online()) {
        const data = await readFile(localPath);
        try {
          await this.tracker.api.uploadArtifact(this.artifactUri ?? '', dest, data, contentType);
          return;
        } catch (err) {
          if (!isUnreachable(err)) throw err;
          this.tracker.goOffline(err);
          await (await this.ensureSpool()).appendArtifact(localPath, dest, contentType, true);
          return;
        }
      }
      await (await this.ensureSpool()).appendArtifact(localPath, dest, contentType, false);
    });
  }

  async end(status: RunEndStatus, at?: number): Promise<void> {
    this.checkOpen();
    if (!END_STATUSES.has(status)) throw new UserError(`run status must be FINISHED, FAILED or KILLED, got '${status}'`);
    checkTime('end', at);
    this.ended = true;
    // Never before the start: MLflow's UI shows a negative duration otherwise.
    const endTime = Math.max(at ?? this.tracker.now(), this.startTime);
    await this.enqueue(async () => {
      if (this.online()) {
        try {
          await this.tracker.api.endRun(this.runId as string, status, endTime);
          return;
        } catch (err) {
          if (!isUnreachable(err)) throw err;
          this.tracker.goOffline(err);
          await (await this.ensureSpool()).appendEnd(status, endTime, true);
          return;
        }
      }
      await (await this.ensureSpool()).appendEnd(status, endTime, false);
    });
  }

  private checkOpen(): void {
    if (this.ended) throw new UserError(`MLflow run '${this.runName}' has already ended`);
  }

  /** Delivering live: created on the server, tracker online, and nothing of this run spooled yet. */
  private online(): boolean {
    return !this.tracker.offline && this.runId !== undefined && this.spool === undefined;
  }

  private logWire(batch: WireBatch): Promise<void> {
    if (batchSize(batch) === 0) return Promise.resolve();
    return this.enqueue(async () => {
      if (this.online()) {
        const runId = this.runId as string;
        const chunks = chunkBatch(runId, batch);
        for (let i = 0; i < chunks.length; i++) {
          try {
            await this.tracker.api.logBatchChunk(runId, chunks[i]);
          } catch (err) {
            if (!isUnreachable(err)) throw err;
            this.tracker.goOffline(err);
            await (await this.ensureSpool()).appendBatch(mergeBatches(chunks.slice(i)), true);
            return;
          }
        }
        return;
      }
      await (await this.ensureSpool()).appendBatch(batch, false);
    });
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private async ensureSpool(): Promise<RunSpool> {
    if (this.spool !== undefined) return this.spool;
    // A stable key can be spooled by several processes (killed and restarted while offline):
    // each gets its own file; sync finds them all by the header's run key.
    const spool = new RunSpool(this.tracker.spoolDir, this.mayExist ? `${this.runKey}.${randomUUID().slice(0, 8)}` : this.runKey);
    await spool.writeHeader({
      runKey: this.runKey,
      experimentName: this.experimentName,
      runName: this.runName,
      startTime: this.startTime,
      userId: this.tracker.system.user,
      tags: this.createTags,
      parentRunKey: this.parent?.runKey,
      parentRunId: this.parent?.runId,
      runId: this.runId,
      experimentId: this.experimentId,
      artifactUri: this.artifactUri,
    });
    this.spool = spool;
    return spool;
  }
}
