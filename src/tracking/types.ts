/** Public interfaces of the experiment tracker (see index.ts for the overview). */
import type { MetricInput, ParamValue } from './limits.ts';

export type { MetricInput, ParamValue };

/** Terminal run statuses of service.proto's RunStatus that a client may set. */
export type RunEndStatus = 'FINISHED' | 'FAILED' | 'KILLED';

export type Params = Record<string, ParamValue>;
export type Tags = Record<string, string>;

/** One MLflow run as the runner sees it. Calls on one run are applied in call order. */
export interface TrackedRun {
  /** Client-generated idempotency key, also the run's `lora_repro.run_key` tag. */
  readonly runKey: string;
  /** The MLflow run id, or undefined while the run exists only in the spool (or locally). */
  readonly runId: string | undefined;
  /** Per-step metrics; a missing timestamp is fixed to now (ms) at call time. NaN/±Infinity allowed. */
  logMetrics(points: MetricInput[]): Promise<void>;
  /** Params are immutable in MLflow: re-logging a key with a different value rejects (INVALID_PARAMETER_VALUE). */
  logParams(params: Params): Promise<void>;
  setTags(tags: Tags): Promise<void>;
  /** Uploads `localPath` as `<artifactDir>/<basename(localPath)>` (artifactDir optional), like mlflow.log_artifact. */
  logArtifact(localPath: string, artifactDir?: string): Promise<void>;
  /**
   * Ends the run; further calls on it reject. `endTime` (ms) defaults to now; pass the true end
   * of work logged after the fact (a backfilled seed), so durations are right in the UI.
   */
  end(status: RunEndStatus, endTime?: number): Promise<void>;
}

export type SeedRun = TrackedRun;

/** Options of startCell / startSeedRun. */
export interface StartRunOptions {
  /**
   * A stable idempotency key (letters, digits, '.', '_', ':', '-'; at most 128): a run started again
   * with the same key, by any process, is the same MLflow run (found by its `lora_repro.run_key`
   * tag) instead of a new one. This is what lets a killed and restarted runner avoid duplicate
   * runs. Default: a random UUID (every call creates a new run).
   */
  runKey?: string;
  /**
   * The run's start (ms since the epoch), default now. Work logged after the fact (backfill)
   * passes when it really started, so the run's duration and its metrics' timestamps agree.
   * A run found again by its key keeps the start it was created with.
   */
  startTime?: number;
}

/** The parent run of one results-table cell; one child run per seed. */
export interface CellRun extends TrackedRun {
  startSeedRun(seedKey: string, params?: Params, tags?: Tags, opts?: StartRunOptions): Promise<SeedRun>;
}

export interface TrackerSummary {
  /** 'mlflow' when MLFLOW_TRACKING_URI is set, 'local' (no-op) otherwise. */
  kind: 'mlflow' | 'local';
  runsStarted: number;
  /** Runs with at least one op in the spool (they need `lora-repro mlflow sync`). */
  runsSpooled: number;
  spoolDir: string | undefined;
  /** Why the tracker went offline, if it did. */
  offlineReason: string | undefined;
}

export interface Tracker {
  readonly kind: 'mlflow' | 'local';
  /** True once the server was found unreachable; from then on everything goes to the spool. */
  readonly offline: boolean;
  startCell(experimentName: string, cellKey: string, params?: Params, tags?: Tags, opts?: StartRunOptions): Promise<CellRun>;
  /** Waits for every pending call and releases connections. */
  close(): Promise<TrackerSummary>;
}
