/**
 * Reads a serialized `sentencepiece.ModelProto` (spm.model: DeBERTa-v2's tokenizer) without protobuf
 * tooling: the few fields a unigram encoder needs, by field number as sentencepiece_model.proto defines
 * them (google/sentencepiece src/sentencepiece_model.proto): ModelProto.pieces = 1, trainer_spec = 2,
 * normalizer_spec = 3; SentencePiece.piece = 1, score = 2, type = 3; TrainerSpec.model_type = 3,
 * byte_fallback = 35, treat_whitespace_as_suffix = 24; NormalizerSpec.name = 1, precompiled_charsmap = 2,
 * add_dummy_prefix = 3, remove_extra_whitespaces = 4, escape_whitespaces = 5.
 */
import { UserError } from '../util/errors.ts';

/** SentencePiece.Type (NORMAL is the default when the field is absent). */
export type PieceType = 'normal' | 'unknown' | 'control' | 'user-defined' | 'unused' | 'byte';

const PIECE_TYPES: Record<number, PieceType> = { 1: 'normal', 2: 'unknown', 3: 'control', 4: 'user-defined', 5: 'unused', 6: 'byte' };

export interface SpmPiece {
  piece: string;
  score: number;
  type: PieceType;
}

export interface SpmModel {
  pieces: SpmPiece[];
  /** TrainerSpec.model_type: 1 unigram (the default), 2 BPE, 3 word, 4 char. */
  modelType: number;
  byteFallback: boolean;
  treatWhitespaceAsSuffix: boolean;
  normalizer: {
    name: string;
    precompiledCharsmap: Uint8Array;
    addDummyPrefix: boolean;
    removeExtraWhitespaces: boolean;
    escapeWhitespaces: boolean;
  };
}

interface Field {
  no: number;
  wire: number;
  /** Varint value (wire 0), or the payload (wire 2), or the 4 bytes (wire 5). */
  varint?: number;
  bytes?: Uint8Array;
}

class Reader {
  pos = 0;
  constructor(
    readonly buf: Uint8Array,
    readonly label: string,
  ) {}

  private fail(what: string): never {
    throw new UserError(`${this.label}: not a SentencePiece model (${what} at byte ${this.pos})`);
  }

  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) this.fail('truncated varint');
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return result;
      mul *= 128;
    }
    this.fail('varint too long');
  }

  *fields(): Generator<Field> {
    while (this.pos < this.buf.length) {
      const key = this.varint();
      const no = Math.floor(key / 8);
      const wire = key % 8;
      if (wire === 0) yield { no, wire, varint: this.varint() };
      else if (wire === 2) {
        const len = this.varint();
        if (this.pos + len > this.buf.length) this.fail('truncated field');
        yield { no, wire, bytes: this.buf.subarray(this.pos, this.pos + len) };
        this.pos += len;
      } else if (wire === 5) {
        if (this.pos + 4 > this.buf.length) this.fail('truncated fixed32');
        yield { no, wire, bytes: this.buf.subarray(this.pos, this.pos + 4) };
        this.pos += 4;
      } else if (wire === 1) {
        if (this.pos + 8 > this.buf.length) this.fail('truncated fixed64');
        this.pos += 8;
      } else this.fail(`unsupported wire type ${wire}`);
    }
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

function parsePiece(bytes: Uint8Array, label: string): SpmPiece {
  const p: SpmPiece = { piece: '', score: 0, type: 'normal' };
  for (const f of new Reader(bytes, label).fields()) {
    if (f.no === 1 && f.bytes) p.piece = utf8.decode(f.bytes);
    else if (f.no === 2 && f.bytes) p.score = new DataView(f.bytes.buffer, f.bytes.byteOffset, 4).getFloat32(0, true);
    else if (f.no === 3 && f.varint !== undefined) {
      const t = PIECE_TYPES[f.varint];
      if (t === undefined) throw new UserError(`${label}: piece '${p.piece}' has unknown type ${f.varint}`);
      p.type = t;
    }
  }
  return p;
}

/** Parses spm.model bytes; `label` names the file in errors. */
export function parseSpmModel(buf: Uint8Array, label: string): SpmModel {
  const model: SpmModel = {
    pieces: [],
    modelType: 1,
    byteFallback: false,
    treatWhitespaceAsSuffix: false,
    normalizer: { name: '', precompiledCharsmap: new Uint8Array(0), addDummyPrefix: true, removeExtraWhitespaces: true, escapeWhitespaces: true },
  };
  for (const f of new Reader(buf, label).fields()) {
    if (f.no === 1 && f.bytes) model.pieces.push(parsePiece(f.bytes, label));
    else if (f.no === 2 && f.bytes) {
      for (const t of new Reader(f.bytes, label).fields()) {
        if (t.no === 3 && t.varint !== undefined) model.modelType = t.varint;
        else if (t.no === 35 && t.varint !== undefined) model.byteFallback = t.varint !== 0;
        else if (t.no === 24 && t.varint !== undefined) model.treatWhitespaceAsSuffix = t.varint !== 0;
      }
    } else if (f.no === 3 && f.bytes) {
      const n = model.normalizer;
      for (const t of new Reader(f.bytes, label).fields()) {
        if (t.no === 1 && t.bytes) n.name = utf8.decode(t.bytes);
        else if (t.no === 2 && t.bytes) n.precompiledCharsmap = t.bytes.slice();
        else if (t.no === 3 && t.varint !== undefined) n.addDummyPrefix = t.varint !== 0;
        else if (t.no === 4 && t.varint !== undefined) n.removeExtraWhitespaces = t.varint !== 0;
        else if (t.no === 5 && t.varint !== undefined) n.escapeWhitespaces = t.varint !== 0;
      }
    }
  }
  if (model.pieces.length === 0) throw new UserError(`${label}: not a SentencePiece model (no pieces)`);
  return model;
}
