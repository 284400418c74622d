/**
 * The training loop's contracts on real RTE/E2E data and tiny models: same seed ⇒ same numbers,
 * accumulation ⇒ the big-batch run, a diverging run ⇒ status 'failed' with the error recorded, a saved
 * run re-evaluates to its recorded metrics, and input errors surface before training.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/select.ts';
import { runResultSchema, type RunResult } from '../src/train/result-schema.ts';
import { evaluateSavedRun } from '../src/train/evaluate-run.ts';
import type { TrainRunConfig } from '../src/train/run-config.ts';
import { runKeys } from '../src/train/run-identity.ts';
import { PAPER_DECODING } from '../src/generate/paper-decoding.ts';
import { parseRunConfig, runTraining } from '../src/train/trainer.ts';
import { classificationTask } from '../src/train/classification-task.ts';
import { createModel } from '../src/models/factory.ts';
import { parseHfConfig } from '../src/models/config.ts';
import { UserError } from '../src/util/errors.ts';
import { e2eConfig, rteConfig, tempDir, tinyGpt2Json, tinyRobertaJson, writeConfig } from './helpers/train.ts';
import { trainingInputsOrSkip } from './helpers/skip.ts';

async function run(config: Record<string, unknown>, outDir: string, steps?: number[]): Promise<RunResult> {
  return runTraining(config as TrainRunConfig, { outDir, log: () => {}, onStep: (_s, loss) => steps?.push(loss) });
}

describe('train: the training loop', function () {
  this.timeout(120_000);
  const dir = tempDir('trainer');
  // Dropout on (0.1, the RoBERTa default): the same seed must give the same masks.
  const roberta = writeConfig(dir, 'roberta.json', tinyRobertaJson());
  const robertaNoDropout = writeConfig(dir, 'roberta-nodrop.json', tinyRobertaJson({ hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 }));
  const gpt2 = writeConfig(dir, 'gpt2.json', tinyGpt2Json());

  before(async function () {
    trainingInputsOrSkip(this);
    await initBackend('wasm');
  });

  it('same seed ⇒ the same losses, metrics and weights; another seed ⇒ other numbers', async () => {
    const a: number[] = [];
    const b: number[] = [];
    const c: number[] = [];
    const ra = await run(rteConfig(roberta, { seed: 3 }), join(dir, 'seed-a'), a);
    const rb = await run(rteConfig(roberta, { seed: 3 }), join(dir, 'seed-b'), b);
    const rc = await run(rteConfig(roberta, { seed: 4 }), join(dir, 'seed-c'), c);
    assert.equal(a.length, 6);
    assert.deepEqual(b, a);
    assert.deepEqual(rb.epochs.map((e) => [e.trainLoss, e.metrics]), ra.epochs.map((e) => [e.trainLoss, e.metrics]));
    assert.equal(rb.runId, ra.runId);
    assert.deepEqual(readFileSync(join(dir, 'seed-b/adapter/adapter_model.safetensors')), readFileSync(join(dir, 'seed-a/adapter/adapter_model.safetensors')));
    assert.notDeepEqual(c, a);
    assert.notEqual(rc.runId, ra.runId);
    assert.equal(rc.cellKey, ra.cellKey);
  });

  it('batch 4 × 2 accumulated ⇒ the same updates as batch 8 (no dropout)', async () => {
    const big: number[] = [];
    const acc: number[] = [];
    const r1 = await run(rteConfig(robertaNoDropout, { batchSize: 8 }), join(dir, 'acc-1'), big);
    const r2 = await run(rteConfig(robertaNoDropout, { batchSize: 4, gradAccumulation: 2 }), join(dir, 'acc-2'), acc);
    assert.equal(acc.length, big.length);
    big.forEach((l, i) => assert.ok(Math.abs(l - acc[i]) < 1e-5, `step ${i + 1}: ${l} vs ${acc[i]}`));
    assert.deepEqual(r2.metrics, r1.metrics);
  });

  it('batch 4 × 2 devices ⇒ the updates of batch 8, also in one pass of 8 (--micro-batch, same run id); result.json records the schedule', async () => {
    const big: number[] = [];
    const dev: number[] = [];
    const onePass: number[] = [];
    const r1 = await run(rteConfig(robertaNoDropout, { batchSize: 8 }), join(dir, 'dev-1'), big);
    const r2 = await run(rteConfig(robertaNoDropout, { batchSize: 4, devices: 2 }), join(dir, 'dev-2'), dev);
    const r3 = await run(rteConfig(robertaNoDropout, { batchSize: 4, devices: 2, microBatchSize: 8 }), join(dir, 'dev-3'), onePass);
    // 16 examples / 8 per update = 2 updates an epoch, 6 in all, warm-up ceil(6 × 0.06) = 1.
    const expected = { trainExamples: 16, effectiveBatch: 8, stepsPerEpoch: 2, totalSteps: 6, warmupSteps: 1, warmupFraction: 1 / 6 };
    for (const [r, micro, passes] of [[r1, 8, 1], [r2, 4, 2], [r3, 8, 1]] as const) {
      assert.deepEqual(r.schedule, { ...expected, microBatch: micro, microBatchesPerStep: passes });
    }
    // The architecture the run built is recorded (the report reads it, never guessing from the name).
    const saved = runResultSchema.parse(JSON.parse(readFileSync(join(dir, 'dev-1', 'result.json'), 'utf8')));
    const built = parseHfConfig(saved.modelConfig, 'result.json modelConfig');
    assert.deepEqual([built.modelType, built.hidden, built.layers, built.heads, built.intermediate], ['roberta', 32, 2, 4, 64]);
    assert.equal(saved.config.modelConfig, undefined);
    assert.equal(dev.length, 6);
    for (const other of [dev, onePass]) big.forEach((l, i) => assert.ok(Math.abs(l - other[i]) < 1e-5, `step ${i + 1}: ${l} vs ${other[i]}`));
    assert.notEqual(r2.runId, r1.runId);
    assert.equal(r3.runId, r2.runId);
  });

  it('a diverging run (lr 1e38) stops with status failed, the error recorded and a valid result.json', async () => {
    const out = join(dir, 'nan');
    const before = tf.memory().numTensors;
    const r = await run(rteConfig(robertaNoDropout, { learningRate: 1e38, warmupRatio: 0, maxGradNorm: 0 }), out);
    assert.equal(r.status, 'failed');
    assert.match(r.error ?? '', /loss is (NaN|Infinity|-Infinity): training diverged/);
    assert.equal(r.bestEpoch, null);
    const disk = runResultSchema.parse(JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')));
    assert.equal(disk.status, 'failed');
    assert.match(readFileSync(join(out, 'train.log'), 'utf8'), /run failed: loss is/);
    assert.equal(tf.memory().numTensors, before);
  });

  it('a saved run re-evaluates (base model rebuilt + saved LoRA and head) to exactly its recorded best-epoch metrics', async () => {
    const out = join(dir, 'reeval');
    const r = await run(rteConfig(roberta, { epochs: 4 }), out);
    const again = await evaluateSavedRun(out);
    assert.deepEqual(again.output.metrics, r.metrics);
    const e2eOut = join(dir, 'reeval-e2e');
    const g = await run(e2eConfig(gpt2, { epochs: 2, trainLimit: 16, evalLimit: 2 }), e2eOut);
    const gAgain = await evaluateSavedRun(e2eOut);
    assert.deepEqual(gAgain.output.metrics, g.metrics);
    assert.equal(gAgain.output.predictions['dev.hyp.txt'], readFileSync(join(e2eOut, 'predictions/dev.hyp.txt'), 'utf8'));
  });

  it('input errors are UserErrors before training, and write no result', async () => {
    const out = join(dir, 'errors');
    const cases: [Record<string, unknown>, RegExp][] = [
      [rteConfig(gpt2), /task 'rte' needs a RoBERTa model/],
      [{ ...rteConfig('mini-roberta'), tokenizer: undefined }, /randomly initialised and has no tokenizer: pass --tokenizer/],
      [rteConfig(roberta, { maxSeqLength: 512 }), /--max-seq 512 exceeds the 128 positions/],
      [rteConfig(roberta, { methodConfig: { r: 0 } }), /method 'lora': invalid config: r/],
      [rteConfig(roberta, { task: 'mnli' }), /MNLI\/train\.tsv not found \(this split is not in the shared data/],
      [rteConfig(roberta, { epochs: 0 }), /run config: epochs/],
    ];
    for (const [config, message] of cases) {
      await assert.rejects(run(config, out), (err: Error) => err instanceof UserError && message.test(err.message));
    }
    assert.ok(!existsSync(join(out, 'result.json')));
  });

  it('SYNTHETIC stand-ins train without any data directory (synthetic-sst2 on RoBERTa, synthetic-e2e on GPT-2)', async () => {
    const nowhere = join(dir, 'no-such-data-dir');
    const s = await run(rteConfig(roberta, { task: 'synthetic-sst2', dataDir: nowhere, epochs: 1 }), join(dir, 'syn-sst2'));
    assert.equal(s.status, 'finished', s.error);
    assert.deepEqual(Object.keys(s.metrics), ['accuracy']);
    assert.match(Object.keys(s.provenance.datasets)[0], /^synthetic-sst2 \(generator, data seed \d+\)$/);
    const e = await run(e2eConfig(gpt2, { task: 'synthetic-e2e', dataDir: nowhere, epochs: 1, trainLimit: 16, evalLimit: 2 }), join(dir, 'syn-e2e'));
    assert.equal(e.status, 'finished', e.error);
    assert.equal(e.headlineMetric, 'BLEU');
    await assert.rejects(run(rteConfig(gpt2, { task: 'synthetic-rte' }), join(dir, 'syn-bad')), /task 'synthetic-rte' needs a RoBERTa model/);
  });

  it('several eval splits (MNLI-style): the headline split keeps the metric names, others get @split; predictions per split', async () => {
    const model = createModel(parseHfConfig(tinyRobertaJson({ num_labels: 3 }), 'tiny'), { seed: 1 });
    const ex = (ids: number[], label: number) => ({ inputIds: [0, ...ids, 2], label });
    const task = classificationTask({
      task: 'mnli',
      numLabels: 3,
      labelNames: ['entailment', 'neutral', 'contradiction'],
      pad: 1,
      train: [ex([5, 6], 0)],
      evalSplits: [
        { name: 'dev_matched', rows: [4, 9], examples: [ex([5, 6], 0), ex([7], 2)] },
        { name: 'dev_mismatched', rows: [0], examples: [ex([8, 9, 10], 1)] },
      ],
      metrics: (_s, p, l) => ({ accuracy: Array.from(p).filter((v, i) => v === l[i]).length / l.length }),
      headlineSplit: 'dev_matched',
      headlineMetric: 'accuracy',
      files: {},
    });
    const out = await task.evaluate(model, { batchSize: 2, decoding: PAPER_DECODING });
    assert.deepEqual(Object.keys(out.metrics), ['accuracy', 'accuracy_dev_mismatched']);
    assert.deepEqual(Object.keys(out.predictions), ['dev_matched.tsv', 'dev_mismatched.tsv']);
    assert.match(out.predictions['dev_matched.tsv'], /^index\tprediction\tlabel\n4\t\w+\tentailment\n9\t\w+\tcontradiction\n$/);
    model.dispose();
  });

  it('run ids: the config as given, the seed left out of the cell key', () => {
    const c = parseRunConfig(rteConfig(roberta));
    assert.equal(runKeys(c).cellKey, runKeys({ ...c, seed: 99 }).cellKey);
    assert.notEqual(runKeys(c).runId, runKeys({ ...c, seed: 99 }).runId);
  });
});
