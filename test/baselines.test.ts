/**
 * Untrained baselines (src/eval/baselines.ts) on hand-computed cases, through the task builders
 * (the same train/eval subsets and metric keys as the run) and recorded by the trainer.
 */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { initBackend } from '../src/backend/select.ts';
import { groupConsecutive, mrToLoraContext, readE2eSplit } from '../src/data/e2e.ts';
import { readGlueSplit } from '../src/data/glue-tsv.ts';
import { generateSyntheticGlue } from '../src/data/synthetic.ts';
import { constantBaseline, copyInputBaseline, majorityClass } from '../src/eval/baselines.ts';
import { scoreE2E } from '../src/eval/e2e/index.ts';
import { computeGlueMetrics } from '../src/eval/glue-metrics.ts';
import { oneLine } from '../src/eval/evaluate-e2e.ts';
import { runResultSchema } from '../src/train/result-schema.ts';
import { classificationTask } from '../src/train/classification-task.ts';
import { lmTask } from '../src/train/lm-task.ts';
import { subsampleIndices } from '../src/train/run-identity.ts';
import { setupRun } from '../src/train/setup.ts';
import { parseRunConfig, runTraining } from '../src/train/trainer.ts';
import type { TrainRunConfig } from '../src/train/run-config.ts';
import type { TextTokenizer } from '../src/tokenizers/types.ts';
import { DATA_DIR, e2eConfig, rteConfig, tempDir, tinyGpt2Json, tinyRobertaJson, writeConfig } from './helpers/train.ts';
import { majorityBaseline } from './helpers/synthetic.ts';
import { trainingInputsOrSkip } from './helpers/skip.ts';

const ex = (label: number) => ({ inputIds: [0, 5, 2], label });
const glue = (task: 'mrpc' | 'cola' | 'stsb') => (_s: string, p: Int32Array | Float32Array, l: Int32Array | Float32Array) => computeGlueMetrics(task, p, l).metrics as Record<string, number>;

describe('baselines: hand-computed cases', () => {
  it('majority class: the most frequent training class, ties → the lower id', () => {
    assert.deepEqual(majorityClass([1, 1, 0], 2), { classId: 1, count: 2 });
    assert.deepEqual(majorityClass([1, 0, 2, 2, 1], 3), { classId: 1, count: 2 });
    assert.throws(() => majorityClass([0, 3], 2), /not a class id/);
  });

  it('MRPC-like: train [1,1,0] → always 1; eval [1,0,0,1,1] → accuracy 3/5, F1 2·3/(2·3+2) = .75', () => {
    const task = classificationTask({
      task: 'mrpc',
      numLabels: 2,
      labelNames: ['not_equivalent', 'equivalent'],
      pad: 1,
      train: [1, 1, 0].map(ex),
      evalSplits: [{ name: 'dev', rows: [0, 1, 2, 3, 4], examples: [1, 0, 0, 1, 1].map(ex) }],
      metrics: glue('mrpc'),
      headlineSplit: 'dev',
      headlineMetric: 'accuracy',
      files: {},
    });
    const b = task.baseline()!;
    assert.equal(b.kind, 'majority');
    assert.equal(b.prediction, 1);
    assert.deepEqual(b.metrics, { accuracy: 0.6, f1: 0.75 });
    assert.match(b.description, /^majority class: always class 1 \(equivalent\), 2 of 3 training examples$/);
  });

  it('CoLA: the majority class (1, 3 of 4) has Matthews correlation 0, a constant prediction, though it is right 3 times in 4', () => {
    const b = constantBaseline({
      numLabels: 2,
      trainLabels: [1, 1, 1, 0],
      splits: [{ name: 'dev', labels: Int32Array.from([1, 0, 1, 1]) }],
      metrics: glue('cola'),
      key: (m) => m,
    });
    assert.deepEqual(b.metrics, { matthews: 0 });
    assert.equal(b.prediction, 1);
  });

  it('regression: always the train mean; Pearson/Spearman of a constant are undefined and reported as 0', () => {
    const b = constantBaseline({
      numLabels: 1,
      trainLabels: [1, 2, 4.5],
      splits: [{ name: 'dev', labels: Float32Array.from([0.5, 3, 5]) }],
      metrics: glue('stsb'),
      key: (m) => m,
    });
    assert.equal(b.kind, 'mean');
    assert.equal(b.prediction, 2.5);
    assert.deepEqual(b.metrics, { pearson: 0, spearman: 0 });
    assert.match(b.description, /train mean: always 2\.500, the mean of 3 training scores; pearson, spearman of a constant undefined, reported as 0/);
    const syn = majorityBaseline(generateSyntheticGlue('synthetic-stsb', { trainSize: 20, devSize: 10 }));
    assert.deepEqual([syn.kind, syn.headline.value], ['mean', 0]);
  });

  it('several eval splits: the baseline keys are the run\'s (headline split plain, others @split)', () => {
    const task = classificationTask({
      task: 'mnli',
      numLabels: 3,
      pad: 1,
      train: [2, 2, 0, 1].map(ex),
      evalSplits: [
        { name: 'dev_matched', rows: [0, 1], examples: [2, 0].map(ex) },
        { name: 'dev_mismatched', rows: [0, 1, 2, 3], examples: [2, 2, 2, 1].map(ex) },
      ],
      metrics: (_s, p, l) => ({ accuracy: Array.from(p).filter((v, i) => v === l[i]).length / l.length }),
      headlineSplit: 'dev_matched',
      headlineMetric: 'accuracy',
      files: {},
    });
    assert.deepEqual(task.baseline()!.metrics, { accuracy: 0.5, 'accuracy_dev_mismatched': 0.75 });
  });

  it('no training subset (eval of a saved run): no majority baseline', () => {
    const task = classificationTask({ task: 'rte', numLabels: 2, pad: 1, train: [], evalSplits: [{ name: 'dev', rows: [0], examples: [ex(0)] }], metrics: glue('mrpc'), headlineSplit: 'dev', headlineMetric: 'accuracy', files: {} });
    assert.equal(task.baseline(), undefined);
  });

  it('copy input on a 2-instance E2E sample equals scoring the rendered MRs with scoreE2E directly', () => {
    const instances = [
      { mr: 'name[The Eagle], eatType[coffee shop], food[French]', refs: ['The Eagle is a French coffee shop.', 'French food is served at The Eagle coffee shop.'] },
      { mr: 'name[Zizzi], area[riverside]', refs: ['Zizzi is by the riverside.'] },
    ];
    const task = lmTask({
      task: 'e2e',
      tokenizer: {} as TextTokenizer,
      maxSeqLength: 64,
      train: [],
      evalSets: [{ split: 'dev', instances: instances.map((i) => ({ context: [1, 2], input: mrToLoraContext(i.mr), references: i.refs })) }],
      metrics: (r, h) => ({ ...scoreE2E(r, h) }),
      headlineMetric: 'BLEU',
      files: {},
    });
    const b = task.baseline()!;
    assert.equal(b.kind, 'copy-input');
    const direct = scoreE2E(
      instances.map((i) => i.refs),
      instances.map((i) => mrToLoraContext(i.mr)),
    );
    assert.deepEqual(b.metrics, { ...direct });
    assert.equal(mrToLoraContext(instances[1].mr), 'name : Zizzi | area : riverside');
    assert.throws(() => copyInputBaseline([['a']], [], scoreE2E), /0 inputs for 1 instances/);
  });
});

describe('baselines: on the run\'s own subsets, recorded by the trainer', function () {
  this.timeout(120_000);
  const dir = tempDir('baselines');
  const roberta = writeConfig(dir, 'roberta.json', tinyRobertaJson());
  const gpt2 = writeConfig(dir, 'gpt2.json', tinyGpt2Json());
  before(async function () {
    trainingInputsOrSkip(this);
    await initBackend('wasm');
  });

  it('RTE (16 train / 32 dev): the majority class of the training subset, scored on the dev subset', async () => {
    const config = parseRunConfig(rteConfig(roberta));
    const setup = await setupRun(config, { needTrain: true });
    try {
      const train = readGlueSplit(DATA_DIR, 'rte', 'train');
      const dev = readGlueSplit(DATA_DIR, 'rte', 'dev');
      const trainLabels = subsampleIndices(train.length, 16).map((i) => train[i].label);
      const devLabels = subsampleIndices(dev.length, 32).map((i) => dev[i].label);
      const ones = trainLabels.filter((l) => l === 1).length;
      const majority = ones > trainLabels.length - ones ? 1 : 0;
      const want = devLabels.filter((l) => l === majority).length / devLabels.length;
      const b = setup.task.baseline()!;
      assert.equal(b.prediction, majority);
      assert.deepEqual(b.metrics, { accuracy: want });
    } finally {
      setup.model.dispose();
    }
  });

  it('E2E (2 dev MRs): copy input is the scorer on the chosen MRs rendered by mrToLoraContext', async () => {
    const config = parseRunConfig(e2eConfig(gpt2, { trainLimit: 8, evalLimit: 2 }));
    const setup = await setupRun(config, { needTrain: true });
    try {
      const instances = groupConsecutive(readE2eSplit(DATA_DIR, 'dev', 'csv').pairs);
      const chosen = subsampleIndices(instances.length, 2).map((i) => instances[i]);
      const direct = scoreE2E(
        chosen.map((i) => i.refs.map(oneLine)),
        chosen.map((i) => mrToLoraContext(i.mr)),
      );
      assert.deepEqual(setup.task.baseline()!.metrics, { ...direct });
    } finally {
      setup.model.dispose();
    }
  });

  it('the trainer writes it into the result (schema-valid), and logs it', async () => {
    const lines: string[] = [];
    const out = join(dir, 'run');
    const r = await runTraining(rteConfig(roberta, { epochs: 1 }) as TrainRunConfig, { outDir: out, log: (l) => lines.push(l) });
    assert.equal(r.status, 'finished', r.error);
    assert.equal(r.baseline?.kind, 'majority');
    assert.deepEqual(Object.keys(r.baseline!.metrics), Object.keys(r.metrics));
    assert.ok(lines.some((l) => /^baseline \(majority class: always class \d \(\w+\), \d+ of 16 training examples\): accuracy 0\.\d{4}$/.test(l)), lines.join('\n'));
    assert.deepEqual(runResultSchema.parse(r).baseline, r.baseline);
  });
});
