/**
 * DeBERTa-v2 inputs for GLUE sequence classification, the sibling of encode-roberta.ts: the LoRA
 * repository's DeBERTa runs (examples/NLU, run_glue.py with DebertaV2Tokenizer) build
 * `[CLS] A [SEP]` and `[CLS] A [SEP] B [SEP]` (build_inputs_with_special_tokens), truncated
 * longest-first exactly as for RoBERTa, padded with [PAD] by the same collator (collateRoberta).
 *
 * No token_type_ids: microsoft/deberta-v2-xxlarge has type_vocab_size 0, so the reference embeds none
 * (DebertaV2Embeddings adds them only when type_vocab_size > 0), and our model reads type 0 in that
 * case (models/deberta.ts).
 */
import { debertaInputIds, type DebertaSpecialTokens } from '../tokenizers/special-tokens.ts';
import type { TextTokenizer } from '../tokenizers/types.ts';
import { truncateToFit, type EncodedClassificationExample, type TextPairExample } from './encode-roberta.ts';

/** Special tokens DeBERTa-v2 adds: 2 for one sequence, 3 for a pair. */
function debertaSpecialCount(pair: boolean): number {
  return pair ? 3 : 2;
}

/** Token ids with special tokens, truncated longest-first to `maxLength` in total. */
export function buildDebertaInput(a: readonly number[], b: readonly number[] | undefined, maxLength: number, special: DebertaSpecialTokens): number[] {
  const [ta, tb] = truncateToFit(a, b, maxLength, debertaSpecialCount(b !== undefined));
  return debertaInputIds(special, ta, tb);
}

/** Tokenizes one example (each text separately, without special tokens) and builds its input ids. */
export function encodeDebertaExample(
  tokenizer: TextTokenizer,
  example: TextPairExample,
  options: { maxLength: number; special: DebertaSpecialTokens },
): EncodedClassificationExample {
  const a = tokenizer.encode(example.text_a);
  const b = example.text_b === undefined ? undefined : tokenizer.encode(example.text_b);
  return { inputIds: buildDebertaInput(a, b, options.maxLength, options.special), label: example.label };
}
