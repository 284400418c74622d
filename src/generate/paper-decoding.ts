/**
 * The E2E decoding settings of the paper's GPT-2 runs: the one place they are written. Run configs
 * (`decoding.*`, ../train/run-config.ts), training's evaluation, `lora-repro generate`, `train`'s
 * decoding flags and the decoding benchmark all take their defaults from here.
 *
 * Sources: Hu et al. 2021 (arXiv v2) App. D.3, Table 11 ("Inference" rows, E2E column), and the
 * microsoft/LoRA decoding command in examples/NLG/README.md (`src/gpt2_beam.py --beam 10
 * --length_penalty 0.8 --no_repeat_ngram_size 4 --repetition_penalty 1.0 --eval_len 64`), both
 * transcribed in ../shared/reference/hyperparams-e2e.csv. Where the two disagree (length penalty,
 * ../shared/reference/README.md note 5) the paper wins; `--length-penalty 0.8` gives the README's.
 */

export interface DecodingOptions {
  beam: number;
  lengthPenalty: number;
  noRepeatNgramSize: number;
  repetitionPenalty: number;
  maxNewTokens: number;
}

/** The paper's E2E decoding, for runs whose config leaves `decoding` (or one of its fields) out. */
export const PAPER_DECODING: Readonly<DecodingOptions> = {
  /** Table 11 "Beam Size" 10 (the README command: `--beam 10`). */
  beam: 10,
  /** Table 11 "Length Penalty" 0.9 for E2E; the README's E2E command uses 0.8 (see above). */
  lengthPenalty: 0.9,
  /** Table 11 "no repeat ngram size" 4 (the README command: `--no_repeat_ngram_size 4`). */
  noRepeatNgramSize: 4,
  /** Not in the paper; the README command's `--repetition_penalty 1.0`, i.e. none. */
  repetitionPenalty: 1,
  /** Not in the paper; the README command's `--eval_len 64` (decoding steps). */
  maxNewTokens: 64,
};
