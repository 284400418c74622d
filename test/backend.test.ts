import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import { gpuDeviceCount, gpuProblem, initBackend, parseBackendName } from '../src/backend/select.ts';
import { segmentSumInto } from '../src/backend/segment-sum-kernel.ts';
import { UserError } from '../src/util/errors.ts';

const BIN = new URL('../bin/lora-repro.mjs', import.meta.url).pathname;

function envJson(extraEnv: Record<string, string>, args: string[] = []): { status: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, 'env', '--json', ...args], { encoding: 'utf8', env: { ...process.env, ...extraEnv } });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

describe('backend selection', () => {
  it('automatic choice falls through the missing tfjs-node packages to wasm, with SIMD', () => {
    const r = envJson({ LORA_REPRO_BACKEND: '' });
    assert.equal(r.status, 0, r.err);
    const info = JSON.parse(r.out) as { backend: string; simd: boolean; skipped: string[] };
    assert.equal(info.backend, 'wasm');
    assert.equal(info.simd, true);
    assert.equal(info.skipped.length, 3);
    assert.match(info.skipped[0], /tfjs-node-gpu not installed/);
    // No hardware adapter here: no Vulkan loader, or only a software one (lavapipe).
    assert.match(info.skipped[1], /^webgpu: (no Vulkan loader|.*software\/fallback adapter|.*no adapter)/);
  });

  it('LORA_REPRO_BACKEND picks the backend; --backend overrides it', () => {
    assert.equal(JSON.parse(envJson({ LORA_REPRO_BACKEND: 'cpu' }).out).backend, 'cpu');
    assert.equal(JSON.parse(envJson({ LORA_REPRO_BACKEND: 'cpu' }, ['--backend', 'wasm']).out).backend, 'wasm');
  });

  it('an unknown or unavailable backend is one clear line, exit 2', () => {
    const bad = envJson({ LORA_REPRO_BACKEND: 'cuda' });
    assert.equal(bad.status, 2);
    assert.equal(bad.err.trim(), "lora-repro env: LORA_REPRO_BACKEND: unknown backend 'cuda' (choose one of tensorflow-gpu, webgpu, tensorflow, wasm, cpu)");
    const missing = envJson({}, ['--backend', 'tensorflow']);
    assert.equal(missing.status, 2);
    assert.match(missing.err.trim(), /^lora-repro env: backend 'tensorflow': @tensorflow\/tfjs-node not installed .*install it with npm or choose wasm$/);
    assert.throws(() => parseBackendName('gpu', '--backend'), UserError);
  });
});

describe('UnsortedSegmentSum (the embedding gradient)', () => {
  it('segmentSumInto adds rows into their segments and drops out-of-range ids', () => {
    const out = new Float32Array(3 * 2);
    segmentSumInto({ x: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), ids: Int32Array.from([2, 0, 2, 5]), out, numSegments: 3, rowSize: 2 });
    assert.deepEqual([...out], [3, 4, 0, 0, 1 + 5, 2 + 6]);
  });

  for (const backend of ['wasm', 'cpu'] as const) {
    it(`${backend}: gradient of an embedding lookup is the hand-computed scatter-add`, async () => {
      await initBackend(backend);
      assert.equal(tf.getBackend(), backend);
      const table = tf.variable(tf.randomNormal([6, 3], 0, 1, 'float32', 1), false);
      const ids = tf.tensor2d([[1, 4, 1], [0, 1, 5]], [2, 3], 'int32');
      const weights = tf.tensor3d(Array.from({ length: 18 }, (_, i) => i + 1), [2, 3, 3]);
      // loss = Σ w ⊙ E[ids] → dE[v] = Σ over positions with id v of w[position].
      const { grads } = tf.valueAndGrads(() => tf.sum(tf.mul(tf.gather(table, ids), weights)) as tf.Scalar)([table]);
      const g = await grads[0].array();
      const w = (p: number) => [3 * p + 1, 3 * p + 2, 3 * p + 3];
      const add = (...rows: number[][]) => rows.reduce((a, r) => a.map((x, i) => x + r[i]), [0, 0, 0]);
      assert.deepEqual(g, [w(3), add(w(0), w(2), w(4)), [0, 0, 0], [0, 0, 0], w(1), w(5)]);
      tf.dispose([table, ids, weights, ...grads]);
    });
  }

  after(async () => {
    await initBackend('wasm');
  });

  it('the paper guard: a software WebGPU adapter or a GPU-less tfjs-node-gpu is no GPU; a hardware adapter counts its devices', () => {
    const base = { tfjsName: 'webgpu', tfjsVersion: '4.22.0', threads: 1, simd: false, skipped: [], kernels: 'tfjs' as const, kernelsDetail: '' };
    const adapter = { vendor: 'mesa', architecture: 'software', device: 'llvmpipe', description: 'llvmpipe: Mesa 25', software: true, index: 0, adapters: ['llvmpipe'], maxBufferSize: 1, maxStorageBufferBindingSize: 1 };
    const soft = { ...base, name: 'webgpu' as const, device: { hardwareGpu: false, summary: 'llvmpipe, software/fallback adapter', adapter } };
    assert.match(gpuProblem(soft)!, /software\/fallback/);
    assert.equal(gpuDeviceCount(soft), 0);
    const hard = { ...soft, device: { hardwareGpu: true, summary: 'nvidia hopper', adapter: { ...adapter, software: false, adapters: ['H100', 'H100'] } } };
    assert.equal(gpuProblem(hard), undefined);
    assert.equal(gpuDeviceCount(hard), 2);
    const tfCpu = { ...base, name: 'tensorflow-gpu' as const, device: { hardwareGpu: false, summary: 'no GPU device visible to TensorFlow' } };
    assert.match(gpuProblem(tfCpu)!, /CUDA 11\.2/);
    assert.match(gpuProblem({ ...base, name: 'wasm', device: { hardwareGpu: false, summary: 'CPU' } })!, /CPU/);
  });
});
