/**
 * SentencePiece unigram encoding (Kudo 2018), as the reference library 0.1.x does it
 * (google/sentencepiece src/normalizer.cc Normalizer::Normalize / NormalizePrefix, src/unigram_model.cc
 * Model::EncodeOptimized, src/sentencepiece_processor.cc Encode): normalise with the precompiled
 * character map (longest match in its Darts-clone double-array trie) and the whitespace rules, add
 * the dummy prefix, then take the best-scoring segmentation (Viterbi over the pieces' log-probabilities
 * in float32; user-defined symbols scored length·max_score − 0.1 so they always win; a character no piece
 * covers becomes [UNK] scored min_score − 10), and merge runs of adjacent unknown pieces.
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../util/errors.ts';
import { parseSpmModel, type SpmModel } from './spm-model.ts';
import type { TextTokenizer } from './types.ts';

const SPACE_SYMBOL = '\u2581';
const UNK_PENALTY = 10;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Length in bytes of the UTF-8 character starting with byte b (1 for a malformed lead byte). */
function charLen(b: number): number {
  if (b < 0x80) return 1;
  if (b >= 0xf0 && b < 0xf8) return 4;
  if (b >= 0xe0) return 3;
  if (b >= 0xc0) return 2;
  return 1;
}

/** A byte trie of strings → value (pieces, user-defined symbols). */
class ByteTrie {
  private readonly root = new Map<number, TrieNode>();
  insert(key: Uint8Array, value: number): void {
    let level = this.root;
    let node: TrieNode | undefined;
    for (const b of key) {
      node = level.get(b);
      if (node === undefined) level.set(b, (node = { next: new Map(), value: -1 }));
      level = node.next;
    }
    if (node !== undefined) node.value = value;
  }
  /** Every (end offset, value) of a key starting at `start` that is a prefix of data[start…]. */
  prefixes(data: Uint8Array, start: number, visit: (end: number, value: number) => void): void {
    let level = this.root;
    for (let i = start; i < data.length; i++) {
      const node = level.get(data[i]);
      if (node === undefined) return;
      if (node.value >= 0) visit(i + 1, node.value);
      level = node.next;
    }
  }
}

interface TrieNode {
  next: Map<number, TrieNode>;
  value: number;
}

/**
 * The precompiled map: uint32 trie size, the Darts-clone units, then NUL-terminated replacement strings
 * (normalizer.cc DecodePrecompiledCharsMap). commonPrefixSearch follows darts.h's unit encoding.
 */
class CharsMap {
  private readonly units: Uint32Array;
  private readonly strings: Uint8Array;
  constructor(blob: Uint8Array, label: string) {
    if (blob.length < 4) throw new UserError(`${label}: precompiled_charsmap is truncated`);
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const trieSize = view.getUint32(0, true);
    if (trieSize % 4 !== 0 || 4 + trieSize > blob.length) throw new UserError(`${label}: precompiled_charsmap has a bad trie size`);
    this.units = new Uint32Array(trieSize / 4);
    for (let i = 0; i < this.units.length; i++) this.units[i] = view.getUint32(4 + 4 * i, true);
    this.strings = blob.subarray(4 + trieSize);
  }

  /** Longest rule matching data[start…]: [length in bytes, replacement bytes], or undefined. */
  longest(data: Uint8Array, start: number): [number, Uint8Array] | undefined {
    const u = this.units;
    const offset = (x: number): number => (x >>> 10) << ((x & (1 << 9)) >>> 6);
    let pos = 0;
    let unit = u[pos];
    pos ^= offset(unit);
    let best: [number, number] | undefined;
    for (let i = start; i < data.length; i++) {
      pos ^= data[i];
      unit = u[pos];
      if (unit === undefined || (unit & 0x800000ff) >>> 0 !== data[i]) break;
      pos ^= offset(unit);
      if ((unit >>> 8) & 1) best = [i + 1 - start, u[pos] & 0x7fffffff];
    }
    if (best === undefined) return undefined;
    let end = best[1];
    while (end < this.strings.length && this.strings[end] !== 0) end++;
    return [best[0], this.strings.subarray(best[1], end)];
  }
}

export interface SpmEncoding {
  ids: number[];
  pieces: string[];
}

export class SentencePieceUnigram implements TextTokenizer {
  private readonly pieceTrie = new ByteTrie();
  private readonly userTrie = new ByteTrie();
  private readonly charsMap: CharsMap | undefined;
  private readonly ids = new Map<string, number>();
  private readonly unkId: number;
  private readonly minScore: number;
  private readonly maxScore: number;

  constructor(
    readonly model: SpmModel,
    /** The file it was read from (special-tokens.ts names it in errors). */
    readonly source: string,
  ) {
    const label = source;
    if (model.modelType !== 1) throw new UserError(`${label}: model_type ${model.modelType} is not a unigram model (only unigram is supported)`);
    let minScore = Infinity;
    let maxScore = -Infinity;
    let unk = -1;
    model.pieces.forEach((p, id) => {
      if (!this.ids.has(p.piece)) this.ids.set(p.piece, id);
      if (p.type === 'unknown') unk = id;
      // model_interface.cc: normal, user-defined and unused pieces are matchable (unused ones skipped later).
      if (p.type === 'normal' || p.type === 'user-defined' || p.type === 'unused') this.pieceTrie.insert(enc.encode(p.piece), id);
      if (p.type === 'user-defined') this.userTrie.insert(enc.encode(p.piece), id);
      if (p.type === 'normal') {
        minScore = Math.min(minScore, p.score);
        maxScore = Math.max(maxScore, p.score);
      }
    });
    if (unk < 0) throw new UserError(`${label}: the model has no unknown piece`);
    this.unkId = unk;
    this.minScore = minScore;
    this.maxScore = maxScore;
    const blob = model.normalizer.precompiledCharsmap;
    this.charsMap = blob.length > 0 ? new CharsMap(blob, label) : undefined;
  }

  static fromFile(path: string): SentencePieceUnigram {
    let buf: Buffer;
    try {
      buf = readFileSync(path);
    } catch (err) {
      throw new UserError(`${path}: cannot read the SentencePiece model (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    return new SentencePieceUnigram(parseSpmModel(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path), path);
  }

  get vocabSize(): number {
    return this.model.pieces.length;
  }

  tokenToId(token: string): number | undefined {
    return this.ids.get(token);
  }

  /** NormalizePrefix: a user-defined symbol as is, else the longest charsmap rule, else one character. */
  private normalizePrefix(data: Uint8Array, start: number): [Uint8Array, number] {
    let user = 0;
    this.userTrie.prefixes(data, start, (end) => (user = end - start));
    if (user > 0) return [data.subarray(start, start + user), user];
    const rule = this.charsMap?.longest(data, start);
    if (rule !== undefined) return [rule[1], rule[0]];
    const n = Math.min(charLen(data[start]), data.length - start);
    return [data.subarray(start, start + n), n];
  }

  /** Normalizer::Normalize (without the alignment): the normalised text as UTF-8 bytes. */
  normalize(text: string): Uint8Array {
    const n = this.model.normalizer;
    const input = enc.encode(text);
    const out: number[] = [];
    const space = n.escapeWhitespaces ? [...enc.encode(SPACE_SYMBOL)] : [0x20];
    let pos = 0;
    if (n.removeExtraWhitespaces) {
      // Leading whitespace, as the map normalises it, is dropped.
      while (pos < input.length) {
        const [sp, len] = this.normalizePrefix(input, pos);
        if (!(sp.length === 1 && sp[0] === 0x20)) break;
        pos += len;
      }
    }
    if (pos >= input.length) return new Uint8Array(0);
    if (n.addDummyPrefix && !this.model.treatWhitespaceAsSuffix) out.push(...space);
    let prevSpace = n.removeExtraWhitespaces;
    while (pos < input.length) {
      const [raw, len] = this.normalizePrefix(input, pos);
      let sp = raw;
      while (prevSpace && sp.length > 0 && sp[0] === 0x20) sp = sp.subarray(1);
      if (sp.length > 0) {
        for (const b of sp) {
          if (n.escapeWhitespaces && b === 0x20) out.push(...space);
          else out.push(b);
        }
        prevSpace = sp[sp.length - 1] === 0x20;
      }
      pos += len;
      if (!n.removeExtraWhitespaces) prevSpace = false;
    }
    if (n.addDummyPrefix && this.model.treatWhitespaceAsSuffix) out.push(...space);
    if (n.removeExtraWhitespaces) {
      while (out.length >= space.length && space.every((b, i) => out[out.length - space.length + i] === b)) out.length -= space.length;
    }
    return Uint8Array.from(out);
  }

  /** Model::EncodeOptimized: the best path over byte offsets, scores summed in float32. */
  private viterbi(data: Uint8Array): [number, number, number][] {
    const size = data.length;
    const bestScore = new Float64Array(size + 1);
    const startsAt = new Int32Array(size + 1).fill(-1);
    const bestId = new Int32Array(size + 1).fill(-1);
    startsAt[0] = 0;
    const unkScore = Math.fround(this.minScore - UNK_PENALTY);
    for (let s = 0; s < size; s++) {
      if (startsAt[s] < 0 && s > 0) continue;
      const here = bestScore[s];
      const mblen = Math.min(charLen(data[s]), size - s);
      let single = false;
      this.pieceTrie.prefixes(data, s, (end, id) => {
        const p = this.model.pieces[id];
        if (p.type === 'unused') return;
        const length = end - s;
        const score = p.type === 'user-defined' ? Math.fround(length * this.maxScore - 0.1) : p.score;
        const cand = Math.fround(score + here);
        if (startsAt[end] < 0 || cand > bestScore[end]) {
          bestScore[end] = cand;
          startsAt[end] = s;
          bestId[end] = id;
        }
        if (length === mblen) single = true;
      });
      if (!single) {
        const end = s + mblen;
        const cand = Math.fround(unkScore + here);
        if (startsAt[end] < 0 || cand > bestScore[end]) {
          bestScore[end] = cand;
          startsAt[end] = s;
          bestId[end] = this.unkId;
        }
      }
    }
    const path: [number, number, number][] = [];
    for (let end = size; end > 0; end = startsAt[end]) path.push([startsAt[end], end, bestId[end]]);
    return path.reverse();
  }

  /** ids and pieces as SentencePieceProcessor.encode gives them (no special tokens). */
  encodeWithPieces(text: string): SpmEncoding {
    const data = this.normalize(text);
    const ids: number[] = [];
    const pieces: string[] = [];
    let prevUnk = false;
    for (const [s, e, id] of this.viterbi(data)) {
      const isUnk = id === this.unkId;
      const bytes = data.subarray(s, e);
      if (isUnk && this.model.byteFallback) {
        // Byte fallback: one <0xXX> piece per byte of the unknown character.
        for (const b of bytes) {
          const piece = `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
          ids.push(this.ids.get(piece) ?? this.unkId);
          pieces.push(piece);
        }
        prevUnk = false;
        continue;
      }
      if (isUnk && prevUnk) {
        // Adjacent unknowns merge into one [UNK] (sentencepiece_processor.cc).
        pieces[pieces.length - 1] += dec.decode(bytes);
      } else {
        ids.push(id);
        pieces.push(dec.decode(bytes));
      }
      prevUnk = isUnk;
    }
    return { ids, pieces };
  }

  encode(text: string): number[] {
    return this.encodeWithPieces(text).ids;
  }

  /** Pieces joined, ▁ back to spaces, the leading space dropped; control and unknown pieces skipped when asked. */
  decode(ids: number[], skipSpecial = true): string {
    const text = ids
      .map((id) => {
        const p = this.model.pieces[id];
        if (p === undefined) return '';
        if (skipSpecial && p.type === 'control') return '';
        if (p.type === 'unknown') return skipSpecial ? '' : ' \u2047 ';
        return p.piece;
      })
      .join('')
      .replaceAll(SPACE_SYMBOL, ' ');
    return text.startsWith(' ') ? text.slice(1) : text;
  }
}
