/**
 * The native kernels are optional: every way of not having them (switched off, not built, BLAS
 * missing or too slow) falls back to tfjs's own kernels with a one-line reason, and the fallback
 * passes parity on every fixture. Each case runs the CLI in a subprocess (the choice is made once
 * per process). The cases that need the addon skip when it is not built.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ADDON_PATH } from '../src/backend/native.ts';
import { sharedOrSkip, skipBecause } from './helpers/skip.ts';

const BIN = new URL('../bin/lora-repro.mjs', import.meta.url).pathname;
const FIXTURES = ['roberta-tiny', 'gpt2-tiny'];

function cli(args: string[], env: Record<string, string>): { status: number | null; out: string; err: string } {
  const clean = { ...process.env };
  for (const k of ['LORA_REPRO_NATIVE', 'LORA_REPRO_BLAS', 'LORA_REPRO_NATIVE_MIN_GFLOPS', 'LORA_REPRO_NATIVE_ADDON', 'LORA_REPRO_BACKEND']) delete clean[k];
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...clean, ...env } });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

function kernels(env: Record<string, string>): { kernels: string; kernelsDetail: string } {
  const r = cli(['env', '--json'], env);
  assert.equal(r.status, 0, r.err);
  return JSON.parse(r.out) as { kernels: string; kernelsDetail: string };
}

describe('native kernels: fallback to the pure wasm path', function () {
  this.timeout(120000);

  it('LORA_REPRO_NATIVE=0 keeps tfjs kernels and says why', () => {
    const k = kernels({ LORA_REPRO_NATIVE: '0' });
    assert.equal(k.kernels, 'tfjs');
    assert.match(k.kernelsDetail, /LORA_REPRO_NATIVE=0/);
  });

  it('an addon that is not built is reported, not an error', () => {
    const k = kernels({ LORA_REPRO_NATIVE_ADDON: '/nonexistent/lora_repro_native.node' });
    assert.equal(k.kernels, 'tfjs');
    assert.match(k.kernelsDetail, /not built \(npm run build:native\)/);
  });

  for (const name of FIXTURES) {
    it(`${name}: parity passes on the pure wasm path`, function () {
      const r = cli(['parity', sharedOrSkip(this, `fixtures/parity/${name}`)], { LORA_REPRO_NATIVE: '0' });
      assert.equal(r.status, 0, r.out + r.err);
      assert.match(r.out, /PASS/);
    });
  }

  describe('with the addon built', function () {
    before(function () {
      if (!existsSync(ADDON_PATH)) skipBecause(this, `the native addon is not built (${ADDON_PATH}; npm run build:native)`);
    });

    it('it is used by default and reported with its BLAS', () => {
      const k = kernels({});
      assert.equal(k.kernels, 'native-blas', k.kernelsDetail);
      assert.match(k.kernelsDetail, /GFLOP\/s/);
    });

    it('a BLAS that cannot be opened falls back; LORA_REPRO_NATIVE=1 turns that into an error', () => {
      const k = kernels({ LORA_REPRO_BLAS: '/nonexistent/libopenblas.so.0' });
      assert.equal(k.kernels, 'tfjs');
      assert.match(k.kernelsDetail, /LORA_REPRO_BLAS/);
      const r = cli(['env'], { LORA_REPRO_BLAS: '/nonexistent/libopenblas.so.0', LORA_REPRO_NATIVE: '1' });
      assert.equal(r.status, 2);
      assert.match(r.err, /LORA_REPRO_NATIVE=1 but native kernels unavailable/);
    });

    it('a slow (reference) BLAS is refused at load', () => {
      const k = kernels({ LORA_REPRO_NATIVE_MIN_GFLOPS: '1e9' });
      assert.equal(k.kernels, 'tfjs');
      assert.match(k.kernelsDetail, /refused: .* GFLOP\/s \(< 1000000000/);
    });

    for (const name of FIXTURES) {
      it(`${name}: parity passes with the native kernels`, function () {
        const r = cli(['parity', sharedOrSkip(this, `fixtures/parity/${name}`)], { LORA_REPRO_NATIVE: '1' });
        assert.equal(r.status, 0, r.out + r.err);
      });
    }
  });
});
