/**
 * An in-process stand-in for the Hugging Face hub's file endpoints, on 127.0.0.1, for the download
 * tests. Modelled on what huggingface_hub expects of the real one (file_download.py):
 *
 * - HEAD/GET `/{repo}/resolve/{revision}/{path}` and `/datasets/{repo}/resolve/{revision}/{path}`,
 *   revision percent-encoded as one segment. Every answer carries `X-Repo-Commit`.
 * - Regular (git) files are served right there, `ETag: "<git blob sha1>"`.
 * - LFS files answer with a 302 to an absolute CDN URL (`/cdn/<sha256>` here) plus `X-Linked-Etag:
 *   "<sha256>"` and `X-Linked-Size`; the CDN serves the bytes.
 * - Old short repo names answer a relative 307 to the canonical name (a renamed repository).
 * - Misses: 401 + `X-Error-Code: RepoNotFound` (what the hub tells anonymous callers), 404 +
 *   RevisionNotFound, 404 + EntryNotFound.
 * - Byte serving honours `Range: bytes=N-` / `bytes=N-M` (206 + Content-Range, 416 past the end).
 *
 * Fault injection for the next matching request(s): drop the connection after some bytes or before any
 * answer, corrupt a byte, ignore Range, or answer a status (with a Retry-After, as the hub's rate
 * limiter does). Every request is logged. Not modelled: Xet storage, auth,
 * the JSON API (`/api/...`), compression.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRepoSpec {
  type: 'model' | 'dataset';
  id: string;
  /** Path -> content; `lfs` paths are served through the CDN redirect. */
  files: Record<string, Uint8Array | string>;
  lfs?: string[];
  /** Revision names (branches, `refs/convert/parquet`, tags) that resolve to the repo's one commit. */
  refs?: string[];
  /** Old names answered with a relative redirect to `id`. */
  aliases?: string[];
}

export type HubFault =
  | { kind: 'drop'; afterBytes: number } // send this many body bytes, then destroy the socket
  | { kind: 'corrupt' } // flip the first byte of the body sent
  | { kind: 'ignoreRange' } // answer 200 with the whole file
  | { kind: 'status'; status: number; retryAfter?: string } // answer this status (and Retry-After), no body
  | { kind: 'reset' }; // destroy the connection before answering

export interface LoggedRequest {
  method: string;
  path: string;
  range?: string;
}

interface StoredFile {
  bytes: Buffer;
  lfs: boolean;
  sha256: string;
  gitSha1: string;
}

interface StoredRepo {
  spec: FakeRepoSpec;
  commit: string;
  refs: Set<string>;
  files: Map<string, StoredFile>;
}

interface PendingFault {
  fault: HubFault;
  /** Only requests whose path contains this (default: any body request, i.e. GET of file bytes). */
  match?: string;
  method: 'GET' | 'HEAD' | 'ANY';
  remaining: number;
}

function gitBlobSha1(bytes: Uint8Array): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export class FakeHubServer {
  readonly requests: LoggedRequest[] = [];
  private readonly repos = new Map<string, StoredRepo>(); // `${type}:${id}`
  private readonly aliases = new Map<string, string>();
  private readonly byHash = new Map<string, StoredFile>();
  private faults: PendingFault[] = [];
  private server: Server | undefined;
  private port = 0;

  constructor(repos: FakeRepoSpec[]) {
    for (const spec of repos) this.addRepo(spec);
  }

  addRepo(spec: FakeRepoSpec): void {
    const files = new Map<string, StoredFile>();
    const commitHash = createHash('sha1').update(`${spec.type}:${spec.id}`);
    for (const [path, content] of Object.entries(spec.files)) {
      const bytes = Buffer.from(typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
      const file = { bytes, lfs: spec.lfs?.includes(path) ?? false, sha256: sha256Hex(bytes), gitSha1: gitBlobSha1(bytes) };
      files.set(path, file);
      this.byHash.set(file.sha256, file);
      commitHash.update(`${path}:${file.sha256}`);
    }
    const repo: StoredRepo = { spec, commit: commitHash.digest('hex'), refs: new Set(['main', ...(spec.refs ?? [])]), files };
    this.repos.set(`${spec.type}:${spec.id}`, repo);
    for (const alias of spec.aliases ?? []) this.aliases.set(`${spec.type}:${alias}`, spec.id);
  }

  commitOf(type: 'model' | 'dataset', id: string): string {
    const repo = this.repos.get(`${type}:${id}`);
    if (repo === undefined) throw new Error(`no fake repo ${type}:${id}`);
    return repo.commit;
  }

  /** Applies `fault` to the next `times` matching requests (GET of file bytes unless `method` says). */
  addFault(fault: HubFault, opts: { match?: string; method?: 'GET' | 'HEAD' | 'ANY'; times?: number } = {}): void {
    this.faults.push({ fault, match: opts.match, method: opts.method ?? 'GET', remaining: opts.times ?? 1 });
  }

  clearLog(): void {
    this.requests.length = 0;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<string> {
    const server = createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 1000;
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private takeFault(method: string, path: string): HubFault | undefined {
    const i = this.faults.findIndex(
      (f) => (f.method === 'ANY' || f.method === method) && (f.match === undefined || path.includes(f.match)),
    );
    if (i < 0) return undefined;
    const pending = this.faults[i] as PendingFault;
    if (--pending.remaining <= 0) this.faults.splice(i, 1);
    return pending.fault;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0] as string;
    const range = req.headers.range;
    this.requests.push(range === undefined ? { method, path } : { method, path, range });
    const fault = this.takeFault(method, path);
    if (fault?.kind === 'status') {
      const retryAfter: Record<string, string> = fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter };
      res.writeHead(fault.status, { ...retryAfter, 'content-length': '0' }).end();
      return;
    }
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(path);
    if (cdn !== null) {
      const file = this.byHash.get(cdn[1] as string);
      if (file === undefined) res.writeHead(404, { 'content-length': '0' }).end();
      else this.sendBytes(req, res, file.bytes, {}, fault);
      return;
    }
    this.resolve(req, res, path, fault);
  }

  private resolve(req: IncomingMessage, res: ServerResponse, path: string, fault: HubFault | undefined): void {
    const m = /^\/(datasets\/)?(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (m === null) {
      res.writeHead(404, { 'content-length': '0' }).end();
      return;
    }
    const type = m[1] === undefined ? 'model' : 'dataset';
    const id = m[2] as string;
    const revision = decodeURIComponent(m[3] as string);
    const filePath = (m[4] as string).split('/').map(decodeURIComponent).join('/');
    const alias = this.aliases.get(`${type}:${id}`);
    if (alias !== undefined) {
      const prefix = type === 'dataset' ? '/datasets' : '';
      res.writeHead(307, { location: `${prefix}/${alias}/resolve/${m[3]}/${m[4]}`, 'content-length': '0' }).end();
      return;
    }
    const repo = this.repos.get(`${type}:${id}`);
    if (repo === undefined) {
      res.writeHead(401, { 'x-error-code': 'RepoNotFound', 'content-length': '0' }).end();
      return;
    }
    if (!repo.refs.has(revision) && revision !== repo.commit) {
      res.writeHead(404, { 'x-error-code': 'RevisionNotFound', 'content-length': '0' }).end();
      return;
    }
    const file = repo.files.get(filePath);
    const common = { 'x-repo-commit': repo.commit };
    if (file === undefined) {
      res.writeHead(404, { ...common, 'x-error-code': 'EntryNotFound', 'content-length': '0' }).end();
      return;
    }
    if (file.lfs) {
      res
        .writeHead(302, {
          ...common,
          location: `${this.url}/cdn/${file.sha256}`,
          etag: `"${gitBlobSha1(Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${file.sha256}\n`))}"`,
          'x-linked-etag': `"${file.sha256}"`,
          'x-linked-size': String(file.bytes.length),
          'content-length': '0',
        })
        .end();
      return;
    }
    this.sendBytes(req, res, file.bytes, { ...common, etag: `"${file.gitSha1}"` }, fault);
  }

  private sendBytes(req: IncomingMessage, res: ServerResponse, bytes: Buffer, headers: Record<string, string>, fault: HubFault | undefined): void {
    let start = 0;
    let end = bytes.length - 1;
    let status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range !== null && fault?.kind !== 'ignoreRange') {
      start = Number(range[1]);
      if (range[2] !== '') end = Math.min(end, Number(range[2]));
      if (start >= bytes.length) {
        res.writeHead(416, { ...headers, 'content-range': `bytes */${bytes.length}`, 'content-length': '0' }).end();
        return;
      }
      status = 206;
      headers = { ...headers, 'content-range': `bytes ${start}-${end}/${bytes.length}` };
    }
    let body = bytes.subarray(start, end + 1);
    res.writeHead(status, { ...headers, 'accept-ranges': 'bytes', 'content-length': String(body.length) });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    if (fault?.kind === 'corrupt' && body.length > 0) {
      body = Buffer.from(body);
      body[0] = (body[0] as number) ^ 0xff;
    }
    if (fault?.kind === 'drop') {
      // Like a real drop: the bytes arrive, then (a moment later) the connection dies.
      res.write(body.subarray(0, fault.afterBytes), () => setTimeout(() => res.destroy(), 30));
      return;
    }
    res.end(body);
  }
}
