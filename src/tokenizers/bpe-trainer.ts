/**
 * Trains a small byte-level BPE tokenizer (GPT-2 / RoBERTa style) from text, for the offline `mini`
 * profile, and writes it as a Hugging Face `tokenizer.json` that ./hf-tokenizer.ts loads unchanged.
 *
 * What "byte-level BPE" means here, following GPT-2 (Radford et al. 2019, §2.2) and Hugging Face
 * tokenizers' ByteLevel pre-tokenizer:
 * - pre-tokenisation by GPT-2's regex (contractions, letter runs, digit runs, other-symbol runs, each
 *   with an optional leading space; whitespace runs), so merges never cross those boundaries;
 * - every UTF-8 byte is a base symbol, shown as a printable character by GPT-2's bytes_to_unicode
 *   (a space becomes 'Ġ'), so the 256-symbol alphabet covers any text and no `<unk>` is ever needed;
 * - merges are learned greedily: repeatedly fuse the most frequent adjacent pair of symbols, counting
 *   each pre-token once per occurrence in the corpus. Ties are broken by the pair's strings (smaller
 *   left, then smaller right, by UTF-16 code units), so the result depends only on the corpus content.
 *
 * Vocabulary layout mirrors the pretrained models whose conventions the harness uses elsewhere:
 * RoBERTa: `<s>`=0, `<pad>`=1, `</s>`=2, `<unk>`=3, then bytes and merges, `<mask>` last (roberta-base
 * puts `<mask>` at 50264, its last row); GPT-2: bytes and merges, `<|endoftext|>` last (50256 in gpt2);
 * DeBERTa-v2 (the mini stand-in's, which has no spm.model of its own): `[PAD]`=0, `[CLS]`=1, `[SEP]`=2,
 * `[UNK]`=3 as in microsoft/deberta-v2-xxlarge, `[MASK]` last. RoBERTa and DeBERTa have the same number
 * of special tokens, so on one corpus they learn the same merges and give ordinary tokens the same ids.
 *
 * Speed: pair counts are kept incrementally with an index pair → words containing it, and the best
 * pair comes from a max-heap with lazy invalidation (as Hugging Face's Rust trainer does): the count
 * of a pair that does not involve the newest token can only fall, so a popped entry whose stored
 * count is stale is re-pushed with its current count, and the first fresh entry is the true maximum.
 */
import { writeFileSync } from 'node:fs';
import { UserError } from '../util/errors.ts';
import { DEBERTA_TOKENS, GPT2_END_OF_TEXT, ROBERTA_TOKENS } from './special-tokens.ts';

/** GPT-2's pre-tokenisation pattern (the one @huggingface/tokenizers' ByteLevel pre-tokenizer uses). */
const GPT2_PRETOKENIZE = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/**
 * GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the other 68 bytes to
 * U+0100.. in byte order. Returned in GPT-2's encoder.json order (printable bytes first).
 */
export function bytesToUnicode(): { byte: number; char: string }[] {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  return bs.map((byte, i) => ({ byte, char: String.fromCharCode(cs[i] as number) }));
}

export type TokenizerFamily = 'roberta' | 'gpt2' | 'deberta';

export interface SpecialToken {
  content: string;
  id: number;
  /** Absorb whitespace to the left (roberta-base's `<mask>` does, so "a <mask>" masks the word " x"; `[MASK]` likewise). */
  lstrip: boolean;
}

export interface BpeTrainOptions {
  /** Total vocabulary size including special tokens (8000 for the mini models). */
  vocabSize: number;
  family: TokenizerFamily;
  /** Pairs seen fewer times than this are never merged (default 2: no merge is learned from a single word). */
  minFrequency?: number;
  /**
   * When the corpus runs out of pairs before `vocabSize` (a small or repetitive corpus: the synthetic
   * one has a few hundred word types), stop with a smaller vocabulary instead of failing.
   */
  allowSmaller?: boolean;
}

export interface TrainedBpe {
  family: TokenizerFamily;
  /** Token string → id, ids 0..vocabSize-1 without gaps, special tokens included. */
  vocab: Map<string, number>;
  /** Merges in the order learned (their rank). */
  merges: [string, string][];
  specials: SpecialToken[];
}

/** Special tokens before and after the learned vocabulary, per family. */
function specialLayout(family: TokenizerFamily): { leading: string[]; trailing: string[] } {
  if (family === 'roberta') {
    return { leading: [ROBERTA_TOKENS.bos, ROBERTA_TOKENS.pad, ROBERTA_TOKENS.eos, ROBERTA_TOKENS.unk], trailing: [ROBERTA_TOKENS.mask] };
  }
  if (family === 'deberta') {
    return { leading: [DEBERTA_TOKENS.pad, DEBERTA_TOKENS.cls, DEBERTA_TOKENS.sep, DEBERTA_TOKENS.unk], trailing: [DEBERTA_TOKENS.mask] };
  }
  return { leading: [], trailing: [GPT2_END_OF_TEXT] };
}

/** Pre-tokens of `text` with their counts, each as its byte-level string (bytes shown via bytes_to_unicode). */
export function countPretokens(texts: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const m of text.matchAll(GPT2_PRETOKENIZE)) counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
  }
  const byteChar = new Array<string>(256);
  for (const { byte, char } of bytesToUnicode()) byteChar[byte] = char;
  const encoder = new TextEncoder();
  const out = new Map<string, number>();
  for (const [word, count] of counts) {
    let s = '';
    for (const b of encoder.encode(word)) s += byteChar[b];
    out.set(s, (out.get(s) ?? 0) + count);
  }
  return out;
}

interface HeapEntry {
  count: number;
  a: number;
  b: number;
}

/** Max-heap on count, then on the pair's strings ascending (smaller strings win ties). */
class PairHeap {
  private readonly items: HeapEntry[] = [];
  constructor(private readonly strings: string[]) {}

  get size(): number {
    return this.items.length;
  }

  /** True when x should be popped before y. */
  private before(x: HeapEntry, y: HeapEntry): boolean {
    if (x.count !== y.count) return x.count > y.count;
    const s = this.strings;
    if (x.a !== y.a) return (s[x.a] as string) < (s[y.a] as string);
    return (s[x.b] as string) < (s[y.b] as string);
  }

  push(e: HeapEntry): void {
    const h = this.items;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(h[i] as HeapEntry, h[p] as HeapEntry)) break;
      [h[i], h[p]] = [h[p] as HeapEntry, h[i] as HeapEntry];
      i = p;
    }
  }

  pop(): HeapEntry | undefined {
    const h = this.items;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.before(h[l] as HeapEntry, h[m] as HeapEntry)) m = l;
        if (r < h.length && this.before(h[r] as HeapEntry, h[m] as HeapEntry)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as HeapEntry, h[i] as HeapEntry];
        i = m;
      }
    }
    return top;
  }
}

/** Symbol ids are below 2^20 (vocabularies are far smaller), so a pair packs into one exact number. */
const PAIR_BASE = 1 << 20;
const pairKey = (a: number, b: number): number => a * PAIR_BASE + b;

/**
 * Learns merges from the texts until the vocabulary (special tokens included) has exactly
 * `vocabSize` entries. Fails with a UserError when the corpus cannot supply enough merges.
 */
export function trainByteLevelBpe(texts: Iterable<string>, options: BpeTrainOptions): TrainedBpe {
  const { vocabSize, family } = options;
  const minFrequency = options.minFrequency ?? 2;
  const layout = specialLayout(family);
  const numSpecial = layout.leading.length + layout.trailing.length;
  const alphabet = bytesToUnicode().map((e) => e.char);
  const targetLearned = vocabSize - numSpecial - alphabet.length;
  if (!Number.isInteger(vocabSize) || targetLearned < 0 || vocabSize >= PAIR_BASE) {
    throw new UserError(`vocab size ${vocabSize} must be an integer from ${numSpecial + alphabet.length} (bytes + special tokens) to ${PAIR_BASE - 1}`);
  }

  // Symbols: strings[id] is the token text; ids here are internal (bytes first, then merges in order).
  const strings: string[] = alphabet.slice();
  const idOf = new Map<string, number>(strings.map((s, i) => [s, i]));

  const words: number[][] = [];
  const wordCounts: number[] = [];
  for (const [w, c] of countPretokens(texts)) {
    words.push(Array.from(w, (ch) => idOf.get(ch) as number));
    wordCounts.push(c);
  }

  const pairCounts = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  words.forEach((sym, wi) => {
    const c = wordCounts[wi] as number;
    for (let i = 0; i + 1 < sym.length; i++) {
      const k = pairKey(sym[i] as number, sym[i + 1] as number);
      pairCounts.set(k, (pairCounts.get(k) ?? 0) + c);
      let set = where.get(k);
      if (set === undefined) where.set(k, (set = new Set()));
      set.add(wi);
    }
  });
  const heap = new PairHeap(strings);
  for (const [k, count] of pairCounts) heap.push({ count, a: Math.floor(k / PAIR_BASE), b: k % PAIR_BASE });

  const merges: [string, string][] = [];
  let learned = 0;
  while (learned < targetLearned) {
    const top = heap.pop();
    if (top === undefined) break;
    const key = pairKey(top.a, top.b);
    const current = pairCounts.get(key) ?? 0;
    if (current !== top.count) {
      if (current > 0) heap.push({ ...top, count: current });
      continue;
    }
    if (current < minFrequency) break;
    const left = strings[top.a] as string;
    const right = strings[top.b] as string;
    const merged = left + right;
    merges.push([left, right]);
    // Two different pairs can spell the same string ('a'+'bc', 'ab'+'c'); the token is added once.
    let c = idOf.get(merged);
    if (c === undefined) {
      c = strings.length;
      strings.push(merged);
      idOf.set(merged, c);
      learned++;
    }
    const touched = new Set<number>();
    for (const wi of where.get(key) ?? []) {
      const old = words[wi] as number[];
      const next: number[] = [];
      for (let i = 0; i < old.length; ) {
        if (i + 1 < old.length && old[i] === top.a && old[i + 1] === top.b) {
          next.push(c);
          i += 2;
        } else {
          next.push(old[i] as number);
          i++;
        }
      }
      if (next.length === old.length) continue;
      const wc = wordCounts[wi] as number;
      // Remove every old adjacent pair, add every new one: unchanged pairs cancel out.
      for (let i = 0; i + 1 < old.length; i++) {
        const k = pairKey(old[i] as number, old[i + 1] as number);
        pairCounts.set(k, (pairCounts.get(k) as number) - wc);
      }
      for (let i = 0; i + 1 < next.length; i++) {
        const x = next[i] as number;
        const y = next[i + 1] as number;
        const k = pairKey(x, y);
        pairCounts.set(k, (pairCounts.get(k) ?? 0) + wc);
        if (x === c || y === c) {
          touched.add(k);
          let set = where.get(k);
          if (set === undefined) where.set(k, (set = new Set()));
          set.add(wi);
        }
      }
      words[wi] = next;
    }
    where.delete(key);
    pairCounts.delete(key);
    for (const k of touched) {
      const count = pairCounts.get(k) ?? 0;
      if (count > 0) heap.push({ count, a: Math.floor(k / PAIR_BASE), b: k % PAIR_BASE });
    }
  }
  if (learned < targetLearned && options.allowSmaller !== true) {
    throw new UserError(
      `the corpus supports only ${alphabet.length + learned + numSpecial} tokens (pairs seen at least ${minFrequency} times ran out), fewer than the vocab size ${vocabSize}: use more text or a smaller vocab`,
    );
  }

  const vocab = new Map<string, number>();
  const specials: SpecialToken[] = [];
  const addSpecial = (content: string): void => {
    specials.push({ content, id: vocab.size, lstrip: content === ROBERTA_TOKENS.mask || content === DEBERTA_TOKENS.mask });
    vocab.set(content, vocab.size);
  };
  layout.leading.forEach(addSpecial);
  for (const s of strings) vocab.set(s, vocab.size);
  layout.trailing.forEach(addSpecial);
  return { family, vocab, merges, specials };
}

/**
 * The Hugging Face tokenizer.json of a trained tokenizer, with the settings of roberta-base's and
 * gpt2's own files: ByteLevel pre-tokenizer without prefix space, BPE without unk token (bytes cover
 * everything), ByteLevel decoder; RoBERTa's post-processor adds `<s> … </s>`, DeBERTa's `[CLS] A [SEP]` /
 * `[CLS] A [SEP] B [SEP]` (unused by our encode(), which never adds special tokens, but correct for any
 * other reader of the file).
 */
export function tokenizerJson(trained: TrainedBpe): Record<string, unknown> {
  const idOf = (t: string): number => trained.vocab.get(t) as number;
  const postProcessor =
    trained.family === 'roberta'
      ? {
          type: 'RobertaProcessing',
          sep: [ROBERTA_TOKENS.eos, idOf(ROBERTA_TOKENS.eos)],
          cls: [ROBERTA_TOKENS.bos, idOf(ROBERTA_TOKENS.bos)],
          trim_offsets: true,
          add_prefix_space: false,
        }
      : trained.family === 'deberta'
        ? debertaTemplate(idOf(DEBERTA_TOKENS.cls), idOf(DEBERTA_TOKENS.sep))
        : { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: trained.specials.map((s) => ({
      id: s.id,
      content: s.content,
      single_word: false,
      lstrip: s.lstrip,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: postProcessor,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(trained.vocab),
      // "left right" strings: byte-level tokens never contain a space, and every tokenizers version reads this form.
      merges: trained.merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

/** DebertaV2Tokenizer's build_inputs_with_special_tokens as a tokenizers TemplateProcessing (B gets type id 1). */
function debertaTemplate(cls: number, sep: number): Record<string, unknown> {
  const special = (id: string, typeId: number) => ({ SpecialToken: { id, type_id: typeId } });
  const seq = (id: 'A' | 'B', typeId: number) => ({ Sequence: { id, type_id: typeId } });
  const { cls: c, sep: s } = DEBERTA_TOKENS;
  return {
    type: 'TemplateProcessing',
    single: [special(c, 0), seq('A', 0), special(s, 0)],
    pair: [special(c, 0), seq('A', 0), special(s, 0), seq('B', 1), special(s, 1)],
    special_tokens: { [c]: { id: c, ids: [cls], tokens: [c] }, [s]: { id: s, ids: [sep], tokens: [s] } },
  };
}

export function writeTokenizerJson(path: string, trained: TrainedBpe): void {
  writeFileSync(path, JSON.stringify(tokenizerJson(trained)));
}
