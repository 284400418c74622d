/**
 * The run folder: what a run writes and how it is read back, how `--out` is staged so nothing is lost,
 * and the provenance recorded with the result.
 *
 * The layout of a run directory, what `lora-repro train` writes and `eval` / `generate` read:
 *
 *   result.json           the RunResult (result-schema.ts), config included
 *   adapter/              the method's trainable weights + the task head of the reported checkpoint
 *                         (adapter_config.json + adapter_model.safetensors, PEFT layout)
 *   predictions/          its predictions on the reported split: GLUE <split>.tsv; E2E <split>.hyp.txt + <split>.ref.txt
 *   base-config.json      randomly initialised base model only: its config (Hugging Face format)
 *   vocab-map.json        how tokenizer ids map to the model's rows (train/fit-tokenizer.ts)
 *   train.log             the log lines of the run
 */
import { existsSync, readFileSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, basename, dirname } from 'node:path';
import { parseHfConfig, type ModelConfig } from '../models/config.ts';
import { runResultSchema, type RunResult, type Provenance } from './result-schema.ts';
import { UserError } from '../util/errors.ts';
import { vocabMapSchema, type VocabMapJson } from './fit-tokenizer.ts';
import { trainRunConfigSchema, type TrainRunConfig } from './run-config.ts';
import { randomBytes, createHash } from 'node:crypto';
import { TEMP_PREFIX } from '../util/atomic-write.ts';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { activeBackend } from '../backend/select.ts';
import { readPackageVersion } from '../util/provenance.ts';

export const RUN_FILES = {
  result: 'result.json',
  adapter: 'adapter',
  predictions: 'predictions',
  baseConfig: 'base-config.json',
  vocabMap: 'vocab-map.json',
  log: 'train.log',
} as const;

export interface SavedRun {
  dir: string;
  result: RunResult;
  config: TrainRunConfig;
  /** Present when the base model was randomly initialised. */
  baseConfig?: ModelConfig;
  vocabMap?: VocabMapJson;
  adapterDir: string;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UserError(`${path}: not valid JSON (${(err as Error).message})`);
  }
}

function issues(err: { issues: { path: PropertyKey[]; message: string }[] }): string {
  return err.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
}

export function readSavedRun(dir: string): SavedRun {
  const resultPath = join(dir, RUN_FILES.result);
  if (!existsSync(resultPath)) throw new UserError(`${resultPath}: not found (pass the directory that lora-repro train wrote)`);
  const parsed = runResultSchema.safeParse(readJson(resultPath));
  if (!parsed.success) throw new UserError(`${resultPath}: not a run result: ${issues(parsed.error)}`);
  const result = parsed.data;
  const cfg = trainRunConfigSchema.safeParse(result.config);
  if (!cfg.success) throw new UserError(`${resultPath}: config: ${issues(cfg.error)}`);
  const adapterDir = join(dir, RUN_FILES.adapter);
  if (!existsSync(adapterDir)) {
    throw new UserError(`${adapterDir}: not found (the run ${result.status === 'failed' ? 'failed before saving weights' : 'saved no weights'})`);
  }
  const basePath = join(dir, RUN_FILES.baseConfig);
  const baseConfig = existsSync(basePath) ? parseHfConfig(readJson(basePath), basePath) : undefined;
  const mapPath = join(dir, RUN_FILES.vocabMap);
  let vocabMap: VocabMapJson | undefined;
  if (existsSync(mapPath)) {
    const m = vocabMapSchema.safeParse(readJson(mapPath));
    if (!m.success) throw new UserError(`${mapPath}: ${issues(m.error)}`);
    vocabMap = m.data;
  }
  return { dir, result, config: cfg.data, baseConfig, vocabMap, adapterDir };
}

/*
 * `train --out DIR` without losing anything: the run writes into a temporary sibling of DIR and only a
 * finished (or first) run is moved into place, entry by entry, so
 *   - a folder holding files this tool did not write is refused (unless --force, and even then only the
 *     run's own entries — RUN_FILES — are replaced; other files stay);
 *   - a folder holding a previous run of the same config is replaced, said on the console;
 *   - a failed rerun never mixes with, nor replaces, a finished run: it is kept beside it as DIR.failed-<time>.
 */
const OWN = new Set<string>(Object.values(RUN_FILES));

export interface StagedOut {
  /** Where the run writes. */
  stage: string;
  /** The folder the user named. */
  target: string;
  /** What the target held before: nothing, or a previous run (its status). */
  previous: { runId: string; status: string } | undefined;
}

function previousRun(dir: string): { runId: string; status: string } | undefined {
  try {
    const json = JSON.parse(readFileSync(join(dir, RUN_FILES.result), 'utf8')) as { runId?: unknown; status?: unknown };
    if (typeof json.runId === 'string') return { runId: json.runId, status: typeof json.status === 'string' ? json.status : 'unknown' };
  } catch {
    /* no (readable) result.json: not a previous run */
  }
  return undefined;
}

/**
 * Checks DIR before anything is written and makes the staging sibling. Throws a UserError naming DIR
 * and the fix when DIR holds something that is not a previous run of `runId`.
 */
export function stageOutDir(target: string, runId: string, force: boolean, say: (line: string) => void): StagedOut {
  let previous: StagedOut['previous'];
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) throw new UserError(`${target}: is a file, not a folder: choose another --out`);
    const entries = readdirSync(target).filter((n) => !n.startsWith(TEMP_PREFIX));
    if (entries.length > 0) {
      previous = previousRun(target);
      const foreign = entries.filter((n) => !OWN.has(n));
      if (!force) {
        if (previous === undefined) {
          throw new UserError(`${target}: not empty and holds no run of lora-repro train (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}): choose a new --out, or pass --force to write the run's files beside them`);
        }
        if (previous.runId !== runId) {
          throw new UserError(`${target}: holds run ${previous.runId}, not this config's ${runId}: choose another --out, or pass --force to replace that run's files`);
        }
        if (foreign.length > 0) {
          throw new UserError(`${target}: holds files lora-repro train did not write (${foreign.slice(0, 3).join(', ')}): move them, choose another --out, or pass --force (they are kept)`);
        }
      }
      if (previous !== undefined) say(`${target}: replacing the previous ${previous.status} run ${previous.runId} when this one finishes${force ? ' (--force)' : ''}`);
    }
  }
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  const stage = join(parent, `${TEMP_PREFIX}${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}`);
  mkdirSync(stage);
  return { stage, target, previous };
}

/**
 * Moves the staged run into place. A failed run over a finished one is kept beside it instead.
 * Returns the folder the run is now in.
 */
export function commitOutDir(s: StagedOut, status: string): string {
  if (!existsSync(s.target)) {
    renameSync(s.stage, s.target);
    return s.target;
  }
  if (status !== 'finished' && s.previous?.status === 'finished') {
    const aside = `${s.target}.failed-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    renameSync(s.stage, aside);
    return aside;
  }
  // Only the run's own entries move; old ones of these names go to a trash sibling first so a crash
  // in between leaves every file somewhere, then the trash (only files of a previous run) is removed.
  const trash = `${s.stage}.old`;
  mkdirSync(trash);
  for (const name of OWN) {
    if (existsSync(join(s.target, name))) renameSync(join(s.target, name), join(trash, name));
  }
  for (const name of readdirSync(s.stage)) renameSync(join(s.stage, name), join(s.target, name));
  rmSync(trash, { recursive: true, force: true });
  rmSync(s.stage, { recursive: true, force: true });
  return s.target;
}

/** Removes the staging folder of a run that ended before it wrote a result (bad input). */
export function abandonOutDir(s: StagedOut): void {
  rmSync(s.stage, { recursive: true, force: true });
}

/*
 * Where a run's numbers came from: the code (git commit and whether the tree had uncommitted changes),
 * the package versions, the tensor backend and machine, and content hashes of the model weights and the
 * data files. Everything degrades gracefully: no git (a tarball) records "unknown".
 */
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
