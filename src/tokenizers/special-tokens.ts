/**
 * Special-token conventions of the two model families the LoRA paper uses.
 *
 * RoBERTa (GLUE experiments): `<s> A </s>` for one sentence, `<s> A </s></s> B </s>` for a pair
 * (Hugging Face RobertaTokenizer / fairseq). roberta-base ids: <s>=0, <pad>=1, </s>=2, <unk>=3,
 * <mask>=50264 (the last row of its 50265-row embedding table).
 *
 * DeBERTa-v2 (Table 2's DeB-XXL rows): `[CLS] A [SEP]` / `[CLS] A [SEP] B [SEP]` (DebertaV2Tokenizer
 * build_inputs_with_special_tokens), ids from the spm.model (microsoft/deberta-v2-xxlarge: [PAD]=0,
 * [CLS]=1, [SEP]=2, [UNK]=3; the spm-unigram fixture has the same).
 *
 * GPT-2 (E2E / WebNLG / DART experiments): a single `<|endoftext|>`=50256 serves as BOS, EOS and
 * padding.
 *
 * Ids are read from the actual tokenizer when one is given, so a tokenizer with a different vocabulary
 * (e.g. a tiny test model) gets its own ids rather than roberta-base's.
 */
import { UserError } from '../util/errors.ts';
import type { TextTokenizer } from './types.ts';

export interface RobertaSpecialTokens {
  /** `<s>`: also the classification token whose hidden state the head reads. */
  bos: number;
  pad: number;
  /** `</s>`: also the separator between the two sentences of a pair. */
  eos: number;
  unk: number;
  mask: number;
}

export interface DebertaSpecialTokens {
  /** `[CLS]`: the token whose hidden state the pooler reads. */
  cls: number;
  /** `[SEP]`: ends each sentence. */
  sep: number;
  pad: number;
}

export interface Gpt2SpecialTokens {
  /** `<|endoftext|>`: used as BOS, EOS and padding. */
  endOfText: number;
}

export const ROBERTA_TOKENS = { bos: '<s>', pad: '<pad>', eos: '</s>', unk: '<unk>', mask: '<mask>' } as const;
export const DEBERTA_TOKENS = { cls: '[CLS]', sep: '[SEP]', pad: '[PAD]', unk: '[UNK]', mask: '[MASK]' } as const;
export const GPT2_END_OF_TEXT = '<|endoftext|>';

/** roberta-base's ids, for code that has no tokenizer at hand (e.g. checkpoint-only parity tests). */
export const ROBERTA_BASE_SPECIAL_IDS: Readonly<RobertaSpecialTokens> = Object.freeze({ bos: 0, pad: 1, eos: 2, unk: 3, mask: 50264 });
const GPT2_SPECIAL_IDS: Readonly<Gpt2SpecialTokens> = Object.freeze({ endOfText: 50256 });

/** Tokenizers built from a file carry its name; used to make the error message point at the file. */
function sourceOf(tok: TextTokenizer): string {
  const s = (tok as { source?: unknown }).source;
  return typeof s === 'string' ? s : 'tokenizer';
}

function idOf(tok: TextTokenizer, token: string, family: string): number {
  const id = tok.tokenToId(token);
  if (id === undefined) throw new UserError(`${sourceOf(tok)}: has no '${token}' token, so it is not a ${family} tokenizer`);
  return id;
}

/** RoBERTa special ids: from `tok` when given (every token must exist in it), else roberta-base's. */
export function robertaSpecialTokens(tok?: TextTokenizer): RobertaSpecialTokens {
  if (tok === undefined) return { ...ROBERTA_BASE_SPECIAL_IDS };
  return {
    bos: idOf(tok, ROBERTA_TOKENS.bos, 'RoBERTa'),
    pad: idOf(tok, ROBERTA_TOKENS.pad, 'RoBERTa'),
    eos: idOf(tok, ROBERTA_TOKENS.eos, 'RoBERTa'),
    unk: idOf(tok, ROBERTA_TOKENS.unk, 'RoBERTa'),
    mask: idOf(tok, ROBERTA_TOKENS.mask, 'RoBERTa'),
  };
}

/** DeBERTa-v2 special ids, read from `tok` (an spm.model tokenizer): every token must exist in it. */
export function debertaSpecialTokens(tok: TextTokenizer): DebertaSpecialTokens {
  return {
    cls: idOf(tok, DEBERTA_TOKENS.cls, 'DeBERTa-v2'),
    sep: idOf(tok, DEBERTA_TOKENS.sep, 'DeBERTa-v2'),
    pad: idOf(tok, DEBERTA_TOKENS.pad, 'DeBERTa-v2'),
  };
}

/**
 * DeBERTa-v2 special ids plus the two masked-LM pretraining needs ([UNK], [MASK]): the mini stand-in's
 * byte-level BPE has all five (../pretrain/cache.ts); microsoft/deberta-v2-xxlarge's spm.model lacks
 * [MASK] (its tokenizer adds it), which fine-tuning never asks for.
 */
export function debertaPretrainTokens(tok: TextTokenizer): DebertaSpecialTokens & { unk: number; mask: number } {
  return { ...debertaSpecialTokens(tok), unk: idOf(tok, DEBERTA_TOKENS.unk, 'DeBERTa-v2'), mask: idOf(tok, DEBERTA_TOKENS.mask, 'DeBERTa-v2') };
}

/** GPT-2 special ids: from `tok` when given, else GPT-2's. */
export function gpt2SpecialTokens(tok?: TextTokenizer): Gpt2SpecialTokens {
  if (tok === undefined) return { ...GPT2_SPECIAL_IDS };
  return { endOfText: idOf(tok, GPT2_END_OF_TEXT, 'GPT-2') };
}

/**
 * RoBERTa input ids for one sentence (`<s> a </s>`) or a pair (`<s> a </s></s> b </s>`), from ids
 * already encoded without special tokens.
 */
export function robertaInputIds(special: RobertaSpecialTokens, a: readonly number[], b?: readonly number[]): number[] {
  const out = [special.bos, ...a, special.eos];
  if (b !== undefined) out.push(special.eos, ...b, special.eos);
  return out;
}

/** DeBERTa-v2 input ids: `[CLS] a [SEP]` or `[CLS] a [SEP] b [SEP]`, from ids without special tokens. */
export function debertaInputIds(special: DebertaSpecialTokens, a: readonly number[], b?: readonly number[]): number[] {
  const out = [special.cls, ...a, special.sep];
  if (b !== undefined) out.push(...b, special.sep);
  return out;
}
