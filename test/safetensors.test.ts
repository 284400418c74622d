import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  f16,
  f32,
  float32ToHalfBits,
  parseSafetensors,
  readSafetensors,
  serializeSafetensors,
  toFloat32,
  writeSafetensors,
  type TensorEntry,
} from '../src/io/safetensors.ts';
import { UserError } from '../src/util/errors.ts';
import { sharedOrSkip } from './helpers/skip.ts';

const shared = (p: string): string => fileURLToPath(new URL(`../../shared/${p}`, import.meta.url));
const TINY = shared('fixtures/parity/roberta-tiny/model.safetensors');
const TINY_CONFIG = shared('fixtures/parity/roberta-tiny/config.json');
const REAL_LORA = shared('fixtures/real-lora/roberta-base-mnli-lora.safetensors');
const REAL_LORA_README = shared('fixtures/real-lora/README.md');

/** A safetensors image from a raw header string and data bytes (lets tests write invalid headers). */
function image(header: string | Uint8Array, data: Uint8Array = new Uint8Array(0), lengthField?: bigint): Uint8Array {
  const h = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthField ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function throwsUser(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected UserError, got ${String(e)}`);
    assert.match(e.message, /^bad\.safetensors: /);
    assert.ok(!e.message.includes('\n'), 'message is one line');
    assert.match(e.message, pattern);
    return true;
  });
}

const parseBad = (bytes: Uint8Array) => () => parseSafetensors(bytes, 'bad.safetensors');

describe('safetensors', () => {
  describe('round trip', () => {
    const tensors: Record<string, TensorEntry> = {
      'f32.matrix': { dtype: 'F32', shape: [2, 3], data: new Float32Array([1, -2.5, 3e-38, Infinity, -0, 7]) },
      'f32.scalar': { dtype: 'F32', shape: [], data: new Float32Array([42.5]) },
      'f32.empty': { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
      'f16.odd': { dtype: 'F16', shape: [3], data: new Uint16Array([0x3c00, 0xc000, 0x7e00]) }, // odd byte count
      'f16.scalar': { dtype: 'F16', shape: [], data: new Uint16Array([0x7bff]) },
      'bf16.vec': { dtype: 'BF16', shape: [1, 5], data: new Uint16Array([0x3f80, 0xc000, 0x7f80, 0xffc1, 1]) },
      'i32.vec': { dtype: 'I32', shape: [4], data: new Int32Array([0, -1, 2147483647, -2147483648]) },
      'i32.empty': { dtype: 'I32', shape: [0], data: new Int32Array(0) },
      'i64.vec': { dtype: 'I64', shape: [2, 1], data: new BigInt64Array([-(2n ** 63n), 2n ** 62n + 1n]) },
      'i64.scalar': { dtype: 'I64', shape: [], data: new BigInt64Array([-7n]) },
    };
    const metadata = { format: 'pt', note: 'ünïcode ✓' };

    function check(back: Map<string, TensorEntry>): void {
      assert.deepEqual([...back.keys()].sort(), Object.keys(tensors).sort());
      for (const [name, t] of Object.entries(tensors)) {
        const b = back.get(name)!;
        assert.equal(b.dtype, t.dtype, name);
        assert.deepEqual(b.shape, t.shape, name);
        assert.equal(b.data.constructor, t.data.constructor, name);
        // Compare bytes: catches -0 and NaN payloads that value equality would blur.
        assert.deepEqual(
          new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength),
          new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
          name,
        );
      }
    }

    it('serialize → parse keeps every dtype, scalars and empty tensors', () => {
      const bytes = serializeSafetensors(tensors, metadata);
      const back = parseSafetensors(bytes, 'mem');
      check(back.tensors);
      assert.deepEqual(back.metadata, metadata);
    });

    it('write → read through a file; the write replaces the file atomically', () => {
      const dir = mkdtempSync(join(tmpdir(), 'st-'));
      try {
        const path = join(dir, 'x.safetensors');
        writeFileSync(path, 'old contents');
        writeSafetensors(path, new Map(Object.entries(tensors)), metadata);
        const back = readSafetensors(path);
        check(back.tensors);
        assert.deepEqual(back.metadata, metadata);
        assert.deepEqual(readdirSync(dir), ['x.safetensors'], 'no temp file left behind');
        assert.deepEqual(new Uint8Array(readFileSync(path)), serializeSafetensors(tensors, metadata));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('writes the layout of the reference writer: dtype-descending then name, padded header, aligned data', () => {
      const bytes = serializeSafetensors(tensors);
      const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      assert.equal(n % 8, 0);
      const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
      assert.match(text, /^\{.*\} *$/);
      assert.ok(!text.includes('__metadata__'), 'no metadata key when none is given');
      const header = JSON.parse(text) as Record<string, { dtype: string; data_offsets: [number, number] }>;
      assert.deepEqual(Object.keys(header), [
        'i64.scalar', 'i64.vec', 'f32.empty', 'f32.matrix', 'f32.scalar', 'i32.empty', 'i32.vec', 'bf16.vec', 'f16.odd', 'f16.scalar',
      ]);
      for (const e of Object.values(header)) {
        const size = { I64: 8, F32: 4, I32: 4, BF16: 2, F16: 2 }[e.dtype]!;
        assert.equal((8 + n + e.data_offsets[0]) % size, 0, 'naturally aligned');
      }
    });

    it('produces exactly the bytes hand-computed for one tensor', () => {
      const bytes = serializeSafetensors({ a: f32([2], new Float32Array([1, -2])) }, { k: 'v' });
      const json = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"k":"v"}}';
      assert.equal(json.length, 79); // + 1 space of padding = 80
      // 1.0f = 0x3f800000, -2.0f = 0xc0000000, little-endian.
      const expected = [80, 0, 0, 0, 0, 0, 0, 0, ...Buffer.from(json + ' '), 0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0];
      assert.deepEqual([...bytes], expected);
    });

    it('re-writing the real LoRA checkpoint reproduces the Python-written file byte for byte', function () {
      sharedOrSkip(this, 'fixtures/real-lora');
      const f = readSafetensors(REAL_LORA);
      assert.deepEqual(Buffer.from(serializeSafetensors(f.tensors, f.metadata)), readFileSync(REAL_LORA));
    });

    it('parses the example from the Rust crate docs (unpadded 60-byte header)', () => {
      const raw = '<\0\0\0\0\0\0\0{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}' + '\0'.repeat(16);
      const f = parseSafetensors(Uint8Array.from(raw, (c) => c.charCodeAt(0)), 'doc');
      const t = f.tensors.get('test')!;
      assert.deepEqual(t.shape, [2, 2]);
      assert.deepEqual([...(t.data as Int32Array)], [0, 0, 0, 0]);
      assert.deepEqual(f.metadata, {});
    });

    it('views aligned data in place and copies misaligned data', () => {
      const bytes = serializeSafetensors({ w: f32([3], new Float32Array([1, 2, 3])) });
      const inPlace = parseSafetensors(bytes, 'm').tensors.get('w')!.data;
      assert.equal(inPlace.buffer, bytes.buffer, 'aligned → view over the input');
      const shifted = new Uint8Array(bytes.length + 1).subarray(1); // byteOffset 1: every F32 misaligned
      shifted.set(bytes);
      const copied = parseSafetensors(shifted, 'm').tensors.get('w')!.data;
      assert.notEqual(copied.buffer, shifted.buffer);
      assert.deepEqual([...(copied as Float32Array)], [1, 2, 3]);
    });
  });

  describe('fixtures', () => {
    before(function () {
      sharedOrSkip(this, 'fixtures/parity/roberta-tiny');
      sharedOrSkip(this, 'fixtures/real-lora');
    });

    it('roberta-tiny model.safetensors has the HF names and shapes implied by its config', () => {
      const cfg = JSON.parse(readFileSync(TINY_CONFIG, 'utf8')) as Record<string, number>;
      const H = cfg.hidden_size, I = cfg.intermediate_size;
      const expected = new Map<string, number[]>([
        ['roberta.embeddings.word_embeddings.weight', [cfg.vocab_size, H]],
        ['roberta.embeddings.position_embeddings.weight', [cfg.max_position_embeddings, H]],
        ['roberta.embeddings.token_type_embeddings.weight', [cfg.type_vocab_size, H]],
        ['roberta.embeddings.LayerNorm.weight', [H]],
        ['roberta.embeddings.LayerNorm.bias', [H]],
        ['classifier.dense.weight', [H, H]],
        ['classifier.dense.bias', [H]],
        ['classifier.out_proj.weight', [cfg.num_labels, H]],
        ['classifier.out_proj.bias', [cfg.num_labels]],
      ]);
      for (let l = 0; l < cfg.num_hidden_layers; l++) {
        const p = `roberta.encoder.layer.${l}.`;
        for (const m of ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense']) {
          expected.set(`${p}${m}.weight`, [H, H]);
          expected.set(`${p}${m}.bias`, [H]);
        }
        expected.set(`${p}intermediate.dense.weight`, [I, H]);
        expected.set(`${p}intermediate.dense.bias`, [I]);
        expected.set(`${p}output.dense.weight`, [H, I]);
        expected.set(`${p}output.dense.bias`, [H]);
        for (const ln of ['attention.output.LayerNorm', 'output.LayerNorm']) {
          expected.set(`${p}${ln}.weight`, [H]);
          expected.set(`${p}${ln}.bias`, [H]);
        }
      }
      const f = readSafetensors(TINY);
      assert.equal(f.tensors.size, 41);
      assert.deepEqual([...f.tensors.keys()].sort(), [...expected.keys()].sort());
      for (const [name, shape] of expected) {
        const t = f.tensors.get(name)!;
        assert.equal(t.dtype, 'F32', name);
        assert.deepEqual(t.shape, shape, name);
      }
      // README: the padding rows of word and position embeddings are zero.
      const word = toFloat32(f.tensors.get('roberta.embeddings.word_embeddings.weight')!);
      assert.ok(word.subarray(cfg.pad_token_id * H, (cfg.pad_token_id + 1) * H).every((v) => v === 0));
    });

    it('real LoRA checkpoint: 52 tensors match the shapes, sums and max|x| in its README', () => {
      const rows = readFileSync(REAL_LORA_README, 'utf8')
        .split('\n')
        .map((line) => /^\| `([^`]+)` \| \[([\d, ]+)\] \| (-?[\d.]+) \| ([\d.]+) \|$/.exec(line))
        .filter((m): m is RegExpExecArray => m !== null);
      assert.equal(rows.length, 52, 'README table parsed');
      const f = readSafetensors(REAL_LORA);
      assert.equal(f.tensors.size, 52);
      let floats = 0;
      for (const [, name, shape, sum, maxAbs] of rows) {
        const t = f.tensors.get(name!);
        assert.ok(t, `missing ${name}`);
        assert.deepEqual(t.shape, shape!.split(',').map(Number), name);
        const v = toFloat32(t);
        let s = 0, m = 0;
        for (const x of v) {
          s += x;
          m = Math.max(m, Math.abs(x));
        }
        floats += v.length;
        assert.ok(Math.abs(s - Number(sum)) <= 1e-4, `${name}: sum ${s} vs ${sum}`);
        assert.ok(Math.abs(m - Number(maxAbs)) <= 1e-4, `${name}: max|x| ${m} vs ${maxAbs}`);
      }
      assert.equal(floats, 887811);
    });
  });

  describe('toFloat32', () => {
    const half = (bits: number[]) => toFloat32({ dtype: 'F16', shape: [bits.length], data: new Uint16Array(bits) });
    const bf = (bits: number[]) => toFloat32({ dtype: 'BF16', shape: [bits.length], data: new Uint16Array(bits) });

    it('F16 bit patterns convert exactly', () => {
      const v = half([0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x3555, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0x7c01]);
      assert.equal(v[0], 1);
      assert.equal(v[1], -2);
      assert.equal(v[2], 65504); // largest finite half
      assert.equal(v[3], 2 ** -24); // smallest subnormal
      assert.equal(v[4], 1023 * 2 ** -24); // largest subnormal
      assert.equal(v[5], 2 ** -14); // smallest normal
      assert.equal(v[6], (1 + 0x155 / 1024) * 2 ** -2); // 0.333251953125
      assert.ok(Object.is(v[7], -0));
      assert.equal(v[8], Infinity);
      assert.equal(v[9], -Infinity);
      assert.ok(Number.isNaN(v[10]) && Number.isNaN(v[11]));
    });

    it('BF16 bit patterns convert exactly', () => {
      const v = bf([0x3f80, 0xc000, 0x477f, 0x7f7f, 0x0001, 0x8000, 0x7f80, 0xff80, 0x7fc0]);
      assert.equal(v[0], 1);
      assert.equal(v[1], -2);
      assert.equal(v[2], 65280); // (1 + 127/128) · 2^15
      assert.equal(v[3], (2 - 2 ** -7) * 2 ** 127); // largest finite bf16
      assert.equal(v[4], 2 ** -133); // smallest subnormal
      assert.ok(Object.is(v[5], -0));
      assert.equal(v[6], Infinity);
      assert.equal(v[7], -Infinity);
      assert.ok(Number.isNaN(v[8]));
    });

    it('F32 is returned as is; integers convert', () => {
      const e = f32([2], new Float32Array([1.5, -3]));
      assert.equal(toFloat32(e), e.data);
      assert.deepEqual([...toFloat32({ dtype: 'I32', shape: [3], data: new Int32Array([-5, 0, 16777217]) })], [-5, 0, 16777216]);
      assert.deepEqual([...toFloat32({ dtype: 'I64', shape: [2], data: new BigInt64Array([-3n, 2n ** 40n]) })], [-3, 2 ** 40]);
    });

    it('f32() rejects data that does not match the shape', () => {
      assert.throws(() => f32([2, 2], new Float32Array(3)), /needs 4 values/);
    });
  });

  describe('corrupt files', () => {
    const entry = (o: object) => JSON.stringify({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8], ...o } });
    const eight = new Uint8Array(8);

    it('file shorter than 8 bytes', () => throwsUser(parseBad(new Uint8Array(5)), /5 bytes, shorter than/));
    it('header length 0', () => throwsUser(parseBad(image('', eight)), /header length is 0/));
    it('header length beyond the file', () =>
      throwsUser(parseBad(image('{}      ', new Uint8Array(0), 9n)), /header length 9 exceeds the 8 bytes/));
    it('header length over 100 MB', () => throwsUser(parseBad(image('{}      ', new Uint8Array(0), 200_000_000n)), /100 MB/));
    it('header not UTF-8', () => throwsUser(parseBad(image(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))), /not valid UTF-8/));
    it('header not JSON', () => throwsUser(parseBad(image('{"w": ')), /not valid JSON/));
    it('header not an object', () => {
      throwsUser(parseBad(image('[1, 2]')), /not a JSON object/);
      throwsUser(parseBad(image('null')), /not a JSON object/);
    });
    it('entry not an object', () => throwsUser(parseBad(image('{"w": 3}')), /tensor "w" header entry is not a JSON object/));
    it('entry missing dtype', () => throwsUser(parseBad(image(entry({ dtype: undefined }), eight)), /tensor "w" has no dtype/));
    it('entry missing shape', () => throwsUser(parseBad(image(entry({ shape: undefined }), eight)), /tensor "w" has no shape/));
    it('entry missing data_offsets', () =>
      throwsUser(parseBad(image(entry({ data_offsets: undefined }), eight)), /tensor "w" has no data_offsets/));
    it('dtype of the wrong type', () => throwsUser(parseBad(image(entry({ dtype: 4 }), eight)), /dtype is not a string/));
    it('shape of the wrong type', () => throwsUser(parseBad(image(entry({ shape: '2' }), eight)), /shape is not an array/));
    it('data_offsets of the wrong type', () => {
      throwsUser(parseBad(image(entry({ data_offsets: [0] }), eight)), /not a pair of non-negative integers/);
      throwsUser(parseBad(image(entry({ data_offsets: '0,8' }), eight)), /not a pair of non-negative integers/);
      throwsUser(parseBad(image(entry({ data_offsets: [-8, 0] }), eight)), /not a pair of non-negative integers/);
      throwsUser(parseBad(image(entry({ data_offsets: [8, 0] }), eight)), /end before they begin/);
    });
    it('unknown dtype', () => throwsUser(parseBad(image(entry({ dtype: 'F64', shape: [1] }), eight)), /unsupported dtype 'F64'/));
    it('negative shape dim', () => throwsUser(parseBad(image(entry({ shape: [-2] }), eight)), /dimension that is not a non-negative integer/));
    it('non-integer shape dim', () => throwsUser(parseBad(image(entry({ shape: [1.5] }), eight)), /dimension that is not a non-negative integer/));
    it('offsets outside the file', () =>
      throwsUser(parseBad(image(entry({ shape: [4], data_offsets: [0, 16] }), eight)), /\[0, 16\] lie outside the file \(data section is 8 bytes\)/));
    it('shape × dtype size ≠ byte length', () =>
      throwsUser(parseBad(image(entry({ shape: [3] }), eight)), /needs 12 bytes but data_offsets \[0, 8\] hold 8/));

    const two = (a: [number, number], b: [number, number]) =>
      JSON.stringify({
        a: { dtype: 'F32', shape: [(a[1] - a[0]) / 4], data_offsets: a },
        b: { dtype: 'F32', shape: [(b[1] - b[0]) / 4], data_offsets: b },
      });
    it('offsets with a gap', () => throwsUser(parseBad(image(two([0, 4], [8, 12]), new Uint8Array(12))), /"b" .*leave a gap.*expected begin 4/));
    it('offsets overlapping', () => throwsUser(parseBad(image(two([0, 8], [4, 12]), new Uint8Array(12))), /"b" .*overlap.*expected begin 8/));
    it('first tensor not at 0', () => throwsUser(parseBad(image(two([4, 8], [8, 12]), new Uint8Array(12))), /"a" .*leave a gap.*expected begin 0/));
    it('trailing bytes after the last tensor', () =>
      throwsUser(parseBad(image(two([0, 4], [4, 8]), new Uint8Array(12))), /cover 8 bytes but the data section is 12 bytes/));
    it('data but no tensors', () => throwsUser(parseBad(image('{}', eight)), /cover 0 bytes but the data section is 8/));
    it('metadata value not a string', () =>
      throwsUser(parseBad(image(JSON.stringify({ __metadata__: { epoch: 3 } }))), /__metadata__ value for "epoch" is not a string/));
    it('metadata not an object', () => throwsUser(parseBad(image(JSON.stringify({ __metadata__: ['x'] }))), /__metadata__ is not a JSON object/));

    it('readSafetensors reports corrupt files with their path', () => {
      const dir = mkdtempSync(join(tmpdir(), 'st-'));
      try {
        const path = join(dir, 'bad.safetensors');
        writeFileSync(path, image(two([0, 4], [4, 8]), new Uint8Array(12)));
        assert.throws(() => readSafetensors(path), (e: unknown) => e instanceof UserError && e.message.startsWith(`${path}: tensors cover 8 bytes`));
        writeFileSync(path, new Uint8Array(3));
        assert.throws(() => readSafetensors(path), (e: unknown) => e instanceof UserError && e.message === `${path}: file is 3 bytes, shorter than the 8-byte safetensors header length`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('missing file', () => {
      const path = join(tmpdir(), 'definitely-not-here-7f3a.safetensors');
      assert.throws(() => readSafetensors(path), (e: unknown) => e instanceof UserError && e.message === `${path}: file not found`);
    });
  });

  describe('writer input checks', () => {
    it('rejects data of the wrong array type or length, and the reserved name', () => {
      assert.throws(() => serializeSafetensors({ w: { dtype: 'F16', shape: [2], data: new Float32Array(2) } }), /needs a Uint16Array/);
      assert.throws(() => serializeSafetensors({ w: { dtype: 'F32', shape: [3], data: new Float32Array(2) } }), /needs 3 values/);
      assert.throws(() => serializeSafetensors({ __metadata__: f32([1], new Float32Array(1)) }), /reserved/);
    });
  });
  describe('float32 → F16 (float32ToHalfBits), round to nearest even', () => {
    const bitsOf = (x: number): number => new Uint32Array(new Float32Array([x]).buffer)[0] as number;
    const fromBits = (b: number): number => new Float32Array(new Uint32Array([b]).buffer)[0] as number;
    const halfOf = (xs: number[]): number[] => [...float32ToHalfBits(new Float32Array(xs))];
    // The decoder (toFloat32, exact by construction from the bit fields) is the truth the encoder is held to.
    const all = new Uint16Array(65536).map((_, i) => i);
    const value = toFloat32({ dtype: 'F16', shape: [65536], data: all });

    it('every half value comes back as its own bit pattern (±0, subnormals, normals, ±Infinity); NaN stays NaN', () => {
      const back = float32ToHalfBits(value);
      for (let h = 0; h < 65536; h++) {
        const isNaN = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
        if (isNaN) assert.ok((back[h]! & 0x7c00) === 0x7c00 && (back[h]! & 0x3ff) !== 0, `NaN ${h.toString(16)}`);
        else assert.equal(back[h], h, `0x${h.toString(16)}`);
      }
    });

    it('between two neighbouring halves: nearer one wins, an exact tie goes to the even pattern (subnormal and normal range, both signs)', () => {
      for (const sign of [0, 0x8000]) {
        for (let h = 0; h < 0x7bff; h++) {
          const lo = value[sign | h]!;
          const hi = value[sign | (h + 1)]!;
          const mid = (lo + hi) / 2; // two halves' midpoint needs 12 significant bits: exact in float32
          assert.equal(Math.fround(mid), mid);
          const even = (h & 1) === 0 ? h : h + 1;
          const away = bitsOf(mid) + 1; // one float32 ulp further from zero
          const toward = bitsOf(mid) - 1;
          const got = halfOf([mid, fromBits(away), fromBits(toward)]);
          assert.deepEqual(got, [sign | even, sign | (h + 1), sign | h], `between 0x${h.toString(16)} and 0x${(h + 1).toString(16)}, sign ${sign}`);
        }
      }
    });

    it('overflow, underflow and values numpy gives (float32 → float16)', () => {
      const cases: [number, number][] = [
        [65504, 0x7bff], [65519, 0x7bff], [fromBits(bitsOf(65520) - 1), 0x7bff], [65520, 0x7c00], [1e10, 0x7c00], [-1e10, 0xfc00],
        [Infinity, 0x7c00], [-Infinity, 0xfc00], [2 ** -25, 0x0000], [fromBits(bitsOf(2 ** -25) + 1), 0x0001], [1e-8, 0x0000],
        [-1e-8, 0x8000], [1e-40, 0x0000], [-0, 0x8000],
        // np.float32(x).astype(np.float16).view(np.uint16):
        [0.1, 0x2e66], [1 / 3, 0x3555], [Math.PI, 0x4248], [6e-8, 0x0001], [1.5 * 2 ** -24, 0x0002], [2.5 * 2 ** -24, 0x0002],
        [2 ** -14 - 2 ** -25, 0x0400], [1 + 2 ** -10 + 2 ** -11, 0x3c02],
      ];
      assert.deepEqual(halfOf(cases.map(([x]) => x)).map((h) => `0x${h.toString(16)}`), cases.map(([, h]) => `0x${h.toString(16)}`));
      assert.ok(halfOf([NaN]).every((h) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0));
    });

    it('an F16 file written from float32 reads back as the rounded values', () => {
      const dir = mkdtempSync(join(tmpdir(), 'safetensors-f16-'));
      try {
        const src = new Float32Array([0.1, -2.5, 65504, 3e-6, 1e-9, 0.02 * 1.2345]);
        const file = join(dir, 'h.safetensors');
        writeSafetensors(file, { w: f16([2, 3], src) });
        const back = readSafetensors(file).tensors.get('w')!;
        assert.equal(back.dtype, 'F16');
        assert.deepEqual(back.shape, [2, 3]);
        const got = toFloat32(back);
        src.forEach((x, i) => {
          // Within half an ulp of the half grid: 2^-11 relative for normals, 2^-25 absolute below 2^-14.
          assert.ok(Math.abs(got[i]! - x) <= Math.max(Math.abs(x) * 2 ** -11, 2 ** -25), `${x} → ${got[i]}`);
        });
        assert.deepEqual([got[1], got[2]], [-2.5, 65504]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
