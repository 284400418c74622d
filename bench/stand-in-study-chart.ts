/**
 * The chart and the text table of the stand-in study (stand-in-study-data.ts): fine-tuned score
 * against pretraining compute, one panel per task, one line per (method, learning rate) and
 * pretraining run (the colour: method, and the architecture when the study has several), and
 * below it the held-out pretraining loss at each point. Rendered by the project's own chart code
 * (src/report/charts/render.ts: SVG + PNG + the vega-lite spec).
 *
 * The x axis is CPU time (step × the run's own ms/step), not tokens: a token costs a d-256 model
 * several times what it costs the d-128 one, and the study asks what an hour of CPU buys.
 */
import type { TopLevelSpec } from 'vega-lite';
import { archLabel, completeArchitecture } from '../src/pretrain/architecture.ts';
import { writeChart, type WrittenChart } from '../src/report/charts/render.ts';
import { optionsLabel } from '../src/pretrain/pretrain-options.ts';
import type { Study, StudyPoint, StudyRun } from './stand-in-study-data.ts';

export const CHART_NAME = 'stand-in-study';

/** Scores are shown ×100 (accuracy in %, correlations ×100), as GLUE tables give them. */
const SCALE = 100;

const KIND = { snapshot: 'snapshot (mid-run)', final: 'final step (annealed)' } as const;

const shortKey = (p: Pick<StudyPoint, 'family' | 'key'>): string => `${p.family}-${p.key.slice(0, 8)}`;
/** The corpus extra / objective where not the default (`+wordnet`, `obj mlm`), after the key in the table and legend. */
const variantOf = (p: StudyPoint): string => [p.corpusExtra === undefined ? '' : `+${p.corpusExtra}`, p.objective === undefined ? '' : `obj ${p.objective}`].filter((x) => x !== '').join(', ');
const keyWithVariant = (p: StudyPoint): string => `${shortKey(p)}${variantOf(p) === '' ? '' : ` (${variantOf(p)})`}`;
const cpuMinutes = (p: StudyPoint): number => p.cpuSeconds / 60;
/** The x value: three significant digits (a fixed decimal would round a short run's minutes to 0, off a log axis). */
const plotMinutes = (p: StudyPoint): number => Number(cpuMinutes(p).toPrecision(3));
const fmtTokens = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(n >= 1e7 ? 1 : 2)}M` : `${(n / 1e3).toFixed(0)}k`);
/** `d128-l4`, and its parameter count when known: `d128-l4 (1.81M, 0.79M non-emb.)`. */
const archOf = (p: StudyPoint): string => archLabel(p);
/** What tells a run's points apart in the colour: the architecture, plus corpus / objective where not the default (`d128-l4 wordnet`). */
const shapeOf = (p: StudyPoint): string => `${archOf(p)}${optionsLabel(p) === '' ? '' : ` ${optionsLabel(p)}`}`;
const archWithParams = (p: StudyPoint): string =>
  `${archOf(p)}${p.params == null ? '' : ` (${fmtTokens(p.params)}${p.nonEmbeddingParams == null ? '' : `, ${fmtTokens(p.nonEmbeddingParams)} non-emb.`})`}`;
/** Subtitle lines of at most `width` characters, broken at spaces. */
function wrap(line: string, width: number): string[] {
  const out: string[] = [];
  let cur = '';
  for (const word of line.split(' ')) {
    if (cur !== '' && cur.length + 1 + word.length > width) {
      out.push(cur);
      cur = `  ${word}`;
    } else cur = cur === '' ? word : `${cur} ${word}`;
  }
  if (cur !== '') out.push(cur);
  return out;
}

const settingOf = (r: StudyRun): string => `${r.trainLimit ?? 'all'} train, ${r.epochs} ep, eval ${r.evalLimit ?? 'all'}`;

/**
 * How runs are told apart: `method` is the method, plus the learning rate when a method was run at
 * several (the table's columns); `colour` that plus the architecture when the study has several
 * (the chart's colour: one per architecture and method); `setting` the fine-tuning data setting,
 * only where a task has several (the line dash), per task because each task's whole dev split has
 * its own size.
 */
function labeller(study: Study): { method: (r: StudyRun) => string; colour: (r: StudyRun, p: StudyPoint) => string; colourTitle: string; setting: (r: StudyRun) => string; several: boolean } {
  const runs = study.points.flatMap((p) => p.runs);
  const archs = new Set(study.points.map(shapeOf));
  const lrs = new Map<string, Set<number>>();
  for (const r of runs) lrs.set(r.method, (lrs.get(r.method) ?? new Set()).add(r.lr));
  const settings = new Map<string, Set<string>>();
  for (const r of runs) settings.set(r.task, (settings.get(r.task) ?? new Set()).add(settingOf(r)));
  const several = [...settings.values()].some((v) => v.size > 1);
  const method = (r: StudyRun): string => `${r.method}${(lrs.get(r.method)?.size ?? 0) > 1 ? ` lr ${r.lr}` : ''}`;
  return {
    method,
    colour: (r, p) => `${method(r)}${archs.size > 1 ? ` · ${shapeOf(p)}` : ''}`,
    colourTitle: archs.size > 1 ? (study.points.some((p) => optionsLabel(p) !== '') ? 'method · pretraining' : 'method · architecture') : 'method',
    setting: (r) => ((settings.get(r.task)?.size ?? 0) > 1 ? settingOf(r) : 'study setting'),
    several,
  };
}

interface ScoreRow {
  panel: string;
  label: string;
  setting: string;
  dash: string;
  series: string;
  kind: string;
  tokens: number;
  cpuMinutes: number;
  heldOutLoss: number;
  step: string;
  pretraining: string;
  arch: string;
  value: number;
  seed: number;
  run: string;
}

export function scoreRows(study: Study): ScoreRow[] {
  const l = labeller(study);
  return study.points.flatMap((p) =>
    p.runs.map((r) => ({
      panel: `${r.task} (${r.metric} ×${SCALE})`,
      label: l.colour(r, p),
      setting: settingOf(r),
      dash: l.setting(r),
      series: `${shortKey(p)} ${l.colour(r, p)} ${settingOf(r)}`,
      kind: KIND[p.source],
      tokens: p.tokens,
      cpuMinutes: plotMinutes(p),
      heldOutLoss: Number(p.heldOutLoss.toFixed(3)),
      step: `${p.step} / ${p.totalSteps}`,
      pretraining: shortKey(p),
      arch: archWithParams(p),
      value: r.value * SCALE,
      seed: r.seed,
      run: r.run,
    })),
  );
}

/** One subtitle line per pretraining run: what its points are. */
function runLines(study: Study): string[] {
  const byKey = new Map<string, StudyPoint[]>();
  for (const p of study.points) byKey.set(shortKey(p), [...(byKey.get(shortKey(p)) ?? []), p]);
  return [...byKey.entries()].map(([k, ps]) => {
    const p = ps[ps.length - 1] as StudyPoint;
    const sched = `linear warm-up ${p.warmupSteps} steps, then linear decay to 0 at step ${p.totalSteps}${p.shortSeqSteps > 0 ? `; ${p.shortSeqLen}-token blocks until step ${p.shortSeqSteps}` : ''}`;
    const compute = ps.every((x) => x.cpuSecondsFrom === 'final-msPerStep') ? `CPU time = step × ${p.msPerStep?.toFixed(0)} ms/step of the finished run` : 'CPU time measured at each snapshot';
    const snaps = ps.filter((x) => !x.annealed).length;
    const a = completeArchitecture(p);
    return `${k}: ${archWithParams(p)}${variantOf(p) === '' ? '' : `, ${variantOf(p)}`}: d${a.hidden} × ${a.layers} layers, ${a.heads} heads, FFN ${a.intermediate}; batch ${p.batchSize} × ${p.seqLen}, seed ${p.seed}, corpus ${(p.corpusBytes / 2 ** 20).toFixed(0)} MiB; ${snaps > 0 ? `${snaps} snapshot${snaps > 1 ? 's' : ''} along one ${p.totalSteps}-step run (${sched}): points on the way, not separately annealed runs` : `one run of ${p.totalSteps} steps (${sched})`}; ${compute}`;
  });
}

export function studySpec(study: Study): TopLevelSpec {
  const rows = scoreRows(study);
  const l = labeller(study);
  const seeds = [...new Set(rows.map((r) => r.seed))].sort((a, b) => a - b);
  const points = study.points.map((p) => ({
    tokens: p.tokens,
    heldOutLoss: Number(p.heldOutLoss.toFixed(3)),
    series: shortKey(p),
    arch: archWithParams(p),
    archOnly: shapeOf(p),
    kind: KIND[p.source],
    text: `${p.heldOutLoss.toFixed(2)} · ${fmtTokens(p.tokens)} tok`,
    step: `${p.step} / ${p.totalSteps}`,
    cpuMinutes: plotMinutes(p),
  }));
  const axis = { format: '~g', labelOverlap: 'greedy' } as const;
  // One x domain for every panel (the facets and the loss panel would otherwise round theirs apart).
  const minutes = study.points.map(plotMinutes);
  const domain = minutes.length === 0 ? undefined : [Math.min(...minutes) / 1.25, Math.max(...minutes) * 1.25];
  const x = { field: 'cpuMinutes', type: 'quantitative', scale: { type: 'log', domain, nice: false }, axis, title: 'pretraining CPU-minutes (log)' } as const;
  const xLoss = { ...x, title: "pretraining compute: CPU-minutes (log scale; step × the run's ms/step, one process); tokens seen in the labels and tooltips" } as const;
  const shape = { field: 'kind', type: 'nominal', title: null, scale: { domain: [KIND.snapshot, KIND.final], range: ['circle', 'diamond'] } } as const;
  const width = 210;
  // More labels than the default scheme's 10 colours (methods × architectures, corpora, objectives) would repeat colours.
  const colourScale = new Set(rows.map((r) => r.label)).size > 10 ? { scale: { scheme: 'tableau20' } } : {};
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `Fine-tuned score against pretraining compute (profile ${study.profile}, stand-ins pretrained here)`,
      subtitle: [
        ...runLines(study),
        `Fine-tuning seeds: ${seeds.join(', ') || '—'}; lines join the mean over seeds along one pretraining run; scores on the dev split, best epoch.`,
        'Lower panel: held-out pretraining loss at each point (labels: loss · tokens seen); comparable only within one corpus.',
      ].flatMap((line) => wrap(line, 130)),
      anchor: 'start',
      subtitleFontSize: 11,
    },
    vconcat: [
      {
        data: { values: rows },
        facet: { column: { field: 'panel', type: 'nominal', title: null } },
        spec: {
          width,
          height: 200,
          layer: [
            {
              mark: { type: 'line', strokeWidth: 1.5 },
              encoding: {
                x,
                y: { aggregate: 'mean', field: 'value', type: 'quantitative', scale: { zero: false }, axis: { format: '.1f' }, title: 'fine-tuned score (dev)' },
                color: { field: 'label', type: 'nominal', title: l.colourTitle, ...colourScale },
                detail: { field: 'series', type: 'nominal' },
                ...(l.several ? { strokeDash: { field: 'dash', type: 'nominal', title: 'fine-tuning data' } } : {}),
              },
            },
            {
              mark: { type: 'point', filled: true, size: 60 },
              encoding: {
                x,
                y: { field: 'value', type: 'quantitative' },
                color: { field: 'label', type: 'nominal', title: l.colourTitle, ...colourScale },
                shape,
                tooltip: [
                  { field: 'label', title: l.colourTitle }, { field: 'setting', title: 'fine-tuning data' }, { field: 'seed' }, { field: 'value', format: '.1f', title: 'score' },
                  { field: 'pretraining' }, { field: 'arch', title: 'architecture' }, { field: 'step' }, { field: 'tokens', format: ',' }, { field: 'cpuMinutes', title: 'CPU-minutes' },
                  { field: 'heldOutLoss', title: 'held-out loss' }, { field: 'run' },
                ],
              },
            },
          ],
        },
        resolve: { scale: { y: 'independent' } },
      },
      {
        data: { values: points },
        // About the width of the panels above (each panel: its plot plus ~110 px of axis).
        width: (width + 110) * Math.max(1, new Set(rows.map((r) => r.panel)).size) - 110,
        height: 110,
        layer: [
          {
            mark: { type: 'line', color: '#777' },
            encoding: {
              x: xLoss, y: { field: 'heldOutLoss', type: 'quantitative', scale: { zero: false }, title: 'held-out loss' }, detail: { field: 'series', type: 'nominal' },
              ...(l.colourTitle === 'method' ? {} : { strokeDash: { field: 'archOnly', type: 'nominal', title: study.points.some((p) => optionsLabel(p) !== '') ? 'pretraining (loss)' : 'architecture (loss)' } }),
            },
          },
          {
            mark: { type: 'point', filled: true, color: '#444', size: 50 },
            encoding: { x: xLoss, y: { field: 'heldOutLoss', type: 'quantitative' }, shape, tooltip: [{ field: 'series', title: 'pretraining' }, { field: 'arch', title: 'architecture' }, { field: 'step' }, { field: 'tokens', format: ',' }, { field: 'heldOutLoss' }, { field: 'cpuMinutes', title: 'CPU-minutes' }] },
          },
          { mark: { type: 'text', dy: -10, fontSize: 10, color: '#333' }, encoding: { x: xLoss, y: { field: 'heldOutLoss', type: 'quantitative' }, text: { field: 'text' } } },
        ],
      },
    ],
    resolve: { scale: { color: 'shared', shape: 'shared' } },
    config: { legend: { labelLimit: 240, titleLimit: 240 } },
  } as TopLevelSpec;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: number[]): number => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));

/** A markdown table (one row per model point, one column per task and method label) and notes. */
export function studyTable(study: Study): string {
  const l = labeller(study);
  const col = (r: StudyRun): string => `${r.task} ${r.metric} ${l.method(r)}${l.setting(r) === 'study setting' ? '' : ` (${l.setting(r)})`}`;
  const columns = [...new Set(study.points.flatMap((p) => p.runs.map(col)))].sort();
  const head = ['pretraining', 'arch (params)', 'step / of', 'tokens', 'CPU-min', 'held-out loss', ...columns];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const p of study.points) {
    const cells = columns.map((c) => {
      const vs = p.runs.filter((r) => col(r) === c).map((r) => r.value * SCALE);
      if (vs.length === 0) return '—';
      return vs.length === 1 ? vs[0].toFixed(1) : `${mean(vs).toFixed(1)} ± ${std(vs).toFixed(1)} (${vs.length})`;
    });
    const step = `${p.step} / ${p.totalSteps}${p.annealed ? ' (final)' : ''}`;
    lines.push(`| ${[keyWithVariant(p), archWithParams(p), step, fmtTokens(p.tokens), cpuMinutes(p).toFixed(1), p.heldOutLoss.toFixed(3), ...cells].join(' | ')} |`);
  }
  const notes = [
    `Profile ${study.profile}; scores ×${SCALE} on the dev split (each run's reported, best epoch); "a ± s (n)" = mean ± std over n seeds.`,
    `Tokens = step × batch × seq (nominal). CPU-min: ${[...new Set(study.points.map((p) => p.cpuSecondsFrom))].map((s) => (s === 'final-msPerStep' ? "step × the finished run's median ms/step" : 'measured at the snapshot (the finished run is not known yet)')).join('; ')}.`,
    'Snapshots are points along one run whose learning rate decays linearly to 0 at its last step, not separately annealed shorter runs.',
  ];
  if (study.points.some((p) => variantOf(p) !== '')) {
    notes.push('After the key: the pretraining corpus and objective where not the default (data-directory corpus; masked LM + next-sentence + bag of words): +wordnet = WordNet glosses and examples added (lora-repro pretrain --corpus-extra), obj = --objective.');
  }
  if (study.skipped.length > 0) notes.push(`${study.skipped.length} run(s) left out: ${study.skipped.map((s) => `${s.run} (${s.reason})`).join('; ')}.`);
  return [...lines, '', ...notes].join('\n');
}

export async function writeStudyChart(study: Study, dir: string): Promise<WrittenChart> {
  const { rendered: _rendered, ...written } = await writeChart(dir, CHART_NAME, studySpec(study));
  return written;
}
