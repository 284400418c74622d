/**
 * The tokenizer of a model directory or a tokenizer file, whatever its format: Hugging Face
 * tokenizer.json (RoBERTa, GPT-2; hf-tokenizer.ts, which also reads GPT-2's encoder.json + vocab.bpe)
 * or a SentencePiece spm.model (DeBERTa-v2: microsoft/deberta-v2-xxlarge ships spm.model and no
 * tokenizer.json; spm-unigram.ts). tokenizer.json wins when a directory holds both, as in transformers'
 * AutoTokenizer, which prefers the fast tokenizer's file.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadTokenizer } from './hf-tokenizer.ts';
import { SentencePieceUnigram } from './spm-unigram.ts';
import type { TextTokenizer } from './types.ts';

export const SPM_MODEL_FILE = 'spm.model';

export function loadTextTokenizer(path: string): TextTokenizer {
  const isDir = existsSync(path) && statSync(path).isDirectory();
  if (!isDir) return path.endsWith('.model') ? SentencePieceUnigram.fromFile(path) : loadTokenizer(path);
  const spm = join(path, SPM_MODEL_FILE);
  if (!existsSync(join(path, 'tokenizer.json')) && existsSync(spm)) return SentencePieceUnigram.fromFile(spm);
  return loadTokenizer(path);
}
