import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/select.ts';
import { readSafetensors, toFloat32 } from '../src/io/safetensors.ts';
import { tokenBatch } from '../src/models/batch.ts';
import { builtinConfig, parseHfConfig, type DebertaV2Config } from '../src/models/config.ts';
import { EVAL } from '../src/models/context.ts';
import { DebertaV2Model } from '../src/models/deberta.ts';
import { logBucketPosition, positionIndex, relativePositions } from '../src/models/deberta-attention.ts';
import { createModel } from '../src/models/factory.ts';
import { loadHfWeights } from '../src/models/load-weights.ts';
import { injectLora, mergeLora, unmergeLora } from '../src/methods/lora-inject.ts';
import { importLoralib, inferLoralibTargets } from '../src/methods/loralib.ts';
import { METHODS, getMethod } from '../src/methods/registry.ts';
import { sequenceClassificationLoss } from '../src/models/losses.ts';
import { AdamW } from '../src/train/optim.ts';
import type { TrainRunConfig } from '../src/train/run-config.ts';
import { checkTaskModel } from '../src/train/task-loaders.ts';
import { trainStep } from '../src/train/step.ts';
import { loraVariables } from '../src/methods/lora-inject.ts';
import { countParams } from '../src/methods/count.ts';
import { readParityFixture } from '../src/parity/fixture.ts';
import { computeParity } from '../src/parity/compute.ts';
import { compareParity } from '../src/parity/compare.ts';
import { UserError } from '../src/util/errors.ts';
import { Rng } from '../src/util/rng.ts';
import { SHARED } from './helpers/tiny.ts';
import { sharedOrSkip } from './helpers/skip.ts';

const DIR = join(SHARED, 'fixtures/parity/deberta-tiny');
/** deberta-tiny's config.json, read by the suite's before() (which skips without ../shared). */
let CONFIG: Record<string, unknown> = {};

function tiny(overrides: Record<string, unknown> = {}): DebertaV2Config {
  return parseHfConfig({ ...CONFIG, ...overrides }, 'tiny-deberta') as DebertaV2Config;
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor | Float32Array): number {
  const x = a.dataSync();
  const y = b instanceof Float32Array ? b : b.dataSync();
  assert.equal(x.length, y.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

describe('DeBERTa-v2', function () {
  this.timeout(60_000);
  before(async function () {
    CONFIG = JSON.parse(readFileSync(join(sharedOrSkip(this, 'fixtures/parity/deberta-tiny'), 'config.json'), 'utf8')) as Record<string, unknown>;
    await initBackend('cpu');
  });

  it('passes the deberta-tiny parity fixture (logits base/lora/merged, losses, gradients, merged weights)', async () => {
    const fx = readParityFixture(DIR);
    const report = compareParity(fx, fx.expected, await computeParity(fx));
    const failed = report.tensors.filter((t) => !t.pass).map((t) => `${t.name} ${t.maxAbsDiff}`);
    assert.deepEqual(failed, []);
    assert.equal(report.tensors.length, 22); // 21 expected tensors + the relative positions of inputs.json
    // Tighter than the command's tolerances: the README's suggested checks.
    for (const t of report.tensors.filter((x) => x.name.startsWith('logits.'))) assert.ok(t.maxAbsDiff < 6e-6, t.name);
    for (const t of report.tensors.filter((x) => x.name.startsWith('loss.'))) assert.ok(t.maxAbsDiff < 1e-6, t.name);
    for (const t of report.tensors.filter((x) => x.name.startsWith('grad.'))) assert.ok(t.maxAbsDiff < 0.3 * t.tolerance, t.name);
  });

  it('matches the debugging intermediates (embeddings, position table, position terms, probabilities, conv, pooled)', () => {
    const fx = readParityFixture(DIR);
    const want = readSafetensors(join(DIR, 'intermediates.safetensors'));
    const model = createModel(fx.config, { seed: 0 }) as DebertaV2Model;
    loadHfWeights(model, fx.model, 'model');
    const names = [...fx.lora!.tensors.tensors.keys()];
    const { targets, layers } = inferLoralibTargets(names, 'deberta-v2');
    assert.deepEqual(targets, ['q', 'v']);
    const inj = injectLora(model, { r: 16, alpha: 32, dropout: 0, targets, layers }, new Rng(0));
    importLoralib({ model, injection: inj }, fx.lora!.tensors.tensors, 'lora');
    const trace = new Map<string, tf.Tensor>();
    const batch = tokenBatch(fx.inputs.input_ids, fx.inputs.attention_mask);
    const pooled = tf.tidy(() => model.pool(model.encode(batch, EVAL, trace).hidden, EVAL));
    trace.set('pooled', pooled);
    for (const [name, entry] of want.tensors) {
      const got = trace.get(name);
      assert.ok(got !== undefined, `no ${name}`);
      assert.deepEqual(got.shape, entry.shape, name);
      assert.ok(maxAbsDiff(got, toFloat32(entry)) < 1e-5, `${name}: ${maxAbsDiff(got, toFloat32(entry))}`);
    }
    // A padded query row is all zeros (XSoftmax), not uniform and not NaN.
    const probs = trace.get('layer.0.attention_probs')!.arraySync() as number[][][][];
    assert.ok(probs[3][0][10].every((p) => p === 0));
    tf.dispose([...trace.values()]);
    model.dispose();
  });

  it('buckets relative positions as the reference (the fixture matrix, the xxlarge edge at |δ| = 511)', () => {
    const inputs = JSON.parse(readFileSync(join(DIR, 'inputs.json'), 'utf8')) as { relative_positions: number[][] };
    const rel = relativePositions(20, 20, { buckets: 8, maxRelative: 32 });
    assert.deepEqual(Array.from(rel), inputs.relative_positions.flat());
    const idx = positionIndex(20, { buckets: 8, maxRelative: 32 });
    assert.equal(idx[19 * 20 + 0], 15); // δ = 19 → bucket 7 → row 15
    assert.equal(idx[0 * 20 + 19], 1);
    // microsoft/deberta-v2-xxlarge: 256 buckets over 512 positions.
    assert.equal(logBucketPosition(511, 256, 512), 255);
    assert.equal(logBucketPosition(-511, 256, 512), -255);
    assert.equal(logBucketPosition(128, 256, 512), 128);
    assert.equal(logBucketPosition(-127, 256, 512), -127);
    let prev = 0;
    for (let d = 1; d <= 511; d++) {
      const b = logBucketPosition(d, 256, 512);
      assert.ok(b >= prev && b <= 255, `bucket(${d}) = ${b}`);
      assert.equal(logBucketPosition(-d, 256, 512), -b);
      prev = b;
    }
    // Beyond M − 1 the bucket passes 2·mid − 1 and the row index clamps (README step 3).
    assert.ok(logBucketPosition(40, 8, 32) > 7);
    const far = positionIndex(41, { buckets: 8, maxRelative: 32 });
    assert.equal(far[40 * 41], 15);
    assert.equal(far[40], 0);
  });

  it('padded rows give the logits of the same rows run unpadded', () => {
    const fx = readParityFixture(DIR);
    const model = createModel(fx.config, { seed: 0 }) as DebertaV2Model;
    loadHfWeights(model, fx.model, 'model');
    const padded = model.classify(tokenBatch(fx.inputs.input_ids, fx.inputs.attention_mask), EVAL);
    const rows = padded.arraySync() as number[][];
    fx.inputs.input_ids.forEach((ids, r) => {
      const len = fx.inputs.attention_mask[r].reduce((a, b) => a + b, 0);
      const alone = model.classify(tokenBatch([ids.slice(0, len)]), EVAL);
      assert.ok(maxAbsDiff(alone, Float32Array.from(rows[r])) < 2e-6, `row ${r}`);
      alone.dispose();
    });
    padded.dispose();
    model.dispose();
  });

  it('reads pos_att_type as a string or a list; refuses what it does not implement in one line', () => {
    assert.deepEqual(tiny({ pos_att_type: ['c2p', 'p2c'] }).posAttType, ['c2p', 'p2c']);
    assert.deepEqual(tiny().posAttType, ['p2c', 'c2p']);
    assert.equal(tiny({ max_relative_positions: -1 }).maxRelativePositions, 32);
    assert.throws(() => tiny({ pos_att_type: 'p2c|c2p|p2p' }), (e: unknown) => e instanceof UserError && /p2p is not supported/.test(e.message));
    assert.throws(() => tiny({ hidden_size: 'big' }), (e: unknown) => e instanceof UserError && /hidden_size/.test(e.message));
    assert.throws(() => tiny({ relative_attention: false }), UserError);
    // The reference defaults: conv_act tanh, no layer norm on the table.
    const bare = parseHfConfig({ model_type: 'deberta-v2', vocab_size: 10, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16, max_position_embeddings: 16, relative_attention: true, conv_kernel_size: 3 }, 'bare') as DebertaV2Config;
    assert.equal(bare.convAct, 'tanh');
    assert.equal(bare.normRelEmbeddings, false);
    assert.deepEqual(bare.posAttType, []);
  });

  it('other switches run: separate position projections, absolute positions, token types, no conv, regression head', () => {
    const c = tiny({ share_att_key: false, position_biased_input: true, type_vocab_size: 2, conv_kernel_size: 0, num_labels: 1, position_buckets: -1, pos_att_type: ['c2p', 'p2c'], norm_rel_ebd: 'none' });
    const m = createModel(c, { seed: 3 }) as DebertaV2Model;
    assert.ok(m.params.has('deberta.encoder.layer.1.attention.self.pos_query_proj.weight'));
    assert.deepEqual(m.params.get('deberta.encoder.rel_embeddings.weight').shape, [64, 32]);
    assert.ok(!m.params.has('deberta.encoder.conv.conv.weight'));
    const batch = tokenBatch([[1, 5, 6, 7, 2], [1, 9, 2]]);
    const base = m.classify(batch, EVAL);
    assert.deepEqual(base.shape, [2, 1]);
    const inj = injectLora(m, { r: 2, alpha: 4, dropout: 0, targets: ['q', 'v'] }, new Rng(1));
    const zeroB = m.classify(batch, EVAL);
    assert.equal(maxAbsDiff(base, zeroB), 0);
    for (const a of inj.adapters.values()) a.B.assign(tf.randomNormal(a.B.shape, 0, 0.3, 'float32', 5));
    const unmerged = m.classify(batch, EVAL);
    mergeLora(inj);
    const merged = m.classify(batch, EVAL);
    // Without shared keys the position query has its own projection: merging changes nothing.
    assert.ok(maxAbsDiff(unmerged, merged) < 1e-5);
    assert.ok(maxAbsDiff(unmerged, base) > 1e-4);
    unmergeLora(inj);
    tf.dispose([base, zeroB, unmerged, merged]);
    m.dispose();
  });

  it('loads the hub layout: base-model names, the position_ids buffer, and the MLM head it does not use', () => {
    const fx = readParityFixture(DIR);
    const m = createModel(fx.config, { seed: 0 });
    const tensors = new Map(fx.model.tensors);
    for (const [n, e] of fx.model.tensors) {
      if (n.startsWith('deberta.')) {
        tensors.delete(n);
        tensors.set(n.slice('deberta.'.length), e);
      }
    }
    const pos = fx.model.tensors.get('pooler.dense.bias')!;
    tensors.set('embeddings.position_ids', pos);
    tensors.set('lm_predictions.lm_head.bias', pos);
    const report = loadHfWeights(m, { ...fx.model, tensors }, 'hub');
    assert.deepEqual(report.skipped, ['embeddings.position_ids']);
    assert.deepEqual(report.unused, ['lm_predictions.lm_head.bias']);
    tensors.set('encoder.rel_embeddings.weight', pos);
    assert.throws(() => loadHfWeights(m, { ...fx.model, tensors }, 'hub'), /rel_embeddings\.weight has shape \[32\] but the model expects \[16,32\]/);
    m.dispose();
  });

  it('counts deberta-v2-xxlarge: LoRA q,v r=16 = 4,718,592; FT; BitFit; head = pooler + classifier', () => {
    const cfg = builtinConfig('deberta-v2-xxlarge');
    const lora = countParams('deberta-v2-xxlarge', cfg, getMethod('lora').configure({ r: 16, alpha: 32, targets: ['q', 'v'] }, 'lora'));
    assert.equal(lora.trainable, 4_718_592);
    assert.equal(lora.formula, 4_718_592);
    assert.equal(lora.head, 1536 * 1536 + 1536 + 1536 * 2 + 2);
    const ft = countParams('deberta-v2-xxlarge', cfg, getMethod('ft').configure({}, 'ft'));
    assert.equal(ft.trainable, 1_564_549_632);
    assert.equal(ft.formula, ft.trainable);
    const bitfit = countParams('deberta-v2-xxlarge', cfg, getMethod('bitfit').configure({}, 'bitfit'));
    assert.equal(bitfit.formula, bitfit.trainable);
  });

  it('a GLUE task takes a DeBERTa-v2 model (the classifier tasks take either encoder family); E2E refuses it in one line', () => {
    const cfg = builtinConfig('deberta-v2-xxlarge');
    const config = { task: 'mnli', model: 'deberta-v2-xxlarge' } as TrainRunConfig;
    assert.equal(checkTaskModel(config, cfg).name, 'glue');
    assert.equal(checkTaskModel({ ...config, task: 'synthetic-rte' }, cfg).name, 'synthetic');
    assert.throws(() => checkTaskModel({ ...config, task: 'e2e' }, cfg), (e: unknown) => e instanceof UserError && /^task 'e2e' needs a GPT-2 model .*is deberta-v2$/.test(e.message));
  });

  it('every method counts on DeBERTa as its closed form says (instantiated = formula)', () => {
    const cfg = tiny({ num_hidden_layers: 4 });
    for (const m of METHODS) {
      const c = countParams('tiny', cfg, m.configure(m.name === 'adapter-d' ? { dropLayers: 2 } : {}, m.name));
      assert.equal(c.trainable, c.formula, m.name);
      assert.ok(c.trainable > 0, m.name);
    }
  });

  it('LoRA on query_proj/value_proj trains: loss goes down, tensor count stays flat, dropout on', async () => {
    const m = createModel(tiny(), { seed: 4 }) as DebertaV2Model;
    const rng = new Rng(2);
    const inj = injectLora(m, { r: 4, alpha: 8, dropout: 0.1, targets: ['q', 'v'] }, rng);
    assert.deepEqual([...inj.adapters.values()].map((a) => a.target.name).slice(0, 2), ['deberta.encoder.layer.0.attention.self.query_proj', 'deberta.encoder.layer.0.attention.self.value_proj']);
    const vars = [...loraVariables(inj), ...m.headParamNames().map((n) => m.params.get(n))];
    const batch = tokenBatch([[1, 5, 6, 7, 8, 2], [1, 9, 10, 2], [1, 11, 2], [1, 12, 13, 14, 2]]);
    const ctx = { training: true, rng };
    const opt = new AdamW({ weightDecay: 0.01 });
    const losses: number[] = [];
    let count = -1;
    for (let i = 0; i < 20; i++) {
      losses.push((await trainStep(() => sequenceClassificationLoss(m.classify(batch, ctx), Int32Array.from([0, 1, 2, 1])), vars, opt, 3e-3)).loss);
      if (i === 2) count = tf.memory().numTensors;
      if (i > 2) assert.equal(tf.memory().numTensors, count, `step ${i} leaks`);
    }
    assert.ok(losses[19] < losses[0], `${losses[0]} → ${losses[19]}`);
    m.dispose();
  });
});
