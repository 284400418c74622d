/**
 * `lora-repro analyze intrinsic`: intrinsic.{json,md,tex,csv}, one chart per task (score against d
 * on a log axis, with the 100% and 90% lines, d_int90, LoRA's counts at r = 1…64 and, if read,
 * LoRA's scores at those counts) and the page intrinsic.html, in the profile folder.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { formatCount, formatDint } from '../analysis/intrinsic-dim.ts';
import { UserError } from '../util/errors.ts';
import type { ChartEntry } from './charts/build.ts';
import { buildIntrinsic, DINT_FRACTION, intrinsicCaption, intrinsicFindings, intrinsicCsv, intrinsicMarkdown, intrinsicTables, type IntrinsicModel, type IntrinsicTask } from './intrinsic.ts';
import type { ResultsFolder } from './results.ts';
import { taskCaption, taskName, texTables } from './section7-format.ts';
import { studyPageHtml } from './section7-html.ts';
import { emitChart, writeStudyFiles, type WrittenStudy } from './section7-page.ts';
import { scoredRuns, type ScoredRun } from './section7-runs.ts';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

function intrinsicSpec(m: IntrinsicModel, t: IntrinsicTask, runs: readonly ScoredRun[]): TopLevelSpec {
  const x = { field: 'x', type: 'quantitative', scale: { type: 'log' }, title: 'trainable parameters: subspace dimension d (intrinsic) or LoRA count (W_q+W_v)' };
  const y = { field: 'y', type: 'quantitative', scale: { zero: false }, title: `${t.info.metric} (×100)` };
  const mean = t.points.filter((p) => p.mean !== undefined).map((p) => ({ x: p.d, y: p.mean, lo: p.mean! - (p.std ?? 0), hi: p.mean! + (p.std ?? 0), what: 'intrinsic (mean ± std)' }));
  const seeds = runs.filter((r) => r.task === t.info.task && r.method === 'intrinsic' && r.score !== undefined).map((r) => ({ x: r.dim, y: r.score, seed: r.seed }));
  const lora = t.lora.filter((p) => p.mean !== undefined).map((p) => ({ x: p.params, y: p.mean, lo: p.mean! - (p.std ?? 0), hi: p.mean! + (p.std ?? 0), what: `LoRA W_q+W_v (mean ± std)`, r: p.r }));
  const lines = t.ft.mean === undefined ? [] : [{ y: t.ft.mean, label: 'full fine-tuning (100%)' }, { y: t.threshold!, label: `${DINT_FRACTION * 100}% of full fine-tuning` }];
  if (t.baseline !== undefined && t.gainThreshold !== undefined) lines.push({ y: t.baseline, label: 'untrained baseline' }, { y: t.gainThreshold, label: `baseline + ${DINT_FRACTION * 100}% of the gain` });
  const ys = [...mean.flatMap((p) => [p.lo, p.hi]), ...lora.flatMap((p) => [p.lo, p.hi]), ...lines.map((l) => l.y), ...seeds.map((s) => s.y as number)];
  const top = Math.max(...ys);
  const xs = [...mean.map((p) => p.x), ...lora.map((p) => p.x as number), ...t.loraCounts.map((c) => c.params)];
  const color = { field: 'what', type: 'nominal', title: null, legend: { labelLimit: 400 }, scale: { domain: ['intrinsic (mean ± std)', 'LoRA W_q+W_v (mean ± std)'], range: ['#1f77b4', '#d62728'] } };
  const layers: unknown[] = [
    { data: { values: t.loraCounts.map((c) => ({ x: c.params, label: `r=${c.r}`, y: top })) }, mark: { type: 'rule', color: '#d62728', opacity: 0.25, strokeDash: [2, 2] }, encoding: { x } },
    { data: { values: t.loraCounts.map((c) => ({ x: c.params, label: `r=${c.r}`, y: top })) }, mark: { type: 'text', color: '#d62728', dy: -6, fontSize: 9 }, encoding: { x, y, text: { field: 'label' } } },
    { data: { values: lines }, mark: { type: 'rule', strokeDash: [6, 3], color: '#444' }, encoding: { y } },
    // The papers' two lines labelled at the left end, the baseline's two at the right: close lines stay legible.
    { data: { values: lines.slice(0, 2).map((l) => ({ ...l, x: Math.min(...xs) })) }, mark: { type: 'text', align: 'left', dy: -5, fontSize: 9, color: '#444' }, encoding: { x, y, text: { field: 'label' } } },
    { data: { values: lines.slice(2).map((l) => ({ ...l, x: Math.max(...xs) })) }, mark: { type: 'text', align: 'right', dy: -5, fontSize: 9, color: '#444' }, encoding: { x, y, text: { field: 'label' } } },
    { data: { values: seeds }, mark: { type: 'point', size: 18, color: '#1f77b4', opacity: 0.45 }, encoding: { x, y, tooltip: [{ field: 'seed' }, { field: 'x', title: 'd' }, { field: 'y', format: '.2f' }] } },
    { data: { values: [...mean, ...lora] }, mark: { type: 'rule', strokeWidth: 2 }, encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, color } },
    { data: { values: [...mean, ...lora] }, mark: { type: 'line', point: true }, encoding: { x, y, color, tooltip: [{ field: 'what' }, { field: 'x', title: 'params' }, { field: 'y', format: '.2f' }] } },
  ];
  const marks = [
    ...(t.dint?.kind === 'crossed' ? [{ x: t.dint.d, y: t.threshold, label: `d_int90 ≈ ${formatCount(t.dint.d)}` }] : []),
    ...(t.dintGain?.kind === 'crossed' ? [{ x: t.dintGain.d, y: t.gainThreshold, label: `d_int90 of the gain ≈ ${formatCount(t.dintGain.d)}` }] : []),
  ];
  if (marks.length > 0) {
    layers.push({ data: { values: marks }, mark: { type: 'point', shape: 'diamond', size: 120, color: 'black', filled: true }, encoding: { x, y } });
    layers.push({ data: { values: marks }, mark: { type: 'text', dy: 14, fontSize: 10 }, encoding: { x, y, text: { field: 'label' } } });
  }
  const dint = t.dint === undefined ? 'no 100% line' : `d_int90 ${formatDint(t.dint)}${t.dintGain !== undefined ? `; of the gain over the baseline ${formatDint(t.dintGain)}` : ''}`;
  return {
    $schema: SCHEMA,
    title: { text: `Intrinsic dimension, ${taskName(t.info.task)}: score against d beside LoRA's counts (${dint})`, subtitle: [taskCaption(m.profile, t.info)], anchor: 'start', subtitleFontSize: 10 },
    width: 560,
    height: 300,
    layer: layers,
  } as unknown as TopLevelSpec;
}

/** Writes into `out` (default: the runs' profile folder), as writeSection7. */
export async function writeIntrinsic(folder: ResultsFolder, lora: { folder: ResultsFolder } | undefined, out?: string): Promise<WrittenStudy<IntrinsicModel>> {
  const outDir = out ?? folder.dir;
  mkdirSync(outDir, { recursive: true });
  const runs = scoredRuns(folder, 'intrinsic');
  if (!runs.some((r) => r.method === 'intrinsic')) {
    throw new UserError(`${folder.dir}: no runs of experiment 'intrinsic'; run 'lora-repro run experiments/intrinsic.yaml --profile ${folder.profile} --results ${join(folder.dir, '..')}' first (or make intrinsic)`);
  }
  const loraRuns = lora === undefined ? undefined : scoredRuns(lora.folder, 'section7');
  const model = buildIntrinsic(folder.profile, runs, loraRuns, lora === undefined ? undefined : `${lora.folder.dir} (experiment section7)`);
  const files = writeStudyFiles(outDir, 'intrinsic', {
    json: JSON.stringify(model, null, 1) + '\n',
    md: intrinsicMarkdown(model),
    tex: texTables(intrinsicCaption(model), intrinsicTables(model)),
    csv: intrinsicCsv(model),
  });
  const charts: ChartEntry[] = [];
  for (const t of model.tasks) {
    if (t.points.every((p) => p.mean === undefined)) continue;
    await emitChart(outDir, charts, 'intrinsic dimension', `intrinsic-${t.info.task}`, `Intrinsic dimension: ${taskName(t.info.task)}`, intrinsicSpec(model, t, runs));
  }
  files.push(
    ...writeStudyFiles(outDir, 'intrinsic', {
      html: studyPageHtml({
        title: `Intrinsic dimension from our runs: profile “${folder.profile}”`,
        caption: intrinsicCaption(model),
        tables: intrinsicTables(model),
        charts,
        closing: { heading: 'The papers’ finding beside ours', items: [intrinsicFindings(model)] },
        notes: [...model.notes, ...folder.notes],
        generatedAt: model.generatedAt,
      }),
    }),
  );
  return { model, files, charts };
}
