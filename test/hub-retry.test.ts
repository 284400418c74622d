/**
 * Retries of hub requests against the fake hub (test/helpers/fake-hub-server.ts): the metadata HEAD
 * of a resolve URL is retried on 503 / 429 / a dropped connection like the transfers are, pausing as
 * Retry-After asks (seconds or an HTTP date, capped) or by the doubling backoff; 4xx answers are not
 * retried, and a hub that keeps failing ends with one line after the retries. Pauses are recorded
 * through the injectable `sleep`, so no test waits.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HubRepo } from '../src/hub/repo.ts';
import { withHubSession, type HubOptions } from '../src/hub/session.ts';
import { fetchSnapshot, planSnapshot, type SnapshotRequest } from '../src/hub/snapshot.ts';
import { FakeHubServer } from './helpers/fake-hub-server.ts';
import { expectUserError } from './helpers/user-error.ts';

const REPO: HubRepo = { type: 'model', id: 'FacebookAI/roberta-base' };
const CONFIG = '{"model_type": "roberta"}';
const WEIGHTS = new Uint8Array(Array.from({ length: 3000 }, (_, i) => (i * 7) % 251));
const REQ: SnapshotRequest = { repo: REPO, revision: 'main', files: ['config.json', 'model.safetensors'] };
const DELAY = 5;

describe('hub request retries (fake hub on 127.0.0.1)', function () {
  this.timeout(20_000);
  let hub: FakeHubServer;
  let cacheRoot: string;
  let pauses: number[];
  const opts = (extra: HubOptions = {}): HubOptions => ({
    cacheRoot,
    endpoint: hub.url,
    retries: 3,
    retryDelayMs: DELAY,
    sleep: async (ms) => {
      pauses.push(ms);
    },
    ...extra,
  });
  const fetchRepo = (extra: HubOptions = {}) => withHubSession(opts(extra), (s) => fetchSnapshot(s, REQ));
  const heads = (file: string): number => hub.requests.filter((r) => r.method === 'HEAD' && r.path.endsWith(`/${file}`)).length;

  beforeEach(async () => {
    hub = new FakeHubServer([{ type: 'model', id: REPO.id, files: { 'config.json': CONFIG, 'model.safetensors': WEIGHTS }, lfs: ['model.safetensors'] }]);
    await hub.start();
    cacheRoot = mkdtempSync(join(tmpdir(), 'lora-hub-retry-'));
    pauses = [];
  });

  afterEach(async () => {
    await hub.stop();
    rmSync(cacheRoot, { recursive: true, force: true });
  });

  it('retries a HEAD refused with 503 / 429, pausing by backoff or as Retry-After (seconds, HTTP date) asks', async () => {
    const inThreeSeconds = new Date(Date.now() + 3000).toUTCString();
    hub.addFault({ kind: 'status', status: 503 }, { method: 'HEAD', match: '/resolve/' });
    hub.addFault({ kind: 'status', status: 503, retryAfter: '2' }, { method: 'HEAD', match: '/resolve/' });
    hub.addFault({ kind: 'status', status: 429, retryAfter: inThreeSeconds }, { method: 'HEAD', match: '/resolve/' });
    const snap = await fetchRepo();
    assert.equal(readFileSync(join(snap.dir, 'config.json'), 'utf8'), CONFIG);
    assert.deepEqual(readFileSync(join(snap.dir, 'model.safetensors')), Buffer.from(WEIGHTS));
    assert.equal(heads('config.json'), 4, 'three refusals, then the answer');
    assert.equal(heads('model.safetensors'), 1);
    assert.equal(pauses.length, 3);
    assert.deepEqual(pauses.slice(0, 2), [DELAY, 2000]);
    // An HTTP date has whole seconds: the pause is what is left of them, at most 3 s.
    assert.ok((pauses[2] as number) > 1000 && (pauses[2] as number) <= 3000, `HTTP-date pause ${pauses[2]}`);
  });

  it('retries a HEAD whose connection drops before any answer', async () => {
    hub.addFault({ kind: 'reset' }, { method: 'HEAD', match: 'model.safetensors', times: 2 });
    const snap = await fetchRepo();
    assert.deepEqual(readFileSync(join(snap.dir, 'model.safetensors')), Buffer.from(WEIGHTS));
    assert.equal(heads('model.safetensors'), 3);
    assert.deepEqual(pauses, [DELAY, 2 * DELAY]);
  });

  it('a hub that keeps answering 503 ends with one line after the retries; 4xx answers are not retried', async () => {
    hub.addFault({ kind: 'status', status: 503 }, { method: 'HEAD', match: 'config.json', times: 100 });
    await expectUserError(fetchRepo({ retries: 2 }), /^http:\/\/127\.0\.0\.1:\d+\/FacebookAI\/roberta-base\/resolve\/main\/config\.json: the hub answered HTTP 503: try again later/);
    assert.equal(heads('config.json'), 3, 'the first try and two retries');
    assert.deepEqual(pauses, [DELAY, 2 * DELAY]);

    hub.clearLog();
    pauses = [];
    await expectUserError(withHubSession(opts(), (s) => fetchSnapshot(s, { ...REQ, files: ['pytorch_model.bin'] })), /HTTP 404 EntryNotFound/);
    assert.equal(heads('pytorch_model.bin'), 1);
    assert.deepEqual(pauses, []);
  });

  it('cuts a very long Retry-After to maxRetryAfterMs, and the transfer honours Retry-After too', async () => {
    hub.addFault({ kind: 'status', status: 429, retryAfter: '3600' }, { method: 'HEAD', match: 'config.json' });
    hub.addFault({ kind: 'status', status: 503, retryAfter: '1' }, { match: '/cdn/' });
    const snap = await fetchRepo({ maxRetryAfterMs: 5000 });
    assert.deepEqual(readFileSync(join(snap.dir, 'model.safetensors')), Buffer.from(WEIGHTS));
    assert.deepEqual(pauses, [5000, 1000]);
  });

  it('--dry-run retries its HEADs as well', async () => {
    hub.addFault({ kind: 'status', status: 502 }, { method: 'HEAD', match: 'model.safetensors' });
    const plan = await withHubSession(opts(), (s) => planSnapshot(s, REQ));
    assert.deepEqual(
      plan.map((p) => [p.repoPath, p.size, p.problem]),
      [
        ['config.json', CONFIG.length, undefined],
        ['model.safetensors', WEIGHTS.length, undefined],
      ],
    );
    assert.equal(heads('model.safetensors'), 2);
  });
});
