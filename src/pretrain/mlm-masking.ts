/**
 * Masked-language-model corruption with the semantics of Hugging Face's
 * DataCollatorForLanguageModeling (mlm_probability 0.15), which RoBERTa pretraining uses
 * (Liu et al. 2019 §2.3 / Devlin et al. 2019 §3.1):
 * - every token that is not special (`<s>`, `</s>`, `<pad>`, …) is selected independently with
 *   probability 0.15; special tokens and padding are never selected;
 * - a selected token becomes `<mask>` with probability 0.8, else (half of the rest) a token drawn
 *   uniformly from the whole vocabulary (HF draws from len(tokenizer), special tokens included),
 *   else it stays unchanged;
 * - the loss is computed on the selected positions only (HF sets every other label to -100).
 * Masks are drawn afresh for every batch ("dynamic masking", RoBERTa §4.1).
 *
 * One deviation: HF can select no token at all in a batch (then its loss is NaN); here one eligible
 * position is then selected, so a step always has a finite loss. At batch sizes used here (thousands
 * of tokens) this practically never happens.
 */
import type { Rng } from '../util/rng.ts';

export interface MlmMaskingOptions {
  /** Probability that a non-special token is selected (0.15). */
  probability: number;
  maskTokenId: number;
  /** Random replacements are drawn from [0, vocabSize). */
  vocabSize: number;
  /** Ids never selected (all special tokens, padding included). */
  specialIds: ReadonlySet<number>;
}

export interface MaskedTokens {
  /** The corrupted input ids (same length as the input). */
  inputIds: Int32Array;
  /** Flat indices of the selected positions, ascending. */
  positions: Int32Array;
  /** The original ids at those positions: the prediction targets. */
  labels: Int32Array;
}

export function maskTokens(ids: Int32Array, opts: MlmMaskingOptions, rng: Rng): MaskedTokens {
  const inputIds = Int32Array.from(ids);
  const positions: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    if (!opts.specialIds.has(ids[i]) && rng.next() < opts.probability) positions.push(i);
  }
  if (positions.length === 0) {
    const eligible: number[] = [];
    for (let i = 0; i < ids.length; i++) if (!opts.specialIds.has(ids[i])) eligible.push(i);
    if (eligible.length > 0) positions.push(eligible[rng.int(eligible.length)]);
  }
  const labels = new Int32Array(positions.length);
  positions.forEach((p, k) => {
    labels[k] = ids[p];
    const u = rng.next();
    if (u < 0.8) inputIds[p] = opts.maskTokenId;
    else if (u < 0.9) inputIds[p] = rng.int(opts.vocabSize);
  });
  return { inputIds, positions: Int32Array.from(positions), labels };
}
