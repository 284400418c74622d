/**
 * Vega-lite specs for the subspace analysis (paper Section 7):
 * - pair heatmaps like Figures 3/4: φ(A1, A2, i, j) over i (rows) and j (columns) for each weight
 *   type of one layer, colour scale 0–1 as in the paper, plus the same grid for two random
 *   Gaussian matrices (Figure 4's right panel);
 * - the cross-layer φ of one checkpoint (A of layer l vs layer m, full rank), per weight type;
 * - ΔW's singular-value spectra, stable ranks and Frobenius norms per layer;
 * - Table 7's ‖UᵀWV‖_F per layer (ΔW's, W's and random directions), when base weights were given.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { CheckpointSummary, PairAnalysis } from '../../analysis/analysis-schema.ts';
import { WEIGHT_LABEL, type WeightType } from '../../analysis/lora-weights.ts';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

function wl(w: string): string {
  return WEIGHT_LABEL[w as WeightType] ?? w;
}

function gridValues(grid: number[][]): { i: number; j: number; phi: number }[] {
  return grid.flatMap((row, i) => row.map((phi, j) => ({ i: i + 1, j: j + 1, phi })));
}

function heatPanel(title: string, grid: number[][], xTitle: string, yTitle: string): Record<string, unknown> {
  const cols = grid[0]?.length ?? 0;
  return {
    title,
    data: { values: gridValues(grid) },
    width: Math.min(360, Math.max(80, cols * 10)),
    height: Math.max(60, grid.length * 14),
    mark: 'rect',
    encoding: {
      x: { field: 'j', type: 'ordinal', title: xTitle, axis: { labelAngle: 0, values: ticks(cols) } },
      y: { field: 'i', type: 'ordinal', title: yTitle },
      color: { field: 'phi', type: 'quantitative', scale: { domain: [0, 1], scheme: 'viridis' }, title: 'φ' },
      tooltip: [{ field: 'i' }, { field: 'j' }, { field: 'phi', format: '.3f' }],
    },
  };
}

/** Axis labels every so often, so 64 columns stay legible. */
function ticks(n: number): number[] {
  const step = n <= 16 ? 1 : n <= 32 ? 4 : 8;
  const out: number[] = [];
  for (let k = 1; k <= n; k++) if (k === 1 || k % step === 0) out.push(k);
  return out;
}

/** Figure 3/4-style heatmaps of one layer: one panel per weight type and the random reference. */
export function pairHeatmapSpec(pair: PairAnalysis, layer: number): TopLevelSpec {
  const mods = pair.modules.filter((m) => m.layer === layer && m.grid !== undefined);
  const [l1, l2] = pair.labels;
  const panels = mods.map((m) => heatPanel(`${wl(m.weight)}, layer ${layer}`, m.grid!, `j (${l2}, r=${m.r2})`, `i (${l1}, r=${m.r1})`));
  panels.push(heatPanel(`random Gaussian (d=${pair.random.d})`, pair.random.grid, `j (r=${pair.random.r2})`, `i (r=${pair.random.r1})`));
  return {
    $schema: SCHEMA,
    title: { text: `φ(A_${l1}, A_${l2}, i, j), layer ${layer}`, anchor: 'start' },
    hconcat: panels,
    resolve: { scale: { color: 'shared' } },
  } as unknown as TopLevelSpec;
}

/** φ(A_l, A_m) between layers of one checkpoint, per weight type (the diagonal, φ = 1, left out). */
export function crossLayerSpec(c: CheckpointSummary): TopLevelSpec {
  const panels = c.crossLayer.map((x) => {
    const values = x.phiFull.flatMap((row, a) => row.map((phi, b) => ({ l: x.layers[a], m: x.layers[b], phi: a === b ? null : phi })));
    const top = Math.max(1e-6, ...values.filter((v) => v.phi !== null).map((v) => v.phi as number));
    return {
      title: `${wl(x.weight)}: φ(A_l, A_m, ${x.i}, ${x.j}); random ≈ ${x.randomExpected.toFixed(3)}`,
      data: { values },
      width: Math.max(120, x.layers.length * 22),
      height: Math.max(120, x.layers.length * 22),
      layer: [
        {
          mark: 'rect',
          encoding: {
            x: { field: 'm', type: 'ordinal', title: 'layer m' },
            y: { field: 'l', type: 'ordinal', title: 'layer l' },
            color: { field: 'phi', type: 'quantitative', scale: { domain: [0, top], scheme: 'viridis' }, title: 'φ' },
          },
        },
        {
          mark: { type: 'text', fontSize: 7 },
          encoding: {
            x: { field: 'm', type: 'ordinal' },
            y: { field: 'l', type: 'ordinal' },
            text: { field: 'phi', type: 'quantitative', format: '.2f' },
            color: { value: 'white' },
          },
        },
      ],
    };
  });
  return {
    $schema: SCHEMA,
    title: { text: `${c.label}: subspace similarity between layers (full rank)`, anchor: 'start' },
    hconcat: panels,
    resolve: { scale: { color: 'independent' } },
  } as unknown as TopLevelSpec;
}

/** Singular values of ΔW per layer (log y, one panel per weight type), and stable rank and ‖ΔW‖_F against the layer. */
export function spectrumSpec(c: CheckpointSummary): TopLevelSpec {
  const sv = c.modules.flatMap((m) => (m.singularValues ?? []).map((s, k) => ({ weight: wl(m.weight), layer: m.layer, k: k + 1, sigma: s })));
  const per = c.modules.filter((m) => m.frobenius !== null).map((m) => ({ weight: wl(m.weight), layer: m.layer, stableRank: m.stableRank, frobenius: m.frobenius }));
  const weights = [...new Set(sv.map((v) => v.weight))];
  const byLayer = (title: string, field: string, axisTitle: string) => ({
    title,
    data: { values: per },
    width: 200,
    height: 160,
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'layer', type: 'quantitative', axis: { tickMinStep: 1, format: 'd' } },
      y: { field, type: 'quantitative', title: axisTitle },
      color: { field: 'weight', type: 'nominal', title: 'weight' },
    },
  });
  return {
    $schema: SCHEMA,
    title: { text: `${c.label}: ΔW = (α/r)·B·A`, anchor: 'start' },
    hconcat: [
      {
        hconcat: weights.map((w) => ({
          title: `singular values σ_k, ${w}`,
          data: { values: sv.filter((v) => v.weight === w) },
          width: 200,
          height: 160,
          mark: { type: 'line', point: true, strokeWidth: 1 },
          encoding: {
            x: { field: 'k', type: 'quantitative', axis: { tickMinStep: 1, format: 'd' }, title: 'k' },
            y: { field: 'sigma', type: 'quantitative', scale: { type: 'log' }, title: 'σ_k' },
            color: { field: 'layer', type: 'ordinal', scale: { scheme: 'viridis' }, title: 'layer' },
          },
        })),
      },
      { hconcat: [byLayer('stable rank ‖ΔW‖²_F / ‖ΔW‖²_2', 'stableRank', 'stable rank'), byLayer('‖ΔW‖_F', 'frobenius', '‖ΔW‖_F')] },
    ],
    resolve: { scale: { color: 'independent' } },
  } as unknown as TopLevelSpec;
}

/** Table 7 per layer: ‖UᵀWV‖_F with ΔW's, W's own and random top-r directions (log y). */
export function table7Spec(c: CheckpointSummary): TopLevelSpec | undefined {
  const rows = c.modules.filter((m) => m.relation !== undefined);
  if (rows.length === 0) return undefined;
  const values = rows.flatMap((m) => [
    { weight: wl(m.weight), layer: m.layer, directions: 'ΔW', value: m.relation!.projDelta },
    { weight: wl(m.weight), layer: m.layer, directions: 'W', value: m.relation!.projW },
    { weight: wl(m.weight), layer: m.layer, directions: 'random', value: m.relation!.projRandom.mean },
  ]);
  return {
    $schema: SCHEMA,
    title: { text: `${c.label}: ‖UᵀWV‖_F with top-r directions of ΔW, W and random (Table 7)`, anchor: 'start' },
    data: { values },
    facet: { column: { field: 'weight', type: 'nominal', title: null } },
    spec: {
      width: 220,
      height: 160,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'layer', type: 'quantitative', axis: { tickMinStep: 1, format: 'd' } },
        y: { field: 'value', type: 'quantitative', scale: { type: 'log' }, title: '‖UᵀWV‖_F' },
        color: { field: 'directions', type: 'nominal', title: 'directions of' },
      },
    },
  } as TopLevelSpec;
}
