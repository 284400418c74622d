/**
 * Hugging Face hub repositories and the URLs of their files.
 *
 * URL layout as huggingface_hub's `hf_hub_url` builds it: `{endpoint}/{repo}/resolve/{revision}/{path}`
 * for models, `{endpoint}/datasets/{repo}/resolve/{revision}/{path}` for datasets. The revision is
 * percent-encoded as one segment (`refs/convert/parquet` -> `refs%2Fconvert%2Fparquet`), the file path
 * segment by segment with its slashes kept. The endpoint comes from HF_ENDPOINT, as in huggingface_hub,
 * so a mirror (or the tests' fake hub on 127.0.0.1) can stand in for https://huggingface.co.
 */
import { UserError } from '../util/errors.ts';

export type RepoType = 'model' | 'dataset';

export interface HubRepo {
  type: RepoType;
  /** `owner/name`, e.g. `FacebookAI/roberta-base`. */
  id: string;
}

const DEFAULT_ENDPOINT = 'https://huggingface.co';
const ENDPOINT_ENV = 'HF_ENDPOINT';

/** A full commit id; only these are immutable, so only these are trusted from the cache without asking. */
export const COMMIT_HASH = /^[0-9a-f]{40}$/;

const REPO_ID = /^(?:[A-Za-z0-9][A-Za-z0-9._-]*\/)?[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function checkRepoId(id: string): string {
  if (!REPO_ID.test(id) || id.includes('..')) {
    throw new UserError(`'${id}' is not a hub repository id: use owner/name such as FacebookAI/roberta-base`);
  }
  return id;
}

/** HF_ENDPOINT (or the given override) without a trailing slash; must be an http(s) URL. */
export function resolveEndpoint(override?: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  const raw = override ?? env[ENDPOINT_ENV] ?? DEFAULT_ENDPOINT;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UserError(`${ENDPOINT_ENV}='${raw}' is not a URL: unset it or set it to e.g. ${DEFAULT_ENDPOINT}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UserError(`${ENDPOINT_ENV}='${raw}' must be an http(s) URL, e.g. ${DEFAULT_ENDPOINT}`);
  }
  return raw.replace(/\/+$/, '');
}

/**
 * Rejects paths that could escape the cache directory once joined onto it (huggingface_hub guards
 * the same way): no absolute paths, no `.`/`..` segments, no backslashes.
 */
export function checkRepoPath(path: string): string {
  const segments = path.split('/');
  if (path === '' || path.startsWith('/') || path.includes('\\') || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new UserError(`'${path}' is not a file path inside a hub repository (relative, '/'-separated, no '..')`);
  }
  return path;
}

export function resolveUrl(endpoint: string, repo: HubRepo, revision: string, path: string): string {
  const prefix = repo.type === 'dataset' ? 'datasets/' : '';
  const file = checkRepoPath(path).split('/').map(encodeURIComponent).join('/');
  return `${endpoint}/${prefix}${repo.id}/resolve/${encodeURIComponent(revision)}/${file}`;
}

/** Folder name of a repository in the cache, as huggingface_hub names it: `models--owner--name`. */
export function repoFolderName(repo: HubRepo): string {
  return [`${repo.type}s`, ...checkRepoId(repo.id).split('/')].join('--');
}

export function describeRepo(repo: HubRepo): string {
  return repo.type === 'dataset' ? `dataset ${repo.id}` : `model ${repo.id}`;
}
