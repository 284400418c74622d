/**
 * The intrinsic-dimension page's model (`lora-repro analyze intrinsic`, intrinsic.json): per task,
 * the score of subspace fine-tuning at each d (mean ± sample std over seeds), full fine-tuning's
 * score as the 100% line, d_int90 (analysis/intrinsic-dim.ts) of the mean curve and of each seed's
 * curve (against the same line), and LoRA's trainable counts at r = 1…64 (W_q+W_v, the method's
 * formula on the run's model) with, when a section7 results folder is given, LoRA's scores there.
 */
import { formatCount, formatDint, intrinsicDimension, type Dint } from '../analysis/intrinsic-dim.ts';
import { loraCount } from '../analysis/section7.ts';
import { median } from './aggregate.ts';
import { taskCaption, taskName, type PlainTable } from './section7-format.ts';
import { aggregateRuns, aggText, baseModelConfig, reportedWords, type Agg, type ScoredRun } from './section7-runs.ts';
import type { TaskInfo } from './section7.ts';

export const LORA_RANKS = [1, 2, 4, 8, 16, 32, 64] as const;
export const DINT_FRACTION = 0.9;

export interface IntrinsicTask {
  info: TaskInfo;
  ft: Agg;
  /** DINT_FRACTION × the FT mean. */
  threshold: number | undefined;
  points: (Agg & { d: number })[];
  dint: Dint | undefined;
  perSeed: { seed: number; dint: Dint }[];
  /** Median, min and max of the seeds' crossings (seeds that do not cross on the grid are listed, not averaged). */
  seedSpread: { median: number; min: number; max: number; crossed: number; of: number } | undefined;
  loraCounts: { r: number; params: number }[];
  lora: (Agg & { r: number; params: number })[];
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
    const perSeed =
      threshold === undefined
        ? []
        : seeds.map((seed) => ({ seed, dint: intrinsicDimension(scored.filter((r) => r.seed === seed).map((r) => ({ d: r.dim as number, score: r.score as number })), threshold) }));
    const crossed = perSeed.filter((s) => s.dint.kind === 'crossed').map((s) => s.dint.d);
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
      seedSpread: crossed.length === 0 ? undefined : { median: median(crossed), min: Math.min(...crossed), max: Math.max(...crossed), crossed: crossed.length, of: perSeed.length },
      loraCounts,
      lora: [...new Set(lora.map((r) => r.r as number))].sort((a, b) => a - b).map((r) => {
        const cell = lora.filter((x) => x.r === r);
        return { r, params: cell[0].params, ...aggregateRuns(cell) };
      }),
    });
  }
  return { schema: 1, kind: 'intrinsic', profile, generatedAt: new Date().toISOString(), tasks, loraSource, notes };
}

export function dintText(t: IntrinsicTask): string {
  if (t.dint === undefined) return '—';
  const spread = t.seedSpread === undefined ? '' : `; seeds: median ${formatCount(t.seedSpread.median)}, range ${formatCount(t.seedSpread.min)}–${formatCount(t.seedSpread.max)} (${t.seedSpread.crossed} of ${t.seedSpread.of} cross)`;
  const others = t.perSeed.filter((s) => s.dint.kind !== 'crossed').map((s) => `seed ${s.seed}: ${formatDint(s.dint)}`);
  return `${formatDint(t.dint)}${spread}${others.length > 0 ? `; ${others.join(', ')}` : ''}`;
}

export function intrinsicCaption(m: IntrinsicModel): string {
  const scale = m.profile === 'paper' ? '' : ' A scaled-down stand-in: not the papers’ models or numbers (Aghajanyan et al.: d_int90 ≈ 200 for RoBERTa-large on MRPC).';
  return (
    `Intrinsic dimension from our runs, ${m.tasks.map((t) => taskCaption(m.profile, t.info)).join('; ')}. Fine-tuning in a random d-dimensional subspace θ = θ₀ + P·z (Fastfood P over every block's linear layers; the task head trains in full and is not counted in d), ` +
    `mean ± sample std over seeds; the 100% line is full fine-tuning's mean score, d_int90 the smallest d reaching ${DINT_FRACTION * 100}% of it, interpolated linearly in log d. ` +
    `LoRA's trainable counts are W_q+W_v at r = ${LORA_RANKS.join(', ')}${m.loraSource ? `, its scores from ${m.loraSource}` : ''}.${scale}`
  );
}

export function intrinsicTables(m: IntrinsicModel): PlainTable[] {
  const summary: PlainTable = {
    title: `d_int90: the smallest d reaching ${DINT_FRACTION * 100}% of full fine-tuning`,
    head: ['task', 'model', 'FT (100%)', `${DINT_FRACTION * 100}% line`, 'd_int90 (mean curve; seed spread)', ...LORA_RANKS.map((r) => `LoRA r=${r}`)],
    rows: m.tasks.map((t) => [
      taskName(t.info.task),
      t.info.model,
      `${aggText(t.ft, 2)} (${t.ft.n})`,
      t.threshold === undefined ? '—' : t.threshold.toFixed(2),
      dintText(t),
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
  const line = (c: string[]) => `| ${c.join(' | ')} |`;
  const parts = [`# Intrinsic dimension from our runs (profile ${m.profile})`, '', intrinsicCaption(m), ''];
  for (const t of intrinsicTables(m)) parts.push(`## ${t.title}`, '', line(t.head), line(t.head.map((_, i) => (i === 0 ? '---' : '---:'))), ...t.rows.map(line), '');
  if (m.notes.length > 0) parts.push('Notes:', '', ...m.notes.map((n) => `- ${n}`), '');
  return parts.join('\n');
}

export function intrinsicCsv(m: IntrinsicModel): string {
  const lines = ['task,model,kind,d_or_params,r,mean,std,n,run_ids'];
  for (const t of m.tasks) {
    lines.push([t.info.task, t.info.model, 'ft', '', '', t.ft.mean ?? '', t.ft.std ?? '', t.ft.n, t.ft.runIds.join(' ')].join(','));
    for (const p of t.points) lines.push([t.info.task, t.info.model, 'intrinsic', p.d, '', p.mean ?? '', p.std ?? '', p.n, p.runIds.join(' ')].join(','));
    for (const s of t.perSeed) lines.push([t.info.task, t.info.model, `dint90 seed ${s.seed} (${s.dint.kind})`, s.dint.d, '', '', '', 1, ''].join(','));
    if (t.dint !== undefined) lines.push([t.info.task, t.info.model, `dint90 mean curve (${t.dint.kind})`, t.dint.d, '', '', '', t.perSeed.length, ''].join(','));
    for (const c of t.loraCounts) {
      const s = t.lora.find((x) => x.r === c.r);
      lines.push([t.info.task, t.info.model, 'lora q+v', c.params, c.r, s?.mean ?? '', s?.std ?? '', s?.n ?? 0, s?.runIds.join(' ') ?? ''].join(','));
    }
  }
  return lines.join('\n') + '\n';
}
