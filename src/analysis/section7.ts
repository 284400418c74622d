/**
 * The numbers of paper Section 7 that are not per-checkpoint analyses (those live in
 * run-analysis.ts, subspace.ts and delta-w.ts, reused here):
 * - the budget-equalising rank of Table 5: under a fixed number of trainable parameters, the rank
 *   each set of adapted weight types gets (GPT-3, 18M: W_q alone r = 8, W_q+W_v r = 4, all four
 *   r = 2), from LoRA's own trainable-count formula;
 * - block overlaps of a φ grid: how much of a range of singular directions of one A lies in a range
 *   of the other's, read from the cumulative grid φ(i, j) by inclusion–exclusion, so "the top
 *   direction" and "directions 2..8" of Figures 3/4 become two numbers with random expectations.
 */
import type { ModelConfig } from '../models/config.ts';
import { getMethod } from '../methods/registry.ts';

/** LoRA's trainable count for `targets` at rank r on `model` (the method's own formula). */
export function loraCount(model: ModelConfig, targets: readonly string[], r: number): number {
  return getMethod('lora').formula(model, { r, targets: [...targets] });
}

/**
 * The rank that spends `budget` trainable parameters on `targets`: the count is linear in r, so
 * r = budget / count(r = 1), rounded to the nearest integer (at least 1). The paper states its
 * 18M budget as "r = 8 for one type": 18,874,368 = 2·96·12288·8 exactly, and 18M / count(r = 1)
 * = 7.63, 3.81, 1.91 for one, two and four types; nearest gives its 8, 4, 2.
 */
export function budgetRank(model: ModelConfig, targets: readonly string[], budget: number): number {
  if (!(budget > 0)) throw new Error(`budgetRank: budget ${budget} is not positive`);
  return Math.max(1, Math.round(budget / loraCount(model, targets, 1)));
}

/**
 * ‖U1[:, i0..i1]ᵀ U2[:, j0..j1]‖²_F (1-based, inclusive) from a grid of φ(i, j) = S(i, j)/min(i, j),
 * where S(i, j) is the squared norm of the top-left i×j block of G = U1ᵀU2 (phiGrid): inclusion–
 * exclusion over S. Divided by min(#i, #j) it is φ restricted to those directions, whose expectation
 * for independent random subspaces of a d-dimensional space is #i·#j / (d·min(#i, #j)).
 */
export function blockEnergy(grid: readonly (readonly number[])[], i0: number, i1: number, j0: number, j1: number): number {
  const rows = grid.length;
  const cols = grid[0]?.length ?? 0;
  if (!(i0 >= 1 && i1 >= i0 && i1 <= rows && j0 >= 1 && j1 >= j0 && j1 <= cols)) throw new Error(`blockEnergy: [${i0}..${i1}]×[${j0}..${j1}] outside a ${rows}×${cols} grid`);
  const s = (i: number, j: number): number => (i === 0 || j === 0 ? 0 : grid[i - 1][j - 1] * Math.min(i, j));
  return s(i1, j1) - s(i0 - 1, j1) - s(i1, j0 - 1) + s(i0 - 1, j0 - 1);
}

export interface Overlap {
  /** φ over the chosen direction ranges: blockEnergy / min(#i, #j). */
  value: number;
  /** Its expectation for random subspaces. */
  random: number;
}

/** φ restricted to directions i0..i1 of the first and j0..j1 of the second; d: the space's size. */
export function blockPhi(grid: readonly (readonly number[])[], i0: number, i1: number, j0: number, j1: number, d: number): Overlap {
  const ni = i1 - i0 + 1;
  const nj = j1 - j0 + 1;
  return { value: blockEnergy(grid, i0, i1, j0, j1) / Math.min(ni, nj), random: (ni * nj) / (d * Math.min(ni, nj)) };
}
