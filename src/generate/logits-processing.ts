/**
 * The per-step score adjustments of the reference decoder (microsoft/LoRA examples/NLG/src/gpt2_beam.py,
 * `_postprocess_next_token_scores`), applied in place to one row of raw logits.
 */

/** CTRL's repetition penalty on raw logits: divide positive, multiply negative, once per distinct token. */
function applyRepetitionPenalty(logits: Float32Array, history: number[], penalty: number): void {
  if (penalty === 1) return;
  for (const t of new Set(history)) {
    logits[t] = logits[t] < 0 ? logits[t] * penalty : logits[t] / penalty;
  }
}

/**
 * fairseq's no-repeat-n-gram rule over the GENERATED tokens only (the prompt is not included):
 * a token is banned if it would complete an n-gram that already occurs in `history`.
 */
function bannedNgramTokens(history: number[], n: number): number[] {
  const curLen = history.length;
  if (n <= 0 || curLen + 1 < n) return [];
  const prefix = history.slice(curLen + 1 - n, curLen).join(',');
  const banned: number[] = [];
  for (let start = 0; start + n <= curLen; start++) {
    if (history.slice(start, start + n - 1).join(',') === prefix) banned.push(history[start + n - 1]);
  }
  return banned;
}

export interface StepRules {
  repetitionPenalty: number;
  noRepeatNgramSize: number;
  minLength: number;
  eosTokenIds: number[];
}

/**
 * Applies the rules for decoding step `step` (0-based; `history` = tokens generated so far, which the
 * reference leaves undefined at step 0, so neither penalty nor n-gram ban applies there).
 */
export function processLogits(logits: Float32Array, history: number[] | undefined, step: number, rules: StepRules): void {
  if (history !== undefined) applyRepetitionPenalty(logits, history, rules.repetitionPenalty);
  if (step < rules.minLength) for (const eos of rules.eosTokenIds) logits[eos] = -Infinity;
  if (history !== undefined && rules.noRepeatNgramSize > 0) {
    for (const t of bannedNgramTokens(history, rules.noRepeatNgramSize)) logits[t] = -Infinity;
  }
}
