/**
 * Reader and writer for the safetensors format (https://github.com/huggingface/safetensors).
 *
 * Layout: u64 little-endian header length N, N bytes of UTF-8 JSON header, then the data section.
 * The header maps tensor names to {dtype, shape, data_offsets: [begin, end]} (offsets relative to the
 * data section) plus an optional "__metadata__" map of string → string.
 *
 * The reader validates the header as strictly as the reference Rust implementation (contiguous,
 * non-overlapping offsets that cover the data section exactly), because a silently mis-read checkpoint
 * would only show up much later as wrong accuracy numbers.
 */
import { closeSync, fstatSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../util/errors.ts';

export type SafetensorsDType = 'F32' | 'F16' | 'BF16' | 'I64' | 'I32';
/** F16 / BF16 hold their raw bit patterns in a Uint16Array (JS has no 16-bit float array in Node 20). */
export type TensorData = Float32Array | Uint16Array | Int32Array | BigInt64Array;
export interface TensorEntry {
  dtype: SafetensorsDType;
  shape: number[];
  data: TensorData;
}
export interface SafetensorsFile {
  tensors: Map<string, TensorEntry>;
  metadata: Record<string, string>;
}

/** The reference implementation refuses headers above 100 MB; a larger one means a corrupt length field. */
const MAX_HEADER_BYTES = 100_000_000;

const DTYPE_BYTES: Record<SafetensorsDType, number> = { F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4 };

/**
 * Writer order rank, mirroring the Rust library's `Dtype` enum order (it sorts by dtype descending, then
 * name): I64 > F32 > I32 > BF16 > F16. Larger elements first keeps every tensor naturally aligned.
 */
const DTYPE_WRITE_RANK: Record<SafetensorsDType, number> = { I64: 0, F32: 1, I32: 2, BF16: 3, F16: 4 };

function isDType(s: unknown): s is SafetensorsDType {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_BYTES, s);
}

// Typed arrays use the host byte order; the format is little-endian. Every platform Node 20 ships for
// is little-endian, so rather than carry an untested byte-swapping path we refuse to run elsewhere.
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('safetensors.ts: big-endian hosts are not supported');
}

/* ------------------------------------------------------------------------------------------------ */
/* Header                                                                                            */
/* ------------------------------------------------------------------------------------------------ */

interface Layout {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

interface Header {
  metadata: Record<string, string>;
  layouts: Layout[]; // sorted by begin offset
  /** Absolute byte offset of the data section in the file: 8 + N. */
  dataStart: number;
}

/** Reads and range-checks the u64 header length from the first 8 bytes. */
function readHeaderLength(first8: Uint8Array, fileSize: number, label: string): number {
  if (fileSize < 8) {
    throw new UserError(`${label}: file is ${fileSize} bytes, shorter than the 8-byte safetensors header length`);
  }
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n === 0n) throw new UserError(`${label}: safetensors header length is 0`);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new UserError(`${label}: safetensors header length ${n} exceeds the 100 MB limit (corrupt or not a safetensors file)`);
  }
  if (n > BigInt(fileSize - 8)) {
    throw new UserError(`${label}: safetensors header length ${n} exceeds the ${fileSize - 8} bytes after the length field`);
  }
  return Number(n);
}

/** Quotes a name for a message; JSON escaping keeps a name with odd characters on one line. */
function q(s: string): string {
  return JSON.stringify(s);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Decodes and validates the JSON header against the file size.
 * `headerBytes` are the N bytes after the length field.
 */
function decodeHeader(headerBytes: Uint8Array, fileSize: number, label: string): Header {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw new UserError(`${label}: safetensors header is not valid UTF-8`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${label}: safetensors header is not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
  if (!isPlainObject(json)) throw new UserError(`${label}: safetensors header is not a JSON object`);

  const dataStart = 8 + headerBytes.length;
  const dataLen = fileSize - dataStart;
  // Collected as pairs and built with Object.fromEntries so a key like "__proto__" stays a plain key.
  const metaPairs: [string, string][] = [];
  const layouts: Layout[] = [];

  for (const [name, raw] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (!isPlainObject(raw)) throw new UserError(`${label}: __metadata__ is not a JSON object`);
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== 'string') throw new UserError(`${label}: __metadata__ value for ${q(k)} is not a string`);
        metaPairs.push([k, v]);
      }
      continue;
    }
    const where = `${label}: tensor ${q(name)}`;
    if (!isPlainObject(raw)) throw new UserError(`${where} header entry is not a JSON object`);
    const { dtype, shape, data_offsets: offsets } = raw;
    if (dtype === undefined) throw new UserError(`${where} has no dtype`);
    if (shape === undefined) throw new UserError(`${where} has no shape`);
    if (offsets === undefined) throw new UserError(`${where} has no data_offsets`);
    if (typeof dtype !== 'string') throw new UserError(`${where} dtype is not a string`);
    if (!isDType(dtype)) {
      throw new UserError(`${where} has unsupported dtype '${dtype}' (supported: ${Object.keys(DTYPE_BYTES).join(', ')})`);
    }
    if (!Array.isArray(shape)) throw new UserError(`${where} shape is not an array`);
    for (const d of shape) {
      if (!isNonNegInt(d)) throw new UserError(`${where} shape ${JSON.stringify(shape)} has a dimension that is not a non-negative integer`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegInt)) {
      throw new UserError(`${where} data_offsets ${JSON.stringify(offsets)} is not a pair of non-negative integers`);
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) throw new UserError(`${where} data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataLen) {
      throw new UserError(`${where} data_offsets [${begin}, ${end}] lie outside the file (data section is ${dataLen} bytes)`);
    }
    // A huge product may lose float precision, but then it cannot equal end - begin (≤ file size) anyway.
    let bytes = DTYPE_BYTES[dtype];
    for (const d of shape as number[]) bytes *= d;
    if (bytes !== end - begin) {
      throw new UserError(
        `${where} shape ${JSON.stringify(shape)} x ${dtype} needs ${bytes} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`,
      );
    }
    layouts.push({ name, dtype, shape: (shape as number[]).slice(), begin, end });
  }

  // Contiguity: sorted by (begin, end) the tensors must tile [0, dataLen) exactly. Empty tensors
  // (begin == end) may sit anywhere in the sequence, which this tie-break handles.
  layouts.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const l of layouts) {
    if (l.begin !== expected) {
      const what = l.begin < expected ? 'overlap the previous tensor' : 'leave a gap after the previous tensor';
      throw new UserError(`${label}: tensor ${q(l.name)} data_offsets [${l.begin}, ${l.end}] ${what} (expected begin ${expected})`);
    }
    expected = l.end;
  }
  if (expected !== dataLen) {
    throw new UserError(`${label}: tensors cover ${expected} bytes but the data section is ${dataLen} bytes (trailing bytes)`);
  }
  return { metadata: Object.fromEntries(metaPairs), layouts, dataStart };
}

/* ------------------------------------------------------------------------------------------------ */
/* Reading                                                                                           */
/* ------------------------------------------------------------------------------------------------ */

function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A typed array of `dtype` over `buffer` at `byteOffset` (which must be aligned for the dtype). */
function viewAs(dtype: SafetensorsDType, buffer: ArrayBufferLike, byteOffset: number, count: number): TensorData {
  switch (dtype) {
    case 'F32':
      return new Float32Array(buffer, byteOffset, count);
    case 'F16':
    case 'BF16':
      return new Uint16Array(buffer, byteOffset, count);
    case 'I32':
      return new Int32Array(buffer, byteOffset, count);
    case 'I64':
      return new BigInt64Array(buffer, byteOffset, count);
  }
}

/**
 * Parses a whole safetensors file held in memory. Tensor data are views into `bytes` where the
 * alignment allows (so writing to them writes into `bytes`); misaligned tensors are copied.
 */
export function parseSafetensors(bytes: Uint8Array, label: string): SafetensorsFile {
  const n = readHeaderLength(bytes, bytes.length, label);
  const header = decodeHeader(bytes.subarray(8, 8 + n), bytes.length, label);
  const tensors = new Map<string, TensorEntry>();
  for (const l of header.layouts) {
    const abs = bytes.byteOffset + header.dataStart + l.begin;
    const count = elementCount(l.shape);
    const size = DTYPE_BYTES[l.dtype];
    const data =
      abs % size === 0
        ? viewAs(l.dtype, bytes.buffer, abs, count)
        : // slice() copies into a fresh ArrayBuffer at offset 0, which is aligned for every dtype.
          viewAs(l.dtype, bytes.slice(header.dataStart + l.begin, header.dataStart + l.end).buffer, 0, count);
    tensors.set(l.name, { dtype: l.dtype, shape: l.shape, data });
  }
  return { tensors, metadata: header.metadata };
}

/** Reads exactly `dst.length` bytes at `position` or fails naming the file. */
function readFully(fd: number, dst: Uint8Array, position: number, label: string): void {
  // readSync moves at most ~2 GiB per call, so loop; a short read means the file shrank under us.
  let done = 0;
  while (done < dst.length) {
    const got = readSync(fd, dst, done, Math.min(dst.length - done, 1 << 30), position + done);
    if (got === 0) throw new UserError(`${label}: file ended early while reading (was it modified during the read?)`);
    done += got;
  }
}

/**
 * Reads a safetensors file. Each tensor is read straight from the file into its own freshly allocated
 * (hence aligned) typed array: no intermediate whole-file buffer, no copy, no 2 GiB readFileSync limit
 * (GPT-2 large is 3.2 GB in float32), and tensors can be garbage-collected independently.
 */
export function readSafetensors(path: string): SafetensorsFile {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${path}: file not found`);
    if (code === 'EISDIR') throw new UserError(`${path}: is a directory, expected a .safetensors file`);
    throw new UserError(`${path}: cannot open (${code ?? (e as Error).message})`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new UserError(`${path}: is a directory, expected a .safetensors file`);
    const fileSize = st.size;
    const first8 = new Uint8Array(8);
    if (fileSize >= 8) readFully(fd, first8, 0, path);
    const n = readHeaderLength(first8, fileSize, path);
    const headerBytes = new Uint8Array(n);
    readFully(fd, headerBytes, 8, path);
    const header = decodeHeader(headerBytes, fileSize, path);
    const tensors = new Map<string, TensorEntry>();
    for (const l of header.layouts) {
      const data = viewAs(l.dtype, new ArrayBuffer(l.end - l.begin), 0, elementCount(l.shape));
      readFully(fd, new Uint8Array(data.buffer, 0, data.byteLength), header.dataStart + l.begin, path);
      tensors.set(l.name, { dtype: l.dtype, shape: l.shape, data });
    }
    return { tensors, metadata: header.metadata };
  } finally {
    closeSync(fd);
  }
}

/* ------------------------------------------------------------------------------------------------ */
/* Writing                                                                                           */
/* ------------------------------------------------------------------------------------------------ */

export type TensorInput = Map<string, TensorEntry> | Record<string, TensorEntry>;

const ARRAY_TYPE: Record<SafetensorsDType, { new (length: number): TensorData; readonly name: string }> = {
  F32: Float32Array,
  F16: Uint16Array,
  BF16: Uint16Array,
  I32: Int32Array,
  I64: BigInt64Array,
};

/**
 * Validates the tensors (programming errors, so plain Error rather than UserError), orders them as the
 * reference library does, and builds the padded header. Returns the header bytes (length prefix
 * included) and the tensors in data order.
 */
function prepare(tensors: TensorInput, metadata: Record<string, string> | undefined): { head: Uint8Array; ordered: [string, TensorEntry][] } {
  const entries: [string, TensorEntry][] = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  for (const [name, t] of entries) {
    if (name === '__metadata__') throw new Error(`safetensors: '__metadata__' is reserved and cannot be a tensor name`);
    if (!isDType(t.dtype)) throw new Error(`safetensors: tensor ${q(name)} has unsupported dtype '${String(t.dtype)}'`);
    if (!Array.isArray(t.shape) || !t.shape.every(isNonNegInt)) {
      throw new Error(`safetensors: tensor ${q(name)} shape ${JSON.stringify(t.shape)} is not a list of non-negative integers`);
    }
    if (!(t.data instanceof ARRAY_TYPE[t.dtype])) {
      throw new Error(`safetensors: tensor ${q(name)} is ${t.dtype} and needs a ${ARRAY_TYPE[t.dtype].name}, got ${Object.prototype.toString.call(t.data)}`);
    }
    if (t.data.length !== elementCount(t.shape)) {
      throw new Error(`safetensors: tensor ${q(name)} shape ${JSON.stringify(t.shape)} needs ${elementCount(t.shape)} values, data has ${t.data.length}`);
    }
  }
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`safetensors: metadata value for ${q(k)} is not a string`);
    }
  }
  const ordered = entries.sort(
    ([an, a], [bn, b]) => DTYPE_WRITE_RANK[a.dtype] - DTYPE_WRITE_RANK[b.dtype] || (an < bn ? -1 : an > bn ? 1 : 0),
  );
  // Key order: tensors in data order, then __metadata__, as the reference writer emits them, so a file
  // read and re-written here comes out byte-identical to one written by the Python library.
  const pairs: [string, unknown][] = [];
  let offset = 0;
  for (const [name, t] of ordered) {
    const bytes = t.data.byteLength;
    pairs.push([name, { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] }]);
    offset += bytes;
  }
  if (metadata !== undefined && Object.keys(metadata).length > 0) pairs.push(['__metadata__', metadata]);
  const json = new TextEncoder().encode(JSON.stringify(Object.fromEntries(pairs)));
  const padded = Math.ceil(json.length / 8) * 8; // 8-byte alignment of the data section
  const head = new Uint8Array(8 + padded).fill(0x20, 8 + json.length); // pad with spaces
  new DataView(head.buffer).setBigUint64(0, BigInt(padded), true);
  head.set(json, 8);
  return { head, ordered };
}

function bytesOf(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Serializes tensors into one in-memory file image. */
export function serializeSafetensors(tensors: TensorInput, metadata?: Record<string, string>): Uint8Array {
  const { head, ordered } = prepare(tensors, metadata);
  let total = head.length;
  for (const [, t] of ordered) total += t.data.byteLength;
  const out = new Uint8Array(total);
  out.set(head, 0);
  let pos = head.length;
  for (const [, t] of ordered) {
    out.set(bytesOf(t.data), pos);
    pos += t.data.byteLength;
  }
  return out;
}

/**
 * Writes a safetensors file atomically: tensors are streamed into a temp file in the same directory,
 * which is then renamed over `path`, so a crash never leaves a half-written checkpoint under the final
 * name. Streaming avoids building a second full copy of a multi-GB model in memory.
 */
export function writeSafetensors(path: string, tensors: TensorInput, metadata?: Record<string, string>): void {
  const { head, ordered } = prepare(tensors, metadata);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, 'w');
  } catch (e) {
    throw new UserError(`${path}: cannot create file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let ok = false;
  try {
    writeAll(fd, head);
    for (const [, t] of ordered) writeAll(fd, bytesOf(t.data));
    closeSync(fd);
    renameSync(tmp, path);
    ok = true;
  } finally {
    if (!ok) {
      try {
        closeSync(fd);
      } catch {
        /* already closed */
      }
      try {
        unlinkSync(tmp);
      } catch {
        /* nothing to clean up */
      }
    }
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) {
    done += writeSync(fd, bytes, done, Math.min(bytes.length - done, 1 << 30));
  }
}

/* ------------------------------------------------------------------------------------------------ */
/* Conversion                                                                                        */
/* ------------------------------------------------------------------------------------------------ */

let f16Table: Float32Array | undefined;

/** All 65536 half-precision values as float32 (every one is exactly representable), built on first use. */
function halfTable(): Float32Array {
  if (f16Table) return f16Table;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const man = h & 0x3ff;
    if (exp === 0) t[h] = sign * man * 2 ** -24; // zero and subnormals
    else if (exp === 31) t[h] = man === 0 ? sign * Infinity : NaN;
    else t[h] = sign * (1 + man / 1024) * 2 ** (exp - 15);
  }
  f16Table = t;
  return t;
}

/**
 * The tensor's values as float32. F32 returns the stored array itself (no copy: mutating it mutates
 * the entry); F16 and BF16 convert exactly; I32 / I64 round to the nearest float32 above 2^24.
 */
export function toFloat32(entry: TensorEntry): Float32Array {
  const d = entry.data;
  switch (entry.dtype) {
    case 'F32':
      return d as Float32Array;
    case 'F16': {
      const src = d as Uint16Array;
      const table = halfTable();
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = table[src[i]];
      return out;
    }
    case 'BF16': {
      // bfloat16 is the top half of a float32: shifting the bits up is an exact conversion.
      const src = d as Uint16Array;
      const bits = new Uint32Array(src.length);
      for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
      return new Float32Array(bits.buffer);
    }
    case 'I32':
      return Float32Array.from(d as Int32Array);
    case 'I64': {
      const src = d as BigInt64Array;
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = Number(src[i]);
      return out;
    }
  }
}

/**
 * The values of a tensor that must hold weights: a float dtype (an integer tensor reinterpreted as
 * weights gives numbers that mean nothing) and finite values (one NaN silently turns every result
 * NaN). `where` names the file and tensor in the one-line UserError.
 */
export function floatWeights(entry: TensorEntry, where: string): Float32Array {
  if (entry.dtype !== 'F32' && entry.dtype !== 'F16' && entry.dtype !== 'BF16') {
    throw new UserError(`${where}: dtype ${entry.dtype}, expected a float type (F32, F16, BF16): save the weights as floats`);
  }
  const data = toFloat32(entry);
  const bad = nonFiniteIndex(data);
  if (bad >= 0) throw new UserError(`${where}: value ${data[bad]} at index ${bad} is not finite: the weights are corrupt or the run diverged; retrain or use another checkpoint`);
  return data;
}

/** Index of the first NaN or ±Infinity, or -1. */
export function nonFiniteIndex(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
}

/**
 * float32 → IEEE half-precision bit patterns, rounded to nearest with ties to even (as numpy's
 * `astype(float16)` and PyTorch's `.half()` round): values below half the smallest subnormal become
 * ±0, values from 65520 up become ±Infinity, NaN stays NaN (quiet). Exact for every value a half
 * can hold, so toFloat32 of the result gives back each half-representable input.
 */
export function float32ToHalfBits(data: Float32Array): Uint16Array {
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  const out = new Uint16Array(data.length);
  for (let i = 0; i < bits.length; i++) out[i] = halfBits(bits[i] as number);
  return out;
}

function halfBits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const man = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (man !== 0 ? 0x200 | (man >>> 13) : 0);
  const e = exp - 127 + 15; // the half's biased exponent
  if (e >= 31) return sign | 0x7c00;
  if (e >= 1) {
    // Normal: drop 13 mantissa bits. Adding (not or-ing) the rounded mantissa lets a carry step the
    // exponent up, to Infinity from the largest binade.
    const rest = man & 0x1fff;
    let m = man >>> 13;
    if (rest > 0x1000 || (rest === 0x1000 && (m & 1) === 1)) m++;
    return sign | ((e << 10) + m);
  }
  // Subnormal half (value = m × 2^-24): the 24-bit significand shifted right by 14 - e.
  const shift = 14 - e;
  if (shift > 24) return sign; // below half of 2^-24 (float32 subnormals included)
  const full = man | 0x800000;
  const rest = full & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  let m = full >>> shift;
  if (rest > halfway || (rest === halfway && (m & 1) === 1)) m++; // m = 0x400 is the smallest normal
  return sign | m;
}

/** An F16 entry of float32 values (float32ToHalfBits); throws if `data` does not hold exactly prod(shape) values. */
export function f16(shape: number[], data: Float32Array): TensorEntry {
  const entry = f32(shape, data);
  return { dtype: 'F16', shape: entry.shape, data: float32ToHalfBits(data) };
}

/** A float32 entry; throws if `data` does not hold exactly prod(shape) values. */
export function f32(shape: number[], data: Float32Array): TensorEntry {
  if (!shape.every(isNonNegInt)) throw new Error(`f32: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  if (data.length !== elementCount(shape)) {
    throw new Error(`f32: shape ${JSON.stringify(shape)} needs ${elementCount(shape)} values, data has ${data.length}`);
  }
  return { dtype: 'F32', shape: shape.slice(), data };
}
