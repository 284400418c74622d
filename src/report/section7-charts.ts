/**
 * Vega-lite specs of the Section 7 page, each titled with its profile, model(s), task(s) and seeds:
 * - Table 5: each weight-type set's score at the equal budget, mean ± std and every seed's run;
 * - Table 6: score against r (log₂ axis) per weight-type set;
 * - Figures 3/4: φ(A1, A2, i, j) heatmaps for W_q and W_v of every layer of the written analysis
 *   (Figure 3 adds the paper's zoom on j ≤ 8), beside a random Gaussian pair and the random-subspace
 *   expectation E[φ] = max(i, j)/d (subspace.ts), on the paper's 0–1 colour scale;
 * - Table 7: ‖UᵀWVᵀ‖_F per layer with ΔW's, W's and random directions (log y) and the amplification.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { PairAnalysis } from '../analysis/analysis-schema.ts';
import { expectedRandomPhi } from '../analysis/subspace.ts';
import type { Figure } from './section7-analysis.ts';
import type { Section7Model } from './section7.ts';
import { TABLE5_SETS, setLabel } from './section7-paper.ts';
import { taskCaption, taskName } from './section7-format.ts';
import type { ScoredRun } from './section7-runs.ts';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

function title(text: string, subtitle: string[]): Record<string, unknown> {
  return { text, subtitle, anchor: 'start', subtitleFontSize: 10 };
}

function subtitles(m: Section7Model, tasks?: string[]): string[] {
  return m.tasks.filter((t) => tasks === undefined || tasks.includes(t.task)).map((t) => taskCaption(m.profile, t));
}

function scoreLayers(x: Record<string, unknown>, xTitle: string, color?: Record<string, unknown>): unknown[] {
  return [
    { mark: { type: 'rule', strokeWidth: 2 }, encoding: { x, y: { field: 'lo', type: 'quantitative', scale: { zero: false }, title: 'score' }, y2: { field: 'hi' }, ...(color ? { color } : {}) } },
    {
      mark: { type: 'point', filled: true, size: 60 },
      encoding: { x: { ...x, title: xTitle }, y: { field: 'mean', type: 'quantitative' }, ...(color ? { color } : {}), tooltip: [{ field: 'label' }, { field: 'mean', format: '.2f' }, { field: 'n' }] },
    },
  ];
}

/** Table 5: per task, the seven sets at the equal budget. */
export function table5Spec(m: Section7Model, runs: readonly ScoredRun[]): TopLevelSpec {
  const values = m.table5.flatMap((row) =>
    row.cells.filter((c) => c.mean !== undefined).map((c) => ({ task: taskName(row.task), label: `${setLabel(c.set)} r=${c.r}`, mean: c.mean, lo: c.mean! - (c.std ?? 0), hi: c.mean! + (c.std ?? 0), n: c.n })),
  );
  const seedPoints = m.table5.flatMap((row) =>
    row.cells.flatMap((c) => runs.filter((r) => c.runIds.includes(r.runId) && r.score !== undefined).map((r) => ({ task: taskName(row.task), label: `${setLabel(c.set)} r=${c.r}`, score: r.score, seed: r.seed }))),
  );
  const order = m.table5[0]?.cells.map((c) => `${setLabel(c.set)} r=${c.r}`) ?? TABLE5_SETS.map(setLabel);
  const x = { field: 'label', type: 'nominal', sort: order, axis: { labelAngle: -30 } };
  return {
    $schema: SCHEMA,
    title: title('Table 5 from our runs: score per adapted weight-type set at one budget (mean ± std over seeds; dots: each seed)', subtitles(m)),
    facet: { column: { field: 'task', type: 'nominal', title: null } },
    resolve: { scale: { y: 'independent' } },
    data: { values: [...values.map((v) => ({ ...v, kind: 'mean' })), ...seedPoints.map((v) => ({ ...v, kind: 'seed' }))] },
    spec: {
      width: 260,
      height: 200,
      layer: [
        { transform: [{ filter: "datum.kind === 'mean'" }], layer: scoreLayers(x, 'weight types and rank') },
        { transform: [{ filter: "datum.kind === 'seed'" }], mark: { type: 'point', size: 20, color: '#888' }, encoding: { x, y: { field: 'score', type: 'quantitative' }, tooltip: [{ field: 'seed' }, { field: 'score', format: '.2f' }] } },
      ],
    },
  } as unknown as TopLevelSpec;
}

/** Table 6: score against r per set, one panel per task. */
export function table6Spec(m: Section7Model): TopLevelSpec {
  const values = m.table6.flatMap((row) =>
    row.cells.filter((c) => c.mean !== undefined).map((c) => ({ task: taskName(row.task), set: setLabel(row.set), r: c.r, label: `${setLabel(row.set)} r=${c.r}`, mean: c.mean, lo: c.mean! - (c.std ?? 0), hi: c.mean! + (c.std ?? 0), n: c.n })),
  );
  const x = { field: 'r', type: 'quantitative', scale: { type: 'log', base: 2 }, axis: { values: [1, 2, 4, 8, 16, 32, 64], format: 'd' } };
  const color = { field: 'set', type: 'nominal', title: 'weight types' };
  return {
    $schema: SCHEMA,
    title: title('Table 6 from our runs: score against the rank r (mean ± std over seeds)', subtitles(m)),
    data: { values },
    facet: { column: { field: 'task', type: 'nominal', title: null } },
    resolve: { scale: { y: 'independent' } },
    spec: { width: 260, height: 200, layer: [{ mark: { type: 'line' }, encoding: { x, y: { field: 'mean', type: 'quantitative', scale: { zero: false } }, color } }, ...scoreLayers(x, 'r', color)] },
  } as unknown as TopLevelSpec;
}

function grid(g: number[][], maxJ?: number): { i: number; j: number; phi: number }[] {
  return g.flatMap((row, i) => row.slice(0, maxJ ?? row.length).map((phi, j) => ({ i: i + 1, j: j + 1, phi })));
}

function panel(t: string, values: { i: number; j: number; phi: number }[], xTitle: string, yTitle: string): Record<string, unknown> {
  const cols = Math.max(...values.map((v) => v.j));
  const rows = Math.max(...values.map((v) => v.i));
  return {
    title: t,
    data: { values },
    width: Math.min(320, Math.max(90, cols * 6)),
    height: Math.min(320, Math.max(60, rows * (rows > 16 ? 5 : 12))),
    mark: 'rect',
    encoding: {
      x: { field: 'j', type: 'ordinal', title: xTitle, axis: { values: [1, 8, 16, 32, 48, 64].filter((v) => v <= cols), labelAngle: 0 } },
      y: { field: 'i', type: 'ordinal', title: yTitle, axis: { values: [1, 2, 4, 8, 16, 32, 64].filter((v) => v <= rows) } },
      color: { field: 'phi', type: 'quantitative', scale: { domain: [0, 1], scheme: 'viridis' }, title: 'φ' },
    },
  };
}

/** Figure 3 (ranks) or 4 (seeds) of one task: a row of panels per layer. */
export function figureSpec(m: Section7Model, f: Figure): TopLevelSpec {
  const pair = f.analysis.pair as PairAnalysis;
  const [l1, l2] = pair.labels;
  const layers = [...new Set(pair.modules.filter((x) => x.grid !== undefined).map((x) => x.layer))].sort((a, b) => a - b);
  const rows = layers.map((layer) => {
    const mods = pair.modules.filter((x) => x.layer === layer && x.grid !== undefined && (x.weight === 'q' || x.weight === 'v'));
    const panels = mods.map((x) => panel(`W_${x.weight}, layer ${layer}`, grid(x.grid!), `j (${l2})`, `i (${l1})`));
    if (f.comparison === 'ranks') panels.push(...mods.map((x) => panel(`W_${x.weight}, layer ${layer}, j ≤ 8`, grid(x.grid!, 8), `j (${l2})`, `i (${l1})`)));
    return { hconcat: panels };
  });
  const d = pair.random.d;
  const { r1, r2 } = pair.random;
  const expect: { i: number; j: number; phi: number }[] = [];
  for (let i = 1; i <= r1; i++) for (let j = 1; j <= r2; j++) expect.push({ i, j, phi: expectedRandomPhi(i, j, d) });
  const random = { hconcat: [panel(`two random Gaussian A (d=${d})`, grid(pair.random.grid), `j (r=${r2})`, `i (r=${r1})`), panel(`random-subspace expectation max(i, j)/d`, expect, `j (r=${r2})`, `i (r=${r1})`)] };
  const fig = f.comparison === 'ranks' ? 'Figure 3' : 'Figure 4';
  return {
    $schema: SCHEMA,
    title: title(`${fig} from our runs: φ(A_${l1}, A_${l2}, i, j), ${taskName(f.task)}: ${f.what}`, [...subtitles(m, [f.task]), `${f.model}, d = ${d}; the random references in the last row`]),
    vconcat: [...rows, random],
    resolve: { scale: { color: 'shared' } },
  } as unknown as TopLevelSpec;
}

/** Table 7 per layer: the three ‖UᵀWVᵀ‖_F and the amplification, per task, weight type and r. */
export function table7Spec(m: Section7Model): TopLevelSpec {
  const norms = m.table7.flatMap((t) =>
    t.perLayer.flatMap((l) => [
      { panel: `${taskName(t.task)} W_${t.weight} r=${t.r}`, layer: l.layer, directions: 'ΔW', value: l.projDelta },
      { panel: `${taskName(t.task)} W_${t.weight} r=${t.r}`, layer: l.layer, directions: 'W', value: l.projW },
      { panel: `${taskName(t.task)} W_${t.weight} r=${t.r}`, layer: l.layer, directions: 'random', value: l.projRandom },
    ]),
  );
  const amp = m.table7.flatMap((t) => t.perLayer.map((l) => ({ panel: `${taskName(t.task)} W_${t.weight}`, layer: l.layer, r: `r=${t.r}`, amplification: l.amplification })));
  const layerX = { field: 'layer', type: 'quantitative', axis: { tickMinStep: 1, format: 'd' } };
  return {
    $schema: SCHEMA,
    title: title('Table 7 from our runs, per layer (mean over seeds): ‖UᵀWVᵀ‖_F with the top-r directions of ΔW, W and random ones; amplification ‖ΔW‖_F/‖UᵀWVᵀ‖_F', subtitles(m)),
    vconcat: [
      {
        data: { values: norms },
        facet: { column: { field: 'panel', type: 'nominal', title: null } },
        spec: { width: 150, height: 140, mark: { type: 'line', point: true }, encoding: { x: layerX, y: { field: 'value', type: 'quantitative', scale: { type: 'log' }, title: '‖UᵀWVᵀ‖_F' }, color: { field: 'directions', type: 'nominal', title: 'directions of' } } },
      },
      {
        data: { values: amp },
        facet: { column: { field: 'panel', type: 'nominal', title: null } },
        spec: { width: 150, height: 140, mark: { type: 'line', point: true }, encoding: { x: layerX, y: { field: 'amplification', type: 'quantitative', title: 'amplification' }, color: { field: 'r', type: 'nominal', title: 'rank' } } },
      },
    ],
    resolve: { scale: { color: 'independent' } },
  } as unknown as TopLevelSpec;
}
