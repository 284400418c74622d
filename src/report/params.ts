/**
 * The "# Trainable Parameters" of a table row and its footnote: the count the runs recorded
 * (variables handed to the optimiser, head excluded as in the paper) next to the closed-form
 * formula of paper Section 5.1 from the methods registry (src/methods/, `formulaText`). When the
 * registry cannot evaluate the formula (a model whose config we cannot read), the footnote shows
 * the counted and formula numbers the runs themselves recorded.
 */
import type { RunResult } from '../train/result-schema.ts';
import { getMethod } from '../methods/registry.ts';
import type { ModelInfo } from './paper-match.ts';

export interface ParamInfo {
  /** Distinct counts recorded by the runs of the row (one, unless runs disagree). */
  counted: number[];
  formula?: number;
  formulaText?: string;
  /** Short cell text, e.g. "0.295M". */
  display: string;
  /** The footnote. */
  text: string;
}

function fmtInt(n: number): string {
  return n.toLocaleString('en-US');
}

function paramsInMillions(n: number): string {
  return `${(n / 1e6).toFixed(n >= 1e8 ? 1 : n >= 1e6 ? 2 : 3)}M`;
}

export function formulaFor(model: ModelInfo, method: string, config: Record<string, unknown>, allRuns: readonly RunResult[]): ParamInfo {
  // A failed run records no count (0): only finished runs counted anything.
  const runs = allRuns.filter((r) => r.status === 'finished');
  const counted = [...new Set(runs.map((r) => r.trainableParams.counted))].sort((a, b) => a - b);
  const recordedFormula = [...new Set(runs.map((r) => r.trainableParams.formula))];
  let formula: number | undefined;
  let formulaText: string | undefined;
  if (model.config !== undefined) {
    try {
      const m = getMethod(method);
      formula = m.formula(model.config, config);
      formulaText = m.formulaText(model.config, config);
    } catch {
      formula = undefined;
    }
  }
  const display = counted.length === 0 ? (formula !== undefined ? `${paramsInMillions(formula)} (formula)` : '?') : counted.length === 1 ? paramsInMillions(counted[0]) : `${paramsInMillions(counted[0])}–${paramsInMillions(counted[counted.length - 1])}`;
  const parts: string[] = [];
  if (formulaText !== undefined) parts.push(formulaText);
  else parts.push(`formula not evaluated here (model config of ${model.name} unavailable); the runs recorded formula ${recordedFormula.map(fmtInt).join(' / ')}`);
  parts.push(counted.length > 0 ? `counted ${counted.map(fmtInt).join(' / ')} (head excluded)` : 'not counted (no finished run)');
  const target = formula ?? (recordedFormula.length === 1 ? recordedFormula[0] : undefined);
  if (target !== undefined && counted.some((c) => c !== target)) parts.push(`COUNT ≠ FORMULA (${fmtInt(target)})`);
  if (counted.length > 1) parts.push('the runs of this row recorded different counts');
  return { counted, formula, formulaText, display, text: parts.join('; ') };
}
