/**
 * Figures 3/4 and Table 7 of paper Section 7 from our runs' saved adapters, through the one
 * subspace analysis there is (src/analysis/run-analysis.ts: φ grids, ΔW spectra, ΔW vs W):
 * - ranks (Figure 3): φ(A_{r=8}, A_{r=64}, i, j) of the W_q+W_v runs, per layer and weight type,
 *   the r=8 run of each seed against the r=64 run of the next seed: our LoRA draws A from one seeded
 *   stream per module (lora-layer.ts), so at one seed A_{r=8} starts as the first 8 rows of
 *   A_{r=64}, and a same-seed pair would show a shared initialisation, not a learned subspace
 *   (loralib's sequential torch draws do not line up this way). With one seed only, the same-seed
 *   pair is used and a note says so;
 * - seeds (Figure 4): φ(A_{r=64}, A'_{r=64}, i, j) between every two seeds;
 * - Table 7: ‖UᵀWVᵀ‖_F with ΔW's, W's and random top-r directions and the amplification factor, for
 *   the W_q+W_v runs at the paper's r = 4 and 64, every layer and seed, against the pre-trained W
 *   the run started from (provenance-checked, section7-runs.ts).
 * Each figure's analysis of the first seed (pair) is written as analysis/<name>/subspace.json, the
 * format `lora-repro analyze subspace` writes, so `lora-repro charts` / `report` show it too.
 * Summaries: φ of the top direction, φ(1, 1), and of the next seven, directions 2..8 against 2..8
 * (blockPhi), each beside its random-subspace expectation; means over layers and seeds (pairs).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SubspaceAnalysis } from '../analysis/analysis-schema.ts';
import { openBaseWeights, type BaseWeights } from '../analysis/base-weights.ts';
import { readLoraCheckpoint } from '../analysis/lora-weights.ts';
import { analyzeSubspace } from '../analysis/run-analysis.ts';
import { blockPhi, type Overlap } from '../analysis/section7.ts';
import { mean } from '../util/stats.ts';
import { PAPER_TABLE7 } from './section7-paper.ts';
import { baseModelDir, type ScoredRun } from './section7-runs.ts';

/** The directions compared after the top one: 2..REST_TO of each A (Figure 3's A_{r=8} has 8). */
const REST_TO = 8;

export interface PhiSummary {
  task: string;
  model: string;
  comparison: 'ranks' | 'seeds';
  weight: string;
  /** "seed 0" (ranks: r=8 vs r=64 of that seed) or "seeds 0/1" (seeds: two r=64 runs). */
  pairs: string[];
  d: number;
  perLayer: { layer: number; top: number; rest: number }[];
  /** φ(1, 1) and φ over directions 2..8 × 2..8, means over layers and pairs, with random expectations. */
  top: Overlap;
  rest: Overlap;
}

export interface Table7Layer {
  layer: number;
  wNorm: number;
  deltaNorm: number;
  projDelta: number;
  projW: number;
  projRandom: number;
  randomExpected: number;
  amplification: number;
}

export interface Table7Summary {
  task: string;
  model: string;
  weight: string;
  r: number;
  seeds: number[];
  /** Means over seeds, per layer, and over layers and seeds. */
  perLayer: Table7Layer[];
  mean: Omit<Table7Layer, 'layer'>;
}

export interface Figure {
  task: string;
  model: string;
  comparison: 'ranks' | 'seeds';
  /** What the two checkpoints are, e.g. "W_q+W_v r=8 vs r=64, seed 0". */
  what: string;
  analysis: SubspaceAnalysis;
  file: string;
}

export interface Section7Analyses {
  phi: PhiSummary[];
  table7: Table7Summary[];
  figures: Figure[];
  skipped: string[];
}

const usable = (r: ScoredRun) => r.result.status === 'finished' && r.adapterDir !== undefined;

function write(profileDir: string, a: SubspaceAnalysis): string {
  const dir = join(profileDir, 'analysis', a.name);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'subspace.json');
  writeFileSync(file, JSON.stringify(a, null, 1) + '\n');
  return file;
}

function pairAnalysis(name: string, x: ScoredRun, y: ScoredRun, labels: [string, string], seed: number): SubspaceAnalysis {
  const a = readLoraCheckpoint(x.adapterDir!);
  const b = readLoraCheckpoint(y.adapterDir!);
  const layers = [...new Set(a.modules.map((m) => m.layer))];
  return analyzeSubspace({ name, checkpoints: [{ label: labels[0], ckpt: a }, { label: labels[1], ckpt: b }], heatmapLayers: layers, seed });
}

function summarisePhi(task: string, model: string, comparison: PhiSummary['comparison'], pairs: { label: string; a: SubspaceAnalysis }[]): PhiSummary[] {
  const out: PhiSummary[] = [];
  const weights = [...new Set(pairs.flatMap((p) => p.a.pair!.modules.map((m) => m.weight)))];
  for (const weight of weights) {
    const rows: { layer: number; top: Overlap; rest: Overlap }[] = [];
    let d = 0;
    for (const p of pairs) {
      for (const m of p.a.pair!.modules.filter((x) => x.weight === weight && x.grid !== undefined)) {
        d = m.d;
        const hi1 = Math.min(REST_TO, m.r1);
        const hi2 = Math.min(REST_TO, m.r2);
        rows.push({ layer: m.layer, top: blockPhi(m.grid!, 1, 1, 1, 1, m.d), rest: hi1 >= 2 && hi2 >= 2 ? blockPhi(m.grid!, 2, hi1, 2, hi2, m.d) : { value: NaN, random: NaN } });
      }
    }
    if (rows.length === 0) continue;
    const layers = [...new Set(rows.map((r) => r.layer))].sort((a, b) => a - b);
    const avg = (xs: number[]) => mean(xs);
    out.push({
      task,
      model,
      comparison,
      weight,
      pairs: pairs.map((p) => p.label),
      d,
      perLayer: layers.map((layer) => {
        const at = rows.filter((r) => r.layer === layer);
        return { layer, top: avg(at.map((r) => r.top.value)), rest: avg(at.map((r) => r.rest.value)) };
      }),
      top: { value: avg(rows.map((r) => r.top.value)), random: rows[0].top.random },
      rest: { value: avg(rows.map((r) => r.rest.value)), random: rows[0].rest.random },
    });
  }
  return out;
}

function table7For(task: string, model: string, r: number, runs: ScoredRun[], bases: Map<string, BaseWeights>, skipped: string[]): Table7Summary[] {
  const rel: { weight: string; layer: number; seed: number; v: Table7Layer }[] = [];
  for (const run of runs) {
    const where = baseModelDir(run.result);
    if (!('dir' in where)) {
      skipped.push(`Table 7, ${task} r=${r} seed ${run.seed}: ${where.reason}`);
      continue;
    }
    let base = bases.get(where.dir);
    if (base === undefined) {
      base = openBaseWeights(where.dir);
      bases.set(where.dir, base);
    }
    const a = analyzeSubspace({ name: `table7-${run.runId}`, checkpoints: [{ label: `r=${r} seed ${run.seed}`, ckpt: readLoraCheckpoint(run.adapterDir!) }], base, seed: run.seed });
    for (const m of a.checkpoints[0].modules) {
      const x = m.relation;
      if (x === undefined) continue;
      rel.push({ weight: m.weight, layer: m.layer, seed: run.seed, v: { layer: m.layer, wNorm: x.wNorm, deltaNorm: x.deltaNorm, projDelta: x.projDelta, projW: x.projW, projRandom: x.projRandom.mean, randomExpected: x.randomExpected, amplification: x.amplification } });
    }
    skipped.push(...a.skipped.filter((s) => s.includes('Table 7')).map((s) => `Table 7, ${task} r=${r} seed ${run.seed}: ${s}`));
  }
  const out: Table7Summary[] = [];
  for (const weight of [...new Set(rel.map((x) => x.weight))]) {
    const mine = rel.filter((x) => x.weight === weight);
    const avgOf = (xs: Table7Layer[]): Omit<Table7Layer, 'layer'> => ({
      wNorm: mean(xs.map((x) => x.wNorm)),
      deltaNorm: mean(xs.map((x) => x.deltaNorm)),
      projDelta: mean(xs.map((x) => x.projDelta)),
      projW: mean(xs.map((x) => x.projW)),
      projRandom: mean(xs.map((x) => x.projRandom)),
      randomExpected: mean(xs.map((x) => x.randomExpected)),
      amplification: mean(xs.map((x) => x.amplification)),
    });
    const layers = [...new Set(mine.map((x) => x.layer))].sort((a, b) => a - b);
    out.push({
      task,
      model,
      weight,
      r,
      seeds: [...new Set(mine.map((x) => x.seed))].sort((a, b) => a - b),
      perLayer: layers.map((layer) => ({ layer, ...avgOf(mine.filter((x) => x.layer === layer).map((x) => x.v)) })),
      mean: avgOf(mine.map((x) => x.v)),
    });
  }
  return out;
}

/** Runs the analyses of every task with W_q+W_v runs; writes the figures' subspace.json files. */
export function analyseSection7(profileDir: string, runs: readonly ScoredRun[], log: (line: string) => void = () => {}): Section7Analyses {
  const res: Section7Analyses = { phi: [], table7: [], figures: [], skipped: [] };
  const bases = new Map<string, BaseWeights>();
  for (const task of [...new Set(runs.map((r) => r.task))]) {
    const qv = runs.filter((r) => r.task === task && r.set === 'q+v' && usable(r));
    const model = runs.find((r) => r.task === task)!.model;
    const at = (r: number) => qv.filter((x) => x.r === r).sort((a, b) => a.seed - b.seed);
    // Figure 3: r = 8 against r = 64 of the next seed (see the header), every r = 8 run.
    const rankPairs: { label: string; a: SubspaceAnalysis }[] = [];
    const r64s = at(64);
    for (const x of at(8)) {
      const y = r64s.find((z) => z.seed > x.seed) ?? r64s.find((z) => z.seed !== x.seed) ?? r64s.find((z) => z.seed === x.seed);
      if (y === undefined) continue;
      if (y.seed === x.seed) res.skipped.push(`Figure 3, ${task}: only seed ${x.seed} has r=64, so r=8 and r=64 of the same seed are compared; they share their initial A (the first 8 rows), which inflates φ`);
      log(`section7: ${task} φ(A_r=8 seed ${x.seed}, A_r=64 seed ${y.seed})`);
      const a = pairAnalysis(`section7-${task}-ranks-seed${x.seed}-${y.seed}`, x, y, [`r=8 (seed ${x.seed})`, `r=64 (seed ${y.seed})`], x.seed);
      rankPairs.push({ label: `seeds ${x.seed}/${y.seed}`, a });
      if (rankPairs.length === 1) res.figures.push({ task, model, comparison: 'ranks', what: `W_q+W_v r=8 (seed ${x.seed}) vs r=64 (seed ${y.seed})`, analysis: a, file: write(profileDir, a) });
    }
    if (rankPairs.length === 0) res.skipped.push(`Figure 3, ${task}: no finished W_q+W_v runs at both r=8 and r=64 (with saved adapters)`);
    else res.phi.push(...summarisePhi(task, model, 'ranks', rankPairs));
    // Figure 4: r = 64 against r = 64 of another seed, every pair of seeds.
    const r64 = at(64);
    const seedPairs: { label: string; a: SubspaceAnalysis }[] = [];
    for (let i = 0; i < r64.length; i++) {
      for (let j = i + 1; j < r64.length; j++) {
        log(`section7: ${task} φ(A_r=64) seeds ${r64[i].seed}/${r64[j].seed}`);
        const a = pairAnalysis(`section7-${task}-seeds-${r64[i].seed}-${r64[j].seed}`, r64[i], r64[j], [`seed ${r64[i].seed}`, `seed ${r64[j].seed}`], r64[i].seed);
        seedPairs.push({ label: `seeds ${r64[i].seed}/${r64[j].seed}`, a });
        if (seedPairs.length === 1) res.figures.push({ task, model, comparison: 'seeds', what: `W_q+W_v r=64, seed ${r64[i].seed} vs seed ${r64[j].seed}`, analysis: a, file: write(profileDir, a) });
      }
    }
    if (seedPairs.length === 0) res.skipped.push(`Figure 4, ${task}: fewer than two seeds with a finished W_q+W_v r=64 run (with saved adapters)`);
    else res.phi.push(...summarisePhi(task, model, 'seeds', seedPairs));
    // Table 7 at the paper's ranks.
    for (const { r } of PAPER_TABLE7) {
      const rs = at(r);
      if (rs.length === 0) {
        res.skipped.push(`Table 7, ${task} r=${r}: no finished W_q+W_v run at r=${r} with a saved adapter`);
        continue;
      }
      log(`section7: ${task} Table 7 r=${r} (${rs.length} run(s))`);
      res.table7.push(...table7For(task, model, r, rs, bases, res.skipped));
    }
  }
  return res;
}
