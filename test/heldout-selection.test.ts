/**
 * Choosing the epoch on held-out training data (issue 18 item 3; run-config.ts `selectOn: heldout`,
 * `heldoutSize`; train/eval-protocol.ts): the slice is drawn from the whole training
 * split before trainLimit, by a fixed seed (the same for every seed and method), never trained on and
 * disjoint from dev; E2E holds out whole MRs. A tiny RoBERTa run on RTE scores the slice every epoch,
 * reports the argmax epoch of that curve and that checkpoint's dev score (checked against an
 * independent re-scoring of the saved adapter on the held-out rows); configs without the fields keep
 * their run ids; specs, the cost estimate, rehearsals and the table captions know the mode.
 */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../src/backend/select.ts';
import { readE2eSplit } from '../src/data/e2e.ts';
import { readGlueSplit, type GlueExample } from '../src/data/glue-tsv.ts';
import { restoreMethod } from '../src/methods/restore.ts';
import { loadResults } from '../src/report/results.ts';
import { buildTable } from '../src/report/table-model.ts';
import { CostModel } from '../src/runner/cost.ts';
import { runResultSchema, type RunResult } from '../src/train/result-schema.ts';
import { expandSpec, type PlannedRun } from '../src/spec/expand.ts';
import { parseSpecText } from '../src/spec/load.ts';
import { rehearsalLayer } from '../src/spec/rehearsal.ts';
import { evalProtocol, evaluationCounts, maxEvaluations, holdOutExamples, holdOutMrs } from '../src/train/eval-protocol.ts';
import { evaluateSavedRun } from '../src/train/evaluate-run.ts';
import type { TrainRunConfig } from '../src/train/run-config.ts';
import { readSavedRun } from '../src/train/run-dir.ts';
import { runKeys, streamRng, subsampleIndices } from '../src/train/run-identity.ts';
import { setupRun } from '../src/train/setup.ts';
import { PAPER_DECODING } from '../src/generate/paper-decoding.ts';
import { parseRunConfig, runTraining } from '../src/train/trainer.ts';
import { UserError } from '../src/util/errors.ts';
import { tempRoot, writeResultsFolder, type FixtureRun } from './helpers/results-fixture.ts';
import { DATA_DIR, e2eConfig, rteConfig, tempDir, tinyGpt2Json, tinyRobertaJson, writeConfig } from './helpers/train.ts';
import { trainingInputsOrSkip } from './helpers/skip.ts';

const RTE_LABELS = ['entailment', 'not_entailment'];

function disjoint(a: readonly number[], b: readonly number[]): boolean {
  const s = new Set(a);
  return b.every((x) => !s.has(x));
}

const ascending = (xs: readonly number[]): boolean => xs.every((x, i) => i === 0 || xs[i - 1] < x);

/** The held-out eval set's prediction files of a training setup, scored by its untrained model or by a saved run's weights. */
async function heldoutPredictions(config: Record<string, unknown>, runDir?: string): Promise<Record<string, string>> {
  const c = parseRunConfig(config);
  const saved = runDir !== undefined ? readSavedRun(runDir) : undefined;
  const setup = await setupRun(c, { needTrain: true, modelConfig: saved?.baseConfig, vocabMap: saved?.vocabMap });
  try {
    const applied = saved !== undefined ? restoreMethod(setup.model, saved.adapterDir, streamRng(c.seed, 'method')) : undefined;
    const out = await setup.task.evaluate(setup.model, { batchSize: 8, decoding: { ...PAPER_DECODING, beam: 1, maxNewTokens: 1 }, split: 'heldout' });
    applied?.remove();
    return out.predictions;
  } finally {
    setup.model.dispose();
  }
}

/** heldout.tsv (index, prediction, label) → rows and accuracy against the training file's own labels. */
function scoreHeldoutTsv(tsv: string, train: readonly { label: number }[]): { rows: number[]; accuracy: number } {
  const lines = tsv.trim().split('\n').slice(1).map((l) => l.split('\t'));
  const rows = lines.map((l) => Number(l[0]));
  lines.forEach((l) => assert.equal(l[2], RTE_LABELS[train[Number(l[0])].label], `row ${l[0]}: the gold label is the training file's`));
  const correct = lines.filter((l) => RTE_LABELS.indexOf(l[1]) === train[Number(l[0])].label).length;
  return { rows, accuracy: correct / lines.length };
}

describe('held-out selection: the slice', function () {
  this.timeout(60_000);
  before(function () {
    trainingInputsOrSkip(this);
  });

  it('GLUE: drawn from the whole training split before trainLimit, disjoint from what is trained on and from dev, nested in size', () => {
    const train = readGlueSplit(DATA_DIR, 'rte', 'train');
    const dev = readGlueSplit(DATA_DIR, 'rte', 'dev');
    const n = train.length;
    const whole = holdOutExamples(n, 100, undefined, 'rte');
    const limited = holdOutExamples(n, 100, 16, 'rte');
    assert.equal(whole.heldout.length, 100);
    assert.deepEqual(limited.heldout, whole.heldout, 'trainLimit does not move the slice');
    assert.ok(ascending(whole.heldout) && ascending(whole.train) && ascending(limited.train));
    // The slice and the rest partition the split; the trained subset comes out of the rest.
    assert.ok(disjoint(whole.heldout, whole.train));
    assert.equal(whole.heldout.length + whole.train.length, n);
    assert.equal(limited.train.length, 16);
    assert.ok(disjoint(limited.heldout, limited.train));
    // A smaller slice is part of a larger one (one shuffle, a longer prefix).
    assert.ok(holdOutExamples(n, 40, 16, 'rte').heldout.every((i) => whole.heldout.includes(i)));
    // Without the slice the data are exactly those of the runs before it existed.
    assert.deepEqual(holdOutExamples(n, undefined, 16, 'rte'), { heldout: [], train: subsampleIndices(n, 16) });
    // Not dev's examples either (another file; no text pair of the slice is in dev).
    const devPairs = new Set(dev.map((e) => `${e.text_a}\u0000${e.text_b}`));
    assert.ok(whole.heldout.every((i) => !devPairs.has(`${train[i].text_a}\u0000${train[i].text_b}`)));
    assert.throws(() => holdOutExamples(n, n, undefined, 'rte'), (e: Error) => e instanceof UserError && /heldoutSize 2490 leaves no training examples/.test(e.message));
  });

  it('E2E: whole MRs, every reference of a held-out MR out of training; none is a dev MR', () => {
    const pairs = readE2eSplit(DATA_DIR, 'train', 'csv').pairs;
    const devMrs = new Set(readE2eSplit(DATA_DIR, 'dev', 'csv').pairs.map((p) => p.mr));
    const { heldout, train } = holdOutMrs(pairs, 25, undefined, 'e2e');
    assert.equal(heldout.length, 25);
    const mrs = new Set(heldout.map((h) => h.mr));
    assert.equal(mrs.size, 25, 'distinct MRs');
    for (const h of heldout) {
      // Independent grouping: every pair of the file with this MR text, wherever it stands.
      const all = pairs.flatMap((p, i) => (p.mr === h.mr ? [i] : []));
      assert.deepEqual(h.pairs, all, `MR "${h.mr}": all of its references`);
      assert.ok(!devMrs.has(h.mr));
    }
    assert.ok(heldout.some((h) => h.pairs.length > 1 && h.pairs[h.pairs.length - 1] - h.pairs[0] >= h.pairs.length), 'trainset.csv scatters an MR\'s references: grouped by text, not runs');
    assert.ok(train.every((i) => !mrs.has(pairs[i].mr)), 'no reference of a held-out MR is trained on');
    assert.equal(train.length + heldout.reduce((s, h) => s + h.pairs.length, 0), pairs.length);
    const limited = holdOutMrs(pairs, 25, 32, 'e2e');
    assert.deepEqual(limited.heldout, heldout);
    assert.equal(limited.train.length, 32);
    assert.ok(limited.train.every((i) => !mrs.has(pairs[i].mr)));
  });

  describe('loaded with the task (tiny models)', () => {
    const dir = tempDir('heldout-load');
    const roberta = writeConfig(dir, 'roberta.json', tinyRobertaJson());
    const gpt2 = writeConfig(dir, 'gpt2.json', tinyGpt2Json());
    before(async () => {
      await initBackend('wasm');
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('GLUE: the heldout eval set holds the slice\'s rows with their training labels, whatever the seed and method', async () => {
      const train = readGlueSplit(DATA_DIR, 'rte', 'train');
      const expected = holdOutExamples(train.length, 24, 16, 'rte').heldout;
      const a = scoreHeldoutTsv((await heldoutPredictions(rteConfig(roberta, { selectOn: 'heldout', heldoutSize: 24 })))['heldout.tsv'], train);
      const b = scoreHeldoutTsv((await heldoutPredictions(rteConfig(roberta, { selectOn: 'heldout', heldoutSize: 24, seed: 7, method: 'bitfit', methodConfig: {}, trainLimit: 64 })))['heldout.tsv'], train);
      assert.deepEqual(a.rows, expected);
      assert.deepEqual(b.rows, expected);
    });

    it('E2E: the heldout eval set is whole training MRs, each with all its references', async () => {
      const pairs = readE2eSplit(DATA_DIR, 'train', 'csv').pairs;
      const expected = holdOutMrs(pairs, 3, 32, 'e2e').heldout.map((h) => h.pairs.map((i) => pairs[i].ref.trim()));
      const refs = (await heldoutPredictions(e2eConfig(gpt2, { selectOn: 'heldout', heldoutSize: 3 })))['heldout.ref.txt'];
      const groups = refs.split('\n\n').filter((g) => g.trim() !== '').map((g) => g.split('\n').filter((l) => l !== ''));
      assert.deepEqual(groups, expected);
    });
  });
});

describe('held-out selection: a training run', function () {
  this.timeout(120_000);
  const dir = tempDir('heldout-train');
  const roberta = writeConfig(dir, 'roberta.json', tinyRobertaJson());
  let train: GlueExample[];
  before(async function () {
    trainingInputsOrSkip(this);
    train = readGlueSplit(DATA_DIR, 'rte', 'train');
    await initBackend('wasm');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('scores the held-out slice every epoch, reports the argmax epoch of that curve, scored on dev once', async () => {
    // Preferably a seed whose held-out curve peaks before the last epoch, so the reported checkpoint
    // is reloaded from its saved adapter rather than being the live weights. Which seeds do is
    // kernel-dependent (standalone, with or without the native kernels, seed 1 peaks at epoch 3 of 4;
    // after some other test files in one mocha process every seed's curve was flat at 0.5 — the tiny
    // model learned nothing there; the cause, some state those files leave, is not found yet), so
    // seeds are searched and, failing that, seed 1's run is checked for everything but the reload.
    let found: { r: RunResult; out: string; log: string[]; config: Record<string, unknown> } | undefined;
    let first: typeof found;
    for (const seed of Array.from({ length: 20 }, (_, i) => i + 1)) {
      const config = rteConfig(roberta, { seed, epochs: 4, selectOn: 'heldout', heldoutSize: 48 });
      const out = join(dir, `best-${seed}`);
      const log: string[] = [];
      const r = await runTraining(config as TrainRunConfig, { outDir: out, log: (l) => log.push(l) });
      assert.equal(r.status, 'finished', r.error);
      first ??= { r, out, log, config };
      const curve = r.epochs.map((e) => e.metrics.accuracy);
      if (r.bestEpoch !== null && r.bestEpoch < 4 && curve[r.bestEpoch - 1] !== curve[3]) {
        found = { r, out, log, config };
        break;
      }
    }
    if (found === undefined) console.log('      (no seed of 1-20 peaked before the last epoch on these kernels: the reload of an earlier checkpoint is not exercised here)');
    found ??= first;
    assert.ok(found !== undefined);
    const { r, out, log, config } = found;
    const curve = r.epochs.map((e) => e.metrics.accuracy);
    assert.ok(r.epochs.every((e) => e.split === 'heldout' && Object.keys(e.metrics).join() === 'accuracy'), 'every epoch: the held-out slice, named');
    const argmax = curve.indexOf(Math.max(...curve)) + 1;
    assert.equal(r.bestEpoch, argmax);
    assert.deepEqual(r.reported, { split: 'dev', checkpoint: 'best', epoch: argmax, selectedOn: 'heldout', heldoutSize: 48 });
    assert.deepEqual(runResultSchema.parse(JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'))), r);
    // Dev was scored once, after training, not per epoch.
    assert.equal(log.filter((l) => /^epoch \d\/4: .*heldout: accuracy/.test(l)).length, 4);
    assert.ok(!log.some((l) => /^epoch \d\/4: .*dev/.test(l)), log.join('\n'));
    assert.equal(log.filter((l) => l.startsWith(`reported checkpoint: epoch ${argmax} (chosen on heldout); dev: accuracy`)).length, 1);
    // The saved adapter is the chosen epoch's: scored independently on the slice's rows (labels from
    // train.tsv) it gives that epoch's point of the curve, not the last epoch's.
    const held = scoreHeldoutTsv((await heldoutPredictions(config, out))['heldout.tsv'], train);
    assert.deepEqual(held.rows, holdOutExamples(train.length, 48, 16, 'rte').heldout);
    assert.ok(Math.abs(held.accuracy - curve[argmax - 1]) < 1e-12, `${held.accuracy} vs curve ${curve.join(' ')}`);
    // The reported metrics are dev's, of that checkpoint: re-evaluating the saved run on dev (what
    // `lora-repro eval` does) gives them, with dev's prediction file.
    const again = await evaluateSavedRun(out);
    assert.deepEqual(again.output.metrics, r.metrics);
    assert.equal(again.task.evalSize, 32);
    assert.equal(readFileSync(join(out, 'predictions/dev.tsv'), 'utf8'), again.output.predictions['dev.tsv']);
    // The same trajectory reporting its last epoch (checkpoint final) reports another dev score.
    const fin = await runTraining({ ...config, checkpoint: 'final' } as TrainRunConfig, { outDir: join(dir, 'final'), log: () => {} });
    assert.deepEqual(fin.epochs.map((e) => e.metrics), r.epochs.map((e) => e.metrics), 'same data, seed, trajectory');
    assert.deepEqual(fin.reported, { split: 'dev', checkpoint: 'final', epoch: 4 });
    assert.deepEqual((await evaluateSavedRun(join(dir, 'final'))).output.metrics, fin.metrics);
  });

  it('E2E: held-out MRs decoded every epoch, the chosen epoch decoded once on test; eval reproduces it', async () => {
    const gpt2 = writeConfig(dir, 'gpt2.json', tinyGpt2Json());
    const out = join(dir, 'e2e');
    const r = await runTraining(e2eConfig(gpt2, { epochs: 2, selectOn: 'heldout', heldoutSize: 3, evalSplit: 'test' }) as TrainRunConfig, { outDir: out, log: () => {} });
    assert.equal(r.status, 'finished', r.error);
    assert.ok(r.epochs.every((e) => e.split === 'heldout' && 'BLEU' in e.metrics));
    const bleu = r.epochs.map((e) => e.metrics.BLEU);
    assert.equal(r.bestEpoch, bleu.indexOf(Math.max(...bleu)) + 1);
    assert.deepEqual(r.reported, { split: 'test', checkpoint: 'best', epoch: r.bestEpoch, selectedOn: 'heldout', heldoutSize: 3 });
    // Dev is not read at all: selection is on the slice, the report on test.
    assert.deepEqual(Object.keys(r.provenance.datasets).sort(), ['e2e/testset_w_refs.csv', 'e2e/trainset.csv']);
    assert.deepEqual(readdirSync(join(out, 'predictions')).sort(), ['test.hyp.txt', 'test.ref.txt']);
    assert.deepEqual((await evaluateSavedRun(out)).output.metrics, r.metrics);
  });

  it('trains on the rest of the split: its majority-class baseline counts the trained labels', async () => {
    const r = await runTraining(rteConfig(roberta, { epochs: 1, selectOn: 'heldout', heldoutSize: 48, trainLimit: 40 }) as TrainRunConfig, { outDir: join(dir, 'baseline'), log: () => {} });
    const trained = holdOutExamples(train.length, 48, 40, 'rte').train;
    const zeros = trained.filter((i) => train[i].label === 0).length;
    const majority = Math.max(zeros, trained.length - zeros);
    assert.match(r.baseline?.description ?? '', new RegExp(`, ${majority} of 40 training examples`));
    assert.equal(r.schedule?.trainExamples, 40);
  });
});

describe('held-out selection: config, ids, spec, cost, captions', () => {
  const base = {
    experiment: 'table2', profile: 'mini', model: 'mini-roberta', task: 'rte', method: 'lora', methodConfig: { r: 8, alpha: 16, targets: ['q', 'v'] }, variant: 'Wq+Wv r=8',
    seed: 2, epochs: 4, batchSize: 16, learningRate: 5e-4, warmupRatio: 0.06, maxSeqLength: 128, trainLimit: 512, evalLimit: 200, weightDecay: 0.1, devices: 1,
  };
  const keys = (extra: Record<string, unknown>) => runKeys(parseRunConfig({ ...base, ...extra }));

  it('run ids: configs without the fields keep theirs; selectOn dev spelled out is the same run; held-out runs are others', () => {
    // Computed with run-config.ts / run-identity.ts of the commit before these fields existed.
    assert.deepEqual(keys({}), { runId: 'ee8504a6211e232a', cellKey: '26f6d2bb9e5b123f' });
    assert.deepEqual(keys({ task: 'e2e', evalSplit: 'test', checkpoint: 'final' }), { runId: '2148a695bf092832', cellKey: 'b0ca085b819baaf4' });
    assert.deepEqual(keys({ selectOn: 'dev' }), keys({}));
    const ids = new Set([{}, { selectOn: 'heldout', heldoutSize: 64 }, { selectOn: 'heldout', heldoutSize: 128 }].map((e) => keys(e).runId));
    assert.equal(ids.size, 3);
  });

  it('the two fields only go together (one clear line), and selectOn takes dev or heldout', () => {
    assert.throws(() => keys({ selectOn: 'heldout' }), (e: Error) => e instanceof UserError && /selectOn heldout needs heldoutSize/.test(e.message));
    assert.throws(() => keys({ heldoutSize: 64 }), (e: Error) => e instanceof UserError && /heldoutSize 64 is only used with selectOn heldout/.test(e.message));
    assert.throws(() => keys({ heldoutSize: 64, selectOn: 'dev' }), UserError);
    assert.throws(() => keys({ selectOn: 'test', heldoutSize: 64 }), (e: Error) => e instanceof UserError && /selectOn/.test(e.message));
  });

  it('evaluations: the slice per epoch, the reported split once (dev-selected runs as before)', () => {
    const p = (extra: Partial<TrainRunConfig>) => evalProtocol({ evalEveryEpoch: true, selectOn: 'heldout', heldoutSize: 64, ...extra });
    assert.deepEqual(evaluationCounts(p({}), 5), { selection: 5, reported: 1 });
    assert.deepEqual(evaluationCounts(p({ evalEveryEpoch: false }), 5), { selection: 1, reported: 1 });
    assert.deepEqual(evaluationCounts(p({ evalSplit: 'test', checkpoint: 'final' }), 5), { selection: 5, reported: 1 });
    assert.deepEqual(evaluationCounts(p({ checkpoint: 'final', evalEveryEpoch: false }), 5), { selection: 0, reported: 1 });
    assert.deepEqual(evaluationCounts(evalProtocol({ evalEveryEpoch: true }), 5), { selection: 5, reported: 0 });
    assert.equal(maxEvaluations(evalProtocol({ evalEveryEpoch: true, evalSplit: 'test' }), 5), 10);
  });

  it('--dry-run cost: the slice\'s examples per epoch, dev once, the slice out of the training examples', () => {
    const planned = (extra: Record<string, unknown>): PlannedRun => ({ config: parseRunConfig({ ...base, trainLimit: undefined, ...extra }) }) as PlannedRun;
    const cost = new CostModel({ finished: [], msPerTokenFlag: 1 });
    const dev = cost.estimate(planned({}));
    const held = cost.estimate(planned({ selectOn: 'heldout', heldoutSize: 100 }));
    // RTE: 2,490 training, 277 dev examples; 4 epochs; real tokens per example (cost.ts MEAN_TOKENS,
    // under maxSeqLength 128): 71.2 a training example, 69.5 an evaluated one.
    assert.equal(dev.evalTokens, (4 * 200 * 69.5) / 3);
    assert.equal(held.evalTokens, ((4 * 100 + 200) * 69.5) / 3);
    assert.equal(dev.trainTokens, 2490 * 71.2 * 4);
    assert.equal(held.trainTokens, 2390 * 71.2 * 4);
    // E2E counts MRs: 50 held-out MRs take ≈ 50 × 42061/4862 pairs out of training.
    const e2e = cost.estimate(planned({ task: 'e2e', evalLimit: 30, selectOn: 'heldout', heldoutSize: 50, decoding: { beam: 2, maxNewTokens: 10 } }));
    assert.equal(e2e.evalTokens, ((4 * 50 + 30) * 2 * 10) / 3);
    assert.equal(e2e.trainTokens, Math.round(42061 - (50 * 42061) / 4862) * 53.5 * 4);
  });

  const SPEC = `
seeds: [0, 1]
defaults: { epochs: 2, batchSize: 4, learningRate: 1.0e-3, maxSeqLength: 32 }
grid:
  - row: lora
    models: [mini-roberta]
    methods: [lora, bitfit]
    tasks: [rte, sst2]
profiles:
  mini:
    set: { trainLimit: 64, evalLimit: 32 }
  honest:
    set: { trainLimit: 64, evalLimit: 32, selectOn: heldout, heldoutSize: 48 }
`;

  it('spec: a profile\'s set: block selects on held-out data; the other profile\'s runs keep their ids; bad combinations name the cell', () => {
    const expand = (text: string, profile: string) => expandSpec(parseSpecText(text, 'spec.yaml'), { profile });
    const honest = expand(SPEC, 'honest');
    assert.equal(honest.runs.length, 8);
    assert.ok(honest.runs.every((r) => r.config.selectOn === 'heldout' && r.config.heldoutSize === 48));
    const mini = expand(SPEC, 'mini');
    const same = expand(SPEC.replace('set: { trainLimit: 64, evalLimit: 32 }', 'set: { trainLimit: 64, evalLimit: 32, selectOn: dev }'), 'mini');
    assert.deepEqual(same.runs.map((r) => r.runId), mini.runs.map((r) => r.runId));
    assert.ok(mini.runs.every((r) => !('selectOn' in r.config) && !('heldoutSize' in r.config)));
    const error = (text: string): string => {
      try {
        expand(text, 'honest');
      } catch (err) {
        assert.ok(err instanceof UserError);
        return err.message;
      }
      return assert.fail('accepted');
    };
    assert.match(error(SPEC.replace(', heldoutSize: 48', '')), /spec\.yaml.*cell mini-roberta\/lora\/rte seed 0: selectOn heldout needs heldoutSize/);
    assert.match(error(SPEC.replace('selectOn: heldout', 'selectOn: test')), /selectOn/);
    assert.match(error(SPEC.replace('heldoutSize: 48', 'heldoutSize: 0')), /heldoutSize/);
  });

  it('a rehearsal caps the slice like the other evaluation examples', () => {
    assert.equal(rehearsalLayer({ heldoutSize: 500 }).heldoutSize, 8);
    assert.equal(rehearsalLayer({ heldoutSize: 4 }).heldoutSize, 4);
    assert.ok(!('heldoutSize' in rehearsalLayer({})));
  });

  it('captions: held-out selected runs say so; dev-selected runs keep today\'s caption; a mix is told row by row', () => {
    const rb = { model: 'roberta-base', method: 'lora', methodConfig: { r: 8, alpha: 16, targets: ['q', 'v'] }, counted: 294912, formula: 294912 };
    const ft = { model: 'roberta-base', method: 'ft', counted: 124055040, formula: 124055040 };
    const seeds = (f: Omit<FixtureRun, 'task' | 'seed'>, heldoutSize?: number): FixtureRun[] => [0.9, 0.91, 0.92].map((a, seed) => ({ ...f, task: 'rte', seed, metrics: { accuracy: a }, ...(heldoutSize !== undefined ? { heldoutSize } : {}) }));
    const build = (runs: FixtureRun[]) => {
      const root = tempRoot();
      writeResultsFolder(root, 'fx', runs);
      const t = buildTable(2, loadResults(join(root, 'fx'), 'fx'), { withRuns: true });
      rmSync(root, { recursive: true, force: true });
      return t;
    };
    const held = build([...seeds(rb, 64), ...seeds(ft, 64)]);
    assert.match(held.caption, /each cell is the median over seeds of each run's dev score ×100 \(MNLI matched accuracy, [^)]*\) ± sample std over seeds, each run's epoch chosen on 64 held-out training examples \(never the reported ones\), scored on dev, then \[paper value/);
    assert.doesNotMatch(held.caption, /best-epoch/);
    assert.deepEqual(held.footnotes.filter((f) => /scored on the/.test(f)), []);
    const dev = build([...seeds(rb), ...seeds(ft)]);
    assert.match(dev.caption, /each run's best-epoch dev score ×100/);
    assert.doesNotMatch(dev.caption, /held-out/);
    const mixed = build([...seeds(rb, 64), ...seeds(ft)]);
    assert.match(mixed.caption, /each run's reported \(best-epoch or held-out-chosen-epoch, see the notes\) dev score/);
    assert.ok(mixed.footnotes.some((f) => /LoRA.*: scored on the dev split, epoch chosen on 64 held-out training examples\.$/.test(f)), mixed.footnotes.join('\n'));
    assert.ok(mixed.footnotes.some((f) => /FT.*: scored on the dev split, best dev epoch\.$/.test(f)), mixed.footnotes.join('\n'));
  });
});
