/**
 * TextTokenizer on top of @huggingface/tokenizers (pure JS, no native addon), loaded from a Hugging Face
 * `tokenizer.json`, or from GPT-2's original `encoder.json` + `vocab.bpe` pair (the files the LoRA NLG
 * code ships), which we translate into the equivalent tokenizer.json object in memory.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { UserError } from '../util/errors.ts';
import type { TextTokenizer } from './types.ts';

/** The shape of tokenizer.json we rely on; the library validates the rest when it builds the tokenizer. */
interface TokenizerJson {
  model: Record<string, unknown>;
  added_tokens?: unknown[];
  [key: string]: unknown;
}

/**
 * The part of the library's Tokenizer we use. Its bundled .d.ts files use extension-less relative
 * imports, which TypeScript's NodeNext resolution cannot follow, so the import arrives untyped; this
 * interface restores type checking at our call sites (signatures from types/core/Tokenizer.d.ts).
 */
interface LibTokenizer {
  encode(text: string, options: { add_special_tokens: boolean }): { ids: number[] };
  decode(ids: number[], options: { skip_special_tokens: boolean; clean_up_tokenization_spaces: boolean }): string;
  token_to_id(token: string): number | undefined;
  id_to_token(id: number): string | undefined;
  get_vocab(withAddedTokens: boolean): Map<string, number>;
}

/**
 * Options forwarded to the library as its "tokenizer_config". Decoding must be the exact inverse of
 * encoding (the original GPT-2 encoder and the LoRA eval scripts do no clean-up), so we turn off the
 * library's default "clean_up_tokenization_spaces", which would turn "it 's" into "it's".
 */
const LIBRARY_CONFIG = { clean_up_tokenization_spaces: false };

export class HfTokenizer implements TextTokenizer {
  readonly vocabSize: number;
  private readonly tok: LibTokenizer;

  /** `source` names the file(s) the tokenizer came from, for error messages. */
  constructor(json: TokenizerJson, readonly source: string) {
    try {
      this.tok = new Tokenizer(json, LIBRARY_CONFIG) as LibTokenizer;
    } catch (e) {
      throw new UserError(`${source}: not a usable tokenizer definition (${oneLine(e)})`);
    }
    // get_vocab includes added tokens; the largest id + 1 is the embedding-table size the ids index.
    let maxId = -1;
    for (const id of this.tok.get_vocab(true).values()) if (id > maxId) maxId = id;
    this.vocabSize = maxId + 1;
  }

  encode(text: string): number[] {
    if (typeof text !== 'string') throw new TypeError(`encode: expected a string, got ${typeof text}`);
    if (text.length === 0) return [];
    return this.tok.encode(text, { add_special_tokens: false }).ids;
  }

  decode(ids: number[], skipSpecial = false): string {
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize || this.tok.id_to_token(id) === undefined) {
        throw new RangeError(`decode: ${id} is not a token id of ${this.source} (vocab size ${this.vocabSize})`);
      }
    }
    // The library throws on an empty list; the empty sequence decodes to the empty string.
    if (ids.length === 0) return '';
    return this.tok.decode(ids, { skip_special_tokens: skipSpecial, clean_up_tokenization_spaces: false });
  }

  tokenToId(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }

  /** The token string of `id`, or undefined when the id is not in the vocabulary. */
  idToToken(id: number): string | undefined {
    return this.tok.id_to_token(id);
  }
}

function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${path}: file not found`);
    throw new UserError(`${path}: cannot read (${code ?? oneLine(e)})`);
  }
}

function readJson(path: string): unknown {
  const text = readText(path);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UserError(`${path}: not valid JSON (${oneLine(e)})`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Builds a tokenizer from a Hugging Face tokenizer.json file. */
function loadTokenizerJson(path: string): HfTokenizer {
  const json = readJson(path);
  if (!isObject(json)) throw new UserError(`${path}: tokenizer.json is not a JSON object`);
  if (!isObject(json.model)) throw new UserError(`${path}: tokenizer.json has no "model" object`);
  for (const key of ['normalizer', 'pre_tokenizer', 'post_processor', 'decoder']) {
    // The library requires every key to exist (null is allowed); older files may omit some.
    if (!(key in json)) json[key] = null;
  }
  if (json.added_tokens === undefined) json.added_tokens = [];
  if (!Array.isArray(json.added_tokens)) throw new UserError(`${path}: "added_tokens" is not an array`);
  return new HfTokenizer(json as TokenizerJson, path);
}

/**
 * Builds GPT-2's byte-level BPE tokenizer from OpenAI's `encoder.json` (token → id) and `vocab.bpe`
 * (one merge "a b" per line after a "#version" line), the format of examples/NLG/vocab in microsoft/LoRA.
 * `<|endoftext|>` becomes a special added token, as in Hugging Face's gpt2 tokenizer.json.
 */
export function loadGpt2Bpe(encoderPath: string, vocabBpePath: string): HfTokenizer {
  const vocab = readJson(encoderPath);
  if (!isObject(vocab)) throw new UserError(`${encoderPath}: encoder.json is not a JSON object of token → id`);
  for (const [token, id] of Object.entries(vocab)) {
    if (!Number.isInteger(id) || (id as number) < 0) {
      throw new UserError(`${encoderPath}: id of token ${JSON.stringify(token)} is not a non-negative integer`);
    }
  }
  const merges: [string, string][] = [];
  const lines = readText(vocabBpePath).split('\n');
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '' || (i === 0 && line.startsWith('#version'))) return;
    const parts = line.split(' ');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
      throw new UserError(`${vocabBpePath}: line ${i + 1} is not a merge of two tokens separated by one space`);
    }
    merges.push([parts[0]!, parts[1]!]);
  });
  if (merges.length === 0) throw new UserError(`${vocabBpePath}: contains no merges`);

  const eot = '<|endoftext|>';
  const addedTokens =
    typeof vocab[eot] === 'number'
      ? [{ id: vocab[eot], content: eot, special: true, single_word: false, lstrip: false, rstrip: false, normalized: true }]
      : [];
  // The same settings as Hugging Face's gpt2 tokenizer.json (byte-level pre-tokenizer without a prefix
  // space, BPE without unk token or subword prefixes, byte-level decoder).
  const json: TokenizerJson = {
    version: '1.0',
    added_tokens: addedTokens,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      vocab,
      merges,
    },
  };
  return new HfTokenizer(json, `${encoderPath} + ${vocabBpePath}`);
}

/**
 * Loads a tokenizer from a tokenizer.json file, or from a directory holding `tokenizer.json`
 * (or, failing that, GPT-2's `encoder.json` + `vocab.bpe`).
 */
export function loadTokenizer(path: string): HfTokenizer {
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new UserError(`${path}: file not found`);
  }
  if (!isDir) return loadTokenizerJson(path);
  const tj = join(path, 'tokenizer.json');
  if (existsSync(tj)) return loadTokenizerJson(tj);
  const enc = join(path, 'encoder.json');
  const bpe = join(path, 'vocab.bpe');
  if (existsSync(enc) && existsSync(bpe)) return loadGpt2Bpe(enc, bpe);
  throw new UserError(`${tj}: file not found (nor encoder.json + vocab.bpe in that directory)`);
}
