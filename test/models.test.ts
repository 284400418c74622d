import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/select.ts';
import { readSafetensors, toFloat32 } from '../src/io/safetensors.ts';
import { EVAL } from '../src/models/context.ts';
import { createModel } from '../src/models/factory.ts';
import { Gpt2Model } from '../src/models/gpt2.ts';
import type { TransformerModel } from '../src/models/model.ts';
import { RobertaModel, robertaPositionIds } from '../src/models/roberta.ts';
import { lmLoss, sequenceClassificationLoss } from '../src/models/losses.ts';
import { injectLora, loraVariables, mergeLora, unmergeLora, setLoraEnabled } from '../src/methods/lora-inject.ts';
import { AdamW } from '../src/train/optim.ts';
import { trainStep } from '../src/train/step.ts';
import { readParityFixture } from '../src/parity/fixture.ts';
import { computeParity } from '../src/parity/compute.ts';
import { compareParity } from '../src/parity/compare.ts';
import { Rng } from '../src/util/rng.ts';
import { tokenBatch } from '../src/models/batch.ts';
import { SHARED, randomBatch, tinyGpt2, tinyRoberta } from './helpers/tiny.ts';
import { sharedOrSkip } from './helpers/skip.ts';

const FIXTURES = ['roberta-tiny', 'gpt2-tiny'];

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

describe('models: parity with the reference implementation', () => {
  before(async function () {
    sharedOrSkip(this, 'fixtures/parity');
    await initBackend('wasm');
  });

  for (const name of FIXTURES) {
    it(`${name}: every expected tensor and beam case within tolerance`, async () => {
      const fx = readParityFixture(join(SHARED, 'fixtures/parity', name));
      const report = compareParity(fx, fx.expected, await computeParity(fx));
      const failed = report.tensors.filter((t) => !t.pass).map((t) => `${t.name}: ${t.maxAbsDiff}`);
      assert.deepEqual(failed, []);
      assert.ok(report.beam.every((b) => b.pass), JSON.stringify(report.beam));
      assert.ok(report.tensors.length >= 12);
    });

    it(`${name}: a perturbed expected tensor is caught`, async () => {
      const fx = readParityFixture(join(SHARED, 'fixtures/parity', name));
      const got = await computeParity(fx);
      const logits = fx.expected.tensors.get('logits.lora')!;
      const data = Float32Array.from(toFloat32(logits));
      data[0] += 1e-4; // a real position in both fixtures (row 0, token 0)
      const tampered = { ...fx.expected, tensors: new Map(fx.expected.tensors).set('logits.lora', { ...logits, data }) };
      const report = compareParity(fx, tampered, got);
      assert.equal(report.pass, false);
      assert.equal(report.tensors.find((t) => t.name === 'logits.lora')!.pass, false);
    });
  }

  it('parity command: exit 0, --json report, --dump writes computed.safetensors and beam.json', function () {
    this.timeout(60000);
    const out = mkdtempSync(join(tmpdir(), 'parity-'));
    const bin = new URL('../bin/lora-repro.mjs', import.meta.url).pathname;
    const r = spawnSync(process.execPath, [bin, 'parity', join(SHARED, 'fixtures/parity/gpt2-tiny'), '--json', '--dump', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { pass: boolean };
    assert.equal(report.pass, true);
    const computed = readSafetensors(join(out, 'computed.safetensors'));
    const expected = readSafetensors(join(SHARED, 'fixtures/parity/gpt2-tiny/expected.safetensors'));
    assert.deepEqual([...computed.tensors.keys()].sort(), [...expected.tensors.keys()].sort());
    const beam = JSON.parse(readFileSync(join(out, 'beam.json'), 'utf8')) as { cases: { tokens: number[] }[] };
    assert.deepEqual(beam.cases[2].tokens, [21, 21, 12]);
    const bad = spawnSync(process.execPath, [bin, 'parity', join(out, 'nope')], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr.trim(), /^lora-repro parity: .*nope\/config\.json: not found/);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
  });
});

describe('models: invariants', () => {
  before(async () => {
    await initBackend('wasm');
  });

  it('RoBERTa position ids start at pad+1 and padding keeps pad', () => {
    const ids = robertaPositionIds(tokenBatch([[0, 5, 6, 2, 1, 1]]), 1);
    assert.deepEqual([...ids], [2, 3, 4, 5, 1, 1]);
  });

  for (const kind of ['roberta', 'gpt2'] as const) {
    const build = () => createModel(kind === 'roberta' ? tinyRoberta() : tinyGpt2(), { seed: 7 });
    const out = (m: TransformerModel, b = randomBatch(3, 3, 12, kind)) => (m.modelType !== 'gpt2' ? m.classify(b, EVAL) : m.logits(b, EVAL));

    it(`${kind}: LoRA with B = 0 equals the base model exactly`, () => {
      const m = build();
      const base = out(m);
      injectLora(m, { r: 4, alpha: 8, dropout: 0, targets: ['q', 'k', 'v', 'o', 'ffn1', 'ffn2'] }, new Rng(1));
      const withLora = out(m);
      assert.equal(maxAbsDiff(base, withLora), 0);
      tf.dispose([base, withLora]);
      m.dispose();
    });

    it(`${kind}: merge → outputs agree with unmerged, unmerge restores the weights`, () => {
      const m = build();
      const base = out(m);
      const inj = injectLora(m, { r: 4, alpha: 16, dropout: 0, targets: ['q', 'v', 'ffn2'] }, new Rng(1));
      const rng = new Rng(9);
      for (const a of inj.adapters.values()) a.B.assign(tf.randomNormal(a.B.shape, 0, 0.2, 'float32', rng.nextSeed()));
      const weightsBefore = [...m.params.vars.values()].map((v) => v.clone());
      const unmerged = out(m);
      mergeLora(inj);
      const merged = out(m);
      assert.ok(maxAbsDiff(unmerged, merged) < 1e-5, `merged vs unmerged ${maxAbsDiff(unmerged, merged)}`);
      const changed = [...m.params.vars.values()].some((v, i) => maxAbsDiff(v, weightsBefore[i]) > 1e-3);
      assert.ok(changed, 'merging must change the adapted weights');
      unmergeLora(inj);
      [...m.params.vars.values()].forEach((v, i) => assert.ok(maxAbsDiff(v, weightsBefore[i]) < 1e-6));
      setLoraEnabled(inj, false);
      const disabled = out(m);
      setLoraEnabled(inj, true);
      const again = out(m);
      // Unmerging restores W up to float32 rounding (≤ 1e-6), so outputs agree to ~1e-6.
      assert.ok(maxAbsDiff(disabled, base) < 1e-5, 'disabled LoRA gives the base model');
      assert.ok(maxAbsDiff(unmerged, base) > 1e-3, 'LoRA with B ≠ 0 changes the output');
      assert.ok(maxAbsDiff(again, unmerged) < 1e-5);
      tf.dispose([base, unmerged, merged, disabled, again, ...weightsBefore]);
      m.dispose();
    });

    for (const method of ['lora', 'ft'] as const) {
      it(`${kind} ${method}: tensor count flat across 20 training steps, loss goes down`, async () => {
        const m = build();
        const rng = new Rng(3);
        const trainable =
          method === 'lora'
            ? [...loraVariables(injectLora(m, { r: 4, alpha: 8, dropout: 0.1, targets: ['q', 'v'] }, rng)), ...m.headParamNames().map((n) => m.params.get(n))]
            : [...m.params.vars.values()];
        const batch = randomBatch(4, 4, 10, kind);
        const ctx = { training: true, rng };
        const loss =
          m.modelType !== 'gpt2'
            ? () => sequenceClassificationLoss(m.classify(batch, ctx), Int32Array.from([0, 1, 2, 1]))
            : () => lmLoss(m.logits(batch, ctx), Int32Array.from(Array.from(batch.inputIds).map((t, i) => batch.inputIds[i + 1] ?? t)), Float32Array.from(batch.attentionMask), 0.1);
        const opt = new AdamW({ weightDecay: 0.01 });
        const losses: number[] = [];
        let count = -1;
        for (let i = 0; i < 20; i++) {
          losses.push((await trainStep(loss, trainable, opt, method === 'lora' ? 1e-2 : 1e-3, 1)).loss);
          if (i === 1) count = tf.memory().numTensors;
          if (i > 1) assert.equal(tf.memory().numTensors, count, `step ${i}`);
        }
        assert.ok(losses[19] < losses[0], `loss ${losses[0]} → ${losses[19]}`);
        opt.dispose();
        m.dispose();
      });
    }
  }

  it('same seed, same numbers (init, dropout, training)', async () => {
    const run = async () => {
      const m = createModel(tinyRoberta(), { seed: 11 });
      const rng = new Rng(5);
      const batch = randomBatch(2, 3, 8, 'roberta');
      const ctx = { training: true, rng };
      const opt = new AdamW();
      const losses: number[] = [];
      for (let i = 0; i < 3; i++) losses.push((await trainStep(() => sequenceClassificationLoss((m as RobertaModel).classify(batch, ctx), Int32Array.from([0, 1, 2])), [...m.params.vars.values()], opt, 1e-3)).loss);
      opt.dispose();
      m.dispose();
      return losses;
    };
    assert.deepEqual(await run(), await run());
  });

  it('GPT-2 key/value cache: token-by-token logits equal the full forward pass', () => {
    const m = createModel(tinyGpt2(), { seed: 2 }) as Gpt2Model;
    const ids = [5, 17, 42, 8, 99, 23];
    const full = m.logits(tokenBatch([ids]), EVAL);
    let past;
    const steps: tf.Tensor[] = [];
    for (let i = 0; i < ids.length; i++) {
      const { hidden, cache } = m.forward(tokenBatch([[ids[i]]]), EVAL, { past, returnCache: true });
      if (past) for (const t of [...past.keys, ...past.values]) t.dispose();
      past = cache;
      steps.push(m.lmLogits(hidden));
      hidden.dispose();
    }
    const stepwise = tf.concat(steps, 1);
    assert.ok(maxAbsDiff(full, stepwise) < 1e-5);
    tf.dispose([full, stepwise, ...steps]);
    m.dispose();
  });

  it('loads checkpoints strictly: a wrong shape or a missing tensor is one error listing it', async function () {
    const { loadHfWeights } = await import('../src/models/load-weights.ts');
    const file = readSafetensors(sharedOrSkip(this, 'fixtures/parity/roberta-tiny/model.safetensors'));
    const m = createModel(tinyRoberta({ hidden_size: 16, num_attention_heads: 2 }), { seed: 0 });
    assert.throws(() => loadHfWeights(m, file, 'x.safetensors'), /x\.safetensors: checkpoint does not match .*has shape \[100,32\] but the model expects \[100,16\]/);
    const m2 = createModel(tinyRoberta(), { seed: 0 });
    const partial = { ...file, tensors: new Map([...file.tensors].filter(([n]) => !n.includes('layer.1.output.dense.weight'))) };
    assert.throws(() => loadHfWeights(m2, partial, 'y.safetensors'), /missing roberta\.encoder\.layer\.1\.output\.dense\.weight/);
    m.dispose();
    m2.dispose();
  });
});
