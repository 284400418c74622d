/**
 * The intrinsic-dimension page's model (`lora-repro analyze intrinsic`, intrinsic.json): per task,
 * the score of subspace fine-tuning at each d (mean ± sample std over seeds), full fine-tuning's
 * score as the 100% line, d_int90 (analysis/intrinsic-dim.ts) of the mean curve and of each seed's
 * curve (against the same line), and LoRA's trainable counts at r = 1…64 (W_q+W_v, the method's
 * formula on the run's model) with, when a section7 results folder is given, LoRA's scores there.
 *
 * Beside the papers' d_int90 (90% of full fine-tuning's score) we read a second one, 90% of its
 * gain over the untrained baseline the runs record (majority class, copy input: eval/baselines.ts):
 * where the trained task head alone already reaches 90% of the score (the mini stand-ins on SST-2),
 * the first says only "≤ the smallest d", the second still measures how many directions the rest
 * of the improvement needs. Both are printed, each named.
 */
import { formatCount, formatDint, intrinsicDimension, type Dint } from '../analysis/intrinsic-dim.ts';
import { loraCount } from '../analysis/section7.ts';
import { mean, median } from '../util/stats.ts';
import { csvLine } from '../util/csv.ts';
import { mdTable, taskCaption, taskName, type PlainTable } from './section7-format.ts';
import { aggregateRuns, aggText, baseModelConfig, displayScale, reportedWords, type Agg, type ScoredRun } from './section7-runs.ts';
import type { TaskInfo } from './section7.ts';

const LORA_RANKS = [1, 2, 4, 8, 16, 32, 64] as const;
export const DINT_FRACTION = 0.9;

export interface IntrinsicTask {
  info: TaskInfo;
  ft: Agg;
  /** DINT_FRACTION × the FT mean. */
  threshold: number | undefined;
  points: (Agg & { d: number })[];
  dint: Dint | undefined;
  perSeed: { seed: number; dint: Dint }[];
  /** The untrained baseline's score (mean over the runs that record one), its 90%-of-gain line and crossing. */
  baseline: number | undefined;
  gainThreshold: number | undefined;
  dintGain: Dint | undefined;
  perSeedGain: { seed: number; dint: Dint }[];
  /** Median, min and max of the seeds' crossings (seeds that do not cross on the grid are listed, not averaged). */
  seedSpread: { median: number; min: number; max: number; crossed: number; of: number } | undefined;
  loraCounts: { r: number; params: number }[];
  lora: (Agg & { r: number; params: number })[];
  /** D, when the model's config is here. */
  projected: number | undefined;
}

/** D: the size of what the subspace moves (every block's linear weights and biases, intrinsic.ts). */
export function projectedSize(c: { hidden: number; intermediate: number; layers: number }): number {
  const d = c.hidden;
  const f = c.intermediate;
  return c.layers * (4 * (d * d + d) + (d * f + f) + (f * d + d));
}

export interface IntrinsicModel {
  schema: 1;
  kind: 'intrinsic';
  profile: string;
  generatedAt: string;
  tasks: IntrinsicTask[];
  /** Where LoRA's scores came from, when they were read. */
  loraSource: string | undefined;
  notes: string[];
}

function info(runs: ScoredRun[], seeds: number[]): TaskInfo {
  const r0 = runs[0];
  return { task: r0.task, model: r0.model, metric: r0.metric, seeds, reported: reportedWords(r0.result), trainExamples: r0.result.schedule?.trainExamples };
}

export function buildIntrinsic(profile: string, runs: readonly ScoredRun[], loraRuns: readonly ScoredRun[] | undefined, loraSource: string | undefined): IntrinsicModel {
  const notes: string[] = [];
  const tasks: IntrinsicTask[] = [];
  for (const task of [...new Set(runs.filter((r) => r.method === 'intrinsic').map((r) => r.task))]) {
    const mine = runs.filter((r) => r.task === task);
    const sub = mine.filter((r) => r.method === 'intrinsic' && r.dim !== undefined);
    const ft = aggregateRuns(mine.filter((r) => r.method === 'ft'));
    const threshold = ft.mean === undefined ? undefined : DINT_FRACTION * ft.mean;
    if (threshold === undefined) notes.push(`${taskName(task)}: no finished full fine-tuning run, so no 100% line and no d_int90`);
    const dims = [...new Set(sub.map((r) => r.dim as number))].sort((a, b) => a - b);
    const points = dims.map((d) => ({ d, ...aggregateRuns(sub.filter((r) => r.dim === d)) }));
    const scored = sub.filter((r) => r.score !== undefined);
    const seeds = [...new Set(scored.map((r) => r.seed))].sort((a, b) => a - b);
    const seedCurves = (line: number | undefined) =>
      line === undefined ? [] : seeds.map((seed) => ({ seed, dint: intrinsicDimension(scored.filter((r) => r.seed === seed).map((r) => ({ d: r.dim as number, score: r.score as number })), line) }));
    const perSeed = seedCurves(threshold);
    const base = mine.map((r) => r.result.baseline?.metrics[r.metric]).filter((x): x is number => x !== undefined);
    const baseline = base.length > 0 ? mean(base) * displayScale(mine[0].metric) : undefined;
    const gainThreshold = baseline === undefined || ft.mean === undefined ? undefined : baseline + DINT_FRACTION * (ft.mean - baseline);
    const meanCurve = points.filter((p) => p.mean !== undefined).map((p) => ({ d: p.d, score: p.mean as number }));
    const config = mine.map((r) => baseModelConfig(r.result)).find((c) => c !== undefined);
    if (config === undefined) notes.push(`${taskName(task)}: the model's config.json is not on this machine: LoRA's counts are not marked`);
    const loraCounts = config === undefined ? [] : LORA_RANKS.map((r) => ({ r, params: loraCount(config, ['q', 'v'], r) }));
    const lora = (loraRuns ?? []).filter((r) => r.task === task && r.model === mine[0].model && r.set === 'q+v' && r.r !== undefined);
    tasks.push({
      info: info(mine, [...new Set(mine.filter((r) => r.score !== undefined).map((r) => r.seed))].sort((a, b) => a - b)),
      ft,
      threshold,
      points,
      dint: threshold === undefined || meanCurve.length === 0 ? undefined : intrinsicDimension(meanCurve, threshold),
      perSeed,
      baseline,
      gainThreshold,
      dintGain: gainThreshold === undefined || meanCurve.length === 0 ? undefined : intrinsicDimension(meanCurve, gainThreshold),
      perSeedGain: seedCurves(gainThreshold),
      seedSpread: spreadOf(perSeed),
      loraCounts,
      projected: config === undefined ? undefined : projectedSize(config),
      lora: [...new Set(lora.map((r) => r.r as number))].sort((a, b) => a - b).map((r) => {
        const cell = lora.filter((x) => x.r === r);
        return { r, params: cell[0].params, ...aggregateRuns(cell) };
      }),
    });
  }
  return { schema: 1, kind: 'intrinsic', profile, generatedAt: new Date().toISOString(), tasks, loraSource, notes };
}

/** Median and range of the seeds' crossings (seeds that do not cross on the grid are listed, not averaged). */
function spreadOf(perSeed: { seed: number; dint: Dint }[]): IntrinsicTask['seedSpread'] {
  const crossed = perSeed.filter((s) => s.dint.kind === 'crossed').map((s) => s.dint.d);
  return crossed.length === 0 ? undefined : { median: median(crossed), min: Math.min(...crossed), max: Math.max(...crossed), crossed: crossed.length, of: perSeed.length };
}

/** "97; seeds: median 108, range 62–154 (2 of 2 cross)", for the papers' d_int90 or (gain) ours. */
export function dintText(t: IntrinsicTask, which: 'score' | 'gain' = 'score'): string {
  const dint = which === 'score' ? t.dint : t.dintGain;
  const perSeed = which === 'score' ? t.perSeed : t.perSeedGain;
  if (dint === undefined) return '—';
  const s = spreadOf(perSeed);
  const spread = s === undefined ? '' : `; seeds: median ${formatCount(s.median)}, range ${formatCount(s.min)}–${formatCount(s.max)} (${s.crossed} of ${s.of} cross)`;
  const others = perSeed.filter((x) => x.dint.kind !== 'crossed').map((x) => `seed ${x.seed}: ${formatDint(x.dint)}`);
  return `${formatDint(dint)}${spread}${others.length > 0 ? `; ${others.join(', ')}` : ''}`;
}

/** The papers' finding beside ours, one line per task (the page's closing note). */
export function intrinsicFindings(m: IntrinsicModel): { head: string; lines: string[] } {
  const lines = m.tasks.map((t) => {
    const D = t.projected === undefined ? '' : ` of D = ${formatCount(t.projected)} projected parameters`;
    const r1 = t.loraCounts.find((c) => c.r === 1);
    const lora = r1 === undefined ? '' : `; LoRA W_q+W_v trains ${formatCount(r1.params)} at r = 1`;
    const gain = t.dintGain === undefined ? '' : `; 90% of the gain over the untrained baseline needs d ${formatDint(t.dintGain)}`;
    const head = t.dint?.kind === 'at-most' ? ' (the trained head with the smallest subspace already reaches it)' : '';
    return `${taskName(t.info.task)}: d_int90 ${t.dint === undefined ? '— (no full fine-tuning run)' : formatDint(t.dint)}${D}${head}${gain}${lora}.`;
  });
  return { head: 'Papers (Li et al. 2018; Aghajanyan et al. 2020): fine-tuning has a low intrinsic dimension, 90% of full fine-tuning within a random subspace of d ≪ D (RoBERTa-large on MRPC: d ≈ 200 of 355M); LoRA (Section 4) builds on it.', lines };
}

export function intrinsicCaption(m: IntrinsicModel): string {
  const scale = m.profile === 'paper' ? '' : ' A scaled-down stand-in: not the papers’ models or numbers (Aghajanyan et al.: d_int90 ≈ 200 for RoBERTa-large on MRPC).';
  return (
    `Intrinsic dimension from our runs, ${m.tasks.map((t) => taskCaption(m.profile, t.info)).join('; ')}. Fine-tuning in a random d-dimensional subspace θ = θ₀ + P·z (Fastfood P over every block's linear layers; the task head trains in full and is not counted in d), ` +
    `mean ± sample std over seeds; the 100% line is full fine-tuning's mean score, d_int90 the smallest d reaching ${DINT_FRACTION * 100}% of it (the papers' definition), interpolated linearly in log d; "d_int90 of the gain" the smallest d reaching the untrained baseline (majority class / copy input) plus ${DINT_FRACTION * 100}% of full fine-tuning's gain over it. ` +
    `LoRA's trainable counts are W_q+W_v at r = ${LORA_RANKS.join(', ')}${m.loraSource ? `, its scores from ${m.loraSource}` : ''}.${scale}`
  );
}

export function intrinsicTables(m: IntrinsicModel): PlainTable[] {
  const summary: PlainTable = {
    title: `d_int90: the smallest d reaching ${DINT_FRACTION * 100}% of full fine-tuning`,
    head: ['task', 'model', 'FT (100%)', `${DINT_FRACTION * 100}% line`, 'd_int90 (mean curve; seed spread)', 'untrained baseline', `${DINT_FRACTION * 100}% of the gain`, 'd_int90 of the gain', ...LORA_RANKS.map((r) => `LoRA r=${r}`)],
    rows: m.tasks.map((t) => [
      taskName(t.info.task),
      t.info.model,
      `${aggText(t.ft, 2)} (${t.ft.n})`,
      t.threshold === undefined ? '—' : t.threshold.toFixed(2),
      dintText(t),
      t.baseline === undefined ? '—' : t.baseline.toFixed(2),
      t.gainThreshold === undefined ? '—' : t.gainThreshold.toFixed(2),
      dintText(t, 'gain'),
      ...LORA_RANKS.map((r) => {
        const c = t.loraCounts.find((x) => x.r === r);
        const s = t.lora.find((x) => x.r === r);
        return c === undefined ? '—' : `${formatCount(c.params)}${s?.mean !== undefined ? `: ${aggText(s)}` : ''}`;
      }),
    ]),
  };
  const curve: PlainTable = {
    title: 'Score against the subspace dimension d (mean ± std over seeds; % of full fine-tuning)',
    head: ['task', 'd', 'score', 'n', '% of FT', 'runs'],
    rows: m.tasks.flatMap((t) =>
      t.points.map((p) => [taskName(t.info.task), p.d.toLocaleString('en-US'), aggText(p, 2), String(p.n), p.mean !== undefined && t.ft.mean !== undefined ? `${((100 * p.mean) / t.ft.mean).toFixed(1)}%` : '—', p.runIds.join(' ')]),
    ),
  };
  return [summary, curve];
}

export function intrinsicMarkdown(m: IntrinsicModel): string {
  const parts = [`# Intrinsic dimension from our runs (profile ${m.profile})`, '', intrinsicCaption(m), ''];
  for (const t of intrinsicTables(m)) parts.push(`## ${t.title}`, '', mdTable(t.head, t.rows), '');
  const f = intrinsicFindings(m);
  parts.push('## The papers’ finding beside ours', '', `- ${f.head}`, ...f.lines.map((l) => `  - ours: ${l}`), '');
  if (m.notes.length > 0) parts.push('Notes:', '', ...m.notes.map((n) => `- ${n}`), '');
  return parts.join('\n');
}

export function intrinsicCsv(m: IntrinsicModel): string {
  const lines = ['task,model,kind,d_or_params,r,mean,std,n,run_ids'];
  const row = (...c: (string | number | null | undefined)[]): string => csvLine(c.map((x) => (x === undefined || x === null ? '' : String(x))));
  for (const t of m.tasks) {
    lines.push(row(t.info.task, t.info.model, 'ft', '', '', t.ft.mean ?? '', t.ft.std ?? '', t.ft.n, t.ft.runIds.join(' ')));
    for (const p of t.points) lines.push(row(t.info.task, t.info.model, 'intrinsic', p.d, '', p.mean ?? '', p.std ?? '', p.n, p.runIds.join(' ')));
    for (const s of t.perSeed) lines.push(row(t.info.task, t.info.model, `dint90 seed ${s.seed} (${s.dint.kind})`, s.dint.d, '', '', '', 1, ''));
    if (t.dint !== undefined) lines.push(row(t.info.task, t.info.model, `dint90 mean curve (${t.dint.kind})`, t.dint.d, '', '', '', t.perSeed.length, ''));
    for (const s of t.perSeedGain) lines.push(row(t.info.task, t.info.model, `dint90 of the gain seed ${s.seed} (${s.dint.kind})`, s.dint.d, '', '', '', 1, ''));
    if (t.dintGain !== undefined) lines.push(row(t.info.task, t.info.model, `dint90 of the gain mean curve (${t.dintGain.kind})`, t.dintGain.d, '', '', '', t.perSeedGain.length, ''));
    if (t.baseline !== undefined) lines.push(row(t.info.task, t.info.model, 'untrained baseline', '', '', t.baseline, '', '', ''));
    for (const c of t.loraCounts) {
      const s = t.lora.find((x) => x.r === c.r);
      lines.push(row(t.info.task, t.info.model, 'lora q+v', c.params, c.r, s?.mean ?? '', s?.std ?? '', s?.n ?? 0, s?.runIds.join(' ') ?? ''));
    }
  }
  return lines.join('\n') + '\n';
}
