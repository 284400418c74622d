/**
 * The mini DeBERTa stand-in (issue 21 item 5): DeBERTa-v2 pretrained like mini-roberta (masked LM,
 * next-sentence pairs `[CLS] A [SEP] B [SEP]`, bag of words of `[CLS]`) with RoBERTa's byte-level BPE
 * under DeBERTa's special tokens; saved under DebertaV2ForMaskedLM's names, reloaded as a
 * classification model that LoRA fine-tunes, and with its MLM head. Tiny sizes, tens of steps.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Tokenizer } from '@huggingface/tokenizers';
import { initBackend } from '../src/backend/select.ts';
import { buildCorpus, documentSegments } from '../src/data/corpus.ts';
import { readSafetensors } from '../src/io/safetensors.ts';
import { tokenBatch } from '../src/models/batch.ts';
import { parseHfConfig, readHfConfig } from '../src/models/config.ts';
import { EVAL } from '../src/models/context.ts';
import type { DebertaV2Config } from '../src/models/deberta-config.ts';
import type { DebertaV2Model } from '../src/models/deberta.ts';
import { createModel, loadPretrained } from '../src/models/factory.ts';
import { PRETRAIN_FILES, loadPretrainedMlm } from '../src/pretrain/artifacts.ts';
import { ensurePretrained } from '../src/pretrain/cache.ts';
import { maskTokens } from '../src/pretrain/mlm-masking.ts';
import { makeSentencePair } from '../src/pretrain/next-sentence.ts';
import { mlmLoss } from '../src/pretrain/objectives.ts';
import { MINI_PRETRAIN, SYNTHETIC_PRETRAIN, pretrainModelConfig } from '../src/pretrain/pretrain-config.ts';
import { PRETRAINED_STAND_INS } from '../src/runner/pretrained-models.ts';
import { tokenizerJson, trainByteLevelBpe } from '../src/tokenizers/bpe-trainer.ts';
import { loadTokenizer } from '../src/tokenizers/hf-tokenizer.ts';
import { debertaPretrainTokens, debertaSpecialTokens } from '../src/tokenizers/special-tokens.ts';
import type { TrainRunConfig } from '../src/train/run-config.ts';
import { runTraining } from '../src/train/trainer.ts';
import { Rng } from '../src/util/rng.ts';
import { mlmLossAgainstReference, pretrainCli, readScalar, TINY_PRETRAIN } from './helpers/pretrain.ts';

/** The tiny settings test/pretrain.test.ts pretrains RoBERTa with (no position offset: 64 positions). */
const TINY = { ...TINY_PRETRAIN, maxPositions: 64 };


const cli = pretrainCli;

describe('mini DeBERTa stand-in (pretraining DeBERTa-v2)', function () {
  this.timeout(300_000);
  const tmp = mkdtempSync(join(tmpdir(), 'pretrain-deberta-'));
  before(async () => {
    await initBackend();
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('has RoBERTa\'s settings (its CPU budget, not its step count) and DeBERTa-v2-XXL\'s structure, scaled down', () => {
    assert.equal(PRETRAINED_STAND_INS['mini-deberta'], 'deberta');
    const { family: _d, maxPositions: mpd, steps: sd, shortSeqSteps: ssd, ...deberta } = MINI_PRETRAIN.deberta;
    const { family: _r, maxPositions: _mpr, steps: sr, shortSeqSteps: ssr, ...roberta } = MINI_PRETRAIN.roberta;
    assert.deepEqual(deberta, roberta);
    // A DeBERTa step costs ~2.3x a RoBERTa one here: 10000 steps ~ RoBERTa's 24000 in CPU time, half short.
    assert.ok(Math.abs((sd * 2.33) / sr - 1) < 0.05, `${sd} vs ${sr}`);
    assert.equal(ssd / sd, ssr / sr);
    assert.equal(mpd, 512);
    assert.equal(SYNTHETIC_PRETRAIN.deberta.steps, SYNTHETIC_PRETRAIN.roberta.steps);
    const c = pretrainModelConfig(MINI_PRETRAIN.deberta, 8000, { pad: 0, bos: 1, eos: 2 }) as DebertaV2Config;
    assert.equal(c.modelType, 'deberta-v2');
    assert.deepEqual([c.hidden, c.layers, c.heads, c.headSize, c.intermediate, c.poolerHidden], [128, 4, 4, 32, 512, 128]);
    assert.deepEqual([c.positionBuckets, c.maxRelativePositions, c.maxPositions], [64, 128, 512]);
    assert.deepEqual(c.posAttType, ['p2c', 'c2p']);
    assert.equal(c.shareAttKey && c.normRelEmbeddings && !c.positionBiasedInput, true);
    assert.deepEqual([c.typeVocabSize, c.convKernelSize, c.convAct, c.hiddenAct, c.poolerAct, c.layerNormEps, c.padTokenId], [0, 3, 'gelu', 'gelu', 'gelu', 1e-7, 0]);
  });

  it('tokenizer: RoBERTa\'s byte-level BPE with [PAD] [CLS] [SEP] [UNK] first and [MASK] last', () => {
    const texts = buildCorpus({ budgetBytes: 20_000, seed: 3 }).documents.flatMap(documentSegments);
    const d = trainByteLevelBpe(texts, { vocabSize: 300, family: 'deberta', allowSmaller: true });
    const r = trainByteLevelBpe(texts, { vocabSize: 300, family: 'roberta', allowSmaller: true });
    assert.deepEqual(d.merges, r.merges);
    const n = d.vocab.size;
    assert.deepEqual(['[PAD]', '[CLS]', '[SEP]', '[UNK]', '[MASK]'].map((t) => d.vocab.get(t)), [0, 1, 2, 3, n - 1]);
    for (const [tok, id] of r.vocab) if (id >= 4 && id < n - 1) assert.equal(d.vocab.get(tok), id, tok);
    const json = tokenizerJson(d);
    // The post-processor is DebertaV2Tokenizer's build_inputs_with_special_tokens.
    const lib = new Tokenizer(json, {}) as unknown as { encode(t: string, o: { text_pair?: string; add_special_tokens: boolean }): { ids: number[] } };
    const a = lib.encode('the film', { add_special_tokens: false }).ids;
    const b = lib.encode(' was good', { add_special_tokens: false }).ids;
    assert.deepEqual(lib.encode('the film', { text_pair: ' was good', add_special_tokens: true }).ids, [1, ...a, 2, ...b, 2]);
  });

  it('sentence pairs take DeBERTa\'s layout [CLS] A [SEP] B [SEP]', () => {
    const docs = [Int32Array.from([10, 11, 12, 13]), Int32Array.from([20, 21, 22, 23])];
    const always = { next: () => 0, int: () => 0 } as unknown as Rng;
    assert.deepEqual([...makeSentencePair(docs, 0, always, { bos: 1, eos: 2, pad: 0, separators: 1 }, 64).ids], [1, 10, 11, 2, 12, 13, 2]);
    // Shortened to 6 tokens: 3 special, 3 of text, the A|B seam kept.
    assert.deepEqual([...makeSentencePair(docs, 0, always, { bos: 1, eos: 2, pad: 0, separators: 1 }, 6).ids], [1, 11, 2, 12, 13, 2]);
  });

  it('MLM loss on the selected rows equals cross-entropy of the full mlmLogits (cls.predictions, decoder tied)', () => {
    const config = parseHfConfig(
      {
        model_type: 'deberta-v2', vocab_size: 100, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64,
        max_position_embeddings: 64, relative_attention: true, position_buckets: 8, pos_att_type: 'p2c|c2p', share_att_key: true,
        norm_rel_ebd: 'layer_norm', conv_kernel_size: 3, conv_act: 'gelu', position_biased_input: false, initializer_range: 0.15,
      },
      'tiny-deberta',
    );
    const model = createModel(config, { seed: 4, debertaHeads: ['mlm'] }) as DebertaV2Model;
    assert.deepEqual(model.headParamNames().sort(), [
      'cls.predictions.bias', 'cls.predictions.transform.LayerNorm.bias', 'cls.predictions.transform.LayerNorm.weight',
      'cls.predictions.transform.dense.bias', 'cls.predictions.transform.dense.weight',
    ]);
    // Make the bias matter, so a head that dropped it would fail.
    model.params.get('cls.predictions.bias').assign(tf.randomNormal([100], 0, 1, 'float32', 3));
    const { ours, ref } = mlmLossAgainstReference(model, 4, 95);
    model.dispose();
    assert.ok(Math.abs(ours - ref) < 1e-5, `${ours} vs ${ref}`);
  });

  describe('a tiny DeBERTa pretrained on the synthetic corpus', () => {
    let first: Awaited<ReturnType<typeof ensurePretrained>>;
    before(async () => {
      first = await ensurePretrained({ family: 'deberta', seed: 1, settings: TINY, cacheDir: join(tmp, 'cache-a') });
    });

    it('learns: held-out MLM loss falls well below its start (≈ ln vocab); next-sentence pairs train too', () => {
      const t = first.meta.training;
      console.log(`      tiny DeBERTa MLM: held-out ${t.evalLoss.before.toFixed(2)} → ${t.evalLoss.after.toFixed(2)} (ln V ${t.evalLoss.lnVocab.toFixed(2)}), ${t.msPerStep.toFixed(0)} ms/step`);
      assert.equal(first.reused, false);
      assert.ok(Math.abs(t.evalLoss.before - t.evalLoss.lnVocab) < 0.3);
      assert.ok(t.evalLoss.after < t.evalLoss.before - 1, `${t.evalLoss.after}`);
      assert.equal(t.lossCurve.length, 30);
      assert.equal(t.pairLossCurve?.length, 30);
      assert.ok(t.nspAccuracy !== undefined && t.nspAccuracy.pairs > 0);
    });

    it('is deterministic: the same seed in another cache gives byte-identical weights and head', async () => {
      const again = await ensurePretrained({ family: 'deberta', seed: 1, settings: { ...TINY, steps: 20, shortSeqSteps: 10 }, cacheDir: join(tmp, 'cache-b') });
      const twice = await ensurePretrained({ family: 'deberta', seed: 1, settings: { ...TINY, steps: 20, shortSeqSteps: 10 }, cacheDir: join(tmp, 'cache-c') });
      assert.equal(twice.reused, false);
      for (const f of [PRETRAIN_FILES.weights, PRETRAIN_FILES.mlmHead, PRETRAIN_FILES.tokenizer, PRETRAIN_FILES.config]) {
        assert.deepEqual(readFileSync(join(twice.dir, f)), readFileSync(join(again.dir, f)), f);
      }
    });

    it('saves the body under DeBERTa-v2 names, the MLM head apart, the next-sentence head (pooler + classifier) not at all', () => {
      const config = JSON.parse(readFileSync(join(first.dir, PRETRAIN_FILES.config), 'utf8')) as Record<string, unknown>;
      assert.deepEqual(config.architectures, ['DebertaV2ForMaskedLM']);
      assert.equal(config.model_type, 'deberta-v2');
      assert.equal(config.pos_att_type, 'p2c|c2p');
      const body = [...readSafetensors(join(first.dir, PRETRAIN_FILES.weights)).tensors.keys()];
      assert.ok(body.length > 10 && body.every((n) => n.startsWith('deberta.')), body.filter((n) => !n.startsWith('deberta.')).join(', '));
      assert.ok(body.includes('deberta.encoder.rel_embeddings.weight') && body.includes('deberta.encoder.conv.conv.weight'));
      const head = [...readSafetensors(join(first.dir, PRETRAIN_FILES.mlmHead)).tensors.keys()].sort();
      assert.deepEqual(head, ['cls.predictions.bias', 'cls.predictions.transform.LayerNorm.bias', 'cls.predictions.transform.LayerNorm.weight', 'cls.predictions.transform.dense.bias', 'cls.predictions.transform.dense.weight']);
    });

    it('loads as a DeBERTa-v2 classification model whose tokenizer the GLUE encoder reads', () => {
      const tok = loadTokenizer(first.dir);
      const sp = debertaSpecialTokens(tok);
      assert.deepEqual(sp, { pad: 0, cls: 1, sep: 2 });
      assert.equal(debertaPretrainTokens(tok).mask, tok.vocabSize - 1);
      const config = readHfConfig(first.dir);
      assert.equal(config.modelType, 'deberta-v2');
      assert.equal(config.vocabSize, tok.vocabSize);
      const { model, report } = loadPretrained(first.dir, { seed: 3, overrides: { numLabels: 3 } });
      assert.deepEqual(report.initialised.sort(), ['classifier.bias', 'classifier.weight', 'pooler.dense.bias', 'pooler.dense.weight']);
      const logits = (model as DebertaV2Model).classify(tokenBatch([[sp.cls, ...tok.encode('the film was not good .'), sp.sep]]), EVAL);
      assert.deepEqual(logits.shape, [1, 3]);
      tf.dispose(logits);
      model.dispose();
    });

    it('keeps the MLM head: the reloaded model predicts masked tokens far better than a fresh one', () => {
      const tok = loadTokenizer(first.dir);
      const sp = debertaPretrainTokens(tok);
      const texts = buildCorpus({ budgetBytes: 3000, seed: 42 }).documents.slice(0, 8);
      const batch = tokenBatch(texts.map((t) => [sp.cls, ...tok.encode(t), sp.sep].slice(0, 32)));
      const specials = new Set([sp.pad, sp.cls, sp.sep, sp.unk, sp.mask]);
      const m = maskTokens(batch.inputIds, { probability: 0.15, maskTokenId: sp.mask, vocabSize: tok.vocabSize, specialIds: specials }, new Rng(8));
      const corrupted = { ...batch, inputIds: m.inputIds };
      const trained = loadPretrainedMlm(first.dir);
      assert.equal(trained.modelType, 'deberta-v2');
      const fresh = createModel(trained.config, { seed: 5, debertaHeads: ['mlm'] }) as DebertaV2Model;
      const a = readScalar(mlmLoss(trained, corrupted, m.positions, m.labels, EVAL));
      const b = readScalar(mlmLoss(fresh, corrupted, m.positions, m.labels, EVAL));
      trained.dispose();
      fresh.dispose();
      assert.ok(a < b - 1, `trained ${a} vs fresh ${b}`);
    });

    it('LoRA (q, v) fine-tunes it: a GLUE-format run trains steps with finite loss', async () => {
      const steps: number[] = [];
      const config = {
        model: first.dir, task: 'synthetic-sst2', dataDir: join(tmp, 'no-data'), method: 'lora', methodConfig: { r: 4, alpha: 8, targets: ['q', 'v'] },
        seed: 0, epochs: 1, batchSize: 8, learningRate: 5e-3, maxSeqLength: 48, trainLimit: 16, evalLimit: 8,
      };
      const result = await runTraining(config as unknown as TrainRunConfig, { outDir: join(tmp, 'run'), log: () => {}, onStep: (_s, loss) => steps.push(loss) });
      assert.equal(result.status, 'finished', result.error);
      assert.equal(steps.length, 2);
      assert.ok(steps.every(Number.isFinite), `${steps}`);
    });
  });

  it('CLI: `pretrain --model deberta` runs the full-size mini DeBERTa (2 steps) and prints its directory', async () => {
    const cache = join(tmp, 'cli-cache');
    const out = await cli(['--model', 'deberta', '--synthetic', '--steps', '2', '--cache', cache]);
    assert.equal(out.length, 1);
    assert.ok((out[0] as string).startsWith(join(cache, 'pretrained', 'deberta-')));
    const config = readHfConfig(out[0] as string) as DebertaV2Config;
    assert.deepEqual([config.hidden, config.layers, config.positionBuckets], [128, 4, 64]);
  });
});
