/**
 * What `lora-repro download` fetched is what runs use (issue 17): a spec's hub model name resolves to
 * the snapshot in the hub cache (newest download first, or the pinned revision; $LORA_REPRO_MODELS
 * wins; absent → one-line UserError with the download command), and a GLUE / E2E split missing from
 * the data directory is read from the cached parquet, with the source and its sha256 in provenance.
 *
 * The cache is written by the real download code from a fake hub serving the parity fixture's tiny
 * RoBERTa as FacebookAI/roberta-base and parquet files made from the shared data's own TSV / CSV rows,
 * so "same examples" is checked against the text files, and checksums against the bytes served.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/backend/select.ts';
import { readE2eFile } from '../src/data/e2e.ts';
import { readGlueTsv } from '../src/data/glue-tsv.ts';
import { e2eSplitSource, glueSplitSource, readE2eSource, readGlueSource } from '../src/data/split-source.ts';
import { RepoCache } from '../src/hub/cache.ts';
import { cachedSnapshots } from '../src/hub/cached-snapshots.ts';
import { MODEL_FILES, modelRequest } from '../src/hub/catalog.ts';
import { E2E_REPO, E2E_REVISION, e2eHubPath, GLUE_REPO, glueHubPath, glueRequest } from '../src/data/hub-datasets.ts';
import type { HubRepo } from '../src/hub/repo.ts';
import { withHubSession } from '../src/hub/session.ts';
import { fetchSnapshot } from '../src/hub/snapshot.ts';
import type { Executor } from '../src/runner/executor.ts';
import { runTraining as fakeTraining } from './helpers/fake-executor.ts';
import { locateModel, resolveModel } from '../src/runner/model-resolver.ts';
import { runExperiment } from '../src/runner/runner.ts';
import type { RunResult } from '../src/train/result-schema.ts';
import { expandSpec } from '../src/spec/expand.ts';
import { parseSpecText } from '../src/spec/load.ts';
import { buildModel, resolveModelSource } from '../src/train/model-source.ts';
import type { TrainRunConfig } from '../src/train/run-config.ts';
import { runTraining } from '../src/train/trainer.ts';
import { UserError } from '../src/util/errors.ts';
import { FakeHubServer } from './helpers/fake-hub-server.ts';
import { e2eParquet, glueParquet } from './helpers/hub-parquet.ts';
import { SHARED } from './helpers/tiny.ts';
import { DATA_DIR, GPT2_TOKENIZER, rteConfig, tinyRobertaJson, writeConfig } from './helpers/train.ts';
import { sharedOrSkip } from './helpers/skip.ts';

const ROBERTA: HubRepo = { type: 'model', id: 'FacebookAI/roberta-base' };
const PARITY = join(SHARED, 'fixtures/parity/roberta-tiny');
const RTE_TRAIN = join(DATA_DIR, 'glue/RTE/train.tsv');
const RTE_DEV = join(DATA_DIR, 'glue/RTE/dev.tsv');
const E2E_DEV = join(DATA_DIR, 'e2e/devset.csv');
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

const temps: string[] = [];
function tmp(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `lora-sources-${prefix}-`));
  temps.push(dir);
  return dir;
}

/** A snapshot written the way download leaves one: files in snapshots/<commit>/, entries in its manifest. */
function writeSnapshot(hubDir: string, commit: string, downloadedAt: string, skipManifestOf?: string): void {
  const cache = new RepoCache(hubDir, ROBERTA);
  for (const f of MODEL_FILES) {
    const source = f === 'tokenizer.json' ? GPT2_TOKENIZER : join(PARITY, f);
    const dest = cache.filePath(commit, f);
    mkdirSync(join(dest, '..'), { recursive: true });
    cpSync(source, dest);
    if (f === skipManifestOf) continue;
    const size = readFileSync(dest).length;
    cache.recordFile(commit, f, { size, etag: 'x', algorithm: 'sha256', url: `https://hub/${f}`, downloadedAt });
  }
}

/** Asserts a one-line UserError whose message matches every pattern. */
function isOneLineUserError(...patterns: RegExp[]): (err: unknown) => boolean {
  return (err) => err instanceof UserError && !err.message.includes('\n') && patterns.every((p) => p.test(err.message));
}

describe('paper scale sources: models and data from the hub cache', function () {
  this.timeout(120_000);
  const served: Record<string, Uint8Array> = {};
  let hub: FakeHubServer;
  let cacheRoot: string;
  let hubDir: string;
  let savedCache: string | undefined;
  let savedUri: string | undefined;

  before(async function () {
    for (const f of ['data/glue/RTE/train.tsv', 'data/glue/RTE/dev.tsv', 'data/e2e/devset.csv', 'fixtures/parity/roberta-tiny', 'fixtures/tokenizers/gpt2']) sharedOrSkip(this, f);
    served.rteTrain = glueParquet('rte', readGlueTsv(RTE_TRAIN, 'rte'));
    served.rteDev = glueParquet('rte', readGlueTsv(RTE_DEV, 'rte'));
    served.e2eDev = e2eParquet(readE2eFile(E2E_DEV, 'csv').pairs);
    hub = new FakeHubServer([
      {
        type: 'model',
        id: ROBERTA.id,
        files: { 'config.json': readFileSync(join(PARITY, 'config.json')), 'model.safetensors': readFileSync(join(PARITY, 'model.safetensors')), 'tokenizer.json': readFileSync(GPT2_TOKENIZER) },
        lfs: ['model.safetensors'],
      },
      { type: 'dataset', id: GLUE_REPO.id, files: { [glueHubPath('rte', 'train')]: served.rteTrain, [glueHubPath('rte', 'dev')]: served.rteDev }, lfs: [glueHubPath('rte', 'train')] },
      { type: 'dataset', id: E2E_REPO.id, refs: [E2E_REVISION], files: { [e2eHubPath('dev')]: served.e2eDev } },
    ]);
    await hub.start();
    await initBackend('wasm');
    cacheRoot = tmp('cache');
    hubDir = join(cacheRoot, 'hub');
    await withHubSession({ cacheRoot, endpoint: hub.url, retries: 0 }, async (s) => {
      await fetchSnapshot(s, modelRequest('roberta-base'));
      await fetchSnapshot(s, glueRequest('rte'));
      await fetchSnapshot(s, { repo: E2E_REPO, revision: E2E_REVISION, files: [e2eHubPath('dev')] });
    });
    // An older download of another revision: the newest one must win.
    writeSnapshot(hubDir, 'a'.repeat(40), '2020-01-01T00:00:00.000Z');
    savedCache = process.env.LORA_REPRO_CACHE;
    savedUri = process.env.MLFLOW_TRACKING_URI;
    delete process.env.MLFLOW_TRACKING_URI;
  });

  after(async () => {
    await hub?.stop();
    if (savedCache === undefined) delete process.env.LORA_REPRO_CACHE;
    else process.env.LORA_REPRO_CACHE = savedCache;
    if (savedUri !== undefined) process.env.MLFLOW_TRACKING_URI = savedUri;
    for (const t of temps) rmSync(t, { recursive: true, force: true });
  });

  const snapshotDir = (commit: string): string => new RepoCache(hubDir, ROBERTA).snapshotDir(commit);

  describe('models', () => {
    it('a catalog name resolves to the newest downloaded snapshot; name@revision to that revision', () => {
      const downloaded = hub.commitOf('model', ROBERTA.id);
      assert.equal(resolveModel('roberta-base', { env: {}, cacheRoot }), snapshotDir(downloaded));
      assert.equal(resolveModel('roberta-base@main', { env: {}, cacheRoot }), snapshotDir(downloaded));
      assert.equal(resolveModel(`roberta-base@${'a'.repeat(40)}`, { env: {}, cacheRoot }), snapshotDir('a'.repeat(40)));
      // The hub id names the same repository; LORA_REPRO_CACHE is where the cache is found by default.
      assert.equal(resolveModel('FacebookAI/roberta-base', { env: { LORA_REPRO_CACHE: cacheRoot } }), snapshotDir(downloaded));
    });

    it('newest by download time, skipping a snapshot whose manifest does not cover every file', () => {
      const root = tmp('order');
      const dir = join(root, 'hub');
      // Dates in neither the name order nor its reverse, so only the download time can explain the order.
      writeSnapshot(dir, 'a'.repeat(40), '2024-03-01T00:00:00.000Z');
      writeSnapshot(dir, 'b'.repeat(40), '2024-06-01T00:00:00.000Z');
      writeSnapshot(dir, 'c'.repeat(40), '2030-01-01T00:00:00.000Z', 'model.safetensors');
      writeSnapshot(dir, 'd'.repeat(40), '2024-01-01T00:00:00.000Z');
      assert.deepEqual(
        cachedSnapshots(dir, ROBERTA, MODEL_FILES).map((s) => s.commit),
        ['b'.repeat(40), 'a'.repeat(40), 'd'.repeat(40)],
      );
      assert.deepEqual(locateModel('roberta-base', { env: {}, cacheRoot: root }), { kind: 'hub-cache', dir: new RepoCache(dir, ROBERTA).snapshotDir('b'.repeat(40)), repoId: ROBERTA.id, commit: 'b'.repeat(40) });
    });

    it('$LORA_REPRO_MODELS/<name> wins over the cache', () => {
      const models = tmp('models');
      mkdirSync(join(models, 'roberta-base'));
      writeFileSync(join(models, 'roberta-base', 'config.json'), '{}');
      assert.equal(resolveModel('roberta-base', { env: { LORA_REPRO_MODELS: models }, cacheRoot }), join(models, 'roberta-base'));
      // A models directory without this model falls through to the cache.
      assert.equal(resolveModel('roberta-base', { env: { LORA_REPRO_MODELS: tmp('empty-models') }, cacheRoot }), snapshotDir(hub.commitOf('model', ROBERTA.id)));
    });

    it('an absent hub model is a one-line UserError naming the download command; other names pass through', () => {
      const empty = tmp('empty-cache');
      assert.throws(() => resolveModel('roberta-large', { env: { LORA_REPRO_CACHE: empty } }), isOneLineUserError(/^model 'roberta-large' \(FacebookAI\/roberta-large\) is not downloaded/, /run 'lora-repro download --models roberta-large',/));
      assert.throws(() => resolveModel('gpt2-medium', { env: {}, cacheRoot: empty }), isOneLineUserError(new RegExp(`run 'lora-repro download --models gpt2-medium --cache ${empty}'`)));
      assert.throws(() => resolveModel('roberta-base@v9', { env: {}, cacheRoot }), isOneLineUserError(/run 'lora-repro download --models roberta-base@v9 --cache /));
      assert.equal(resolveModel('mini-roberta', { env: {}, cacheRoot: empty }), 'mini-roberta');
      assert.equal(resolveModel(PARITY, { env: {}, cacheRoot: empty }), PARITY);
    });

    it('the trainer loads the resolved snapshot as pretrained weights', async () => {
      const source = resolveModelSource(resolveModel('roberta-base', { env: {}, cacheRoot }));
      assert.equal(source.kind, 'pretrained');
      const built = buildModel(source, source.config, 0);
      try {
        assert.match(built.description, new RegExp(`sha256:${sha256(readFileSync(join(PARITY, 'model.safetensors')))}`));
      } finally {
        built.model.dispose();
      }
    });

    it('the runner hands workers the snapshot; a missing model stops it before any run', async () => {
      const spec = `
experiment: paper-models
seeds: [0]
defaults: { epochs: 1, batchSize: 8, learningRate: 1.0e-3, maxSeqLength: 32 }
grid:
  - row: a
    models: [roberta-base]
    methods: [lora]
    tasks: [rte]
profiles:
  test: {}
`;
      const e = expandSpec(parseSpecText(spec, 'paper-models.yaml'), { profile: 'test' });
      const models: string[] = [];
      const executor: Executor = async (config, opts) => {
        models.push(config.model);
        return fakeTraining(config, opts, {});
      };
      const quiet = { workers: 1, executor, log: () => {}, warn: () => {} };
      const empty = tmp('runner-empty');
      const missingRoot = tmp('results-missing');
      await assert.rejects(
        runExperiment(e, e.runs, { ...quiet, resultsRoot: missingRoot, env: { LORA_REPRO_CACHE: empty } }),
        isOneLineUserError(/lora-repro download --models roberta-base'/),
      );
      assert.deepEqual(models, []);
      assert.deepEqual(readdirSync(join(missingRoot, 'test', 'runs')), []);

      const root = tmp('results');
      const summary = await runExperiment(e, e.runs, { ...quiet, resultsRoot: root, env: { LORA_REPRO_CACHE: cacheRoot } });
      assert.equal(summary.finished, 1);
      assert.deepEqual(models, [snapshotDir(hub.commitOf('model', ROBERTA.id))]);
      const [file] = readdirSync(join(root, 'test', 'runs')).filter((f) => f.endsWith('.json'));
      assert.equal((JSON.parse(readFileSync(join(root, 'test', 'runs', file as string), 'utf8')) as RunResult).model, 'roberta-base');
    });
  });

  describe('data', () => {
    const glueKey = (path: string): string => `hf://datasets/${GLUE_REPO.id}@${hub.commitOf('dataset', GLUE_REPO.id)}/${path}`;

    it('the data directory first, else the cached parquet, with the same examples', async () => {
      const fromDir = glueSplitSource('rte', 'train', { dataDir: DATA_DIR, hubDir });
      assert.deepEqual(fromDir, { kind: 'data-dir', path: RTE_TRAIN, key: 'glue/RTE/train.tsv' });
      const fromHub = glueSplitSource('rte', 'train', { dataDir: tmp('no-glue'), hubDir });
      assert.equal(fromHub.kind, 'hub-cache');
      assert.equal(fromHub.key, glueKey('rte/train-00000-of-00001.parquet'));
      assert.deepEqual(readFileSync(fromHub.path), Buffer.from(served.rteTrain as Uint8Array));
      assert.deepEqual(await readGlueSource(fromHub, 'rte'), readGlueTsv(RTE_TRAIN, 'rte'));
      assert.equal(glueSplitSource('rte', 'dev', { dataDir: undefined, hubDir }).key, glueKey('rte/validation-00000-of-00001.parquet'));

      const e2e = e2eSplitSource('dev', { dataDir: undefined, hubDir });
      assert.equal(e2e.key, `hf://datasets/${E2E_REPO.id}@${hub.commitOf('dataset', E2E_REPO.id)}/default/validation/0000.parquet`);
      const csv = readE2eFile(E2E_DEV, 'csv');
      const parquet = await readE2eSource(e2e);
      assert.deepEqual(parquet.instances, csv.instances);
      assert.deepEqual(parquet.pairs.map((p) => [p.mr, p.ref]), csv.pairs.map((p) => [p.mr, p.ref]));
    });

    it('neither source: a one-line UserError naming the download command', () => {
      assert.throws(
        () => glueSplitSource('mnli', 'train', { dataDir: DATA_DIR, hubDir }),
        isOneLineUserError(/MNLI\/train\.tsv not found/, /nyu-mll\/glue mnli\/train-00000-of-00001\.parquet is not in the hub cache/, /run 'lora-repro download --datasets glue:mnli'/),
      );
      assert.throws(() => e2eSplitSource('train', { dataDir: undefined, hubDir }), isOneLineUserError(/^no data directory .* for e2e\/trainset\.csv/, /run 'lora-repro download --datasets e2e'/));
    });

    it('a run trains on the parquet exactly as on the TSV, and its provenance names the source and sha256', async () => {
      process.env.LORA_REPRO_CACHE = cacheRoot;
      const dir = tmp('train');
      const model = writeConfig(dir, 'roberta.json', tinyRobertaJson());
      const config = (dataDir: string) => rteConfig(model, { dataDir, epochs: 1, trainLimit: 16, evalLimit: 32 }) as TrainRunConfig;
      const viaTsv = await runTraining(config(DATA_DIR), { outDir: join(dir, 'tsv'), log: () => {} });
      const viaHub = await runTraining(config(tmp('no-rte')), { outDir: join(dir, 'hub'), log: () => {} });
      assert.equal(viaHub.status, 'finished', viaHub.error);
      assert.deepEqual(viaHub.metrics, viaTsv.metrics);
      assert.deepEqual(viaHub.epochs.map((e) => e.trainLoss), viaTsv.epochs.map((e) => e.trainLoss));
      assert.deepEqual(viaTsv.provenance.datasets, {
        'glue/RTE/train.tsv': sha256(readFileSync(RTE_TRAIN)),
        'glue/RTE/dev.tsv': sha256(readFileSync(RTE_DEV)),
      });
      assert.deepEqual(viaHub.provenance.datasets, {
        [glueKey('rte/train-00000-of-00001.parquet')]: sha256(served.rteTrain as Uint8Array),
        [glueKey('rte/validation-00000-of-00001.parquet')]: sha256(served.rteDev as Uint8Array),
      });
    });
  });
});
