/**
 * The runner's results, projected into MLflow (src/tracking): one experiment per spec and profile
 * (`lora-repro/<experiment>/<profile>`), a parent run per table cell (the resolved config as
 * params, seed aggregates as metrics), a child run per seed (per-epoch metrics, best-epoch
 * metrics, throughput, provenance tags, the result JSON as an artifact).
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
import type { CellRun, MetricInput, Params, SeedRun, Tracker } from '../tracking/index.ts';
import { writeFileAtomic } from './atomic-write.ts';
import type { RunResult } from './result-schema.ts';

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
}

const toMs = (iso: string): number => {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : 0;
};

/** Params of a cell: the resolved config without the seed and the bookkeeping fields, flattened. */
export function cellParams(run: PlannedRun): Params {
  const out: Params = {};
  const skip = new Set(['seed', 'experiment', 'profile', 'dataDir']);
  const put = (key: string, v: unknown): void => {
    if (v === undefined || v === null) return;
    if (Array.isArray(v)) out[key] = JSON.stringify(v);
    else if (typeof v === 'object') for (const [k, x] of Object.entries(v)) put(`${key}.${k}`, x);
    else out[key] = v as string | number | boolean;
  };
  for (const [k, v] of Object.entries(run.config)) if (!skip.has(k)) put(k, v);
  return out;
}

function stats(xs: number[]): { median: number; mean: number; std: number } {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  const variance = s.length > 1 ? s.reduce((a, b) => a + (b - mean) ** 2, 0) / (s.length - 1) : 0;
  return { median: s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2, mean, std: Math.sqrt(variance) };
}

export class MlflowProjection {
  readonly enabled: boolean;
  private readonly cells = new Map<string, Promise<CellRun>>();
  private readonly seeds = new Map<string, Promise<SeedRun>>();
  private readonly cellChains = new Map<string, Promise<void>>();
  private readonly endedCells = new Map<string, string>();
  private readonly pending = new Set<string>();
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
      await this.seedRun(run);
    });
  }

  runFinished(run: PlannedRun, result: RunResult): void {
    this.pending.delete(run.runId);
    if (!this.enabled) return;
    this.track(`log ${run.runId}`, async () => {
      await this.logSeed(run, result);
      await this.maybeEndCell(run.cellKey);
    });
  }

  /** A run that will not finish in this process (interrupted): its cell stays open. */
  runAbandoned(runId: string): void {
    this.pending.delete(runId);
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
      this.track(`backfill ${cellKey}`, async () => {
        await Promise.all(toLog.map(([run, r]) => this.logSeed(run, r)));
        await this.maybeEndCell(cellKey);
      });
    }
  }

  /** Waits for every queued tracking call (then close the tracker). */
  async flush(): Promise<void> {
    for (let i = 0; i < this.tasks.length; i++) await this.tasks[i];
  }

  private track(what: string, fn: () => Promise<void>): void {
    this.tasks.push(
      fn().catch((err: unknown) => {
        const msg = `lora-repro: MLflow tracking (${what.split(' ')[0]}) failed: ${err instanceof Error ? err.message : String(err)}`;
        if (!this.warned.has(msg)) {
          this.warned.add(msg);
          this.o.warn(msg);
        }
      }),
    );
  }

  private cellRun(run: PlannedRun): Promise<CellRun> {
    let p = this.cells.get(run.cellKey);
    if (p === undefined) {
      const c = run.config;
      const name = `${c.model} ${c.method}${c.variant ? ` [${c.variant}]` : ''} ${c.task}`;
      const tags = {
        'lora_repro.experiment': c.experiment,
        'lora_repro.profile': c.profile,
        'lora_repro.cell_key': run.cellKey,
        'lora_repro.row': run.row,
        'lora_repro.label': run.label,
        model: c.model,
        method: c.method,
        variant: c.variant,
        task: c.task,
      };
      p = this.o.tracker.startCell(this.experimentName, name, cellParams(run), tags, { runKey: `cell-${run.cellKey}` });
      this.cells.set(run.cellKey, p);
      p.catch(() => this.cells.delete(run.cellKey));
    }
    return p;
  }

  private seedRun(run: PlannedRun): Promise<SeedRun> {
    let p = this.seeds.get(run.runId);
    if (p === undefined) {
      p = this.cellRun(run).then((cell) =>
        cell.startSeedRun(`seed ${run.config.seed}`, { seed: run.config.seed, run_id: run.runId }, { 'lora_repro.run_id': run.runId }, { runKey: `run-${run.runId}` }),
      );
      this.seeds.set(run.runId, p);
      p.catch(() => this.seeds.delete(run.runId));
    }
    return p;
  }

  private async logSeed(run: PlannedRun, r: RunResult): Promise<void> {
    const seed = await this.seedRun(run);
    const metrics: MetricInput[] = [];
    let t = toMs(r.startedAt);
    for (const e of r.epochs) {
      t += Math.round(e.seconds * 1000);
      metrics.push({ key: 'train/loss', value: e.trainLoss, step: e.step, timestamp: t });
      for (const [k, v] of Object.entries(e.metrics)) metrics.push({ key: `eval/${k}`, value: v, step: e.step, timestamp: t });
    }
    const end = toMs(r.finishedAt);
    for (const [k, v] of Object.entries(r.metrics)) metrics.push({ key: `best/${k}`, value: v, step: 0, timestamp: end });
    if (r.status === 'finished') {
      metrics.push(
        { key: 'wall_seconds', value: r.wallSeconds, step: 0, timestamp: end },
        { key: 'tokens_per_second', value: r.tokensPerSecond, step: 0, timestamp: end },
        { key: 'peak_rss_mib', value: r.peakRssMiB, step: 0, timestamp: end },
        { key: 'trainable_params', value: r.trainableParams.counted, step: 0, timestamp: end },
        { key: 'trainable_params_formula', value: r.trainableParams.formula, step: 0, timestamp: end },
      );
    }
    if (metrics.length > 0) await seed.logMetrics(metrics);
    const tags: Record<string, string> = {
      'lora_repro.status': r.status,
      'lora_repro.git_commit': r.provenance.gitCommit,
      'lora_repro.git_dirty': String(r.provenance.gitDirty),
      'lora_repro.backend': r.provenance.backend,
    };
    if (r.bestEpoch !== null) tags['lora_repro.best_epoch'] = String(r.bestEpoch);
    if (r.error !== undefined) tags['lora_repro.error'] = r.error.slice(0, 1000);
    await seed.setTags(tags);
    await seed.logArtifact(this.o.jsonPath(r.runId), 'results');
    await seed.end(r.status === 'finished' ? 'FINISHED' : 'FAILED');
    // A fresh handle is needed to log this seed again in this process (e.g. after a retry).
    this.seeds.delete(run.runId);
    this.server().runs[run.runId] = `${r.status}@${r.finishedAt}`;
    this.writeState();
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
    if (done.some((r) => this.server().runs[r.runId] !== `${r.status}@${r.finishedAt}`)) return;
    const digest = createHash('sha256')
      .update(done.map((r) => `${r.runId}:${r.status}:${r.finishedAt}`).sort().join('\n'))
      .digest('hex')
      .slice(0, 16);
    if (this.server().cells[cellKey] === digest || this.endedCells.get(cellKey) === digest) return;
    const cell = await this.cellRun(runs[0]);
    const finished = done.filter((r) => r.status === 'finished');
    const at = Math.max(...done.map((r) => toMs(r.finishedAt)));
    const metrics: MetricInput[] = [
      { key: 'seeds_finished', value: finished.length, step: 0, timestamp: at },
      { key: 'seeds_failed', value: done.length - finished.length, step: 0, timestamp: at },
    ];
    const names = new Set(finished.flatMap((r) => Object.keys(r.metrics)));
    for (const name of names) {
      const xs = finished.map((r) => r.metrics[name]).filter((x): x is number => x !== undefined);
      const s = stats(xs);
      metrics.push(
        { key: `median/${name}`, value: s.median, step: 0, timestamp: at },
        { key: `mean/${name}`, value: s.mean, step: 0, timestamp: at },
        { key: `std/${name}`, value: s.std, step: 0, timestamp: at },
      );
    }
    await cell.logMetrics(metrics);
    await cell.end(finished.length === done.length ? 'FINISHED' : 'FAILED');
    this.cells.delete(cellKey);
    this.endedCells.set(cellKey, digest);
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
    writeFileAtomic(this.o.statePath, `${JSON.stringify(this.state)}\n`);
  }
}
