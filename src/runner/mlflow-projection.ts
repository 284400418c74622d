/**
 * The runner's results, projected into MLflow (src/tracking): one experiment per spec and profile
 * (`lora-repro/<experiment>/<profile>`), a parent run per table cell (the resolved config as
 * params, seed aggregates as metrics), a child run per seed (the same config params plus seed and
 * run id, the parent's identifying tags, per-epoch metrics, best-epoch metrics, throughput,
 * provenance tags, the result JSON as an artifact), named after the cell
 * (`roberta-base·lora·r=8·rte·seed0`) so MLflow's compare view tells seeds apart.
 *
 * Lifecycle: every run started here is ended, whatever fails after it started. A seed whose data
 * could not all be logged ends FAILED with a `lora_repro.warning` tag (the next runner logs it
 * again); an artifact the server cannot take (no artifact proxy, an s3:// or local artifact root)
 * is a warning tag and one console line, not a failure. Seeds interrupted in this process end
 * KILLED; cells still missing seeds when the runner exits end with `lora_repro.cell_state`
 * saying so, and are ended again, with aggregates, by the runner that completes them.
 * Backfilled runs keep their true start and end (the result's startedAt / finishedAt).
 *
 * Why it cannot duplicate anything across kill + rerun:
 * - runs are started with stable keys (`cell-<cellKey>`, `run-<runId>`), so a restarted runner
 *   finds the runs a killed one created instead of creating new ones;
 * - everything a seed logs comes from its result JSON, after the run finished, with timestamps
 *   derived from the JSON (startedAt + epoch seconds): re-logging sends identical metric rows,
 *   which MLflow's SQL store drops, identical params (accepted), and overwrites tags/artifacts.
 *   Nothing is logged live during training for this reason: a killed attempt's live points
 *   could never be taken back. A child shows as RUNNING until its seed finishes;
 * - mlflow-logged.json records, per tracking URI, which finished runs and complete cells were
 *   fully logged; the next runner logs whatever is missing (also runs finished while no server
 *   was configured). If the server is unreachable the tracker spools to disk instead
 *   (`lora-repro mlflow sync`).
 * Tracking never fails a run: errors become one warning line each.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { PlannedRun } from '../spec/expand.ts';
import { isArtifactsUnavailable, type CellRun, type MetricInput, type RunEndStatus, type SeedRun, type Tracker } from '../tracking/index.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { mean, median, sampleStd } from '../util/stats.ts';
import { cellParams, cellRunName, cellTags, mkey, seedParams, seedRunName } from './mlflow-fields.ts';
import type { RunResult } from '../train/result-schema.ts';

const stateSchema = z.object({
  v: z.literal(1),
  servers: z.record(z.string(), z.object({ runs: z.record(z.string(), z.string()), cells: z.record(z.string(), z.string()) })),
});
type State = z.infer<typeof stateSchema>;

export interface ProjectionOptions {
  tracker: Tracker;
  /** The tracking URI (the state key); undefined disables the projection (local tracker). */
  trackingUri: string | undefined;
  experiment: string;
  profile: string;
  statePath: string;
  /** Every run of the expanded spec (a cell is complete only when all its seeds have results). */
  plan: readonly PlannedRun[];
  /** Current results by runId (the runner updates it as runs finish). */
  results: ReadonlyMap<string, RunResult>;
  jsonPath: (runId: string) => string;
  warn: (line: string) => void;
  /**
   * End the cells this process started and could not complete, tagged incomplete (default). Off for
   * Slurm array tasks: each runs one seed, and the last to finish ends its cell (slurm-task.ts).
   */
  closeIncompleteCells?: boolean;
}

const toMs = (iso: string): number => {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : 0;
};

const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class MlflowProjection {
  readonly enabled: boolean;
  private readonly cells = new Map<string, Promise<CellRun>>();
  private readonly seeds = new Map<string, Promise<SeedRun>>();
  /** This process's logging of each seed: resolves true when every piece of its data was delivered. */
  private readonly seedLogs = new Map<string, Promise<boolean>>();
  private readonly cellChains = new Map<string, Promise<void>>();
  private readonly endedCells = new Map<string, string>();
  private readonly pending = new Set<string>();
  private readonly abandoned = new Set<string>();
  private readonly tasks: Promise<void>[] = [];
  private readonly warned = new Set<string>();
  private readonly state: State;
  private readonly experimentName: string;

  constructor(private readonly o: ProjectionOptions) {
    this.enabled = o.tracker.kind === 'mlflow' && o.trackingUri !== undefined;
    this.experimentName = `lora-repro/${o.experiment}/${o.profile}`;
    this.state = this.enabled ? this.readState() : { v: 1, servers: {} };
  }

  /** Runs this process will execute: their cells must not be ended before they finish. */
  markPending(runIds: Iterable<string>): void {
    for (const id of runIds) this.pending.add(id);
  }

  /** Creates (or finds again) the cell and seed runs, so the UI shows the seed as RUNNING. */
  runStarted(run: PlannedRun): void {
    if (!this.enabled) return;
    this.track(`start ${run.runId}`, async () => {
      await this.seedRun(run, undefined);
    });
  }

  runFinished(run: PlannedRun, result: RunResult): void {
    this.pending.delete(run.runId);
    if (!this.enabled) return;
    this.logSeedTracked(run, result, undefined);
    this.track(`log ${run.runId}`, () => this.maybeEndCell(run.cellKey));
  }

  /** A run that will not finish in this process (interrupted): its seed run ends KILLED, its cell stays incomplete. */
  runAbandoned(runId: string): void {
    this.pending.delete(runId);
    this.abandoned.add(runId);
    const seed = this.seeds.get(runId);
    if (!this.enabled || seed === undefined) return;
    this.seeds.delete(runId);
    this.track(`end ${runId}`, async () => (await seed).end('KILLED'));
  }

  /** Logs finished results that this server has not fully received yet, then ends complete cells. */
  backfill(): void {
    if (!this.enabled) return;
    const server = this.server();
    const byCell = new Map<string, [PlannedRun, RunResult][]>();
    for (const run of this.o.plan) {
      const r = this.o.results.get(run.runId);
      if (r === undefined || this.pending.has(run.runId)) continue;
      const list = byCell.get(run.cellKey) ?? [];
      if (server.runs[run.runId] !== `${r.status}@${r.finishedAt}`) list.push([run, r]);
      byCell.set(run.cellKey, list);
    }
    for (const [cellKey, toLog] of byCell) {
      // The cell started when its first seed did, not now.
      const starts = toLog.map(([, r]) => toMs(r.startedAt)).filter((t) => t > 0);
      const cellStart = starts.length > 0 ? Math.min(...starts) : undefined;
      for (const [run, r] of toLog) this.logSeedTracked(run, r, { cell: cellStart, seed: toMs(r.startedAt) || undefined });
      this.track(`backfill ${cellKey}`, () => this.maybeEndCell(cellKey));
    }
  }

  /**
   * Waits for every queued tracking call, then ends what this process started and left open: seed
   * runs that never got a result (KILLED) and cells still missing seeds (see the file comment).
   * Then close the tracker.
   */
  async flush(): Promise<void> {
    for (let i = 0; i < this.tasks.length; i++) await this.tasks[i];
    if (!this.enabled) return;
    for (const [runId, seed] of [...this.seeds]) {
      this.seeds.delete(runId);
      this.track(`end ${runId}`, async () => (await seed).end('KILLED'));
    }
    for (const [cellKey, cell] of [...this.cells]) {
      this.cells.delete(cellKey);
      if (this.o.closeIncompleteCells !== false) this.track(`end ${cellKey}`, () => this.closeIncompleteCell(cellKey, cell));
    }
    for (let i = 0; i < this.tasks.length; i++) await this.tasks[i];
  }

  private async closeIncompleteCell(cellKey: string, cellP: Promise<CellRun>): Promise<void> {
    const cell = await cellP;
    const runs = this.o.plan.filter((r) => r.cellKey === cellKey);
    const have = runs.filter((r) => this.o.results.has(r.runId)).length;
    const interrupted = runs.some((r) => this.abandoned.has(r.runId));
    try {
      await cell.setTags({ 'lora_repro.cell_state': `incomplete: ${have} of ${runs.length} seeds have results${interrupted ? ' (interrupted)' : ''}` });
    } finally {
      await cell.end(interrupted ? 'KILLED' : 'FINISHED');
    }
  }

  /** One console line per distinct problem (the run's tag carries the details). */
  private warnOnce(msg: string, key = msg): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.o.warn(msg);
  }

  private track(what: string, fn: () => Promise<void>): void {
    this.tasks.push(fn().catch((err: unknown) => this.warnOnce(`lora-repro: MLflow tracking (${what.split(' ')[0]}) failed: ${errText(err)}`)));
  }

  private cellRun(run: PlannedRun, startTime: number | undefined): Promise<CellRun> {
    let p = this.cells.get(run.cellKey);
    if (p === undefined) {
      p = this.o.tracker.startCell(this.experimentName, cellRunName(run), cellParams(run), cellTags(run), { runKey: `cell-${run.cellKey}`, startTime });
      this.cells.set(run.cellKey, p);
      p.catch(() => this.cells.delete(run.cellKey));
    }
    return p;
  }

  private seedRun(run: PlannedRun, start: { cell?: number; seed?: number } | undefined): Promise<SeedRun> {
    let p = this.seeds.get(run.runId);
    if (p === undefined) {
      const tags = { ...cellTags(run), 'lora_repro.run_id': run.runId };
      p = this.cellRun(run, start?.cell).then((cell) =>
        cell.startSeedRun(seedRunName(run), seedParams(run), tags, { runKey: `run-${run.runId}`, startTime: start?.seed }),
      );
      this.seeds.set(run.runId, p);
      p.catch(() => this.seeds.delete(run.runId));
    }
    return p;
  }

  private logSeedTracked(run: PlannedRun, r: RunResult, start: { cell?: number; seed?: number } | undefined): void {
    const p = this.logSeed(run, r, start);
    this.seedLogs.set(run.runId, p.catch(() => false));
    this.track(`log ${run.runId}`, async () => {
      await p;
    });
  }

  /** Logs one seed's result and ends its run; true when all of it was delivered (artifact warnings aside). */
  private async logSeed(run: PlannedRun, r: RunResult, start: { cell?: number; seed?: number } | undefined): Promise<boolean> {
    const seed = await this.seedRun(run, start);
    // A fresh handle is needed to log this seed again in this process (e.g. after a retry).
    this.seeds.delete(run.runId);
    const problems: string[] = [];
    const metrics: MetricInput[] = [];
    let t = toMs(r.startedAt);
    for (const e of r.epochs) {
      t += Math.round(e.seconds * 1000);
      metrics.push({ key: 'train/loss', value: e.trainLoss, step: e.step, timestamp: t });
      for (const [k, v] of Object.entries(e.metrics)) metrics.push({ key: mkey('eval', k), value: v, step: e.step, timestamp: t });
    }
    const end = toMs(r.finishedAt);
    for (const [k, v] of Object.entries(r.metrics)) metrics.push({ key: mkey('best', k), value: v, step: 0, timestamp: end });
    if (r.status === 'finished') {
      metrics.push(
        { key: 'wall_seconds', value: r.wallSeconds, step: 0, timestamp: end },
        { key: 'tokens_per_second', value: r.tokensPerSecond, step: 0, timestamp: end },
        { key: 'peak_rss_mib', value: r.peakRssMiB, step: 0, timestamp: end },
        { key: 'trainable_params', value: r.trainableParams.counted, step: 0, timestamp: end },
        { key: 'trainable_params_formula', value: r.trainableParams.formula, step: 0, timestamp: end },
      );
    }
    const tags: Record<string, string> = {
      'lora_repro.status': r.status,
      'lora_repro.git_commit': r.provenance.gitCommit,
      'lora_repro.git_dirty': String(r.provenance.gitDirty),
      'lora_repro.backend': r.provenance.backend,
    };
    if (r.bestEpoch !== null) tags['lora_repro.best_epoch'] = String(r.bestEpoch);
    if (r.error !== undefined) tags['lora_repro.error'] = r.error.slice(0, 1000);
    try {
      if (metrics.length > 0) await seed.logMetrics(metrics);
      await seed.setTags(tags);
    } catch (err) {
      problems.push(`metrics/tags not logged: ${errText(err)}`);
    }
    let artifactWarning: string | undefined;
    try {
      await seed.logArtifact(this.o.jsonPath(r.runId), 'results');
    } catch (err) {
      artifactWarning = `result JSON not uploaded: ${errText(err)}`;
      // The server cannot take artifacts at all: one line for the whole process, the tag on every run.
      const unavailable = isArtifactsUnavailable(err);
      const line = `lora-repro: MLflow artifacts not uploaded (${errText(err)}); the runs' metrics and params are logged, tag lora_repro.warning says which artifact is missing`;
      this.warnOnce(line, unavailable ? 'artifacts-unavailable' : line);
      if (!unavailable) problems.push(artifactWarning);
    }
    const warning = [...problems, ...(artifactWarning !== undefined && problems.length === 0 ? [artifactWarning] : [])].join('; ');
    if (warning !== '') await seed.setTags({ 'lora_repro.warning': warning }).catch(() => undefined);
    if (problems.length > 0) this.warnOnce(`lora-repro: MLflow seed run ${seedRunName(run)}: ${problems[0]}; it ends FAILED and is logged again by the next run`);
    const status: RunEndStatus = r.status === 'finished' && problems.length === 0 ? 'FINISHED' : 'FAILED';
    await seed.end(status, end || undefined);
    if (problems.length > 0) return false;
    this.server().runs[run.runId] = `${r.status}@${r.finishedAt}`;
    this.writeState();
    return true;
  }

  /** Ends a cell once every seed of it has a result and none is still to run here. Serialised per cell. */
  private maybeEndCell(cellKey: string): Promise<void> {
    const next = (this.cellChains.get(cellKey) ?? Promise.resolve()).then(() => this.endCellIfComplete(cellKey));
    this.cellChains.set(cellKey, next.catch(() => undefined));
    return next;
  }

  private async endCellIfComplete(cellKey: string): Promise<void> {
    const runs = this.o.plan.filter((r) => r.cellKey === cellKey);
    if (runs.some((r) => this.pending.has(r.runId))) return;
    const results = runs.map((r) => this.o.results.get(r.runId));
    if (results.some((r) => r === undefined)) return;
    const done = results as RunResult[];
    // Seeds being logged by this process first; a seed that could not be logged is retried by the next runner.
    const logged = await Promise.all(runs.map((r) => this.seedLogs.get(r.runId) ?? Promise.resolve(true)));
    const allLogged = logged.every(Boolean) && done.every((r) => this.server().runs[r.runId] === `${r.status}@${r.finishedAt}`);
    const digest = createHash('sha256')
      .update(done.map((r) => `${r.runId}:${r.status}:${r.finishedAt}`).sort().join('\n'))
      .digest('hex')
      .slice(0, 16);
    if (this.server().cells[cellKey] === digest || this.endedCells.get(cellKey) === digest) return;
    const starts = done.map((r) => toMs(r.startedAt)).filter((x) => x > 0);
    const cell = await this.cellRun(runs[0], starts.length > 0 ? Math.min(...starts) : undefined);
    this.cells.delete(cellKey);
    const finished = done.filter((r) => r.status === 'finished');
    const at = Math.max(...done.map((r) => toMs(r.finishedAt)));
    const metrics: MetricInput[] = [
      { key: 'seeds_finished', value: finished.length, step: 0, timestamp: at },
      { key: 'seeds_failed', value: done.length - finished.length, step: 0, timestamp: at },
    ];
    const names = new Set(finished.flatMap((r) => Object.keys(r.metrics)));
    for (const name of names) {
      const xs = finished.map((r) => r.metrics[name]).filter((x): x is number => x !== undefined);
      if (xs.length === 0) continue;
      metrics.push({ key: mkey('median', name), value: median(xs), step: 0, timestamp: at }, { key: mkey('mean', name), value: mean(xs), step: 0, timestamp: at });
      // As in the results table: no std for a single seed (one value has no spread; logging 0 would claim one).
      const std = sampleStd(xs);
      if (std !== undefined) metrics.push({ key: mkey('std', name), value: std, step: 0, timestamp: at });
    }
    let problem: string | undefined;
    try {
      await cell.logMetrics(metrics);
      await cell.setTags({ 'lora_repro.cell_state': 'complete' });
    } catch (err) {
      problem = errText(err);
      await cell.setTags({ 'lora_repro.warning': `aggregates not logged: ${problem}` }).catch(() => undefined);
    }
    await cell.end(finished.length === done.length && problem === undefined ? 'FINISHED' : 'FAILED', at > 0 ? at : undefined);
    this.endedCells.set(cellKey, digest);
    if (problem !== undefined) throw new Error(problem);
    if (!allLogged) return; // ended here, and ended again by the runner that logs the missing seeds
    this.server().cells[cellKey] = digest;
    this.writeState();
  }

  private server(): State['servers'][string] {
    const uri = this.o.trackingUri as string;
    let s = this.state.servers[uri];
    if (s === undefined) {
      s = { runs: {}, cells: {} };
      this.state.servers[uri] = s;
    }
    return s;
  }

  private readState(): State {
    let text: string;
    try {
      text = readFileSync(this.o.statePath, 'utf8');
    } catch {
      return { v: 1, servers: {} };
    }
    try {
      return stateSchema.parse(JSON.parse(text));
    } catch {
      this.o.warn(`lora-repro: ${this.o.statePath} is not valid; every finished run will be logged to MLflow again (idempotent)`);
      return { v: 1, servers: {} };
    }
  }

  private writeState(): void {
    // Slurm tasks on other hosts write this file too: keep what they recorded since we read it.
    const disk = this.readStateQuietly();
    for (const [uri, s] of Object.entries(disk?.servers ?? {})) {
      const mine = (this.state.servers[uri] ??= { runs: {}, cells: {} });
      mine.runs = { ...s.runs, ...mine.runs };
      mine.cells = { ...s.cells, ...mine.cells };
    }
    writeFileAtomic(this.o.statePath, `${JSON.stringify(this.state)}\n`);
  }

  private readStateQuietly(): State | undefined {
    try {
      return stateSchema.parse(JSON.parse(readFileSync(this.o.statePath, 'utf8')));
    } catch {
      return undefined;
    }
  }
}
