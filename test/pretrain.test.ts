import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/select.ts';
import { pretrainCommand } from '../src/cli/commands/pretrain.ts';
import { buildCorpus } from '../src/data/corpus.ts';
import { tokenBatch } from '../src/models/batch.ts';
import { readHfConfig } from '../src/models/config.ts';
import { EVAL } from '../src/models/context.ts';
import { createModel, loadPretrained } from '../src/models/factory.ts';
import type { Gpt2Model } from '../src/models/gpt2.ts';
import type { RobertaModel } from '../src/models/roberta.ts';
import { PRETRAIN_FILES, loadPretrainedMlm } from '../src/pretrain/artifacts.ts';
import { cacheRoot, ensurePretrained, locatePretrained } from '../src/pretrain/cache.ts';
import { maskTokens } from '../src/pretrain/mlm-masking.ts';
import { blockBatch, causalTargets, clmLoss, mlmLoss } from '../src/pretrain/objectives.ts';
import { packDocuments } from '../src/pretrain/packing.ts';
import { MINI_PRETRAIN, PRETRAIN_FAMILIES, pretrainModelConfig, SYNTHETIC_PRETRAIN } from '../src/pretrain/pretrain-config.ts';
import { isNoDecay } from '../src/train/optim.ts';
import { pretrainLearningRate } from '../src/pretrain/pretrain.ts';
import { loadTokenizer } from '../src/tokenizers/hf-tokenizer.ts';
import { robertaSpecialTokens } from '../src/tokenizers/special-tokens.ts';
import { UserError } from '../src/util/errors.ts';
import { Rng } from '../src/util/rng.ts';
import { tinyGpt2, tinyRoberta } from './helpers/tiny.ts';
import { mlmLossAgainstReference, pretrainCli, readScalar, TINY_PRETRAIN } from './helpers/pretrain.ts';

/** A model small enough to pretrain in a second or two on the synthetic corpus. */
const TINY = TINY_PRETRAIN;

describe('pretraining', function () {
  let cache: string;
  before(async () => {
    await initBackend();
    cache = mkdtempSync(join(tmpdir(), 'pretrain-'));
  });
  after(() => rmSync(cache, { recursive: true, force: true }));

  describe('MLM masking (DataCollatorForLanguageModeling semantics)', () => {
    const special = new Set([0, 1, 2, 3, 999]);
    const opts = { probability: 0.15, maskTokenId: 999, vocabSize: 1000, specialIds: special };

    it('selects 15% of non-special tokens, then 80% <mask> / 10% random / 10% unchanged', () => {
      const rng = new Rng(3);
      const ids = Int32Array.from({ length: 200_000 }, (_, i) => (i % 10 === 0 ? 2 : 4 + rng.int(990)));
      const m = maskTokens(ids, opts, new Rng(5));
      const eligible = ids.filter((id) => !special.has(id)).length;
      const rate = m.positions.length / eligible;
      assert.ok(Math.abs(rate - 0.15) < 0.004, `selected ${rate}`);
      let masked = 0;
      let unchanged = 0;
      m.positions.forEach((p, k) => {
        assert.ok(!special.has(ids[p] as number), 'a special token was selected');
        assert.equal(m.labels[k], ids[p]);
        if (m.inputIds[p] === 999) masked++;
        else if (m.inputIds[p] === ids[p]) unchanged++;
        assert.ok((m.inputIds[p] as number) >= 0 && (m.inputIds[p] as number) < 1000);
      });
      const n = m.positions.length;
      assert.ok(Math.abs(masked / n - 0.8) < 0.01, `mask ${masked / n}`);
      assert.ok(Math.abs(unchanged / n - 0.1) < 0.01, `unchanged ${unchanged / n}`);
      assert.ok(Math.abs((n - masked - unchanged) / n - 0.1) < 0.01);
      // Positions not selected are untouched.
      const selected = new Set(m.positions);
      for (let i = 0; i < ids.length; i += 97) if (!selected.has(i)) assert.equal(m.inputIds[i], ids[i]);
    });

    it('always selects at least one token, never a special one', () => {
      const m = maskTokens(Int32Array.from([0, 10, 11, 2, 1, 1]), { ...opts, probability: 0 }, new Rng(1));
      assert.equal(m.positions.length, 1);
      assert.ok([1, 2].includes(m.positions[0] as number));
    });
  });

  it('packs documents into full blocks like group_texts', () => {
    const docs = [[5, 6, 7], [8], [9, 10]];
    assert.deepEqual(packDocuments(docs, { blockSize: 4, before: 0, after: 2 }).map((b) => [...b]), [
      [0, 5, 6, 7], [2, 0, 8, 2], [0, 9, 10, 2],
    ]);
    // GPT-2: separator after each document; the incomplete remainder [10, 50] is dropped.
    assert.deepEqual(packDocuments(docs, { blockSize: 3, after: 50 }).map((b) => [...b]), [[5, 6, 7], [50, 8, 50], [9, 10, 50]]);
  });

  it('shifts causal targets and masks the last position of each block', () => {
    const t = causalTargets(blockBatch([Int32Array.from([4, 5, 6]), Int32Array.from([7, 8, 9])]));
    assert.deepEqual([...t.labels], [5, 6, 0, 8, 9, 0]);
    assert.deepEqual([...t.mask], [1, 1, 0, 1, 1, 0]);
  });

  it('warms up linearly, then decays linearly to zero', () => {
    const s = { learningRate: 1e-3, warmupSteps: 10, steps: 110 };
    assert.equal(pretrainLearningRate(0, s), 1e-4);
    assert.equal(pretrainLearningRate(9, s), 1e-3);
    assert.ok(Math.abs(pretrainLearningRate(59, s) - 0.5e-3) < 1e-12);
    assert.equal(pretrainLearningRate(109, s), 0);
    // A run that is all warm-up still ends at the full rate.
    assert.equal(pretrainLearningRate(9, { ...s, steps: 10 }), 1e-3);
    assert.ok(Math.abs(pretrainLearningRate(4, { ...s, steps: 5 }) - 5e-4) < 1e-12);
  });

  it('no weight decay on exactly the parameters the stand-ins were trained without it (every family, every head)', () => {
    // Pretraining's own rule before it shared fine-tuning's (../src/train/optim.ts), written out.
    const recorded = (name: string): boolean => name.endsWith('.bias') || /LayerNorm|layer_norm|\.ln_/.test(name);
    for (const family of PRETRAIN_FAMILIES) {
      const model = createModel(pretrainModelConfig(MINI_PRETRAIN[family], 300, { pad: 1, bos: 0, eos: 2 }), { seed: 1, robertaHeads: ['mlm', 'classification'], debertaHeads: ['mlm', 'classification'] });
      try {
        const names = model.params.names();
        assert.ok(names.some(recorded) && names.some((n) => !recorded(n)), family);
        assert.deepEqual(names.filter(isNoDecay), names.filter(recorded), family);
      } finally {
        model.dispose();
      }
    }
  });

  it('the learning rate the optimizer sees is the stand-ins\' at every step (the private schedule they were trained with)', () => {
    // The schedule pretraining used before it shared ../train/optim.ts, written out.
    const recorded = (step: number, s: { learningRate: number; warmupSteps: number; steps: number }): number => {
      const k = step + 1;
      if (k <= s.warmupSteps) return (s.learningRate * k) / s.warmupSteps;
      return s.learningRate * Math.max(0, (s.steps - k) / Math.max(1, s.steps - s.warmupSteps));
    };
    // AdamW hands the kernels float32 copies of these (train/optim.ts, backend/native-kernels.ts adamwInPlace).
    const seen = (lr: number, step: number, wd: number): number[] => [lr, 1 - lr * wd, lr / (1 - Math.pow(0.9, step + 1))].map(Math.fround);
    for (const s of [...Object.values(MINI_PRETRAIN), ...Object.values(SYNTHETIC_PRETRAIN)]) {
      for (const steps of [s.steps, s.warmupSteps, s.warmupSteps + 1, 40]) {
        const t = { ...s, steps };
        for (let step = 0; step < steps; step++) {
          assert.deepEqual(seen(pretrainLearningRate(step, t), step, s.weightDecay), seen(recorded(step, t), step, s.weightDecay), `${s.family} steps ${steps}, step ${step}`);
        }
      }
    }
  });

  it('MLM loss on the selected rows equals cross-entropy of the full mlmLogits at those rows', () => {
    const model = createModel(tinyRoberta(), { seed: 4, robertaHeads: ['mlm'] }) as RobertaModel;
    const { ours, ref } = mlmLossAgainstReference(model, 3, 97);
    model.dispose();
    assert.ok(Math.abs(ours - ref) < 1e-5, `${ours} vs ${ref}`);
  });

  it('causal LM loss is the mean next-token cross-entropy', () => {
    const model = createModel(tinyGpt2(), { seed: 2 }) as Gpt2Model;
    const blocks = [Int32Array.from([5, 9, 12, 40]), Int32Array.from([1, 2, 3, 4])];
    const batch = blockBatch(blocks);
    const ours = readScalar(clmLoss(model, batch, EVAL));
    const logits = model.logits(batch, EVAL);
    const logp = tf.logSoftmax(logits).arraySync() as number[][][];
    let ref = 0;
    blocks.forEach((b, i) => {
      for (let t = 0; t + 1 < b.length; t++) ref -= (logp[i] as number[][])[t]?.[b[t + 1] as number] as number;
    });
    ref /= 6;
    tf.dispose(logits);
    model.dispose();
    assert.ok(Math.abs(ours - ref) < 1e-4, `${ours} vs ${ref}`);
  });

  describe('a tiny RoBERTa on the synthetic corpus', () => {
    let first: Awaited<ReturnType<typeof ensurePretrained>>;
    let tensorsBefore = 0;
    let tensorsAfter = 0;
    before(async () => {
      tensorsBefore = tf.memory().numTensors;
      first = await ensurePretrained({ family: 'roberta', seed: 1, settings: TINY, cacheDir: cache });
      tensorsAfter = tf.memory().numTensors;
    });

    it('learns: held-out MLM loss falls well below its start (≈ ln vocab)', () => {
      const t = first.meta.training;
      console.log(`      tiny RoBERTa MLM: held-out ${t.evalLoss.before.toFixed(2)} → ${t.evalLoss.after.toFixed(2)} (ln V ${t.evalLoss.lnVocab.toFixed(2)}), ${t.msPerStep.toFixed(0)} ms/step`);
      assert.equal(first.reused, false);
      assert.ok(Math.abs(t.evalLoss.before - t.evalLoss.lnVocab) < 0.3);
      assert.ok(t.evalLoss.after < t.evalLoss.before - 1, `${t.evalLoss.after}`);
      // nspEvery 2: every other step trains sentence pairs (masked LM + next-sentence prediction).
      assert.equal(t.lossCurve.length, 30);
      assert.equal(t.pairLossCurve?.length, 30);
      assert.ok(t.nspAccuracy !== undefined && t.nspAccuracy.pairs > 0 && t.nspAccuracy.before >= 0 && t.nspAccuracy.after <= 1);
      assert.equal(first.meta.corpus.kind, 'synthetic');
      assert.equal(tensorsAfter, tensorsBefore, 'tensors leaked');
    });

    it('writes an HF directory that loads into a classification model, the classifier keeping its init', () => {
      for (const f of Object.values(PRETRAIN_FILES)) assert.ok(existsSync(join(first.dir, f)), f);
      const tok = loadTokenizer(first.dir);
      const config = readHfConfig(first.dir);
      assert.equal(config.vocabSize, tok.vocabSize);
      const sp = robertaSpecialTokens(tok);
      assert.equal(config.modelType === 'roberta' && config.padTokenId, sp.pad);
      const { model, report } = loadPretrained(first.dir, { seed: 3, robertaHeads: ['classification'], overrides: { numLabels: 3 } });
      assert.deepEqual(report.initialised.sort(), ['classifier.dense.bias', 'classifier.dense.weight', 'classifier.out_proj.bias', 'classifier.out_proj.weight']);
      assert.ok(report.loaded.length > 10);
      const logits = (model as RobertaModel).classify(tokenBatch([[sp.bos, ...tok.encode('the film was not good .'), sp.eos]]), EVAL);
      assert.deepEqual(logits.shape, [1, 3]);
      tf.dispose(logits);
      model.dispose();
    });

    it('keeps the MLM head: the reloaded model predicts masked tokens far better than a fresh one', () => {
      const tok = loadTokenizer(first.dir);
      const sp = robertaSpecialTokens(tok);
      const texts = buildCorpus({ budgetBytes: 3000, seed: 42 }).documents.slice(0, 8);
      const rows = texts.map((t) => [sp.bos, ...tok.encode(t), sp.eos].slice(0, 32));
      const batch = tokenBatch(rows);
      const m = maskTokens(batch.inputIds, { probability: 0.15, maskTokenId: sp.mask, vocabSize: tok.vocabSize, specialIds: new Set([0, 1, 2, 3, sp.mask]) }, new Rng(8));
      const corrupted = { ...batch, inputIds: m.inputIds };
      const trained = loadPretrainedMlm(first.dir);
      const fresh = createModel(trained.config, { seed: 5, robertaHeads: ['mlm'] }) as RobertaModel;
      const a = readScalar(mlmLoss(trained, corrupted, m.positions, m.labels, EVAL));
      const b = readScalar(mlmLoss(fresh, corrupted, m.positions, m.labels, EVAL));
      trained.dispose();
      fresh.dispose();
      assert.ok(a < b - 1, `trained ${a} vs fresh ${b}`);
    });

    it('is reused from the cache by a second call, and keyed by the seed', async () => {
      const t0 = performance.now();
      const again = await ensurePretrained({ family: 'roberta', seed: 1, settings: TINY, cacheDir: cache });
      const seconds = (performance.now() - t0) / 1000;
      console.log(`      cache reuse: ${seconds.toFixed(2)} s`);
      assert.equal(again.reused, true);
      assert.equal(again.dir, first.dir);
      const where = locatePretrained({ family: 'roberta', seed: 1, settings: TINY, cacheDir: cache });
      assert.equal(where.dir, first.dir);
      assert.equal(where.cached, true);
      assert.equal(locatePretrained({ family: 'roberta', seed: 9, settings: TINY, cacheDir: cache }).cached, false);
      assert.deepEqual(again.meta, first.meta);
      const other = await ensurePretrained({ family: 'roberta', seed: 2, settings: { ...TINY, steps: 2 }, cacheDir: cache });
      assert.notEqual(other.dir, first.dir);
      // The tokenizer depends on the corpus only: trained once, shared by both seeds.
      assert.equal(other.meta.tokenizer.reused, true);
      assert.equal(other.meta.tokenizer.file, first.meta.tokenizer.file);
    });

    it('issue 23: a truncated cached model is caught by its checksum, moved aside and pretrained again', async () => {
      const weights = join(first.dir, PRETRAIN_FILES.weights);
      const bytes = readFileSync(weights);
      writeFileSync(weights, bytes.subarray(0, bytes.length >> 1));
      const lines: string[] = [];
      const again = await ensurePretrained({ family: 'roberta', seed: 1, settings: TINY, cacheDir: cache, log: (l) => lines.push(l) });
      assert.equal(again.reused, false);
      assert.equal(again.dir, first.dir);
      assert.match(lines.join('\n'), /corrupt cache entry \(model\.safetensors does not match/);
      assert.deepEqual(readFileSync(weights), bytes, 'the same seed rebuilds the same bytes');
      const reused = await ensurePretrained({ family: 'roberta', seed: 1, settings: TINY, cacheDir: cache });
      assert.equal(reused.reused, true, 'the rebuilt entry verifies');
    });
  });

  it('a tiny GPT-2 learns and loads with every weight from the checkpoint', async () => {
    const r = await ensurePretrained({ family: 'gpt2', seed: 1, settings: TINY, cacheDir: cache });
    const t = r.meta.training;
    console.log(`      tiny GPT-2 LM: held-out ${t.evalLoss.before.toFixed(2)} → ${t.evalLoss.after.toFixed(2)} (ln V ${t.evalLoss.lnVocab.toFixed(2)})`);
    assert.ok(t.evalLoss.after < t.evalLoss.before - 1, `${t.evalLoss.after}`);
    assert.ok(!existsSync(join(r.dir, PRETRAIN_FILES.mlmHead)));
    // GPT-2 reads the linked corpus (related texts on both sides of <|endoftext|>, ../src/data/corpus.ts).
    assert.equal(r.meta.settings.linkRelated, true);
    assert.match(r.meta.corpus.description, /related texts linked/);
    const config = JSON.parse(readFileSync(join(r.dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const tok = loadTokenizer(r.dir);
    assert.equal(config.eos_token_id, tok.tokenToId('<|endoftext|>'));
    const { model, report } = loadPretrained(r.dir, { seed: 0 });
    assert.deepEqual(report.initialised, []);
    model.dispose();
  });

  it('resolves the cache root: flag, then LORA_REPRO_CACHE, then .cache/lora-repro in the repository', () => {
    assert.equal(cacheRoot('/x/y', { LORA_REPRO_CACHE: '/a' }), '/x/y');
    assert.equal(cacheRoot(undefined, { LORA_REPRO_CACHE: '/a' }), '/a');
    assert.match(cacheRoot(undefined, {}), /\/\.cache\/lora-repro$/);
  });

  it('CLI: `pretrain` prints the model directory and rejects bad flags', async () => {
    await assert.rejects(pretrainCommand.run(['--model', 'bert']), UserError);
    await assert.rejects(pretrainCommand.run(['--model', 'gpt2', '--synthetic', '--data-dir', '/tmp']), UserError);
    // Full-size mini GPT-2, 2 steps: exercises the real settings end to end in seconds.
    const out = await pretrainCli(['--model', 'gpt2', '--synthetic', '--steps', '2', '--cache', cache]);
    assert.equal(out.length, 1);
    assert.ok((out[0] as string).startsWith(join(cache, 'pretrained', 'gpt2-')));
    assert.ok(existsSync(join(out[0] as string, 'model.safetensors')));
  });
});
