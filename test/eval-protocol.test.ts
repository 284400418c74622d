/**
 * Which split a run is scored on and which checkpoint it reports (issue 17 item 5; train/
 * eval-protocol.ts): on a tiny randomly initialised GPT-2 trained on an E2E subset, `checkpoint:
 * final` reports the last epoch although an earlier one was better on dev, `evalSplit: test` decodes
 * the test MRs (prediction files named test) and re-evaluates to its recorded numbers, a GLUE run
 * cannot ask for test, and configs without the new fields keep their run ids.
 */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../src/backend/select.ts';
import { groupConsecutive, readE2eSplit } from '../src/data/e2e.ts';
import { loadE2EData, scoreE2E } from '../src/eval/e2e/index.ts';
import { runResultSchema, type RunResult } from '../src/train/result-schema.ts';
import { evalProtocol, evaluatesSelection, keepsCheckpoint, maxEvaluations } from '../src/train/eval-protocol.ts';
import { evaluateSavedRun } from '../src/train/evaluate-run.ts';
import type { TrainRunConfig } from '../src/train/run-config.ts';
import { runKeys } from '../src/train/run-identity.ts';
import { parseRunConfig, runTraining } from '../src/train/trainer.ts';
import { UserError } from '../src/util/errors.ts';
import { DATA_DIR, e2eConfig, rteConfig, tempDir, tinyGpt2Json, tinyRobertaJson, writeConfig } from './helpers/train.ts';
import { trainingInputsOrSkip } from './helpers/skip.ts';

async function run(config: Record<string, unknown>, outDir: string): Promise<RunResult> {
  return runTraining(config as TrainRunConfig, { outDir, log: () => {} });
}

/** Rescoring the written files gives the reported metrics; the references are those of `csv`'s MRs. */
function checkPredictions(out: string, split: 'dev' | 'test', r: RunResult, n: number): void {
  assert.deepEqual(readdirSync(join(out, 'predictions')).sort(), [`${split}.hyp.txt`, `${split}.ref.txt`]);
  const { references, hypotheses } = loadE2EData(join(out, `predictions/${split}.ref.txt`), join(out, `predictions/${split}.hyp.txt`));
  assert.equal(hypotheses.length, n);
  const known = new Set(groupConsecutive(readE2eSplit(DATA_DIR, split, 'csv').pairs).map((i) => JSON.stringify(i.refs.map((x) => x.trim()))));
  for (const group of references) assert.ok(known.has(JSON.stringify(group)), `not a ${split} instance: ${group[0]}`);
  const rescored = scoreE2E(references, hypotheses);
  for (const [k, v] of Object.entries(rescored)) assert.ok(Math.abs(v - r.metrics[k]) < 1e-12, `${k}: ${v} vs ${r.metrics[k]}`);
}

describe('evaluation protocol: reported split and checkpoint', function () {
  this.timeout(180_000);
  const dir = tempDir('eval-protocol');
  const gpt2 = writeConfig(dir, 'gpt2.json', tinyGpt2Json());

  before(async function () {
    trainingInputsOrSkip(this);
    await initBackend('wasm');
  });

  it('checkpoint final: the last epoch is reported, saved and decoded, not the best dev epoch', async () => {
    const out = join(dir, 'final-dev');
    const r = await run(e2eConfig(gpt2, { checkpoint: 'final' }), out);
    assert.equal(r.status, 'finished', r.error);
    const bleu = r.epochs.map((e) => e.metrics.BLEU);
    // The best dev epoch is still recorded (the first maximum), and it is not the last one, so the
    // run reports another epoch than `best` would. The exact BLEU values depend on the kernels
    // (measured: 0.0010, 0.0000, 0.0177, 0.0003 on pure wasm, best 3; flat 0.0008 with the native
    // OpenBLAS kernels, best 1): only the protocol is asserted.
    const first = bleu.indexOf(Math.max(...bleu)) + 1;
    assert.equal(r.bestEpoch, first, `dev BLEU by epoch ${bleu.join(' ')}`);
    assert.ok(first < 4, `the scenario needs a best epoch before the last: dev BLEU by epoch ${bleu.join(' ')}`);
    assert.deepEqual(r.reported, { split: 'dev', checkpoint: 'final', epoch: 4 });
    assert.deepEqual(r.metrics, r.epochs[3].metrics);
    assert.deepEqual(runResultSchema.parse(JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'))), r);
    checkPredictions(out, 'dev', r, 3);
    // The saved adapter is the last epoch's: re-evaluating it gives the reported (final) metrics.
    assert.deepEqual((await evaluateSavedRun(out)).output.metrics, r.metrics);
  });

  it('evalSplit test + checkpoint final (the paper profile): only the final checkpoint decoded, on the test MRs; eval reproduces it', async () => {
    const out = join(dir, 'final-test');
    const r = await run(e2eConfig(gpt2, { evalSplit: 'test', checkpoint: 'final', evalEveryEpoch: false }), out);
    assert.equal(r.status, 'finished', r.error);
    assert.deepEqual(r.reported, { split: 'test', checkpoint: 'final', epoch: 4 });
    // No dev decoding: no per-epoch metrics, nothing to select.
    assert.ok(r.epochs.every((e) => Object.keys(e.metrics).length === 0));
    assert.equal(r.bestEpoch, null);
    assert.deepEqual(Object.keys(r.metrics).sort(), ['BLEU', 'CIDEr', 'METEOR', 'NIST', 'ROUGE_L']);
    assert.ok(Object.keys(r.provenance.datasets).includes('e2e/testset_w_refs.csv'));
    assert.equal(r.baseline?.kind, 'copy-input');
    checkPredictions(out, 'test', r, 3);
    const again = await evaluateSavedRun(out);
    assert.deepEqual(again.output.metrics, r.metrics);
    assert.deepEqual(Object.keys(again.output.predictions).sort(), ['test.hyp.txt', 'test.ref.txt']);
  });

  it('evalSplit test + checkpoint best: selected on dev every epoch, the best dev epoch decoded on test', async () => {
    const out = join(dir, 'best-test');
    const r = await run(e2eConfig(gpt2, { evalSplit: 'test' }), out);
    assert.equal(r.status, 'finished', r.error);
    assert.ok(r.epochs.every((e) => 'BLEU' in e.metrics), 'dev scored every epoch');
    assert.ok(r.bestEpoch !== null);
    assert.deepEqual(r.reported, { split: 'test', checkpoint: 'best', epoch: r.bestEpoch });
    assert.notDeepEqual(r.metrics, r.epochs[r.bestEpoch - 1].metrics); // test numbers, not dev's
    checkPredictions(out, 'test', r, 3);
  });

  it('a GLUE run cannot report test (labels not public): a UserError before training', async () => {
    const roberta = writeConfig(dir, 'roberta.json', tinyRobertaJson());
    await assert.rejects(run(rteConfig(roberta, { evalSplit: 'test' }), join(dir, 'glue-test')), (e: Error) => e instanceof UserError && /evalSplit test is for E2E only/.test(e.message));
    assert.throws(() => parseRunConfig(e2eConfig(gpt2, { checkpoint: 'last' })), (e: Error) => e instanceof UserError && /checkpoint/.test(e.message));
  });

  it('run ids: configs without the new fields keep theirs; the defaults spelled out are the same run; test / final are other runs', () => {
    const base = {
      experiment: 'table3', profile: 'mini', model: 'mini-gpt2', task: 'e2e', method: 'lora', methodConfig: { r: 4, alpha: 32, targets: ['q', 'v'] }, variant: 'Wq+Wv r=4',
      seed: 0, epochs: 3, batchSize: 8, learningRate: 5e-3, warmupRatio: 0.06, maxSeqLength: 128, trainLimit: 3000, evalLimit: 50, labelSmoothing: 0.1, weightDecay: 0.01,
      decoding: { beam: 4, maxNewTokens: 48 },
    };
    const keys = (extra: Record<string, unknown>) => runKeys(parseRunConfig({ ...base, ...extra }));
    // Computed with the run-identity.ts and run-config.ts of the commit before these fields existed.
    assert.deepEqual(keys({}), { runId: '1b06cce0c4002dae', cellKey: '58d33ce4559c5439' });
    assert.deepEqual(keys({ evalSplit: 'dev', checkpoint: 'best' }), keys({}));
    const ids = new Set([{}, { evalSplit: 'test' }, { checkpoint: 'final' }, { evalSplit: 'test', checkpoint: 'final' }].map((e) => keys(e).runId));
    assert.equal(ids.size, 4);
  });

  it('the schedule of evaluations: dev per epoch or at the end when needed; the reported checkpoint', () => {
    const p = (evalSplit: 'dev' | 'test' | undefined, checkpoint: 'best' | 'final' | undefined, evalEveryEpoch: boolean) => evalProtocol({ evalSplit, checkpoint, evalEveryEpoch });
    const devAt = (q: ReturnType<typeof p>) => [1, 2, 3].filter((e) => evaluatesSelection(q, e, 3));
    assert.deepEqual(devAt(p(undefined, undefined, true)), [1, 2, 3]);
    assert.deepEqual(devAt(p(undefined, undefined, false)), [3]);
    assert.deepEqual(devAt(p('test', 'final', false)), []);
    assert.deepEqual(devAt(p('test', 'best', false)), [3]);
    assert.equal(keepsCheckpoint(p('test', 'final', true), { isBest: true, last: false, hasBest: true }), false);
    assert.equal(keepsCheckpoint(p('test', 'final', true), { isBest: false, last: true, hasBest: true }), true);
    assert.equal(keepsCheckpoint(p(undefined, undefined, true), { isBest: false, last: true, hasBest: false }), true);
    assert.equal(keepsCheckpoint(p(undefined, undefined, true), { isBest: false, last: true, hasBest: true }), false);
    assert.deepEqual([p(undefined, undefined, true), p('test', 'final', false), p('test', 'final', true), p('test', 'best', true)].map((q) => maxEvaluations(q, 5)), [5, 1, 6, 10]);
  });
});
