/**
 * `--rehearse` (src/spec/rehearsal.ts) on the real specs, without training: the paper profile's runs
 * with their models, methods, batch, devices and chains, sizes capped, under a profile and run ids of
 * their own; every row rehearsed, the DeBERTa XXL ones included (rows without an architecture would be
 * left out); the report finds the rehearsal from its results
 * profile name. The end-to-end run against a local hub is test/rehearsal-hub.test.ts.
 */
import assert from 'node:assert/strict';
import { expandSpec, type PlannedRun } from '../src/spec/expand.ts';
import { loadSpecFile, parseSpecText } from '../src/spec/load.ts';
import { notRehearsable, rehearsalLayer, rehearsedProfile } from '../src/spec/rehearsal.ts';
import { profileTasks } from '../src/report/profile-tasks.ts';
import { UserError } from '../src/util/errors.ts';

const T2 = 'experiments/table2.yaml';
const T3 = 'experiments/table3.yaml';
const cell = (runs: PlannedRun[], row: string, task: string): PlannedRun => {
  const r = runs.find((x) => x.row === row && x.config.task === task);
  assert.ok(r, `${row}/${task}`);
  return r;
};

describe('rehearsal of a profile (--rehearse)', () => {
  const spec2 = loadSpecFile(T2);
  const paper = expandSpec(spec2, { profile: 'paper' });
  const rehearsal = expandSpec(spec2, { profile: 'paper', rehearse: true });

  it('Table 2: the paper rows that can run, first seed, sizes capped, devices and batch kept, profile paper-rehearsal', () => {
    assert.equal(rehearsal.profile, 'paper-rehearsal');
    assert.deepEqual(rehearsal.rehearsal?.of, 'paper');
    assert.equal(rehearsal.runs.length, 14 * 8);
    for (const r of rehearsal.runs) {
      const c = r.config;
      assert.deepEqual([c.profile, c.rehearsal, c.seed, c.epochs, c.trainLimit, c.evalLimit], ['paper-rehearsal', true, 0, 1, 16, 8]);
      assert.ok(c.maxSeqLength <= 64 && (c.microBatchSize ?? 0) <= 4);
      const real = paper.runs.find((p) => p.row === r.row && p.config.task === c.task && p.config.seed === 0)!;
      // What is run and from where is the paper profile's.
      for (const k of ['model', 'method', 'methodConfig', 'batchSize', 'devices', 'gradAccumulation', 'learningRate', 'weightDecay', 'adamEps', 'warmupRatio'] as const) {
        assert.deepEqual(c[k], real.config[k], `${r.row}/${c.task}: ${k}`);
      }
    }
    assert.equal(cell(rehearsal.runs, 'rob-base-bitfit', 'rte').config.devices, 8);
    assert.equal(cell(rehearsal.runs, 'rob-base-bitfit', 'cola').config.devices, 2);
  });

  it('run ids never equal a real paper run\'s; the MNLI → MRPC/RTE/STS-B chains stay, between rehearsal runs', () => {
    const realIds = new Set(paper.runs.map((r) => r.runId));
    assert.ok(rehearsal.runs.every((r) => !realIds.has(r.runId)));
    for (const row of ['rob-base-lora', 'rob-large-lora', 'deb-xxl-lora']) {
      const parent = cell(rehearsal.runs, row, 'mnli');
      for (const task of ['mrpc', 'rte', 'stsb']) {
        const init = cell(rehearsal.runs, row, task).config.initFrom;
        assert.ok(init !== undefined && 'run' in init && init.run === parent.runId, `${row}/${task}`);
      }
    }
  });

  it('rehearses the DeBERTa XXL rows (hub catalog: microsoft/deberta-v2-xxlarge); only a model with no architecture is left out', () => {
    assert.deepEqual(rehearsal.rehearsal?.leftOut, []);
    assert.deepEqual(
      ['deb-xxl-ft', 'deb-xxl-lora'].map((row) => cell(rehearsal.runs, row, 'mnli').config.model),
      ['deberta-v2-xxlarge', 'deberta-v2-xxlarge'],
    );
    assert.equal(notRehearsable('deberta-v2-xxlarge'), undefined);
    assert.match(notRehearsable('bert-base') ?? '', /^model 'bert-base' has no architecture in lora-repro and no entry in the hub catalog/);
    assert.equal(notRehearsable('roberta-base@0123abc'), undefined);
    assert.equal(notRehearsable('mini-gpt2'), undefined);
  });

  it('Table 3: decoding capped to 8 new tokens with the row\'s beam; test split, final checkpoint kept', () => {
    const r3 = expandSpec(loadSpecFile(T3), { profile: 'paper', rehearse: true });
    assert.equal(r3.runs.length, 12);
    assert.deepEqual(r3.rehearsal?.leftOut, []);
    const lora = cell(r3.runs, 'gpt2-m-lora', 'e2e').config;
    assert.deepEqual([lora.decoding?.beam, lora.decoding?.maxNewTokens, lora.evalSplit, lora.checkpoint], [10, 8, 'test', 'final']);
    assert.equal(cell(r3.runs, 'gpt2-m-ft', 'e2e').config.decoding?.beam, 5);
  });

  it('caps only lower a value: a smaller profile keeps its own (smoke: 5 evaluation MRs)', () => {
    const smoke = expandSpec(loadSpecFile(T3), { profile: 'smoke', rehearse: true });
    assert.equal(smoke.profile, 'smoke-rehearsal');
    assert.deepEqual([smoke.runs[0]?.config.evalLimit, smoke.runs[0]?.config.decoding?.maxNewTokens], [5, 8]);
    assert.deepEqual(rehearsalLayer({ batchSize: 2, epochs: 3, maxSeqLength: 32 }), { rehearsal: true, epochs: 1, trainLimit: 16, evalLimit: 8, maxSeqLength: 32, microBatchSize: 2 });
  });

  it('a spec cannot set `rehearsal` itself', () => {
    const text = 'experiment: t\nseeds: [0]\ndefaults: { epochs: 1, batchSize: 8, learningRate: 1.0e-3, maxSeqLength: 32, rehearsal: true }\ngrid:\n  - models: [mini-roberta]\n    methods: [lora]\n    tasks: [rte]\n';
    assert.throws(() => expandSpec(parseSpecText(text, 't.yaml')), (e: unknown) => e instanceof UserError && /rehearsal/.test(e.message));
  });

  it('the report knows a rehearsal by its results profile: paper-rehearsal → paper, with no row left out', () => {
    assert.equal(rehearsedProfile('paper-rehearsal'), 'paper');
    assert.equal(rehearsedProfile('paper'), undefined);
    const found = profileTasks(T2, 'paper-rehearsal', true).found;
    assert.equal(found?.tasks.length, 8);
    assert.deepEqual(found?.rehearsal?.leftOut, []);
    assert.equal(profileTasks(T2, 'paper', true).found?.rehearsal, undefined);
    assert.throws(() => profileTasks(T2, 'nope-rehearsal', true), /defines no profile 'nope-rehearsal'/);
  });
});
