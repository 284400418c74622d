/**
 * The subspace analysis reads the adapters our own runs save (PEFT-style adapter_model.safetensors
 * written by src/methods/, including GPT-2's fused c_attn with its block-diagonal B): the A and B
 * it recovers per (layer, weight type) are exactly the trained adapter's, and scaling = α/r.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { readLoraCheckpoint } from '../src/analysis/lora-weights.ts';
import { analyzeCommand } from '../src/cli/commands/analyze.ts';
import { readAnalysis } from '../src/report/charts/build.ts';
import { analyzeSubspace } from '../src/analysis/run-analysis.ts';
import { initBackend } from '../src/backend/select.ts';
import type { AppliedLora } from '../src/methods/lora.ts';
import { configureMethod } from '../src/methods/registry.ts';
import { Rng } from '../src/util/rng.ts';
import { GPT2_TINY, ROBERTA_TINY, build } from './helpers/methods.ts';

/**
 * φ(r1, r2) = ‖Q1 Q2ᵀ‖²_F / min(r1, r2) with Q the orthonormal rows (Gram–Schmidt in float64) spanning
 * each A's rows (r × d, row-major): the whole row spaces, computed without the analysis' SVD.
 */
function phiFullByGramSchmidt(a1: Float32Array, a2: Float32Array, d: number): number {
  const dot = (x: Float64Array, y: Float64Array): number => x.reduce((s, v, t) => s + v * y[t], 0);
  const rows = (a: Float32Array): Float64Array[] => {
    const q: Float64Array[] = [];
    for (let i = 0; i < a.length / d; i++) {
      const v = Float64Array.from(a.subarray(i * d, (i + 1) * d));
      for (let pass = 0; pass < 2; pass++) {
        for (const u of q) {
          const c = dot(v, u);
          for (let t = 0; t < d; t++) v[t] -= c * u[t];
        }
      }
      const n = Math.sqrt(dot(v, v));
      q.push(v.map((x) => x / n));
    }
    return q;
  };
  const q1 = rows(a1);
  const q2 = rows(a2);
  let s = 0;
  for (const x of q1) for (const y of q2) s += dot(x, y) ** 2;
  return s / Math.min(q1.length, q2.length);
}

describe('subspace analysis of lora-repro adapter artifacts', () => {
  let dir: string;
  before(async () => {
    await initBackend('wasm');
    dir = mkdtempSync(join(tmpdir(), 'subspace-artifact-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const cfg of [ROBERTA_TINY, GPT2_TINY]) {
    it(`${cfg.modelType}: every recovered A, B equals the adapter's (q, v; r = 4, alpha = 12)`, async () => {
      const model = build(cfg);
      const lora = configureMethod('lora', { r: 4, alpha: 12, targets: ['q', 'v'] }).apply(model, new Rng(1)) as AppliedLora;
      let seed = 3;
      for (const a of lora.injection.adapters.values()) a.B.assign(tf.randomNormal(a.B.shape, 0, 0.2, 'float32', seed++));
      const out = join(dir, cfg.modelType);
      await lora.save(out);
      const ck = readLoraCheckpoint(out);
      assert.equal(ck.format, 'peft');
      assert.equal(ck.alpha, 12);
      assert.equal(ck.modules.length, lora.injection.adapters.size);
      for (const m of ck.modules) {
        const a = lora.injection.adapters.get(`${m.layer}.${m.weight}`);
        assert.ok(a !== undefined, `${m.module} is an adapter of ours`);
        assert.deepEqual(Array.from(m.a.data, Math.fround), Array.from(a.A.dataSync()), `${m.module} A`);
        assert.deepEqual(Array.from(m.b.data, Math.fround), Array.from(a.B.dataSync()), `${m.module} B`);
      }
      const analysis = analyzeSubspace({ name: 't', checkpoints: [{ label: 'x', ckpt: ck }] });
      assert.ok(analysis.checkpoints[0].modules.every((m) => m.scaling === 3 && m.frobenius !== null && m.frobenius > 0));
      lora.remove();
      model.dispose();
    });
  }

  it('analyze subspace --a <runId> --b <runId>: finds results/<profile>/runs/<runId>/ adapters and writes the φ grids of every module', async () => {
    const root = join(dir, 'results');
    const ids = ['aaaa1111', 'bbbb2222'];
    const saved: Map<string, Float32Array>[] = [];
    for (const [k, r] of [2, 8].entries()) {
      const model = build(ROBERTA_TINY);
      const lora = configureMethod('lora', { r, alpha: 2 * r, targets: ['q', 'v'] }).apply(model, new Rng(k + 1)) as AppliedLora;
      await lora.save(join(root, 'p', 'runs', ids[k], 'adapter'));
      saved.push(new Map([...lora.injection.adapters].map(([key, a]) => [key, a.A.dataSync() as Float32Array])));
      lora.remove();
      model.dispose();
    }
    const [log, err] = [console.log, console.error];
    console.log = console.error = () => {};
    try {
      assert.equal(await analyzeCommand.run(['subspace', '--a', ids[0], '--b', ids[1], '--results', root, '--profile', 'p', '--name', 'r2-vs-r8', '--no-charts']), 0);
    } finally {
      [console.log, console.error] = [log, err];
    }
    const a = readAnalysis(join(root, 'p', 'analysis', 'r2-vs-r8', 'subspace.json'));
    assert.deepEqual(a.pair?.labels, ['A r=2', 'B r=8']);
    assert.equal(a.pair?.modules.length, 4, '2 layers × {q, v}');
    for (const m of a.pair!.modules) {
      assert.deepEqual([m.r1, m.r2, m.d], [2, 8, 32]);
      assert.equal(m.grid?.length, 2);
      assert.equal(m.grid?.[0].length, 8);
      const key = `${m.layer}.${m.weight}`;
      const want = phiFullByGramSchmidt(saved[0].get(key)!, saved[1].get(key)!, m.d);
      assert.ok(Math.abs(m.phiFull - want) < 1e-6, `${key}: φ(2, 8) ${m.phiFull}, by Gram–Schmidt ${want}`);
      assert.ok(Math.abs(m.grid![1][7] - want) < 1e-6, `${key}: grid (2, 8)`);
    }
  });
});
