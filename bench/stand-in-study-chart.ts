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
import { mean, sampleStd } from '../src/util/stats.ts';
import type { Study, StudyPoint, StudyRun } from './stand-in-study-data.ts';

export const CHART_NAME = 'stand-in-study';
const DATA_SIZE_CHART_NAME = 'stand-in-study-data-size';

/** Scores are shown ×100 (accuracy in %, correlations ×100), as GLUE tables give them. */
const SCALE = 100;

const KIND = { snapshot: 'snapshot (mid-run)', final: 'final step (annealed)' } as const;

const shortKey = (p: Pick<StudyPoint, 'family' | 'key'>): string => `${p.family}-${p.key.slice(0, 8)}`;
/** The corpus extra / objective / tokenizer size where not the default (`+wordnet`, `obj mlm`, `vocab 16000`), after the key in the table and legend. */
const variantOf = (p: StudyPoint): string =>
  [p.corpusExtra === undefined ? '' : `+${p.corpusExtra}`, p.objective === undefined ? '' : `obj ${p.objective}`, p.vocabSize === undefined ? '' : `vocab ${p.vocabSize}`].filter((x) => x !== '').join(', ');
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

/** A run's fine-tuning setting but its training-set size: epochs, evaluation split, where the epoch was chosen. */
const restOf = (r: StudyRun): string => `${r.epochs} ep, eval ${r.evalLimit ?? 'all'}${r.heldoutSize === undefined ? '' : `, epoch chosen on ${r.heldoutSize} held out`}`;
const settingOf = (r: StudyRun): string => `${r.trainLimit ?? 'all'} train, ${restOf(r)}`;
/** The training examples a run trained on, or its --limit where it did not record them (null: neither). */
const examplesOf = (r: StudyRun): number | null => r.trainExamples ?? r.trainLimit;

/**
 * Each task's main fine-tuning setting: the one run on the most model points (ties: fewer training
 * examples first), for tasks where that is two points or more (of a study of several). The
 * score-against-compute table and chart compare points at it; runs at other settings (e.g.
 * `--extra="--limit 8000"` on the final model) are the fine-tuning-data view (dataSizeTable, dataSizeSpec).
 */
export function mainSettings(study: Study): Map<string, string> {
  // Per task and setting: the points run at it, and its --limit (for ties).
  const byTask = new Map<string, Map<string, { points: Set<string>; limit: number }>>();
  for (const p of study.points) {
    for (const r of p.runs) {
      let settings = byTask.get(r.task);
      if (settings === undefined) byTask.set(r.task, (settings = new Map()));
      let e = settings.get(settingOf(r));
      if (e === undefined) settings.set(settingOf(r), (e = { points: new Set(), limit: r.trainLimit ?? Infinity }));
      e.points.add(p.id);
    }
  }
  // A task run on one point of several compares nothing across pretraining: it has no main setting.
  const need = Math.min(2, study.points.length);
  const main = new Map<string, string>();
  for (const [task, settings] of byTask) {
    const [setting, e] = [...settings].sort(([, a], [, b]) => b.points.size - a.points.size || a.limit - b.limit)[0]!;
    if (e.points.size >= need) main.set(task, setting);
  }
  return main;
}

/** The study with each task's runs at its main setting only (points left without runs dropped). */
function atMainSetting(study: Study): Study {
  const main = mainSettings(study);
  const points = study.points.map((p) => ({ ...p, runs: p.runs.filter((r) => main.get(r.task) === settingOf(r)) })).filter((p) => p.runs.length > 0);
  return { ...study, points };
}

/**
 * How runs are told apart: `method` is the method, plus the learning rate when a method was run at
 * several (the table's columns); `colour` that plus the architecture when the study has several
 * (the chart's colour: one per architecture and method).
 */
function labeller(study: Study): { method: (r: StudyRun) => string; colour: (r: StudyRun, p: StudyPoint) => string; colourTitle: string } {
  const runs = study.points.flatMap((p) => p.runs);
  const archs = new Set(study.points.map(shapeOf));
  const lrs = new Map<string, Set<number>>();
  for (const r of runs) lrs.set(r.method, (lrs.get(r.method) ?? new Set()).add(r.lr));
  const method = (r: StudyRun): string => `${r.method}${(lrs.get(r.method)?.size ?? 0) > 1 ? ` lr ${r.lr}` : ''}`;
  return {
    method,
    colour: (r, p) => `${method(r)}${archs.size > 1 ? ` · ${shapeOf(p)}` : ''}`,
    colourTitle: archs.size > 1 ? (study.points.some((p) => optionsLabel(p) !== '') ? 'method · pretraining' : 'method · architecture') : 'method',
  };
}

interface ScoreRow {
  panel: string;
  label: string;
  setting: string;
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

function scoreRows(study: Study): ScoreRow[] {
  const l = labeller(study);
  return study.points.flatMap((p) =>
    p.runs.map((r) => ({
      panel: `${r.task} (${r.metric} ×${SCALE})`,
      label: l.colour(r, p),
      setting: settingOf(r),
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

export function studySpec(all: Study): TopLevelSpec {
  const study = atMainSetting(all);
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
  // One panel per task; a study of one task gets one wide panel.
  const width = new Set(rows.map((r) => r.panel)).size > 1 ? 210 : 560;
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

/** One cell: the value, or "mean ± std (n)" over several seeds; "—" for none. */
function fmtSeeds(vs: number[]): string {
  if (vs.length === 0) return '—';
  return vs.length === 1 ? (vs[0] as number).toFixed(1) : `${mean(vs).toFixed(1)} ± ${(sampleStd(vs) ?? 0).toFixed(1)} (${vs.length})`;
}

/** A markdown table (one row per model point, one column per task and method label) and notes. */
export function studyTable(all: Study): string {
  const study = atMainSetting(all);
  const l = labeller(study);
  const col = (r: StudyRun): string => `${r.task} ${r.metric} ${l.method(r)}`;
  const columns = [...new Set(study.points.flatMap((p) => p.runs.map(col)))].sort();
  const head = ['pretraining', 'arch (params)', 'step / of', 'tokens', 'CPU-min', 'held-out loss', ...columns];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const p of study.points) {
    const cells = columns.map((c) => fmtSeeds(p.runs.filter((r) => col(r) === c).map((r) => r.value * SCALE)));
    const step = `${p.step} / ${p.totalSteps}${p.annealed ? ' (final)' : ''}`;
    lines.push(`| ${[keyWithVariant(p), archWithParams(p), step, fmtTokens(p.tokens), cpuMinutes(p).toFixed(1), p.heldOutLoss.toFixed(3), ...cells].join(' | ')} |`);
  }
  const notes = [
    `Profile ${study.profile}; scores ×${SCALE} on the dev split (each run's reported, best epoch); "a ± s (n)" = mean ± std over n seeds.`,
    `Tokens = step × batch × seq (nominal). CPU-min: ${[...new Set(study.points.map((p) => p.cpuSecondsFrom))].map((s) => (s === 'final-msPerStep' ? "step × the finished run's median ms/step" : 'measured at the snapshot (the finished run is not known yet)')).join('; ')}.`,
    'Snapshots are points along one run whose learning rate decays linearly to 0 at its last step, not separately annealed shorter runs.',
  ];
  if (study.points.some((p) => variantOf(p) !== '')) {
    notes.push('After the key: the pretraining corpus, objective and tokenizer where not the default (data-directory corpus; masked LM + next-sentence + bag of words; 8000 tokens): +wordnet = WordNet glosses and examples added (lora-repro pretrain --corpus-extra), obj = --objective, vocab = --vocab (held-out losses of another vocabulary are per token of another tokenizer: not comparable).');
  }
  if (study.skipped.length > 0) notes.push(`${study.skipped.length} run(s) left out: ${study.skipped.map((s) => `${s.run} (${s.reason})`).join('; ')}.`);
  return [...lines, '', ...notes].join('\n');
}

/** One run of a (point, task) fine-tuned at several training-set sizes: the fine-tuning-data view. */
interface SizeRow {
  panel: string;
  label: string;
  examples: number;
  value: number;
  seed: number;
  run: string;
  pretraining: string;
  task: string;
  method: string;
  /** Everything of the fine-tuning setting but the training data (epochs, evaluation split, where the epoch was chosen). */
  rest: string;
  baseline?: number;
}

/**
 * The runs of every (model point, task, setting but the training data) fine-tuned on at least two
 * training-set sizes (the number of examples each run trained on, or its --limit where the run did not
 * record it), so that only the training data differs within a line.
 */
function sizeRows(study: Study): SizeRow[] {
  const l = labeller(study);
  const groups = new Map<string, { p: StudyPoint; runs: StudyRun[] }>();
  for (const p of study.points) {
    for (const r of p.runs.filter((x) => examplesOf(x) !== null)) {
      const k = JSON.stringify([p.id, r.task, restOf(r)]);
      groups.set(k, { p, runs: [...(groups.get(k)?.runs ?? []), r] });
    }
  }
  const lines = [...groups.values()].filter((g) => new Set(g.runs.map(examplesOf)).size > 1);
  // Name the pretraining and setting in the legend only when the lines come from more than one of them.
  const several = new Set(lines.map((g) => JSON.stringify([g.p.id, restOf(g.runs[0] as StudyRun)]))).size > 1;
  return lines.flatMap(({ p, runs }) =>
      runs.map((r) => ({
        panel: `${r.task} (${r.metric} ×${SCALE})`, label: `${l.method(r)}${several ? ` · ${keyWithVariant(p)}, ${restOf(r)}` : ''}`, examples: examplesOf(r) as number,
        value: r.value * SCALE, seed: r.seed, run: r.run, pretraining: keyWithVariant(p), task: r.task, method: l.method(r), rest: restOf(r),
        ...(r.baseline === undefined ? {} : { baseline: r.baseline * SCALE }),
      })),
    );
}

/** The fine-tuning-data view as a markdown table (one row per pretraining, task, setting and size; a column per method), '' when there is none. */
export function dataSizeTable(study: Study): string {
  const rows = sizeRows(study);
  if (rows.length === 0) return '';
  const methods = [...new Set(rows.map((r) => r.method))].sort();
  const keyOf = (r: SizeRow): string => JSON.stringify([r.pretraining, r.task, r.rest, r.examples]);
  const groups = new Map<string, SizeRow[]>();
  for (const r of rows) groups.set(keyOf(r), [...(groups.get(keyOf(r)) ?? []), r]);
  const head = ['pretraining', 'task', 'fine-tuning', 'training examples', ...methods, 'baseline'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  const order = (x: SizeRow, y: SizeRow): number => x.pretraining.localeCompare(y.pretraining) || x.task.localeCompare(y.task) || x.rest.localeCompare(y.rest) || x.examples - y.examples;
  for (const g of [...groups.values()].sort((x, y) => order(x[0] as SizeRow, y[0] as SizeRow))) {
    const r = g[0] as SizeRow;
    const cells = methods.map((m) => fmtSeeds(g.filter((x) => x.method === m).map((x) => x.value)));
    // The majority class / train mean of each run's training subset: the same for every seed unless the subsets differ.
    const baselines = [...new Set(g.flatMap((x) => (x.baseline === undefined ? [] : [x.baseline.toFixed(1)])))];
    lines.push(`| ${[r.pretraining, r.task, r.rest, r.examples.toLocaleString('en-US'), ...cells, baselines.join(' / ') || '—'].join(' | ')} |`);
  }
  return [...lines, '', `Fine-tuning data: the same model, task and fine-tuning setting at several training-set sizes; scores ×${SCALE} on the dev split (eval all = the whole split); "a ± s (n)" = mean ± std over n seeds; baseline: the untrained rule (majority class of the run's training subset, or its mean score) on the same examples.`].join('\n');
}

/** The fine-tuning-data chart (score against training examples, a panel per task), or undefined when no point has several sizes. */
export function dataSizeSpec(study: Study): TopLevelSpec | undefined {
  const rows = sizeRows(study);
  if (rows.length === 0) return undefined;
  const x = { field: 'examples', type: 'quantitative', scale: { type: 'log' }, axis: { format: '~s' }, title: 'fine-tuning training examples (log)' } as const;
  const colour = { field: 'label', type: 'nominal', title: 'method' } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `Fine-tuned score against fine-tuning data (profile ${study.profile})`, subtitle: `Same model, epochs and dev split; lines join the mean over seeds; dashed: the untrained baseline (majority class / train mean). Pretraining: ${[...new Set(rows.map((r) => r.pretraining))].join('; ')}`, anchor: 'start', subtitleFontSize: 11 },
    data: { values: rows },
    facet: { column: { field: 'panel', type: 'nominal', title: null } },
    spec: {
      width: 210,
      height: 200,
      layer: [
        { mark: { type: 'line', strokeWidth: 1.5 }, encoding: { x, y: { aggregate: 'mean', field: 'value', type: 'quantitative', scale: { zero: false }, axis: { format: '.1f' }, title: 'fine-tuned score (dev)' }, color: colour } },
        { mark: { type: 'point', filled: true, size: 60 }, encoding: { x, y: { field: 'value', type: 'quantitative' }, color: colour, tooltip: [{ field: 'label' }, { field: 'examples', format: ',' }, { field: 'seed' }, { field: 'value', format: '.1f' }, { field: 'run' }] } },
        // The untrained baseline of the same examples (majority class / train mean), dashed.
        { mark: { type: 'line', strokeDash: [4, 3], color: '#888' }, encoding: { x, y: { aggregate: 'mean', field: 'baseline', type: 'quantitative' } } },
      ],
    },
    resolve: { scale: { y: 'independent' } },
  } as TopLevelSpec;
}

/** Writes the score-against-compute chart, and the fine-tuning-data chart where the study has one. */
export async function writeStudyChart(study: Study, dir: string): Promise<WrittenChart[]> {
  const { rendered: _rendered, ...written } = await writeChart(dir, CHART_NAME, studySpec(study));
  const sizes = dataSizeSpec(study);
  if (sizes === undefined) return [written];
  const { rendered: _r, ...bySize } = await writeChart(dir, DATA_SIZE_CHART_NAME, sizes);
  return [written, bySize];
}
