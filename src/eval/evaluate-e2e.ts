/**
 * E2E generation and its files, as the reference pipeline does it (microsoft/LoRA examples/NLG):
 * - gpt2_beam.py decodes each MR's context (the FT_Dataset `query`: the last seq_len − eval_len context
 *   tokens) with beam search; `--eos_token_id 628` is appended to the default [50256], so both
 *   `<|endoftext|>` and "\n\n" end a beam;
 * - gpt2_decode.py turns tokens into text: decode, cut at the first `<|endoftext|>` and the first
 *   "\n\n", strip. We also turn any remaining line break into a space, so that the one-output-per-line
 *   file cannot misalign (the reference would write the break as is);
 * - the references file has one reference per line and a blank line after each instance, the format
 *   `lora-repro metrics e2e` (and the official measure_scores.py) reads.
 */
import { e2eQuery } from '../data/encode-gpt2-e2e.ts';
import { beamSearch } from '../generate/beam-search.ts';
import type { Gpt2Model } from '../models/gpt2.ts';
import { GPT2_END_OF_TEXT } from '../tokenizers/special-tokens.ts';
import type { TextTokenizer } from '../tokenizers/types.ts';
import { pyStrip } from './e2e/references.ts';

export interface E2eDecodeOptions {
  beam: number;
  lengthPenalty: number;
  noRepeatNgramSize: number;
  repetitionPenalty: number;
  /** eval_len: decoding steps. */
  maxNewTokens: number;
  /** seq_len: the prompt keeps the last seq_len − eval_len context tokens. */
  maxSeqLength: number;
}

/** `<|endoftext|>` and, when the tokenizer has it as one token, "\n\n" (GPT-2 id 628). */
export function e2eEosIds(tokenizer: TextTokenizer): number[] {
  const ids: number[] = [];
  const eot = tokenizer.tokenToId(GPT2_END_OF_TEXT);
  if (eot !== undefined) ids.push(eot);
  const nn = tokenizer.encode('\n\n');
  // A compact vocabulary without "\n\n" maps it to its unk row, which must not end beams.
  if (nn.length === 1 && !ids.includes(nn[0]) && tokenizer.decode(nn, false) === '\n\n') ids.push(nn[0]);
  return ids;
}

/** One line of text from generated tokens (gpt2_decode.py's post-processing, see the file comment). */
export function e2eHypothesisText(tokenizer: TextTokenizer, tokens: number[]): string {
  const text = tokenizer.decode(tokens, false).split(GPT2_END_OF_TEXT)[0].split('\n\n')[0];
  return oneLine(text);
}

/** Line breaks to spaces, then Python's strip(). */
export function oneLine(text: string): string {
  return pyStrip(text.replace(/\r\n|[\n\r\u2028\u2029\x85\x0B\f]/g, ' '));
}

/** Decodes every context; `onProgress` after each. */
export async function generateE2e(
  model: Gpt2Model,
  tokenizer: TextTokenizer,
  contexts: readonly number[][],
  opts: E2eDecodeOptions,
  onProgress?: (done: number, total: number) => void,
): Promise<string[]> {
  const eosTokenIds = e2eEosIds(tokenizer);
  const hyps: string[] = [];
  for (const [i, ctx] of contexts.entries()) {
    const query = e2eQuery(ctx, opts.maxSeqLength, opts.maxNewTokens);
    const out = await beamSearch(model, query, {
      beam: opts.beam,
      lengthPenalty: opts.lengthPenalty,
      maxNewTokens: opts.maxNewTokens,
      repetitionPenalty: opts.repetitionPenalty,
      noRepeatNgramSize: opts.noRepeatNgramSize,
      minLength: 0,
      eosTokenIds,
    });
    onProgress?.(i + 1, contexts.length);
    hyps.push(e2eHypothesisText(tokenizer, out.tokens));
  }
  return hyps;
}

/** The official references format: one reference per line, a blank line after each instance. */
export function formatE2eReferences(refs: readonly string[][]): string {
  return refs.map((group) => group.map((r) => oneLine(r) + '\n').join('') + '\n').join('');
}

/** One hypothesis per line. */
export function formatE2eHypotheses(hyps: readonly string[]): string {
  return hyps.map((h) => oneLine(h) + '\n').join('');
}
