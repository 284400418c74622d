/**
 * The paper's Section 7 numbers (GPT-3 175B; ../shared/reference/paper-other.md, which
 * test/section7.test.ts reads to check these against), shown beside ours for orientation only: the
 * paper's tasks (WikiSQL, MultiNLI) and model are not ours.
 */

/** Weight-type sets in the order of Table 5's columns; keys are LoRA targets joined by '+'. */
export const TABLE5_SETS = ['q', 'k', 'v', 'o', 'q+k', 'q+v', 'q+k+v+o'] as const;
/** The rank each set gets under the 18M budget (Table 5's "rank r" row). */
export const TABLE5_RANKS: Readonly<Record<string, number>> = { q: 8, k: 8, v: 8, o: 8, 'q+k': 4, 'q+v': 4, 'q+k+v+o': 2 };

export interface PaperRow {
  dataset: string;
  /** The per-dataset seed standard deviation the paper prints in its first column. */
  pm: number;
  values: Readonly<Record<string, number>>;
}

export const PAPER_TABLE5: readonly PaperRow[] = [
  { dataset: 'WikiSQL', pm: 0.5, values: { q: 70.4, k: 70.0, v: 73.0, o: 73.2, 'q+k': 71.4, 'q+v': 73.7, 'q+k+v+o': 73.7 } },
  { dataset: 'MultiNLI', pm: 0.1, values: { q: 91.0, k: 90.8, v: 91.0, o: 91.3, 'q+k': 91.3, 'q+v': 91.3, 'q+k+v+o': 91.7 } },
];

export const TABLE6_RANKS = [1, 2, 4, 8, 64] as const;
export const TABLE6_SETS = ['q', 'q+v', 'q+k+v+o'] as const;

/** Table 6: dataset → weight set → values at r = 1, 2, 4, 8, 64. */
export const PAPER_TABLE6: readonly (PaperRow & { set: string })[] = [
  { dataset: 'WikiSQL', pm: 0.5, set: 'q', values: { 1: 68.8, 2: 69.6, 4: 70.5, 8: 70.4, 64: 70.0 } },
  { dataset: 'WikiSQL', pm: 0.5, set: 'q+v', values: { 1: 73.4, 2: 73.3, 4: 73.7, 8: 73.8, 64: 73.5 } },
  { dataset: 'WikiSQL', pm: 0.5, set: 'q+k+v+o', values: { 1: 74.1, 2: 73.7, 4: 74.0, 8: 74.0, 64: 73.9 } },
  { dataset: 'MultiNLI', pm: 0.1, set: 'q', values: { 1: 90.7, 2: 90.9, 4: 91.1, 8: 90.7, 64: 90.7 } },
  { dataset: 'MultiNLI', pm: 0.1, set: 'q+v', values: { 1: 91.3, 2: 91.4, 4: 91.3, 8: 91.6, 64: 91.4 } },
  { dataset: 'MultiNLI', pm: 0.1, set: 'q+k+v+o', values: { 1: 91.2, 2: 91.7, 4: 91.7, 8: 91.5, 64: 91.4 } },
];

/** Table 7 (layer 48, W_q): ‖UᵀW_qVᵀ‖_F with ΔW's, W's and random directions; ‖ΔW_q‖_F; ‖W_q‖_F = 61.95. */
export const PAPER_TABLE7: readonly { r: number; projDelta: number; projW: number; projRandom: number; deltaNorm: number }[] = [
  { r: 4, projDelta: 0.32, projW: 21.67, projRandom: 0.02, deltaNorm: 6.91 },
  { r: 64, projDelta: 1.9, projW: 37.71, projRandom: 0.33, deltaNorm: 3.57 },
];
export const PAPER_TABLE7_WNORM = 61.95;

/** Set key → the paper's notation, e.g. 'q+v' → 'W_q, W_v'. */
export function setLabel(key: string): string {
  return key
    .split('+')
    .map((t) => `W_${t}`)
    .join(', ');
}

/** LoRA targets → the set key (paper order q, k, v, o, then anything else). */
export function setKey(targets: readonly string[]): string {
  const order = ['q', 'k', 'v', 'o', 'ffn1', 'ffn2'];
  return [...targets].sort((a, b) => order.indexOf(a) - order.indexOf(b)).join('+');
}
