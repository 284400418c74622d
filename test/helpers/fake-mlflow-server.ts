/**
 * An in-process MLflow tracking server for tests, written from mlflow/protos/service.proto, the
 * REST API docs and mlflow/utils/validation.py: the endpoints lora-repro uses, their validation
 * and error codes ({"error_code", "message"}, 400/404 as in ERROR_CODE_TO_HTTP_STATUS), and
 * fault injection. State survives stop()/restart() (like a database behind a restarted server).
 * Differences from the real server: param/tag values over the limit are rejected (the real one
 * may truncate), and the search filter grammar only covers `=`/`!=` on tags, params and a few
 * attributes joined by AND.
 *
 * `rules: 'mlflow-2.0'` makes it the strict stand-in: the oldest rules of validation.py we support
 * (names ^[/\w.\- ]*$ without 3.x's `:`, param values <= 500, tag values <= 5000, both rejected).
 * `artifacts` models a server without artifact proxying: `'no-serve-artifacts'` answers every
 * mlflow-artifacts call with handlers.py's plain-text 503 (_disable_unless_serve_artifacts),
 * `'s3'` gives runs an `s3://` artifact_uri (a server started with --default-artifact-root s3://...).
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string; errorCode?: string }
  | { kind: 'drop' } // socket destroyed before the request is applied
  | { kind: 'dropAfterApply' } // request applied, then the socket destroyed: the response is lost
  | { kind: 'delay'; ms: number } // request applied, response sent late
  | { kind: 'hook'; run: (s: FakeMlflowServer) => void }; // mutate state, then handle normally

export interface FakeMlflowOptions {
  /** Id of the first created experiment (default 1). */
  firstExperimentId?: bigint;
  /** Emit experiment ids as bare JSON numbers (legal JSON, fatal for JSON.parse above 2^53). */
  numericExperimentIds?: boolean;
  /** Drop exact duplicate metric rows like MLflow's SQL store (default true); false = file store. */
  dedupeMetrics?: boolean;
  /** Validation rules: '3.x' (default) or the strict 'mlflow-2.0'. */
  rules?: '3.x' | 'mlflow-2.0';
  /** Artifact serving: 'proxy' (default, --serve-artifacts), 'no-serve-artifacts', or 's3' roots. */
  artifacts?: 'proxy' | 'no-serve-artifacts' | 's3';
}

interface Experiment { experiment_id: string; name: string; artifact_location: string; lifecycle_stage: string; creation_time: number }
interface StoredMetric { key: string; value: number; timestamp: number; step: number }
interface FakeRun {
  info: { run_id: string; run_uuid: string; run_name: string; experiment_id: string; user_id: string; status: string; start_time: number; end_time?: number; artifact_uri: string; lifecycle_stage: string };
  params: Map<string, string>;
  tags: Map<string, string>;
  metrics: StoredMetric[];
}

class ApiErr extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}
const STATUS: Record<string, number> = { RESOURCE_DOES_NOT_EXIST: 404, ENDPOINT_NOT_FOUND: 404, PERMISSION_DENIED: 403 };
const NAME_RE_3X = /^[/\p{L}\p{N}_.\- :]*$/u;
const NAME_RE_2X = /^[/\p{L}\p{N}_.\- ]*$/u;
const LIMITS_3X = { metrics: 1000, params: 100, tags: 100, entities: 1000, bytes: 1_000_000, key: 250, param: 6000, tag: 8000 };
const LIMITS_20 = { ...LIMITS_3X, param: 500, tag: 5000 };
let NAME_RE = NAME_RE_3X;
let LIMITS = LIMITS_3X;
/** Rules of the server handling the current request (requests are handled synchronously). */
function useRules(rules: FakeMlflowOptions['rules']): void {
  NAME_RE = rules === 'mlflow-2.0' ? NAME_RE_2X : NAME_RE_3X;
  LIMITS = rules === 'mlflow-2.0' ? LIMITS_20 : LIMITS_3X;
}
/** handlers.py _disable_unless_serve_artifacts, verbatim apart from the url rule. */
const NO_SERVE_ARTIFACTS_TEXT =
  'Endpoint: /api/2.0/mlflow-artifacts/artifacts/<path:artifact_path> disabled due to the mlflow server running with `--no-serve-artifacts`. ' +
  'To enable artifacts server functionality, run `mlflow server` with `--serve-artifacts`';

function bad(message: string): never {
  throw new ApiErr('INVALID_PARAMETER_VALUE', message);
}
function str(body: Record<string, unknown>, field: string, required = true): string | undefined {
  const v = body[field];
  if (v === undefined || v === null || v === '') {
    if (required) bad(`Missing value for required parameter '${field}'.`);
    return undefined;
  }
  if (typeof v !== 'string') bad(`Invalid value ${JSON.stringify(v)} for parameter '${field}' supplied.`);
  return v;
}
function int64(v: unknown, field: string, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  return bad(`Invalid value ${JSON.stringify(v)} for parameter '${field}' supplied.`);
}
function checkName(kind: string, key: unknown): string {
  if (typeof key !== 'string' || key === '') bad(`Missing value for required parameter '${kind}.key'.`);
  if (!NAME_RE.test(key) || key.startsWith('/') || key.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    bad(`Invalid value ${JSON.stringify(key)} for parameter '${kind}.key' supplied.`);
  }
  if (key.length > LIMITS.key) bad(`'${kind}.key' exceeds the maximum length of ${LIMITS.key} characters`);
  return key;
}
function kvs(v: unknown, kind: string, maxValue: number): { key: string; value: string }[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) bad(`Invalid value for parameter '${kind}' supplied.`);
  return v.map((e: { key?: unknown; value?: unknown }) => {
    const key = checkName(kind, e.key);
    const value = e.value ?? '';
    if (typeof value !== 'string') bad(`Invalid value ${JSON.stringify(value)} for parameter '${kind}.value' supplied.`);
    if (value.length > maxValue) bad(`'${kind}.value' exceeds the maximum length of ${maxValue} characters`);
    return { key, value };
  });
}
function encodeValue(v: number): number | string {
  return Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v;
}

export class FakeMlflowServer {
  port = 0;
  readonly log: { route: string; outcome: number | 'dropped' }[] = [];
  readonly experiments = new Map<string, Experiment>();
  readonly runs = new Map<string, FakeRun>();
  readonly artifacts = new Map<string, Buffer>();
  private faults: { route: string; fault: Fault }[] = [];
  private server: Server | undefined;
  private disposed = false;
  private nextExperimentId: bigint;

  private constructor(private readonly opts: FakeMlflowOptions) {
    this.nextExperimentId = opts.firstExperimentId ?? 1n;
    this.experiments.set('0', { experiment_id: '0', name: 'Default', artifact_location: 'mlflow-artifacts:/0', lifecycle_stage: 'active', creation_time: 0 });
  }

  static async start(opts: FakeMlflowOptions = {}): Promise<FakeMlflowServer> {
    const s = new FakeMlflowServer(opts);
    await s.listen(0);
    return s;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private listen(port: number): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const addr = server.address();
        if (addr !== null && typeof addr === 'object') this.port = addr.port;
        resolve();
      });
    });
  }

  /** Stops listening and cuts every open connection (state is kept). */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s === undefined) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }

  /** Listens again on the same port (unless disposed). */
  async restart(): Promise<void> {
    if (!this.disposed) await this.listen(this.port);
  }

  /** Final stop: a restart scheduled by a test hook becomes a no-op. */
  async dispose(): Promise<void> {
    this.disposed = true;
    await this.stop();
  }

  /** Queues faults for the next requests to `route`, e.g. 'POST runs/create', 'PUT mlflow-artifacts'. */
  inject(route: string, ...faults: Fault[]): void {
    for (const fault of faults) this.faults.push({ route, fault });
  }

  pendingFaults(): number {
    return this.faults.length;
  }

  count(route: string, outcome?: number | 'dropped'): number {
    return this.log.filter((l) => l.route === route && (outcome === undefined || l.outcome === outcome)).length;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const apiPrefix = '/api/2.0/mlflow/';
    const artPrefix = '/api/2.0/mlflow-artifacts/artifacts';
    const route = url.pathname.startsWith(apiPrefix)
      ? `${method} ${url.pathname.slice(apiPrefix.length)}`
      : url.pathname.startsWith(artPrefix) ? `${method} mlflow-artifacts` : `${method} ${url.pathname}`;
    const i = this.faults.findIndex((f) => f.route === route);
    const fault = i >= 0 ? this.faults.splice(i, 1)[0].fault : undefined;
    if (fault?.kind === 'hook') fault.run(this);
    if (fault?.kind === 'drop') {
      this.log.push({ route, outcome: 'dropped' });
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') {
      this.log.push({ route, outcome: fault.status });
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
      res.writeHead(fault.status, headers).end(JSON.stringify({ error_code: fault.errorCode ?? 'TEMPORARILY_UNAVAILABLE', message: 'injected fault' }));
      return;
    }
    if (route.endsWith(' mlflow-artifacts') && this.opts.artifacts === 'no-serve-artifacts') {
      this.log.push({ route, outcome: 503 });
      res.writeHead(503, { 'content-type': 'text/html; charset=utf-8' }).end(NO_SERVE_ARTIFACTS_TEXT);
      return;
    }
    let status = 200;
    let payload: Buffer | string;
    let type = 'application/json';
    useRules(this.opts.rules);
    try {
      const out = this.dispatch(method, route, url, raw, req.headers['content-type']);
      if (Buffer.isBuffer(out)) {
        payload = out;
        type = 'application/octet-stream';
      } else payload = this.toJson(out);
    } catch (err) {
      if (!(err instanceof ApiErr)) throw err;
      status = STATUS[err.code] ?? 400;
      payload = JSON.stringify({ error_code: err.code, message: err.message });
    }
    this.log.push({ route, outcome: fault?.kind === 'dropAfterApply' ? 'dropped' : status });
    if (fault?.kind === 'dropAfterApply') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms));
    if (!res.destroyed) res.writeHead(status, { 'content-type': type }).end(payload);
  }

  /** JSON with experiment ids optionally as bare numbers (exactly as big as they are). */
  private toJson(o: unknown): string {
    const text = JSON.stringify(o, (k, v) => (k === 'experiment_id' && this.opts.numericExperimentIds ? `@@NUM@@${v}` : v));
    return text.replace(/"@@NUM@@(\d+)"/g, '$1');
  }

  private dispatch(method: string, route: string, url: URL, raw: Buffer, contentType: string | undefined): unknown {
    if (route === 'PUT mlflow-artifacts') return this.putArtifact(url, raw);
    if (route === 'GET mlflow-artifacts') return this.getArtifact(url);
    const q = Object.fromEntries(url.searchParams);
    let body: Record<string, unknown> = q;
    if (method === 'POST') {
      if (!(contentType ?? '').startsWith('application/json')) throw new ApiErr('BAD_REQUEST', 'Content-Type must be application/json');
      try {
        body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      } catch {
        throw new ApiErr('MALFORMED_REQUEST', 'request body is not JSON');
      }
    }
    switch (route) {
      case 'GET experiments/get-by-name': return this.getByName(str(body, 'experiment_name') as string);
      case 'GET experiments/get': return { experiment: this.experiment(str(body, 'experiment_id') as string) };
      case 'POST experiments/create': return this.createExperiment(body);
      case 'POST runs/create': return this.createRun(body);
      case 'POST runs/update': return this.updateRun(body);
      case 'POST runs/delete': this.run(str(body, 'run_id') as string).info.lifecycle_stage = 'deleted'; return {};
      case 'GET runs/get': return { run: this.runJson(this.run(str(body, 'run_id') as string)) };
      case 'POST runs/search': return this.search(body);
      case 'POST runs/log-batch': return this.logBatch(body, raw.length);
      case 'POST runs/set-tag': return this.logBatch({ run_id: body.run_id, tags: [{ key: body.key, value: body.value }] }, raw.length);
      case 'GET metrics/get-history': return this.history(body);
      default: throw new ApiErr('ENDPOINT_NOT_FOUND', `No API endpoint for ${route}`);
    }
  }

  private getByName(name: string): unknown {
    const all = [...this.experiments.values()].filter((e) => e.name === name);
    const e = all.find((x) => x.lifecycle_stage === 'active') ?? all[0];
    if (e === undefined) throw new ApiErr('RESOURCE_DOES_NOT_EXIST', `Could not find experiment with name '${name}'`);
    return { experiment: e };
  }

  private experiment(id: string): Experiment {
    const e = this.experiments.get(id);
    if (e === undefined) throw new ApiErr('RESOURCE_DOES_NOT_EXIST', `No Experiment with id=${id} exists`);
    return e;
  }

  /** Creates an experiment directly (test setup, or a concurrent client in a hook). */
  addExperiment(name: string): string {
    const id = String(this.nextExperimentId++);
    this.experiments.set(id, { experiment_id: id, name, artifact_location: `mlflow-artifacts:/${id}`, lifecycle_stage: 'active', creation_time: Date.now() });
    return id;
  }

  private createExperiment(body: Record<string, unknown>): unknown {
    const name = str(body, 'name') as string;
    if (name.length > 500) bad(`'name' exceeds the maximum length of 500 characters`);
    if ([...this.experiments.values()].some((e) => e.name === name)) throw new ApiErr('RESOURCE_ALREADY_EXISTS', `Experiment '${name}' already exists.`);
    return { experiment_id: this.addExperiment(name) };
  }

  private run(id: string): FakeRun {
    const r = this.runs.get(id);
    if (r === undefined) throw new ApiErr('RESOURCE_DOES_NOT_EXIST', `Run with id=${id} not found`);
    return r;
  }

  private createRun(body: Record<string, unknown>): unknown {
    const exp = this.experiment(str(body, 'experiment_id') as string);
    if (exp.lifecycle_stage !== 'active') bad(`The experiment ${exp.experiment_id} must be in the 'active' state.`);
    const tags = kvs(body.tags, 'tags', LIMITS.tag);
    const tagName = tags.find((t) => t.key === 'mlflow.runName')?.value;
    const runName = str(body, 'run_name', false);
    if (runName !== undefined && tagName !== undefined && runName !== tagName) bad("Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values");
    const id = randomUUID().replaceAll('-', '');
    const name = runName ?? tagName ?? `run-${id.slice(0, 6)}`;
    const run: FakeRun = {
      info: {
        run_id: id, run_uuid: id, run_name: name, experiment_id: exp.experiment_id, user_id: str(body, 'user_id', false) ?? '',
        status: 'RUNNING', start_time: int64(body.start_time, 'start_time', Date.now()),
        artifact_uri: `${this.opts.artifacts === 's3' ? 's3://bucket' : 'mlflow-artifacts:'}/${exp.experiment_id}/${id}/artifacts`, lifecycle_stage: 'active',
      },
      params: new Map(), tags: new Map(tags.map((t) => [t.key, t.value])), metrics: [],
    };
    run.tags.set('mlflow.runName', name);
    this.runs.set(id, run);
    return { run: this.runJson(run) };
  }

  private updateRun(body: Record<string, unknown>): unknown {
    const run = this.run(str(body, 'run_id') as string);
    const status = str(body, 'status', false);
    if (status !== undefined && !['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'].includes(status)) bad(`Invalid value "${status}" for parameter 'status' supplied.`);
    if (status !== undefined) run.info.status = status;
    if (body.end_time !== undefined) run.info.end_time = int64(body.end_time, 'end_time', 0);
    return { run_info: run.info };
  }

  private runJson(r: FakeRun): unknown {
    const latest = new Map<string, StoredMetric>();
    for (const m of r.metrics) if ((latest.get(m.key)?.timestamp ?? -1) <= m.timestamp) latest.set(m.key, m);
    return {
      info: r.info,
      data: {
        metrics: [...latest.values()].map((m) => ({ ...m, value: encodeValue(m.value) })),
        params: [...r.params].map(([key, value]) => ({ key, value })),
        tags: [...r.tags].map(([key, value]) => ({ key, value })),
      },
    };
  }

  private search(body: Record<string, unknown>): unknown {
    const ids = body.experiment_ids;
    if (!Array.isArray(ids) || ids.some((x) => typeof x !== 'string')) bad(`Invalid value ${JSON.stringify(ids)} for parameter 'experiment_ids' supplied.`);
    const max = int64(body.max_results, 'max_results', 1000);
    if (max > 50000) bad(`Invalid value ${max} for parameter 'max_results' supplied.`);
    const view = (body.run_view_type as string | undefined) ?? 'ACTIVE_ONLY';
    const clauses = parseFilter((body.filter as string | undefined) ?? '');
    const matches = [...this.runs.values()]
      .filter((r) => (ids as string[]).includes(r.info.experiment_id))
      .filter((r) => view === 'ALL' || (view === 'DELETED_ONLY') === (r.info.lifecycle_stage === 'deleted'))
      .filter((r) => clauses.every((c) => {
        const v = c.entity === 'tag' ? r.tags.get(c.key) : c.entity === 'param' ? r.params.get(c.key) : (r.info as unknown as Record<string, unknown>)[c.key];
        return c.op === '=' ? v === c.value : v !== c.value;
      }))
      .sort((a, b) => b.info.start_time - a.info.start_time);
    const offset = body.page_token ? Number(Buffer.from(String(body.page_token), 'base64').toString()) : 0;
    const page = matches.slice(offset, offset + max);
    const out: Record<string, unknown> = {};
    if (page.length > 0) out.runs = page.map((r) => this.runJson(r));
    if (offset + max < matches.length) out.next_page_token = Buffer.from(String(offset + max)).toString('base64');
    return out;
  }

  private logBatch(body: Record<string, unknown>, bytes: number): unknown {
    const metrics = Array.isArray(body.metrics) ? body.metrics : [];
    const params = kvs(body.params, 'params', LIMITS.param);
    const tags = kvs(body.tags, 'tags', LIMITS.tag);
    const limit = (what: string, n: number, max: number): void => {
      if (n > max) bad(`A batch logging request can contain at most ${max} ${what}. Got ${n} ${what}. Please split up ${what} across multiple requests and try again.`);
    };
    limit('metrics', metrics.length, LIMITS.metrics);
    limit('params', params.length, LIMITS.params);
    limit('tags', tags.length, LIMITS.tags);
    limit('metrics, params, and tags', metrics.length + params.length + tags.length, LIMITS.entities);
    if (bytes > LIMITS.bytes) bad(`Batched logging API requests must be at most ${LIMITS.bytes} bytes, got a request of size ${bytes}.`);
    const run = this.run(str(body, 'run_id') as string);
    if (run.info.lifecycle_stage !== 'active') bad(`The run ${run.info.run_id} must be in the 'active' state. Current state is ${run.info.lifecycle_stage}.`);
    const parsed: StoredMetric[] = metrics.map((m: Record<string, unknown>, i: number) => {
      const key = checkName(`metrics[${i}]`, m.key);
      const v = m.value;
      const value = typeof v === 'number' ? v : v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : bad(`Invalid value ${JSON.stringify(v)} for parameter 'metrics[${i}].value' supplied.`);
      const timestamp = int64(m.timestamp, `metrics[${i}].timestamp`, -1);
      if (timestamp < 0) bad(`Missing value for required parameter 'metrics[${i}].timestamp'.`);
      return { key, value, timestamp, step: int64(m.step, `metrics[${i}].step`, 0) };
    });
    const seen = new Set<string>();
    for (const p of params) {
      if (seen.has(p.key)) bad(`Duplicate parameter keys have been submitted: ['${p.key}'].`);
      seen.add(p.key);
      const old = run.params.get(p.key);
      if (old !== undefined && old !== p.value) {
        bad(`Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${old}' for run ID='${run.info.run_id}'. Attempted logging new value '${p.value}'.`);
      }
    }
    const same = (a: StoredMetric, b: StoredMetric): boolean =>
      a.key === b.key && a.timestamp === b.timestamp && a.step === b.step && Object.is(a.value, b.value);
    for (const m of parsed) if (this.opts.dedupeMetrics === false || !run.metrics.some((x) => same(x, m))) run.metrics.push(m);
    for (const p of params) run.params.set(p.key, p.value);
    for (const t of tags) run.tags.set(t.key, t.value);
    return {};
  }

  private history(q: Record<string, unknown>): unknown {
    const run = this.run(str(q, 'run_id') as string);
    const key = str(q, 'metric_key') as string;
    const all = run.metrics.filter((m) => m.key === key).map((m) => ({ ...m, value: encodeValue(m.value) }));
    const max = int64(q.max_results, 'max_results', 25000);
    const offset = q.page_token ? Number(q.page_token) : 0;
    const out: Record<string, unknown> = { metrics: all.slice(offset, offset + max) };
    if (offset + max < all.length) out.next_page_token = String(offset + max);
    return out;
  }

  private putArtifact(url: URL, raw: Buffer): unknown {
    const path = decodeURIComponent(url.pathname.slice('/api/2.0/mlflow-artifacts/artifacts/'.length));
    if (path === '' || path.split('/').some((s) => s === '..' || s === '')) bad(`Invalid path '${path}'`);
    this.artifacts.set(path, raw);
    return {};
  }

  private getArtifact(url: URL): unknown {
    const rest = url.pathname.slice('/api/2.0/mlflow-artifacts/artifacts'.length);
    if (rest.length > 1) {
      const data = this.artifacts.get(decodeURIComponent(rest.slice(1)));
      if (data === undefined) throw new ApiErr('RESOURCE_DOES_NOT_EXIST', `no artifact ${rest}`);
      return data;
    }
    const dir = (url.searchParams.get('path') ?? '').replace(/\/+$/, '');
    const prefix = dir === '' ? '' : `${dir}/`;
    const entries = new Map<string, { path: string; is_dir: boolean; file_size?: number }>();
    for (const [p, data] of this.artifacts) {
      if (!p.startsWith(prefix)) continue;
      const [head, ...more] = p.slice(prefix.length).split('/');
      entries.set(head, more.length > 0 ? { path: head, is_dir: true } : { path: head, is_dir: false, file_size: data.length });
    }
    return entries.size > 0 ? { files: [...entries.values()] } : {};
  }

  /** Server state with ids and timestamps replaced by names, for comparing runs of a workload. */
  snapshot(): unknown {
    const runs = [...this.runs.values()];
    const nameOf = (id: string | undefined): string | null => (id === undefined ? null : (this.runs.get(id)?.info.run_name ?? `<unknown ${id}>`));
    const volatile = new Set(['lora_repro.run_key', 'lora_repro.parent_run_key']);
    const exps = [...this.experiments.values()].filter((e) => e.experiment_id !== '0');
    return {
      experiments: exps.map((e) => `${e.name}:${e.lifecycle_stage}`).sort(),
      runs: runs
        .map((r) => ({
          experiment: this.experiments.get(r.info.experiment_id)?.name,
          parent: nameOf(r.tags.get('mlflow.parentRunId')),
          name: r.info.run_name,
          status: r.info.status,
          lifecycle: r.info.lifecycle_stage,
          params: [...r.params].sort(),
          tags: [...r.tags].map(([k, v]) => [k, k === 'mlflow.parentRunId' ? `<${nameOf(v)}>` : volatile.has(k) ? '<key>' : v]).sort(),
          metrics: r.metrics.map((m) => `${m.key}@${m.step}=${String(m.value)}`).sort(),
          artifacts: [...this.artifacts]
            .filter(([p]) => p.startsWith(`${r.info.experiment_id}/${r.info.run_id}/artifacts/`))
            .map(([p, d]) => `${p.split('/artifacts/')[1]}#${createHash('sha256').update(d).digest('hex').slice(0, 12)}`)
            .sort(),
        }))
        .sort((a, b) => JSON.stringify([a.experiment, a.parent, a.name, a.lifecycle]).localeCompare(JSON.stringify([b.experiment, b.parent, b.name, b.lifecycle]))),
    };
  }
}

/** `tags.k = 'v' AND params.p != 'x' AND attributes.status = 'FINISHED'` (keys may be `quoted`). */
function parseFilter(filter: string): { entity: 'tag' | 'param' | 'attr'; key: string; op: '=' | '!='; value: string }[] {
  if (filter.trim() === '') return [];
  return filter.split(/\s+and\s+/i).map((clause) => {
    const m = /^\s*(?:(tags?|params?|parameters?|attributes?|attr|run)\.)?(`[^`]+`|"[^"]+"|[\w.:-]+)\s*(=|!=)\s*'((?:[^'\\]|\\.)*)'\s*$/i.exec(clause);
    if (m === null) bad(`Invalid filter string '${filter}'`);
    const e = (m[1] ?? 'attributes').toLowerCase();
    const entity = e.startsWith('tag') ? 'tag' : e.startsWith('param') ? 'param' : 'attr';
    const key = m[2].replace(/^[`"]|[`"]$/g, '');
    if (entity === 'attr' && !['run_id', 'run_name', 'status', 'user_id', 'lifecycle_stage'].includes(key)) bad(`Invalid attribute key '${key}' specified.`);
    return { entity, key, op: m[3] as '=' | '!=', value: m[4].replace(/\\(.)/g, '$1') };
  });
}
