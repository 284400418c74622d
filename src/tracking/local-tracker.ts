/**
 * The tracker used when MLFLOW_TRACKING_URI is unset: it records nothing (the runner's own
 * results files are the local record) but validates every call exactly like the MLflow tracker,
 * so a bad metric name fails the same way with or without a server.
 */
import { randomUUID } from 'node:crypto';
import { UserError } from '../util/errors.ts';
import { checkExperimentName, toWireMetrics, toWireParams, toWireTags } from './limits.ts';
import { checkRunKey } from './mlflow-api.ts';
import { checkNotReserved } from './system-tags.ts';
import { artifactDestination } from './tracker.ts';
import type { CellRun, MetricInput, Params, RunEndStatus, SeedRun, StartRunOptions, Tags, Tracker, TrackerSummary } from './types.ts';

class LocalRun implements CellRun {
  readonly runKey = randomUUID();
  readonly runId = undefined;
  private ended = false;

  constructor(
    private readonly tracker: LocalTracker,
    private readonly isCell: boolean,
  ) {}

  async startSeedRun(seedKey: string, params: Params = {}, tags: Tags = {}, opts: StartRunOptions = {}): Promise<SeedRun> {
    this.checkOpen();
    if (!this.isCell) throw new UserError('seed runs can only be started from a cell run');
    if (opts.runKey !== undefined) checkRunKey(opts.runKey);
    return this.tracker.newRun(seedKey, params, tags, false);
  }
  async logMetrics(points: MetricInput[]): Promise<void> {
    this.checkOpen();
    toWireMetrics(points, Date.now());
  }
  async logParams(params: Params): Promise<void> {
    this.checkOpen();
    toWireParams(params);
  }
  async setTags(tags: Tags): Promise<void> {
    this.checkOpen();
    checkNotReserved(toWireTags(tags));
  }
  async logArtifact(localPath: string, artifactDir?: string): Promise<void> {
    this.checkOpen();
    artifactDestination(localPath, artifactDir);
  }
  async end(status: RunEndStatus, endTime?: number): Promise<void> {
    this.checkOpen();
    if (endTime !== undefined && (!Number.isSafeInteger(endTime) || endTime < 0)) throw new UserError(`run end time must be a non-negative integer of ms, got ${endTime}`);
    if (!['FINISHED', 'FAILED', 'KILLED'].includes(status)) throw new UserError(`run status must be FINISHED, FAILED or KILLED, got '${status}'`);
    this.ended = true;
  }
  private checkOpen(): void {
    if (this.ended) throw new UserError('run has already ended');
  }
}

export class LocalTracker implements Tracker {
  readonly kind = 'local' as const;
  readonly offline = false;
  private started = 0;

  async startCell(experimentName: string, cellKey: string, params: Params = {}, tags: Tags = {}, opts: StartRunOptions = {}): Promise<CellRun> {
    checkExperimentName(experimentName);
    if (opts.runKey !== undefined) checkRunKey(opts.runKey);
    return this.newRun(cellKey, params, tags, true);
  }

  /** @internal */
  newRun(name: string, params: Params, tags: Tags, isCell: boolean): LocalRun {
    if (typeof name !== 'string' || name.trim() === '') throw new UserError('run name (cell or seed key) must not be empty');
    toWireParams(params);
    checkNotReserved(toWireTags(tags));
    this.started++;
    return new LocalRun(this, isCell);
  }

  async close(): Promise<TrackerSummary> {
    return { kind: 'local', runsStarted: this.started, runsSpooled: 0, spoolDir: undefined, offlineReason: undefined };
  }
}
