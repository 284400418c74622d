/**
 * The runs behind the Section 7 and intrinsic-dimension pages, read from a results folder: each
 * finished run's score (its reported headline metric, ×100 except NIST / CIDEr), its method config
 * (LoRA targets and rank, or the subspace dimension d), its trainable count (the method's formula,
 * head excluded) and, for the analyses, its adapter directory and the pre-trained weights it started
 * from. Shared by section7.ts and intrinsic.ts; grouping over seeds: mean ± sample std (aggregate.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseHfConfig, type ModelConfig } from '../models/config.ts';
import { reportedOf, type RunResult } from '../train/result-schema.ts';
import { mean, sampleStd } from '../util/stats.ts';
import { setKey } from './section7-paper.ts';
import type { ResultsFolder } from './results.ts';

const RAW_SCALE = new Set(['NIST', 'CIDEr']);

export interface ScoredRun {
  result: RunResult;
  runId: string;
  task: string;
  model: string;
  method: string;
  seed: number;
  metric: string;
  /** The reported headline metric on the display scale; undefined when the run did not finish. */
  score: number | undefined;
  /** The method's closed-form trainable count (head excluded). */
  params: number;
  /** LoRA: the set key ('q+v') and rank; intrinsic: d. */
  set?: string;
  r?: number;
  alpha?: number;
  dim?: number;
  /** <profile>/runs/<runId>/adapter when it holds adapter_model.safetensors. */
  adapterDir?: string;
}

export function displayScale(metric: string): number {
  return RAW_SCALE.has(metric) ? 1 : 100;
}

function num(x: unknown): number | undefined {
  return typeof x === 'number' && Number.isFinite(x) ? x : undefined;
}

/** The runs of `experiment` in a results folder (every status; `score` only for finished ones). */
export function scoredRuns(folder: ResultsFolder, experiment: string): ScoredRun[] {
  const out: ScoredRun[] = [];
  for (const { result } of folder.runs) {
    if (result.experiment !== experiment) continue;
    const mc = (result.config.methodConfig ?? {}) as Record<string, unknown>;
    const raw = result.status === 'finished' ? num(result.metrics[result.headlineMetric]) : undefined;
    const adapter = join(folder.dir, 'runs', result.runId, 'adapter');
    const run: ScoredRun = {
      result,
      runId: result.runId,
      task: result.task,
      model: result.model,
      method: result.method,
      seed: result.seed,
      metric: result.headlineMetric,
      score: raw === undefined ? undefined : raw * displayScale(result.headlineMetric),
      params: result.trainableParams.formula,
      adapterDir: existsSync(join(adapter, 'adapter_model.safetensors')) ? adapter : undefined,
    };
    if (result.method === 'lora' && Array.isArray(mc.targets)) {
      run.set = setKey(mc.targets as string[]);
      run.r = num(mc.r);
      run.alpha = num(mc.alpha);
    }
    if (result.method === 'intrinsic') run.dim = num(mc.dim);
    out.push(run);
  }
  return out.sort((a, b) => a.task.localeCompare(b.task) || a.seed - b.seed);
}

export interface Agg {
  mean: number | undefined;
  std: number | undefined;
  /** Finished runs with a score, and the ids of every run of the cell. */
  n: number;
  values: number[];
  seeds: number[];
  runIds: string[];
}

export function aggregateRuns(runs: readonly ScoredRun[]): Agg {
  const scored = runs.filter((r) => r.score !== undefined);
  const values = scored.map((r) => r.score as number);
  return {
    mean: values.length > 0 ? mean(values) : undefined,
    std: sampleStd(values),
    n: values.length,
    values,
    seeds: scored.map((r) => r.seed),
    runIds: runs.map((r) => r.runId),
  };
}

/** "71.3 ± 0.8 (3)", "68.0 (1)", "—". */
export function aggText(a: Pick<Agg, 'mean' | 'std' | 'n'>, decimals = 1): string {
  if (a.mean === undefined) return '—';
  return `${a.mean.toFixed(decimals)}${a.std !== undefined ? ` ± ${a.std.toFixed(decimals)}` : ''}`;
}

/** One hash per file and process: every run of a profile starts from the same few weight files. */
const hashes = new Map<string, string>();
function sha256Of(file: string): string {
  let h = hashes.get(file);
  if (h === undefined) {
    h = createHash('sha256').update(readFileSync(file)).digest('hex');
    hashes.set(file, h);
  }
  return h;
}

/**
 * The directory of the pre-trained weights a run started from: the path its provenance records
 * (`<dir> (model.safetensors sha256:…)`), checked against that hash so Table 7 never compares ΔW
 * with another W. Undefined, with the reason, when it is not here.
 */
export function baseModelDir(result: RunResult): { dir: string } | { reason: string } {
  const m = /^(.*?) \(model\.safetensors sha256:([0-9a-f]{64})\)$/.exec(result.provenance.model);
  const dir = m?.[1] ?? result.provenance.model;
  const file = join(dir, 'model.safetensors');
  if (!existsSync(dir) || !statSync(dir).isDirectory() || !existsSync(file)) return { reason: `the pre-trained weights of run ${result.runId} (${result.provenance.model}) are not on this machine` };
  if (m !== null) {
    const sha = sha256Of(file);
    if (sha !== m[2]) return { reason: `${file} is not the file run ${result.runId} started from (sha256 ${sha.slice(0, 12)}…, the run recorded ${m[2].slice(0, 12)}…)` };
  }
  return { dir };
}

/**
 * The model config (d_model, layers, …) the run trained: the one it recorded (`modelConfig`); for
 * results older than that, the config.json of the weights it started from, when they are here.
 */
export function baseModelConfig(result: RunResult): ModelConfig | undefined {
  if (result.modelConfig !== undefined) return parseHfConfig(result.modelConfig, `modelConfig of run ${result.runId}`);
  const b = baseModelDir(result);
  if (!('dir' in b) || !existsSync(join(b.dir, 'config.json'))) return undefined;
  return parseHfConfig(JSON.parse(readFileSync(join(b.dir, 'config.json'), 'utf8')), join(b.dir, 'config.json'));
}

/** What the run reports, in words for captions ("final epoch on test", "held-out-chosen epoch on dev"). */
export function reportedWords(result: RunResult): string {
  const r = reportedOf(result);
  return r.checkpoint === 'final' ? `the final checkpoint on ${r.split}` : `the epoch chosen on ${r.selectedOn === 'heldout' ? `${r.heldoutSize ?? ''} held-out training examples` : 'dev'}, scored on ${r.split}`;
}
