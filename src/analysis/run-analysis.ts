/**
 * The subspace analysis of paper Section 7 on one or two LoRA checkpoints:
 * - per module: spectrum, Frobenius norm and stable rank of ΔW = scaling·B·A; with base weights
 *   also Table 7's ‖Uᵀ W V‖_F (ΔW's, W's own and random directions) and the amplification factor;
 * - per checkpoint: φ between the A matrices of different layers (per weight type) and of
 *   different weight types in one layer (all live in the d_model input space);
 * - for two checkpoints (an r = 8 and an r = 64 run: Figure 3; two seeds: Figure 4): the grid
 *   φ(A1, A2, i, j) per (layer, weight type), plus the same grid for two random Gaussian matrices
 *   of those shapes (Figure 4, right panel).
 */
import { Rng } from '../util/rng.ts';
import { UserError } from '../util/errors.ts';
import type { CheckpointSummary, ModuleSummary, PairAnalysis, SubspaceAnalysis } from './analysis-schema.ts';
import { baseWeightOf, type BaseWeights } from './base-weights.ts';
import { relationToW, spectrumOf } from './delta-w.ts';
import { gaussian, type Dense } from './linalg.ts';
import { type LoraCheckpoint, type LoraModule, scalingOf, WEIGHT_LABEL, type WeightType } from './lora-weights.ts';
import { expectedRandomPhi, phiGrid, rightSingularBasis } from './subspace.ts';

export interface AnalysisInput {
  name: string;
  checkpoints: { label: string; ckpt: LoraCheckpoint }[];
  base?: BaseWeights;
  /** Layers whose full φ grids are kept for heatmaps (default: first, middle, last). */
  heatmapLayers?: number[];
  seed?: number;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
}

function label(w: string): string {
  return WEIGHT_LABEL[w as WeightType] ?? w;
}

function summarise(label0: string, ckpt: LoraCheckpoint, base: BaseWeights | undefined, seed: number, skipped: string[]): CheckpointSummary {
  const modules: ModuleSummary[] = [];
  let missingBase = 0;
  for (const m of ckpt.modules) {
    const scaling = scalingOf(ckpt, m);
    const s: ModuleSummary = {
      module: m.module,
      layer: m.layer,
      weight: m.weight,
      r: m.r,
      inDim: m.a.cols,
      outDim: m.b.rows,
      scaling: scaling ?? null,
      frobenius: null,
      singularValues: null,
      stableRank: null,
    };
    if (scaling !== undefined) {
      const sp = spectrumOf(m.b, m.a, scaling);
      s.frobenius = sp.frobenius;
      s.singularValues = sp.singularValues;
      s.stableRank = sp.stableRank;
      if (base !== undefined) {
        const w = baseWeightOf(base, m);
        if (w === undefined) missingBase++;
        else s.relation = relationToW(w, m.b, m.a, scaling, seed + m.layer);
      }
    }
    modules.push(s);
  }
  if (ckpt.alpha === undefined) skipped.push(`${label0}: ΔW spectra, norms, stable ranks and Table 7 skipped: lora_alpha is not in the checkpoint (pass --alpha; scaling = alpha / r)`);
  else if (base === undefined) skipped.push(`${label0}: Table 7 (‖UᵀWV‖_F, amplification) skipped: needs the pre-trained weights W (pass --base <model.safetensors>)`);
  else if (missingBase > 0) skipped.push(`${label0}: Table 7 skipped for ${missingBase} module(s): ${base.source} has no matching weight`);
  return {
    label: label0,
    source: ckpt.source,
    format: ckpt.format,
    modelType: ckpt.modelType,
    alpha: ckpt.alpha ?? null,
    alphaSource: ckpt.alphaSource,
    modules,
    crossLayer: crossLayer(ckpt),
    crossType: crossType(ckpt),
  };
}

function bases(ckpt: LoraCheckpoint): Map<LoraModule, Dense> {
  return new Map(ckpt.modules.map((m) => [m, rightSingularBasis(m.a)]));
}

function crossLayer(ckpt: LoraCheckpoint): CheckpointSummary['crossLayer'] {
  const u = bases(ckpt);
  const out: CheckpointSummary['crossLayer'] = [];
  for (const w of [...new Set(ckpt.modules.map((m) => m.weight))]) {
    const ms = ckpt.modules.filter((m) => m.weight === w);
    if (new Set(ms.map((m) => m.a.cols)).size > 1) continue;
    const i = Math.min(...ms.map((m) => m.r));
    const top1 = ms.map((x) => ms.map((y) => phiGrid(u.get(x)!, u.get(y)!)[0][0]));
    const full = ms.map((x) => ms.map((y) => phiGrid(u.get(x)!, u.get(y)!)[i - 1][i - 1]));
    out.push({ weight: w, layers: ms.map((m) => m.layer), phiTop1: top1, phiFull: full, i, j: i, randomExpected: expectedRandomPhi(i, i, ms[0].a.cols) });
  }
  return out;
}

function crossType(ckpt: LoraCheckpoint): CheckpointSummary['crossType'] {
  const u = bases(ckpt);
  const out: CheckpointSummary['crossType'] = [];
  for (const layer of [...new Set(ckpt.modules.map((m) => m.layer))]) {
    const ms = ckpt.modules.filter((m) => m.layer === layer);
    for (let x = 0; x < ms.length; x++) {
      for (let y = x + 1; y < ms.length; y++) {
        if (ms[x].a.cols !== ms[y].a.cols) continue;
        const g = phiGrid(u.get(ms[x])!, u.get(ms[y])!);
        const k = Math.min(ms[x].r, ms[y].r);
        out.push({ layer, weights: [ms[x].weight, ms[y].weight], phiTop1: g[0][0], phiFull: g[k - 1][k - 1] });
      }
    }
  }
  return out;
}

function defaultHeatmapLayers(layers: number[]): number[] {
  const sorted = [...new Set(layers)].sort((a, b) => a - b);
  if (sorted.length === 0) return [];
  return [...new Set([sorted[0], sorted[Math.floor((sorted.length - 1) / 2)], sorted[sorted.length - 1]])];
}

function pairOf(c1: { label: string; ckpt: LoraCheckpoint }, c2: { label: string; ckpt: LoraCheckpoint }, heat: number[] | undefined, seed: number): PairAnalysis {
  const u1 = bases(c1.ckpt);
  const u2 = bases(c2.ckpt);
  const modules: PairAnalysis['modules'] = [];
  const keep = heat ?? defaultHeatmapLayers(c1.ckpt.modules.map((m) => m.layer));
  for (const m1 of c1.ckpt.modules) {
    const m2 = c2.ckpt.modules.find((m) => m.layer === m1.layer && m.weight === m1.weight);
    if (m2 === undefined) continue;
    if (m1.a.cols !== m2.a.cols) throw new UserError(`${c2.ckpt.source}: layer ${m1.layer} ${label(m1.weight)} has input size ${m2.a.cols}, ${c1.ckpt.source} ${m1.a.cols}: not the same model`);
    const g = phiGrid(u1.get(m1)!, u2.get(m2)!);
    modules.push({
      layer: m1.layer,
      weight: m1.weight,
      r1: m1.r,
      r2: m2.r,
      d: m1.a.cols,
      phiTop1: g[0][0],
      phiFull: g[m1.r - 1][m2.r - 1],
      grid: keep.includes(m1.layer) ? g : undefined,
    });
  }
  if (modules.length === 0) throw new UserError(`${c1.ckpt.source} and ${c2.ckpt.source} adapt no common (layer, weight type): nothing to compare`);
  const { r1, r2, d } = modules[0];
  const rng = new Rng(seed + 7919);
  const random = { r1, r2, d, grid: phiGrid(rightSingularBasis(gaussian(r1, d, rng)), rightSingularBasis(gaussian(r2, d, rng))) };
  return { labels: [c1.label, c2.label], modules, random };
}

export function analyzeSubspace(input: AnalysisInput): SubspaceAnalysis {
  const t0 = performance.now();
  const seed = input.seed ?? 0;
  const skipped: string[] = [];
  const log = input.log ?? (() => {});
  if (input.checkpoints.length < 1 || input.checkpoints.length > 2) throw new Error('analyzeSubspace: one or two checkpoints');
  const checkpoints = input.checkpoints.map((c) => {
    log(`analysing ${c.label} (${c.ckpt.modules.length} LoRA modules, ${c.ckpt.format} names)`);
    return summarise(c.label, c.ckpt, input.base, seed, skipped);
  });
  const pair = input.checkpoints.length === 2 ? pairOf(input.checkpoints[0], input.checkpoints[1], input.heatmapLayers, seed) : undefined;
  if (input.checkpoints.length === 1) skipped.push('φ between two runs (Figures 3/4) needs a second checkpoint (pass --b): an r=64 run, or the same config with another seed');
  return {
    schema: 1,
    kind: 'subspace',
    name: input.name,
    createdAt: new Date().toISOString(),
    checkpoints,
    pair,
    skipped,
    seconds: (performance.now() - t0) / 1000,
  };
}
