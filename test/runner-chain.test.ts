/**
 * Runs that start from another run (`initFrom`, src/spec/init-from.ts, src/runner/dependencies.ts,
 * src/train/init-from.ts): expansion to the parent's run id, parents before children with two
 * workers, a failed parent blocking its children (runs.csv, result, table reason) until a rerun,
 * --filter taking an unfinished parent along, the real trainer starting from the parent's LoRA
 * weights, and an external loralib checkpoint (the released roberta-base MNLI file) with a new head.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Papa from 'papaparse';
import { initBackend } from '../src/backend/select.ts';
import { readSafetensors, toFloat32 } from '../src/io/safetensors.ts';
import { readArtifact } from '../src/methods/artifact.ts';
import type { AppliedLora } from '../src/methods/lora.ts';
import { configureMethod } from '../src/methods/registry.ts';
import { builtinConfig, type RobertaConfig } from '../src/models/config.ts';
import { createModel } from '../src/models/factory.ts';
import { loadResults } from '../src/report/results.ts';
import { buildTable } from '../src/report/table-model.ts';
import type { Executor } from '../src/runner/executor.ts';
import { runTraining as fakeTraining } from './helpers/fake-executor.ts';
import { resultsPaths } from '../src/runner/paths.ts';
import { buildPlan, formatPlan } from '../src/runner/plan.ts';
import type { RunResult } from '../src/train/result-schema.ts';
import { scanResults } from '../src/runner/results-store.ts';
import { runExperiment } from '../src/runner/runner.ts';
import { expandSpec, type Expansion, type PlannedRun } from '../src/spec/expand.ts';
import { applyFilters } from '../src/spec/filter.ts';
import { parseSpecText } from '../src/spec/load.ts';
import { checkpointSha256, initialiseFrom } from '../src/train/init-from.ts';
import { runTraining as realTraining } from '../src/train/trainer.ts';
import { UserError } from '../src/util/errors.ts';
import { Rng } from '../src/util/rng.ts';
import { realTinySpec } from './helpers/real-spec.ts';
import { sharedOrSkip } from './helpers/skip.ts';

const spec = (extra = '', mnli = '~'): string => `
experiment: chain
seeds: [0, 1]
defaults: { epochs: 2, batchSize: 8, learningRate: 1.0e-3, maxSeqLength: 32, trainLimit: 64 }
grid:
  - row: a
    models: [mini-roberta]
    methods: [lora]
    tasks: { rte: ~, mrpc: ~, sst2: ~, mnli: ${mnli} }
    cells: [{ where: { task: [rte, mrpc] }, set: { initFrom: { task: mnli } } }]
profiles:
  test: {}
  no-mnli: { tasks: [rte, sst2] }
${extra}`;
const expand = (text = spec(), profile = 'test'): Expansion => expandSpec(parseSpecText(text, 'chain.yaml'), { profile });
const find = (e: Expansion, task: string, seed: number): PlannedRun => {
  const r = e.runs.find((x) => x.config.task === task && x.config.seed === seed);
  assert.ok(r, `${task} seed ${seed}`);
  return r;
};

const temps: string[] = [];
after(() => temps.forEach((t) => rmSync(t, { recursive: true, force: true })));
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'chain-'));
  temps.push(d);
  return d;
};
let savedUri: string | undefined;
before(() => {
  savedUri = process.env.MLFLOW_TRACKING_URI;
  delete process.env.MLFLOW_TRACKING_URI;
});
after(() => {
  if (savedUri !== undefined) process.env.MLFLOW_TRACKING_URI = savedUri;
});

/** The fake executor (which fails a child whose parent left no output), with a sleep and failures. */
const fake = (env: NodeJS.ProcessEnv = {}): Executor => (config, opts) => fakeTraining(config, opts, { LORA_REPRO_FAKE_SLEEP_MS: '20-40', ...env });
const quiet = { log: () => {}, warn: () => {}, quiet: true } as const;
const results = (root: string): Map<string, RunResult> => scanResults(resultsPaths(join(root, 'test'))).byId;

describe('initFrom: spec expansion', () => {
  it("resolves { task: mnli } to the same row's MNLI run of the same seed", () => {
    const e = expand();
    for (const seed of [0, 1]) {
      const parent = find(e, 'mnli', seed);
      for (const t of ['rte', 'mrpc']) assert.deepEqual(find(e, t, seed).config.initFrom, { run: parent.runId, cell: parent.cellKey, task: 'mnli' });
      assert.equal(find(e, 'sst2', seed).config.initFrom, undefined);
    }
  });

  it("a child's id follows its parent's config; runs without initFrom keep their ids", () => {
    const base = expand();
    const changed = expand(spec('', '{ learningRate: 2.0e-3 }'));
    assert.notEqual(find(changed, 'mnli', 0).runId, find(base, 'mnli', 0).runId);
    assert.notEqual(find(changed, 'rte', 0).runId, find(base, 'rte', 0).runId, 'the child follows');
    assert.equal(find(changed, 'sst2', 0).runId, find(base, 'sst2', 0).runId);
    const unchained = expand(spec().replace(/    cells: .*\n/, ''));
    assert.equal(find(unchained, 'sst2', 1).runId, find(base, 'sst2', 1).runId);
    assert.notEqual(find(unchained, 'rte', 1).runId, find(base, 'rte', 1).runId);
    // The seeds of a chained cell share its cell key (the parent's cell, not its per-seed run id).
    assert.equal(find(base, 'rte', 0).cellKey, find(base, 'rte', 1).cellKey);
    assert.notEqual(find(changed, 'rte', 0).cellKey, find(base, 'rte', 0).cellKey);
  });

  it('a parent the profile leaves out, a loop, or two sources are one-line errors; null removes it', () => {
    assert.throws(() => expand(spec(), 'no-mnli'), (err: Error) => err instanceof UserError && /initFrom.task 'mnli' is not a cell of row 'a' under profile 'no-mnli'.*initFrom: null/.test(err.message));
    const nulled = expand(spec().replace('no-mnli: { tasks: [rte, sst2] }', 'no-mnli: { tasks: [rte, sst2], set: { initFrom: null } }'), 'no-mnli');
    assert.equal(find(nulled, 'rte', 0).config.initFrom, undefined);
    assert.equal(find(nulled, 'rte', 0).runId, find(expand(spec().replace(/    cells: .*\n/, ''), 'no-mnli'), 'rte', 0).runId);
    assert.throws(() => expand(spec('', '{ initFrom: { task: rte } }')), /chain loops back/);
    assert.throws(() => expand(spec().replace('{ task: mnli }', '{ task: mnli, checkpoint: x.safetensors }')), /exactly one of 'task'.*or 'checkpoint'/);
  });

  it('{ checkpoint } is identified by the sha256 of the file, and replaces an earlier initFrom whole', () => {
    const dir = tempDir();
    const file = join(dir, 'a.safetensors');
    writeFileSync(file, 'one');
    const text = spec().replace('profiles:', `overrides: [{ where: { task: rte }, set: { initFrom: { checkpoint: ${file} } } }]\nprofiles:`);
    const e1 = expand(text);
    assert.deepEqual(find(e1, 'rte', 0).config.initFrom, { checkpoint: file, sha256: checkpointSha256(file, 'test') });
    writeFileSync(file, 'two');
    assert.notEqual(find(expand(text), 'rte', 0).runId, find(e1, 'rte', 0).runId);
    assert.throws(() => expand(text.replace(file, join(dir, 'missing.safetensors'))), /checkpoint .*missing.safetensors does not exist/);
  });
});

describe('initFrom: the runner', function () {
  this.timeout(60_000);

  it('runs parents before children with 2 workers (children listed first)', async () => {
    const root = tempDir();
    const e = expand();
    const s = await runExperiment(e, e.runs, { resultsRoot: root, workers: 2, executor: fake(), ...quiet });
    assert.equal(s.finished, 8, JSON.stringify([...results(root).values()].map((r) => r.error).filter(Boolean)));
    const byId = results(root);
    for (const seed of [0, 1]) {
      const parent = byId.get(find(e, 'mnli', seed).runId)!;
      for (const t of ['rte', 'mrpc']) {
        const child = byId.get(find(e, t, seed).runId)!;
        assert.ok(child.startedAt >= parent.finishedAt, `${t} seed ${seed} started ${child.startedAt}, parent finished ${parent.finishedAt}`);
        assert.match(child.provenance.initFrom ?? '', new RegExp(`^run ${parent.runId} \\(mnli\\)`));
      }
    }
  });

  it('a failed parent blocks its children (runs.csv, result, table reason); a rerun runs them after it', async () => {
    const root = tempDir();
    const e = expand();
    const s1 = await runExperiment(e, e.runs, { resultsRoot: root, workers: 2, executor: fake({ LORA_REPRO_FAKE_FAIL: 'task=mnli' }), ...quiet });
    assert.deepEqual([s1.finished, s1.failed, s1.blocked], [2, 2, 4]);
    const child = results(root).get(find(e, 'rte', 0).runId)!;
    assert.equal(child.status, 'blocked');
    assert.match(child.error ?? '', new RegExp(`^parent run ${find(e, 'mnli', 0).runId} \\(mnli seed 0\\) failed: injected failure`));
    const csv = Papa.parse<Record<string, string>>(readFileSync(join(root, 'test', 'runs.csv'), 'utf8'), { header: true, skipEmptyLines: true }).data;
    assert.deepEqual(csv.filter((r) => r.status === 'blocked').map((r) => r.task).sort(), ['mrpc', 'mrpc', 'rte', 'rte']);
    const table = buildTable(2, loadResults(join(root, 'test'), 'test'), { paperRows: [] });
    const reasons = table.rows.flatMap((r) => r.cells).map((c) => c.reason ?? '');
    assert.ok(reasons.some((r) => /^all 2 run\(s\) blocked \(parent run \w+ \(mnli seed \d\) failed: injected/.test(r)), reasons.join(' | '));

    const s2 = await runExperiment(e, e.runs, { resultsRoot: root, workers: 2, executor: fake(), ...quiet });
    assert.deepEqual([s2.skipped, s2.finished, s2.failed, s2.blocked], [2, 6, 0, 0]);
    assert.ok([...results(root).values()].every((r) => r.status === 'finished'));
  });

  it('--filter on a child takes its unfinished parent along (and --dry-run says so)', async () => {
    const root = tempDir();
    const e = expand();
    const selected = applyFilters(e.runs, ['task=rte,seed=0']);
    assert.equal(selected.length, 1);
    const plan = buildPlan(e, selected, { resultsRoot: root, workers: 2, msPerToken: 1 });
    assert.deepEqual(plan.parentsAdded.map((r) => r.runId), [find(e, 'mnli', 0).runId]);
    const text = formatPlan(e, plan, ['task=rte,seed=0']);
    assert.match(text, /chained cells: 1 start from another run/);
    assert.match(text, /a\s+mini-roberta\s+lora\s+rte\s+← task mnli/);
    assert.match(text, /1 unfinished parent run\(s\) not selected by the filter, run first: a\/mnli seed 0/);
    const s = await runExperiment(e, selected, { resultsRoot: root, workers: 2, executor: fake(), ...quiet });
    assert.deepEqual([s.parentsAdded, s.finished], [1, 2]);
    // Finished now: selecting the child again runs nothing, and the parent is not added again.
    const again = await runExperiment(e, selected, { resultsRoot: root, workers: 2, executor: fake(), ...quiet });
    assert.deepEqual([again.parentsAdded, again.attempted, again.skipped], [0, 0, 1]);
    assert.deepEqual(applyFilters(e.runs, ['initFrom.task=mnli']).map((r) => r.config.task).sort(), ['mrpc', 'mrpc', 'rte', 'rte']);
  });
});

describe('initFrom: the trainer starts from the parent', function () {
  this.timeout(300_000);
  before(async function () {
    sharedOrSkip(this, 'fixtures/tokenizers/gpt2'); // realTinySpec's tokenizer
    await initBackend('wasm');
  });

  const loraB = (adapterDir: string): Map<string, Float32Array> =>
    new Map([...readArtifact(adapterDir).tensors].filter(([k]) => k.includes('lora_B')).map(([k, t]) => [k, toFloat32(t)]));

  it("trains a child (1 label) from its parent's LoRA (2 labels): B is the parent's, not zero; the head is new", async () => {
    // The parent learns at 1e-2 (B moves away from zero); the child at 1e-12 keeps what it started from.
    const tasks = '{ synthetic-stsb: { learningRate: 1.0e-12, initFrom: { task: synthetic-sst2 } }, synthetic-sst2: { learningRate: 1.0e-2 } }';
    const e = expandSpec(parseSpecText(realTinySpec('chain-real', tasks), 'real.yaml'), {});
    const root = tempDir();
    const s = await runExperiment(e, e.runs, { resultsRoot: root, workers: 1, executor: (c, o) => realTraining(c, o), ...quiet });
    const byId = scanResults(resultsPaths(join(root, 'default'))).byId;
    const [child, parent] = [e.runs.find((r) => r.config.task === 'synthetic-stsb')!, e.runs.find((r) => r.config.task === 'synthetic-sst2')!];
    assert.equal(s.finished, 2, byId.get(child.runId)?.error);
    assert.match(byId.get(child.runId)!.provenance.initFrom ?? '', new RegExp(`^run ${parent.runId} \\(synthetic-sst2\\): .*adapter \\(sha256:[0-9a-f]{64}\\); head newly initialised`));
    const out = (id: string): string => join(root, 'default', 'runs', id, 'adapter');
    const pb = loraB(out(parent.runId));
    const cb = loraB(out(child.runId));
    assert.deepEqual([...cb.keys()].sort(), [...pb.keys()].sort());
    let maxParent = 0;
    let maxDiff = 0;
    for (const [k, p] of pb) {
      const c = cb.get(k)!;
      p.forEach((v, i) => {
        maxParent = Math.max(maxParent, Math.abs(v));
        maxDiff = Math.max(maxDiff, Math.abs(v - c[i]));
      });
    }
    assert.ok(maxParent > 1e-4, `the parent trained B away from zero (max |B| ${maxParent})`);
    assert.ok(maxDiff < 1e-6, `the child (lr 1e-12) kept the parent's B (max diff ${maxDiff})`);
    const head = [...readArtifact(out(child.runId)).tensors].find(([k]) => k.endsWith('classifier.out_proj.weight'));
    assert.equal(head?.[1].shape[0], 1, "the child's own 1-output head, not the parent's 2");
  });

  it('an external loralib checkpoint (the released roberta-base MNLI file) loads its LoRA, not its 3-label head', function () {
    const file = sharedOrSkip(this, 'fixtures/real-lora/roberta-base-mnli-lora.safetensors');
    const sha256 = checkpointSha256(file, 'test');
    assert.equal(sha256, '438cbe201ebe668a4198e97f6ac526a1c8a41698c49d96a8fd281c9ffc5220d8', 'the README states this sha256');
    const model = createModel({ ...(builtinConfig('roberta-base') as RobertaConfig), numLabels: 2 }, { seed: 0 });
    const lora = configureMethod('lora', { r: 8, alpha: 16, targets: ['q', 'v'] }).apply(model, new Rng(0)) as AppliedLora;
    try {
      const headBefore = lora.head.map((v) => Float32Array.from(v.dataSync() as Float32Array));
      const note = initialiseFrom(lora, { checkpoint: file, sha256 });
      assert.match(note, /^checkpoint .*roberta-base-mnli-lora.safetensors \(sha256:438cbe20.*\): method weights only; head newly initialised$/);
      const want = toFloat32(readSafetensors(file).tensors.get('roberta.encoder.layer.0.attention.self.query.lora_B')!);
      const got = lora.injection.adapters.get([...lora.injection.adapters.keys()][0])!.B.dataSync();
      const sum = (a: ArrayLike<number>): number => Array.from(a).reduce((x, y) => x + y, 0);
      assert.ok(Math.abs(sum(got) - sum(want)) < 1e-4 && Math.abs(sum(want) - -0.508496) < 1e-4, `layer 0 query B sum ${sum(got)}`);
      lora.head.forEach((v, i) => assert.deepEqual(Float32Array.from(v.dataSync() as Float32Array), headBefore[i], `head ${lora.headNames[i]} untouched`));
      assert.throws(() => initialiseFrom(lora, { checkpoint: file, sha256: '0'.repeat(64) }), /the file changed/);
    } finally {
      lora.remove();
      model.dispose();
    }
  });
});
