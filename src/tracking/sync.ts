/**
 * Replays spool files (spool.ts) into an MLflow server: `lora-repro mlflow sync`.
 *
 * Replay is idempotent, so it can be interrupted and rerun at any point:
 * - runs are found by their `lora_repro.run_key` tag before anything is created (and the server
 *   run a spool maps to is recorded in it as a `bound` record);
 * - every delivered op is acknowledged in the spool file (fsync'd) and never resent;
 * - metrics of an op that may already be on the server (the op was in doubt, or the run existed
 *   before this replay) are compared against metrics/get-history and only missing
 *   (key, step, timestamp, value) rows are sent. MLflow's SQL store would drop exact duplicates
 *   itself (IntegrityError path in SqlAlchemyStore.log_metrics), its file store would not;
 * - params are immutable but re-logging the same value is accepted; tags and the end status
 *   are plain overwrites.
 * Parents replay before children; a child finds its parent by the parent's run key.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isArtifactsUnavailable, isUnreachable, oneLine } from './errors.ts';
import { encodeMetricValue, type WireMetric } from './limits.ts';
import { MlflowApi } from './mlflow-api.ts';
import { RestClient } from './rest-client.ts';
import type { RetryHooks, RetryPolicy } from './retry.ts';
import { listSpoolFiles, markSynced, readSpoolFile, writeAck, writeBound, type SpooledRun } from './spool.ts';
import { ARTIFACT_WARNING_TAG, TAG_PARENT_RUN_ID } from './system-tags.ts';

export interface SyncOptions {
  spoolDirs: string[];
  trackingUri: string;
  retry?: Partial<RetryPolicy>;
  env?: NodeJS.ProcessEnv;
  hooks?: RetryHooks;
}

export interface SyncReport {
  filesSeen: number;
  runsCompleted: number;
  /** Spools whose run has no end record yet (still running, or the process died): replayed so far, kept pending. */
  runsOpen: number;
  runsCreated: number;
  metricsSent: number;
  metricsAlreadyPresent: number;
  paramsSent: number;
  tagsSent: number;
  artifactsSent: number;
  /**
   * Artifacts this server can never take (no artifact proxy, or a non-`mlflow-artifacts:` root):
   * acknowledged and left out, with a `lora_repro.warning` tag on the run, so the rest of the
   * spool (metrics, the end status) is delivered instead of aborting on every sync.
   */
  artifactsSkipped: number;
  /** One line per distinct reason an artifact was skipped. */
  warnings: string[];
  /** One line per spool file that could not be replayed (the file is left as is). */
  errors: string[];
  /** Set when the server became unreachable; everything not acknowledged stays in the spool. */
  aborted: string | undefined;
}

interface Resolved {
  runId: string;
  experimentId: string;
  artifactUri: string | undefined;
  preexisting: boolean;
}

function metricIdentity(m: { key: string; step: number; timestamp: number; value: WireMetric['value'] }): string {
  return `${m.key}\u0000${m.step}\u0000${m.timestamp}\u0000${String(m.value)}`;
}

export async function syncSpool(opts: SyncOptions): Promise<SyncReport> {
  const report: SyncReport = {
    filesSeen: 0,
    runsCompleted: 0,
    runsOpen: 0,
    runsCreated: 0,
    metricsSent: 0,
    metricsAlreadyPresent: 0,
    paramsSent: 0,
    tagsSent: 0,
    artifactsSent: 0,
    artifactsSkipped: 0,
    warnings: [],
    errors: [],
    aborted: undefined,
  };
  const runs: SpooledRun[] = [];
  for (const dir of opts.spoolDirs) {
    for (const file of await listSpoolFiles(dir)) {
      try {
        runs.push(await readSpoolFile(file));
      } catch (err) {
        report.errors.push(oneLine((err as Error).message)); // a corrupt file is left alone; others still sync
      }
    }
  }
  report.filesSeen = runs.length + report.errors.length;
  // Parents first: a child's create needs its parent's server id.
  runs.sort((a, b) => Number(a.header.parentRunKey !== undefined) - Number(b.header.parentRunKey !== undefined));

  const api = new MlflowApi(new RestClient({ trackingUri: opts.trackingUri, retry: opts.retry, env: opts.env, hooks: opts.hooks }));
  const ctx: SyncContext = { api, report, experiments: new Map(), byKey: new Map(), open: [] };
  try {
    for (const run of runs) {
      try {
        await syncRun(ctx, run);
      } catch (err) {
        if (isUnreachable(err)) {
          report.aborted = err.message;
          break;
        }
        report.errors.push(`${run.path}: ${oneLine((err as Error).message)}`);
      }
    }
    // A spool without an end whose run another spool (or a live process) has ended since: a killed
    // process's partial copy, or a Slurm task's cell that a later task completed. Everything in it is
    // on the server now and nothing more will come: done.
    for (const { run, runId } of report.aborted === undefined ? ctx.open : []) {
      try {
        const status = (await api.getRun(runId))?.info.status;
        if (status === undefined || status === 'RUNNING' || status === 'SCHEDULED') continue;
        await markSynced(run);
        report.runsOpen--;
        report.runsCompleted++;
      } catch (err) {
        if (isUnreachable(err)) {
          report.aborted = err.message;
          break;
        }
        report.errors.push(`${run.path}: ${oneLine((err as Error).message)}`);
      }
    }
  } finally {
    await api.rest.close();
  }
  return report;
}

interface SyncContext {
  api: MlflowApi;
  report: SyncReport;
  experiments: Map<string, string>;
  byKey: Map<string, { runId: string; experimentId: string }>;
  /** Spools replayed in full that had no end record, with their server run. */
  open: { run: SpooledRun; runId: string }[];
}

async function experimentIdFor(ctx: SyncContext, name: string): Promise<string> {
  let id = ctx.experiments.get(name);
  if (id === undefined) {
    id = await ctx.api.getOrCreateExperiment(name);
    ctx.experiments.set(name, id);
  }
  return id;
}

/** An active server run with this id, or undefined (gone, deleted, or a different server). */
async function activeRun(ctx: SyncContext, runId: string | undefined): Promise<Resolved | undefined> {
  if (runId === undefined) return undefined;
  const run = await ctx.api.getRun(runId);
  if (run === undefined || run.info.lifecycle_stage === 'deleted') return undefined;
  return { runId: run.info.run_id, experimentId: run.info.experiment_id, artifactUri: run.info.artifact_uri, preexisting: true };
}

async function resolveRun(ctx: SyncContext, run: SpooledRun): Promise<Resolved> {
  const h = run.header;
  const known = (await activeRun(ctx, run.bound?.runId)) ?? (await activeRun(ctx, h.runId));
  if (known !== undefined) return known;
  const experimentId = await experimentIdFor(ctx, h.experimentName);
  const existing = await ctx.api.findRunsByKey(experimentId, h.runKey);
  if (existing.length > 0) {
    const info = existing[0];
    return { runId: info.run_id, experimentId: info.experiment_id, artifactUri: info.artifact_uri, preexisting: true };
  }
  const tags = h.tags.filter((t) => t.key !== TAG_PARENT_RUN_ID);
  if (h.parentRunKey !== undefined) {
    const parentId =
      ctx.byKey.get(h.parentRunKey)?.runId ??
      (await activeRun(ctx, h.parentRunId))?.runId ??
      (await ctx.api.findRunsByKey(experimentId, h.parentRunKey))[0]?.run_id;
    if (parentId === undefined) throw new Error(`parent run (key ${h.parentRunKey}) is not on the server; sync the parent's spool first`);
    tags.push({ key: TAG_PARENT_RUN_ID, value: parentId });
  }
  const req = { experimentId, runName: h.runName, startTime: h.startTime, userId: h.userId, tags };
  // Searched just above, so a hit inside createRunOnce can only be our own lost create: no data yet.
  const info = await ctx.api.createRunOnce(req, h.runKey, false);
  ctx.report.runsCreated++;
  return { runId: info.run_id, experimentId: info.experiment_id, artifactUri: info.artifact_uri, preexisting: false };
}

async function syncRun(ctx: SyncContext, run: SpooledRun): Promise<void> {
  const { api, report } = ctx;
  const r = await resolveRun(ctx, run);
  if (run.bound?.runId !== r.runId) await writeBound(run, { runId: r.runId, experimentId: r.experimentId, artifactUri: r.artifactUri });
  ctx.byKey.set(run.header.runKey, { runId: r.runId, experimentId: r.experimentId });

  const history = new Map<string, Set<string>>(); // metric key -> identities on the server
  const present = async (key: string): Promise<Set<string>> => {
    let s = history.get(key);
    if (s === undefined) {
      s = new Set((await api.metricHistory(r.runId, key)).map((m) => metricIdentity({ ...m, value: encodeMetricValue(m.value) })));
      history.set(key, s);
    }
    return s;
  };

  const ops = [...run.ops].sort((a, b) => a.seq - b.seq);
  for (const op of ops) {
    if (run.acked.has(op.seq)) continue;
    if (op.type === 'batch') {
      let metrics = op.metrics;
      if (r.preexisting || op.inDoubt) {
        const keep: WireMetric[] = [];
        for (const m of metrics) if (!(await present(m.key)).has(metricIdentity(m))) keep.push(m);
        report.metricsAlreadyPresent += metrics.length - keep.length;
        metrics = keep;
      }
      await api.logBatch(r.runId, { metrics, params: op.params, tags: op.tags });
      for (const m of metrics) history.get(m.key)?.add(metricIdentity(m));
      report.metricsSent += metrics.length;
      report.paramsSent += op.params.length;
      report.tagsSent += op.tags.length;
    } else if (op.type === 'artifact') {
      const data = await readFile(join(run.dir, op.file));
      try {
        await api.uploadArtifact(r.artifactUri ?? '', op.path, data, op.contentType);
        report.artifactsSent++;
      } catch (err) {
        if (!isArtifactsUnavailable(err)) throw err;
        const why = oneLine((err as Error).message, 300);
        await api.setTag(r.runId, ARTIFACT_WARNING_TAG, `artifact ${op.path} not uploaded: ${why}`);
        if (!report.warnings.includes(why)) report.warnings.push(why);
        report.artifactsSkipped++;
      }
    } else {
      await api.endRun(r.runId, op.status, op.endTime);
    }
    await writeAck(run, op.seq);
  }
  if (ops.some((o) => o.type === 'end')) {
    await markSynced(run);
    report.runsCompleted++;
  } else {
    report.runsOpen++;
    ctx.open.push({ run, runId: r.runId });
  }
}
