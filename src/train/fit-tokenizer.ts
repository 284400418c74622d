/**
 * Makes a tokenizer's ids fit a model's embedding table. Pretrained models come with their own
 * tokenizer and need nothing (mode `identity`). Randomly initialised models (the built-in configs,
 * tests) may be paired with a tokenizer that does not match them:
 *
 * - `offset`: a RoBERTa model with the GPT-2 BPE (which has no `<s>`, `<pad>`, `</s>`, `<unk>`,
 *   `<mask>`). RoBERTa's vocabulary IS the GPT-2 BPE plus fairseq's four specials in front and
 *   `<mask>` at the end, so: specials at 0..3 (the model config's bos/pad/eos ids 0/1/2), BPE id i
 *   at 4 + i, `<mask>` at the last row. (Real RoBERTa also reorders the BPE ids by fairseq's
 *   dictionary; for a randomly initialised model any bijection is as good.)
 * - `compact`: the model's table is smaller than the tokenizer (mini-* models have 8,000 rows, GPT-2's
 *   BPE 50,257). The distinct ids of the texts the run will encode are numbered in ascending order
 *   after the specials: a bijection on that data, so decoding generated ids gives exact text (folding
 *   ids modulo the table size would not). Ids outside it (a test split read later) become one `unk`
 *   row that decodes to nothing. The map is saved with the run (vocab-map.json) for eval/generate.
 *   E2E has about 2,500 distinct GPT-2 tokens, so mini-gpt2 can train and generate on the real data.
 */
import { z } from 'zod';
import type { ModelConfig } from '../models/config.ts';
import { GPT2_END_OF_TEXT, ROBERTA_TOKENS } from '../tokenizers/special-tokens.ts';
import type { TextTokenizer } from '../tokenizers/types.ts';
import { UserError } from '../util/errors.ts';

export const vocabMapSchema = z.object({
  mode: z.enum(['identity', 'offset', 'compact']),
  family: z.enum(['roberta', 'gpt2', 'deberta-v2']),
  modelVocab: z.number().int().positive(),
  tokenizerVocab: z.number().int().positive(),
  /** compact: ids[k] is the tokenizer id of the k-th compact row (after the specials). */
  ids: z.array(z.number().int().nonnegative()).optional(),
});

export type VocabMapJson = z.infer<typeof vocabMapSchema>;

const ROBERTA_FIXED = [ROBERTA_TOKENS.bos, ROBERTA_TOKENS.pad, ROBERTA_TOKENS.eos, ROBERTA_TOKENS.unk] as const;

/** A tokenizer whose ids are rows of the model's table (see the file comment). */
class MappedTokenizer implements TextTokenizer {
  readonly vocabSize: number;
  private readonly toModel = new Map<number, number>();
  private readonly toInner = new Map<number, number>();
  /** Model rows of special tokens the inner tokenizer lacks (RoBERTa specials over GPT-2 BPE). */
  private readonly ownSpecials = new Map<string, number>();
  private readonly unkRow: number | undefined;
  /** offset mode: model row = inner id + offset. */
  private readonly offset: number | undefined;

  constructor(
    readonly inner: TextTokenizer,
    readonly map: VocabMapJson,
  ) {
    this.vocabSize = map.modelVocab;
    const V = map.modelVocab;
    const pair = (innerId: number, row: number): void => {
      this.toModel.set(innerId, row);
      this.toInner.set(row, innerId);
    };
    let first = 0;
    if (map.family === 'roberta') {
      // Specials at 0..3 and <mask> at the last row, taken from the inner tokenizer when it has them.
      ROBERTA_FIXED.forEach((tok, row) => {
        const id = inner.tokenToId(tok);
        if (id === undefined) this.ownSpecials.set(tok, row);
        else pair(id, row);
      });
      const mask = inner.tokenToId(ROBERTA_TOKENS.mask);
      if (mask === undefined) this.ownSpecials.set(ROBERTA_TOKENS.mask, V - 1);
      else pair(mask, V - 1);
      first = ROBERTA_FIXED.length;
      this.unkRow = 3;
    }
    if (map.mode === 'offset') {
      this.offset = first;
      this.unkRow = undefined;
    } else if (map.mode === 'compact') {
      const ids = map.ids ?? [];
      let row = first;
      if (map.family === 'gpt2') {
        const eot = inner.tokenToId(GPT2_END_OF_TEXT);
        if (eot === undefined) throw new UserError(`tokenizer has no '${GPT2_END_OF_TEXT}' token, so it is not a GPT-2 tokenizer`);
        pair(eot, row++);
      }
      for (const id of ids) if (!this.toModel.has(id)) pair(id, row++);
      if (map.family === 'gpt2') this.unkRow = row++;
      const limit = map.family === 'roberta' ? V - 1 : V;
      if (row > limit) {
        throw new UserError(
          `the model's vocabulary (${V} rows) is too small for the ${ids.length} distinct tokens of this data: use a model config with vocab_size ≥ ${row + (V - limit)}, or fewer examples`,
        );
      }
    }
  }

  private modelId(id: number): number {
    if (this.offset !== undefined) return this.toModel.get(id) ?? id + this.offset;
    const row = this.toModel.get(id);
    if (row !== undefined) return row;
    if (this.map.mode === 'identity') return id;
    return this.unkRow!;
  }

  encode(text: string): number[] {
    return this.inner.encode(text).map((id) => this.modelId(id));
  }

  decode(ids: number[], skipSpecial = false): string {
    // Runs of inner ids are decoded together (byte-level BPE pieces may span several ids).
    let out = '';
    let run: number[] = [];
    const flush = (): void => {
      if (run.length > 0) out += this.inner.decode(run, skipSpecial);
      run = [];
    };
    const own = new Map([...this.ownSpecials].map(([tok, row]) => [row, tok]));
    for (const row of ids) {
      const special = own.get(row);
      if (special !== undefined) {
        flush();
        if (!skipSpecial) out += special;
        continue;
      }
      if (this.map.mode === 'identity') run.push(row);
      else if (this.offset !== undefined) run.push(this.toInner.get(row) ?? row - this.offset);
      else {
        const inner = this.toInner.get(row);
        if (inner !== undefined) run.push(inner);
      }
    }
    flush();
    return out;
  }

  tokenToId(token: string): number | undefined {
    const own = this.ownSpecials.get(token);
    if (own !== undefined) return own;
    const id = this.inner.tokenToId(token);
    return id === undefined ? undefined : this.modelId(id);
  }
}

export interface FitResult {
  tokenizer: TextTokenizer;
  map: VocabMapJson;
}

/**
 * Fits `inner` to `model`. `corpus` yields every text the run will encode; it is only read for the
 * compact mode. `saved` (a run's vocab-map.json) reproduces a map exactly. `allowRemap` is false for
 * pretrained models: their rows mean particular tokens, so only their own tokenizer fits.
 */
export function fitTokenizer(
  inner: TextTokenizer,
  model: ModelConfig,
  corpus: () => Iterable<string>,
  opts: { saved?: VocabMapJson; allowRemap?: boolean } = {},
): FitResult {
  const { saved, allowRemap = true } = opts;
  const family = model.modelType;
  const V = model.vocabSize;
  if (saved !== undefined) {
    if (saved.family !== family || saved.modelVocab !== V) {
      throw new UserError(`vocab-map.json is for a ${saved.family} model with ${saved.modelVocab} rows, this one is ${family} with ${V}`);
    }
    return { tokenizer: saved.mode === 'identity' ? inner : new MappedTokenizer(inner, saved), map: saved };
  }
  const base = { family, modelVocab: V, tokenizerVocab: inner.vocabSize } as const;
  const hasRobertaSpecials = ROBERTA_FIXED.every((t) => inner.tokenToId(t) !== undefined);
  const remap = (map: VocabMapJson): FitResult => {
    if (!allowRemap) {
      throw new UserError(
        `the tokenizer (${inner.vocabSize} ids${family === 'roberta' ? ', RoBERTa specials ' + (hasRobertaSpecials ? 'present' : 'missing') : ''}) does not fit the pretrained model's ${V}-row vocabulary: use the model's own tokenizer`,
      );
    }
    return { tokenizer: new MappedTokenizer(inner, map), map };
  };
  if (family === 'roberta') {
    const c = model;
    if (!hasRobertaSpecials && (c.bosTokenId !== 0 || c.padTokenId !== 1 || c.eosTokenId !== 2)) {
      throw new UserError(`the tokenizer has no RoBERTa special tokens and the model's bos/pad/eos ids are not 0/1/2: use a RoBERTa tokenizer.json`);
    }
    if (hasRobertaSpecials && inner.vocabSize <= V) return { tokenizer: inner, map: { ...base, mode: 'identity' } };
    // 4 specials in front, <mask> at the end.
    if (!hasRobertaSpecials && inner.vocabSize + 5 <= V) return remap({ ...base, mode: 'offset' });
  } else if (inner.vocabSize <= V) {
    return { tokenizer: inner, map: { ...base, mode: 'identity' } };
  }
  if (!allowRemap) return remap({ ...base, mode: 'compact' });
  const seen = new Set<number>();
  for (const text of corpus()) for (const id of inner.encode(text)) seen.add(id);
  return remap({ ...base, mode: 'compact', ids: [...seen].sort((a, b) => a - b) });
}
