/**
 * Where a run's numbers came from: the code (git commit and whether the tree had uncommitted changes),
 * the package versions, the tensor backend and machine, and content hashes of the model weights and the
 * data files. Everything degrades gracefully: no git (a tarball) records "unknown".
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { activeBackend } from '../backend/select.ts';
import type { Provenance } from './result-schema.ts';
import { readPackageVersion } from '../util/provenance.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Packages whose versions can change a result. */
const PACKAGES = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-webgpu', 'webgpu', '@huggingface/tokenizers', 'zod'];

const hashCache = new Map<string, string>();

/** sha256 of a file (hex), cached per path, size and modification time. */
export function sha256File(path: string): string {
  const st = statSync(path);
  const key = `${path}\0${st.size}\0${st.mtimeMs}`;
  const hit = hashCache.get(key);
  if (hit !== undefined) return hit;
  const digest = createHash('sha256').update(readFileSync(path)).digest('hex');
  hashCache.set(key, digest);
  return digest;
}

export interface GitState {
  commit: string;
  dirty: boolean;
}

function gitState(cwd: string = REPO_ROOT): GitState {
  const run = (args: string[]): string | undefined => {
    try {
      const r = spawnSync('git', args, { cwd, encoding: 'utf8', timeout: 10_000 });
      return r.status === 0 ? r.stdout.trim() : undefined;
    } catch {
      return undefined;
    }
  };
  const commit = run(['rev-parse', 'HEAD']);
  if (commit === undefined) return { commit: 'unknown (not a git checkout)', dirty: false };
  // Untracked files count: a new source file not yet committed changes what ran.
  const status = run(['status', '--porcelain']);
  return { commit, dirty: status === undefined || status !== '' };
}

function packageVersions(): Record<string, string> {
  const out: Record<string, string> = { 'lora-repro': readPackageVersion(), node: process.version };
  for (const name of PACKAGES) {
    const file = `${REPO_ROOT}node_modules/${name}/package.json`;
    if (!existsSync(file)) continue;
    try {
      out[name] = (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
    } catch {
      // an unreadable package.json is not worth failing a run over
    }
  }
  return out;
}

function backendDescription(): string {
  const b = activeBackend();
  if (b === undefined) return 'unknown';
  // The device line names the adapter and driver (WebGPU) or whether TensorFlow saw a GPU.
  return `${b.name} (tfjs ${b.tfjsVersion}, ${b.threads} thread${b.threads === 1 ? '' : 's'}${b.simd ? ', SIMD' : ''}); device: ${b.device.summary}`;
}

function cpuDescription(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model ?? 'unknown'} (${process.platform}-${process.arch})`;
}

export function collectProvenance(model: string, datasets: Record<string, string>): Provenance {
  const git = gitState();
  return {
    gitCommit: git.commit,
    gitDirty: git.dirty,
    packages: packageVersions(),
    backend: backendDescription(),
    cpu: cpuDescription(),
    node: process.version,
    model,
    datasets,
  };
}
