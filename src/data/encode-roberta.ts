/**
 * RoBERTa inputs for GLUE sequence classification, as HF run_glue.py builds them with
 * `tokenizer(text_a, text_b, truncation=True, max_length=max_seq_length)`:
 *
 * - single sentence: `<s> A </s>`; pair: `<s> A </s></s> B </s>` (RobertaTokenizer
 *   build_inputs_with_special_tokens); roberta-base ids <s>=0, <pad>=1, </s>=2.
 * - truncation=True means 'longest_first': remove one token at a time from the end of the longer sequence,
 *   from the second one on ties, until the total with special tokens fits max_length. This is the loop of
 *   the transformers slow tokenizers (truncate_sequences) and of the Rust `tokenizers` of the LoRA era
 *   (utils/truncation.rs). Note: newer Rust `tokenizers` releases split the budget in closed form and, when
 *   both sequences must be cut to an odd budget, give the spare token to the longer one; here ties go
 *   to the first sequence, as in the loop.
 * - padding: dynamic, to the longest row of the batch (DataCollatorWithPadding), or to a fixed length
 *   (run_glue.py's `--pad_to_max_length`, its default); the attention mask is 1 on real tokens.
 *
 * Output batches are plain typed arrays, row-major [batch, seqLen]; no TensorFlow here.
 */
import { ROBERTA_BASE_SPECIAL_IDS, robertaInputIds, type RobertaSpecialTokens } from '../tokenizers/special-tokens.ts';
import type { TextTokenizer } from '../tokenizers/types.ts';
import { UserError } from '../util/errors.ts';

/**
 * The special ids the encoder needs. Get them from the tokenizer with robertaSpecialTokens(tok) in
 * src/tokenizers/special-tokens.ts; the default is roberta-base's (<s>=0, <pad>=1, </s>=2).
 */
export type RobertaLayoutIds = Pick<RobertaSpecialTokens, 'bos' | 'eos' | 'pad'>;

/**
 * Longest-first truncation so that `a.length + b.length <= maxTokens` (special tokens already excluded
 * from maxTokens). Removes from the end of the longer sequence, from `b` on ties.
 */
export function truncateLongestFirst(a: readonly number[], b: readonly number[] | undefined, maxTokens: number): [number[], number[] | undefined] {
  if (b === undefined) return [a.slice(0, Math.max(0, maxTokens)), undefined];
  let na = a.length;
  let nb = b.length;
  const toRemove = na + nb - maxTokens;
  for (let k = 0; k < toRemove; k++) {
    if (na > nb) na--;
    else nb--;
  }
  return [a.slice(0, na), b.slice(0, nb)];
}

/** Number of special tokens RoBERTa adds: 2 for one sequence, 4 for a pair. */
function robertaSpecialCount(pair: boolean): number {
  return pair ? 4 : 2;
}

/** Token ids with special tokens, truncated longest-first to `maxLength` in total. */
export function buildRobertaInput(
  a: readonly number[],
  b: readonly number[] | undefined,
  maxLength: number,
  special: RobertaLayoutIds = ROBERTA_BASE_SPECIAL_IDS,
): number[] {
  const [ta, tb] = truncateToFit(a, b, maxLength, robertaSpecialCount(b !== undefined));
  return robertaInputIds({ ...ROBERTA_BASE_SPECIAL_IDS, ...special }, ta, tb);
}

/**
 * Longest-first truncation to `maxLength` tokens in total, `specials` of which the layout adds (every
 * encoder family's run_glue.py path truncates the same way); a UserError when no token of a sentence
 * would be left.
 */
export function truncateToFit(a: readonly number[], b: readonly number[] | undefined, maxLength: number, specials: number): [number[], number[] | undefined] {
  const budget = maxLength - specials;
  const minimum = b === undefined ? 1 : 2;
  if (!Number.isInteger(maxLength) || budget < minimum) {
    throw new UserError(`max sequence length ${maxLength} is too small: need at least ${specials + minimum} for ${b === undefined ? 'single sentences' : 'sentence pairs'}`);
  }
  return truncateLongestFirst(a, b, budget);
}

export interface EncodedClassificationExample {
  inputIds: number[];
  /** Class index, or the regression target (STS-B). */
  label: number;
}

export interface TextPairExample {
  text_a: string;
  text_b?: string;
  label: number;
}

export interface RobertaEncodeOptions {
  maxLength: number;
  special?: RobertaLayoutIds;
}

/** Tokenizes one example (each text separately, without special tokens) and builds its input ids. */
export function encodeRobertaExample(tokenizer: TextTokenizer, example: TextPairExample, options: RobertaEncodeOptions): EncodedClassificationExample {
  const a = tokenizer.encode(example.text_a);
  const b = example.text_b === undefined ? undefined : tokenizer.encode(example.text_b);
  return { inputIds: buildRobertaInput(a, b, options.maxLength, options.special), label: example.label };
}

export interface RobertaBatch {
  /** [batch, seqLen] row-major. */
  inputIds: Int32Array;
  /** [batch, seqLen]: 1 on real tokens, 0 on padding. */
  attentionMask: Int32Array;
  batch: number;
  seqLen: number;
  /** [batch]: class ids (Int32Array) or regression targets (Float32Array). */
  labels: Int32Array | Float32Array;
}

export interface CollateOptions {
  /** Padding id (roberta-base: 1). */
  pad?: number;
  /** STS-B: float labels. */
  regression?: boolean;
  /** Pad every row to this length (run_glue.py --pad_to_max_length) instead of the batch's longest row. */
  padTo?: number;
}

/** Right-pads a batch of encoded examples into typed arrays. */
export function collateRoberta(examples: readonly EncodedClassificationExample[], options: CollateOptions = {}): RobertaBatch {
  const pad = options.pad ?? ROBERTA_BASE_SPECIAL_IDS.pad;
  const batch = examples.length;
  const longest = examples.reduce((m, e) => Math.max(m, e.inputIds.length), 0);
  if (options.padTo !== undefined && options.padTo < longest) {
    throw new Error(`collateRoberta: padTo ${options.padTo} is shorter than a row of length ${longest}`);
  }
  const seqLen = options.padTo ?? longest;
  const inputIds = new Int32Array(batch * seqLen).fill(pad);
  const attentionMask = new Int32Array(batch * seqLen);
  const labels = options.regression ? new Float32Array(batch) : new Int32Array(batch);
  examples.forEach((e, r) => {
    inputIds.set(e.inputIds, r * seqLen);
    attentionMask.fill(1, r * seqLen, r * seqLen + e.inputIds.length);
    if (!options.regression && !Number.isInteger(e.label)) {
      throw new Error(`collateRoberta: label ${e.label} of row ${r} is not a class index (set regression for STS-B)`);
    }
    labels[r] = e.label;
  });
  return { inputIds, attentionMask, batch, seqLen, labels };
}
