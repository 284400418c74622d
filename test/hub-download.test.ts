/**
 * Hub downloads against the in-process fake hub (test/helpers/fake-hub-server.ts): full download of a
 * tiny model that loadPretrained then reads, cache hits without requests, resume after a dropped
 * connection (in the next run and within one run), checksum and size failures that leave nothing in
 * place, and one-line errors for 404s and a server that is down. Nothing here touches the real hub.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/select.ts';
import { f32, serializeSafetensors, type TensorEntry } from '../src/io/safetensors.ts';
import { createModel, loadPretrained } from '../src/models/factory.ts';
import { RepoCache } from '../src/hub/cache.ts';
import { modelRequest, parseModelList } from '../src/hub/catalog.ts';
import { parseDatasetList } from '../src/data/hub-datasets.ts';
import { hubModelDir } from '../src/hub/models.ts';
import { progressPrinter } from '../src/hub/progress.ts';
import { resolveUrl, type HubRepo } from '../src/hub/repo.ts';
import { withHubSession, type HubOptions } from '../src/hub/session.ts';
import { ensureSnapshot, fetchSnapshot, type SnapshotRequest } from '../src/hub/snapshot.ts';
import { resolveModel } from '../src/runner/model-resolver.ts';
import { UserError } from '../src/util/errors.ts';
import { FakeHubServer, sha256Hex } from './helpers/fake-hub-server.ts';
import { expectUserError } from './helpers/user-error.ts';
import { tinyGpt2 } from './helpers/tiny.ts';

const MODEL: HubRepo = { type: 'model', id: 'openai-community/gpt2-medium' };
const CONFIG = JSON.stringify({ model_type: 'gpt2', vocab_size: 100, n_embd: 32, n_layer: 2, n_head: 4, n_positions: 32 });
const TOKENIZER = JSON.stringify({ version: '1.0', model: { type: 'BPE', vocab: { a: 0 }, merges: [] } });

/** A tiny GPT-2's weights in the checkpoint naming loadPretrained reads. */
async function tinyWeights(): Promise<Uint8Array> {
  await initBackend('cpu');
  const model = createModel(tinyGpt2(), { seed: 7 });
  const tensors = new Map<string, TensorEntry>();
  for (const [name, v] of model.params.vars) tensors.set(name, f32(v.shape, v.dataSync() as Float32Array));
  model.dispose();
  return serializeSafetensors(tensors, { format: 'pt' });
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'lora-hub-'));
}

/** No partial, lock or snapshot file may be left for `path` after a failure. */
function assertNothingInPlace(cacheRoot: string, repo: HubRepo, path: string, commit: string): void {
  const cache = new RepoCache(join(cacheRoot, 'hub'), repo);
  assert.equal(existsSync(cache.filePath(commit, path)), false, 'no file in the snapshot');
  const incomplete = join(cache.dir, 'incomplete');
  const left = existsSync(incomplete) ? readdirSync(incomplete) : [];
  assert.deepEqual(left, [], 'no partial or lock left');
}

describe('hub downloads (fake hub on 127.0.0.1)', function () {
  this.timeout(60_000);
  let weights: Uint8Array;
  let hub: FakeHubServer;
  let endpoint: string;
  let cacheRoot: string;
  let commit: string;
  const opts = (extra: HubOptions = {}): HubOptions => ({ cacheRoot, endpoint, retries: 0, retryDelayMs: 1, ...extra });
  const modelReq = (): SnapshotRequest => ({ ...modelRequest('gpt2-medium'), repo: MODEL });
  const fetchModel = (extra: HubOptions = {}) => withHubSession(opts(extra), (s) => fetchSnapshot(s, modelReq()));

  before(async () => {
    weights = await tinyWeights();
  });

  beforeEach(async () => {
    hub = new FakeHubServer([
      {
        type: 'model',
        id: MODEL.id,
        files: { 'config.json': CONFIG, 'model.safetensors': weights, 'tokenizer.json': TOKENIZER },
        lfs: ['model.safetensors'],
        aliases: ['gpt2-medium'],
      },
      {
        type: 'dataset',
        id: 'tuetschek/e2e_nlg',
        files: { 'default/train/0000.parquet': 'not really parquet' },
        refs: ['refs/convert/parquet'],
      },
    ]);
    endpoint = await hub.start();
    cacheRoot = tmp();
    commit = hub.commitOf('model', MODEL.id);
  });

  afterEach(async () => {
    await hub.stop();
    rmSync(cacheRoot, { recursive: true, force: true });
  });

  it('downloads a model that loadPretrained reads, verified, with the commit recorded', async () => {
    const snap = await fetchModel();
    assert.equal(snap.commit, commit);
    assert.equal(snap.dir, join(cacheRoot, 'hub', 'models--openai-community--gpt2-medium', 'snapshots', commit));
    assert.deepEqual(readFileSync(join(snap.dir, 'model.safetensors')), Buffer.from(weights));
    assert.equal(readFileSync(join(snap.dir, 'config.json'), 'utf8'), CONFIG);
    assert.ok(snap.files.every((f) => !f.cached));
    // the revision was resolved once and written as a ref
    const cache = new RepoCache(join(cacheRoot, 'hub'), MODEL);
    assert.equal(cache.readRef('main'), commit);
    const manifest = cache.readManifest(commit);
    assert.equal(manifest.files['model.safetensors']?.algorithm, 'sha256');
    assert.equal(manifest.files['model.safetensors']?.etag, sha256Hex(weights));
    assert.equal(manifest.files['config.json']?.algorithm, 'git-sha1');
    // first file asked at main, the rest at the resolved commit; the LFS file came from the CDN
    const heads = hub.requests.filter((r) => r.method === 'HEAD').map((r) => r.path);
    assert.deepEqual(heads, [
      `/${MODEL.id}/resolve/main/config.json`,
      `/${MODEL.id}/resolve/${commit}/model.safetensors`,
      `/${MODEL.id}/resolve/${commit}/tokenizer.json`,
    ]);
    assert.ok(hub.requests.some((r) => r.method === 'GET' && r.path === `/cdn/${sha256Hex(weights)}`));

    const { model } = loadPretrained(snap.dir, { seed: 1 });
    const expected = createModel(tinyGpt2(), { seed: 7 });
    for (const [name, v] of expected.params.vars) {
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(v, model.params.get(name)))).dataSync()[0]);
      assert.equal(diff, 0, name);
    }
    model.dispose();
    expected.dispose();
  });

  it('a second call is a cache hit that sends no request, even with the hub gone', async () => {
    await fetchModel();
    hub.clearLog();
    const again = await fetchModel();
    assert.ok(again.files.every((f) => f.cached));
    assert.deepEqual(hub.requests, []);
    await hub.stop();
    const dir = await hubModelDir('gpt2-medium', { cacheRoot, endpoint: 'http://127.0.0.1:9' }).catch(() => undefined);
    // hubModelDir uses the canonical id, which is the fake's; the snapshot comes from the cache alone
    assert.equal(dir, again.dir);
    const byReq = await ensureSnapshot(modelReq(), { cacheRoot, endpoint: 'http://127.0.0.1:9' });
    assert.equal(byReq.commit, commit);
  });

  it('resumes a download whose connection dropped, in the next run, with a Range request', async () => {
    const cut = 1000;
    hub.addFault({ kind: 'drop', afterBytes: cut }, { match: '/cdn/' });
    await expectUserError(
      fetchModel(),
      new RegExp(`^${endpoint}/${MODEL.id}/resolve/${commit}/model\\.safetensors: the download was interrupted \\(\\w+\\) at ${cut} of ${weights.length} bytes`),
      /rerun lora-repro download to resume it/,
    );
    const cache = new RepoCache(join(cacheRoot, 'hub'), MODEL);
    assert.equal(existsSync(cache.filePath(commit, 'model.safetensors')), false, 'no half file in place');
    assert.equal(readFileSync(cache.partialPath(sha256Hex(weights))).length, cut);

    hub.clearLog();
    const snap = await fetchModel();
    assert.deepEqual(readFileSync(join(snap.dir, 'model.safetensors')), Buffer.from(weights));
    const cdn = hub.requests.filter((r) => r.path.startsWith('/cdn/'));
    assert.deepEqual(cdn.map((r) => r.range), [`bytes=${cut}-`]);
    // config.json was complete before the drop: not asked for again
    assert.ok(!hub.requests.some((r) => r.path.endsWith('/config.json')));
    assertNothingInPlace(cacheRoot, MODEL, 'unused', commit);
  });

  it('resumes within one run when retries are allowed, and restarts if the server ignores Range', async () => {
    hub.addFault({ kind: 'drop', afterBytes: 700 }, { match: '/cdn/' });
    hub.addFault({ kind: 'ignoreRange' }, { match: '/cdn/' });
    const snap = await fetchModel({ retries: 2 });
    assert.deepEqual(readFileSync(join(snap.dir, 'model.safetensors')), Buffer.from(weights));
    assert.deepEqual(
      hub.requests.filter((r) => r.path.startsWith('/cdn/')).map((r) => r.range),
      [undefined, 'bytes=700-'],
    );
  });

  it('retries a 5xx answer, and gives a one-line error once the retries are spent', async () => {
    hub.addFault({ kind: 'status', status: 503 }, { match: '/cdn/' });
    await fetchModel({ retries: 1 });
    rmSync(cacheRoot, { recursive: true, force: true });
    hub.addFault({ kind: 'status', status: 503 }, { match: '/cdn/', times: 3 });
    await expectUserError(fetchModel({ retries: 2 }), /\/cdn\/.*HTTP 503/, /try again later/);
  });

  it('rejects a corrupt download (sha256 of an LFS file) and leaves nothing in place', async () => {
    hub.addFault({ kind: 'corrupt' }, { match: '/cdn/' });
    await expectUserError(fetchModel(), /resolve\/.*model\.safetensors/, /sha256 [0-9a-f]{64}, the hub's ETag says/, /deleted/);
    assertNothingInPlace(cacheRoot, MODEL, 'model.safetensors', commit);
    // and the next run fetches a good copy
    const snap = await fetchModel();
    assert.deepEqual(readFileSync(join(snap.dir, 'model.safetensors')), Buffer.from(weights));
  });

  it('verifies regular files by their git blob sha1', async () => {
    hub.addFault({ kind: 'corrupt' }, { match: 'config.json' });
    await expectUserError(fetchModel(), /config\.json/, /git-sha1/);
    assertNothingInPlace(cacheRoot, MODEL, 'config.json', commit);
  });

  it('checks a file found in the snapshot without a manifest entry instead of trusting it', async () => {
    const cache = new RepoCache(join(cacheRoot, 'hub'), MODEL);
    mkdirSync(cache.snapshotDir(commit), { recursive: true });
    writeFileSync(cache.filePath(commit, 'config.json'), CONFIG); // right bytes, no manifest
    writeFileSync(cache.filePath(commit, 'tokenizer.json'), 'tampered'); // wrong bytes
    cache.writeRef('main', commit);
    const snap = await fetchModel();
    assert.equal(snap.files.find((f) => f.repoPath === 'config.json')?.cached, true);
    assert.equal(snap.files.find((f) => f.repoPath === 'tokenizer.json')?.cached, false);
    assert.equal(readFileSync(cache.filePath(commit, 'tokenizer.json'), 'utf8'), TOKENIZER);
  });

  it('404s and unknown repositories give one line naming the URL and the fix', async () => {
    const missing: SnapshotRequest = { repo: MODEL, revision: 'main', files: ['pytorch_model.bin'] };
    const err = await expectUserError(
      withHubSession(opts(), (s) => fetchSnapshot(s, missing)),
      /file not found \(HTTP 404 EntryNotFound\)/,
      /check the model name and --revision/,
    );
    assert.ok(err.message.startsWith(`${endpoint}/${MODEL.id}/resolve/main/pytorch_model.bin`));
    await expectUserError(
      withHubSession(opts(), (s) => fetchSnapshot(s, { ...modelReq(), repo: { type: 'model', id: 'nobody/nothing' } })),
      /nobody\/nothing\/resolve\/main\/config\.json: repository not found/,
    );
    await expectUserError(withHubSession(opts(), (s) => fetchSnapshot(s, { ...modelReq(), revision: 'v9' })), /revision not found/, /--revision/);
    assert.equal(existsSync(join(cacheRoot, 'hub', 'models--nobody--nothing', 'refs')), false);
  });

  it('a server that is down gives one line naming the URL', async () => {
    await hub.stop();
    const err = await expectUserError(fetchModel(), /^cannot reach http:\/\/127\.0\.0\.1:\d+\/openai-community\/gpt2-medium\/resolve\/main\/config\.json \(ECONNREFUSED\)/);
    assert.match(err.message, /HF_ENDPOINT/);
  });

  it('follows the relative redirect of a renamed repository, and encodes revisions with slashes', async () => {
    const old = await withHubSession(opts(), (s) =>
      fetchSnapshot(s, { repo: { type: 'model', id: 'gpt2-medium' }, revision: 'main', files: ['config.json'] }),
    );
    assert.equal(readFileSync(join(old.dir, 'config.json'), 'utf8'), CONFIG);
    assert.equal(hub.requests[0]?.path, '/gpt2-medium/resolve/main/config.json');
    assert.equal(hub.requests[1]?.path, `/${MODEL.id}/resolve/main/config.json`);

    const e2e = { type: 'dataset', id: 'tuetschek/e2e_nlg' } as const;
    assert.equal(
      resolveUrl(endpoint, e2e, 'refs/convert/parquet', 'default/train/0000.parquet'),
      `${endpoint}/datasets/tuetschek/e2e_nlg/resolve/refs%2Fconvert%2Fparquet/default/train/0000.parquet`,
    );
    const snap = await withHubSession(opts(), (s) =>
      fetchSnapshot(s, { repo: e2e, revision: 'refs/convert/parquet', files: ['default/train/0000.parquet'] }),
    );
    assert.equal(new RepoCache(join(cacheRoot, 'hub'), e2e).readRef('refs/convert/parquet'), snap.commit);
  });

  it('a pinned commit is asked for by id and, once cached, needs no ref', async () => {
    const snap = await withHubSession(opts(), (s) => fetchSnapshot(s, { ...modelReq(), revision: commit }));
    assert.ok(hub.requests.filter((r) => r.method === 'HEAD').every((r) => r.path.includes(`/resolve/${commit}/`)));
    hub.clearLog();
    await ensureSnapshot({ ...modelReq(), revision: commit }, opts());
    assert.deepEqual(hub.requests, []);
    assert.equal(snap.commit, commit);
  });

  it('does not let two processes append to the same partial file; a dead owner\'s lock is taken over', async () => {
    const cache = new RepoCache(join(cacheRoot, 'hub'), MODEL);
    const lock = `${cache.partialPath(sha256Hex(weights))}.lock`;
    mkdirSync(join(cache.dir, 'incomplete'), { recursive: true });
    writeFileSync(lock, String(process.pid)); // a live process holds it
    await expectUserError(fetchModel(), /being downloaded by process \d+/, /\.lock/);
    writeFileSync(lock, '2147483646'); // no such process
    await fetchModel();
    assert.equal(existsSync(lock), false);
  });

  it('parses --models / --datasets lists into requests', () => {
    const models = parseModelList('roberta-base, gpt2-large@abc,FacebookAI/roberta-large', 'v1');
    assert.deepEqual(
      models.map((r) => [r.repo.id, r.revision]),
      [['FacebookAI/roberta-base', 'v1'], ['openai-community/gpt2-large', 'abc'], ['FacebookAI/roberta-large', 'v1']],
    );
    assert.deepEqual(models[0]?.files, ['config.json', 'model.safetensors', 'tokenizer.json']);
    const data = parseDatasetList('glue:rte,glue:MNLI,e2e');
    assert.deepEqual(data[0], {
      repo: { type: 'dataset', id: 'nyu-mll/glue' },
      revision: 'main',
      files: [
        'rte/train-00000-of-00001.parquet',
        'rte/validation-00000-of-00001.parquet',
        'mnli/train-00000-of-00001.parquet',
        'mnli/validation_matched-00000-of-00001.parquet',
        'mnli/validation_mismatched-00000-of-00001.parquet',
      ],
    });
    assert.deepEqual(data[1]?.files, ['default/train/0000.parquet', 'default/validation/0000.parquet', 'default/test/0000.parquet']);
    assert.equal(data[1]?.revision, 'refs/convert/parquet');
    assert.equal(parseDatasetList('glue')[0]?.files.length, 17);
    assert.throws(() => parseModelList('bert-base'), /unknown model 'bert-base'/);
    assert.throws(() => parseDatasetList('glue:wnli'), /unknown GLUE task 'wnli'/);
    assert.throws(() => parseDatasetList('squad'), /unknown dataset 'squad'/);
  });

  it('prints a progress line: redrawn on a terminal, plain lines in a log', () => {
    let t = 0;
    const tty: string[] = [];
    const p = progressPrinter({ write: (s: string) => tty.push(s), isTTY: true }, () => t);
    p.onProgress({ label: 'x:model.safetensors', received: 1024, total: 4096 });
    t = 1000;
    p.onProgress({ label: 'x:model.safetensors', received: 4096, total: 4096 });
    assert.match(tty[0] as string, /^\r\x1b\[2Kx:model\.safetensors {2}1\.0 KiB \/ 4\.0 KiB {2}25%/);
    assert.match(tty[1] as string, /100% {2}3\.0 KiB\/s$/);
    assert.equal(tty[2], '\n');
    const log: string[] = [];
    const q = progressPrinter({ write: (s: string) => log.push(s) }, () => 0);
    q.onProgress({ label: 'y', received: 1, total: 10 });
    q.onProgress({ label: 'y', received: 2, total: 10 }); // throttled
    q.onProgress({ label: 'y', received: 10, total: 10 });
    assert.equal(log.length, 2);
    assert.ok(log.every((l) => l.endsWith('\n') && !l.includes('\r')));
  });
});

/** Runs the CLI in a child process (async, so the in-process fake hub can answer it). */
function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/lora-repro.mjs', ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('lora-repro download', function () {
  this.timeout(60_000);
  let hub: FakeHubServer;
  let cacheRoot: string;
  const files = { 'config.json': CONFIG, 'model.safetensors': new Uint8Array(3000).fill(7), 'tokenizer.json': TOKENIZER };

  before(async () => {
    hub = new FakeHubServer([
      { type: 'model', id: 'FacebookAI/roberta-base', files, lfs: ['model.safetensors'] },
      // As microsoft/deberta-v2-xxlarge is on the hub: a pickle, no model.safetensors (catalog.ts MODEL_NOTES).
      { type: 'model', id: 'microsoft/deberta-v2-xxlarge', files: { 'config.json': '{}', 'spm.model': 'spm', 'pytorch_model.bin': 'pickle' }, lfs: ['pytorch_model.bin'] },
      {
        type: 'dataset',
        id: 'nyu-mll/glue',
        files: { 'rte/train-00000-of-00001.parquet': 'train bytes', 'rte/validation-00000-of-00001.parquet': 'dev bytes' },
        lfs: ['rte/train-00000-of-00001.parquet'],
      },
    ]);
    await hub.start();
    cacheRoot = tmp();
  });

  after(async () => {
    await hub.stop();
    rmSync(cacheRoot, { recursive: true, force: true });
  });

  it('--dry-run lists files and sizes and downloads nothing', async () => {
    const r = await cli(['download', '--models', 'roberta-base', '--datasets', 'glue:rte', '--cache', cacheRoot, '--dry-run'], { HF_ENDPOINT: hub.url });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /model FacebookAI\/roberta-base @ main\n {2}config\.json {2}\d+ B\n {2}model\.safetensors {2}2\.9 KiB\n/);
    assert.match(r.stdout, /dataset nyu-mll\/glue @ main\n {2}rte\/train-00000-of-00001\.parquet {2}11 B\n {2}rte\/validation-00000-of-00001\.parquet {2}9 B/);
    assert.match(r.stdout, /would download 3\.\d KiB\n$/);
    assert.equal(existsSync(join(cacheRoot, 'hub')), false);
  });

  it('downloads, then reports the cache hit on a second run', async () => {
    const first = await cli(['download', '--models', 'roberta-base', '--datasets', 'glue:rte', '--cache', cacheRoot], { HF_ENDPOINT: hub.url });
    assert.equal(first.code, 0, first.stderr);
    const commit = hub.commitOf('model', 'FacebookAI/roberta-base');
    assert.match(first.stdout, new RegExp(`model FacebookAI/roberta-base @ main = ${commit}: .*snapshots/${commit} \\(3 file\\(s\\), `));
    assert.match(first.stderr, /FacebookAI\/roberta-base:model\.safetensors {2}2\.9 KiB \/ 2\.9 KiB {2}100%/);
    hub.clearLog();
    const second = await cli(['download', '--models', 'roberta-base', '--datasets', 'glue:rte', '--cache', cacheRoot], { HF_ENDPOINT: hub.url });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /\(cached\)\n.*\(cached\)\n$/);
    assert.deepEqual(hub.requests, []);
    const dry = await cli(['download', '--models', 'roberta-base', '--cache', cacheRoot, '--dry-run'], { HF_ENDPOINT: hub.url });
    assert.match(dry.stdout, /model\.safetensors {2}2\.9 KiB {2}cached/);
    assert.match(dry.stdout, /would download 0 B\n$/);
  });

  it('a missing file or a hub that is down: exit 2 and one line', async () => {
    const bad = await cli(['download', '--models', 'gpt2-large', '--cache', cacheRoot], { HF_ENDPOINT: hub.url });
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /^lora-repro download: http:\/\/127\.0\.0\.1:\d+\/openai-community\/gpt2-large\/resolve\/main\/config\.json: repository not found .*\n$/);
    // --retries 0: a refused connection is retried like any hub request (hub-retry.test.ts), not waited for here.
    const down = await cli(['download', '--models', 'gpt2-large', '--cache', cacheRoot, '--retries', '0'], { HF_ENDPOINT: 'http://127.0.0.1:9' });
    assert.equal(down.code, 2, down.stderr);
    assert.match(down.stderr, /^lora-repro download: cannot reach http:\/\/127\.0\.0\.1:9\/openai-community\/gpt2-large\/resolve\/main\/config\.json \(ECONNREFUSED\).*\n$/);
    // A checkpoint the hub has only as pytorch_model.bin: the same line says how to convert it.
    const deb = await cli(['download', '--models', 'deberta-v2-xxlarge', '--cache', cacheRoot], { HF_ENDPOINT: hub.url });
    assert.equal(deb.code, 2, deb.stderr);
    assert.match(deb.stderr, /(?:^|\n)lora-repro download: \S+\/microsoft\/deberta-v2-xxlarge\/resolve\/[0-9a-f]{40}\/model\.safetensors: file not found .*; microsoft\/deberta-v2-xxlarge ships pytorch_model\.bin, not model\.safetensors: convert it .*\$LORA_REPRO_MODELS\/deberta-v2-xxlarge\/.*\n$/);
    assert.throws(
      () => resolveModel('deberta-v2-xxlarge', { env: {}, cacheRoot: tmp() }),
      (e: unknown) => e instanceof UserError && /is not downloaded .* \(microsoft\/deberta-v2-xxlarge ships pytorch_model\.bin, not model\.safetensors: convert it/.test(e.message) && !e.message.includes('\n'),
    );
    assert.deepEqual(modelRequest('deberta-v2-xxlarge').files, ['config.json', 'model.safetensors', 'spm.model']);
    const none = await cli(['download'], {});
    assert.equal(none.code, 2);
    assert.match(none.stderr, /nothing to download/);
  });
});
