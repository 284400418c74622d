/**
 * The hook between a spec's model names and what the trainer loads. Specs name models
 * (`roberta-base`, `mini-roberta`, `gpt2-medium`); a run's identity (runId) and its records use
 * the name, so results stay comparable across machines. Just before a run is handed to a worker,
 * the runner replaces the name by `resolveModel(name)`: a directory with config.json +
 * model.safetensors (+ tokenizer.json) of pretrained weights, or the name itself (a built-in
 * config, random init).
 *
 * Order, first hit wins:
 *  1. `$LORA_REPRO_MODELS/<name>/config.json`: weights the user put there on purpose;
 *  2. the hub cache (`lora-repro download --models <name>`): the snapshot of the name's catalog
 *     repository (src/hub/catalog.ts), at the revision the name pins (`roberta-base@<commit or
 *     branch>`), else the newest one downloaded;
 *  3. otherwise a hub model (a catalog name or `owner/name`) is a UserError naming the download
 *     command: training the paper's models from a random init would produce numbers that look like
 *     results but mean nothing. Any other name (built-in configs, paths) passes through unchanged.
 * The offline stand-ins (mini-roberta, mini-gpt2) never get here: the run command pretrains them and
 * resolves them itself (pretrained-models.ts). Only runs that are about to train are resolved, so
 * `--dry-run`, parameter counts and cost estimates still work without any download.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { hubCacheDir, resolveCacheRoot } from '../hub/cache.ts';
import { findCachedSnapshot } from '../hub/cached-snapshots.ts';
import { HUB_MODELS, MODEL_NOTES, modelRequest, splitRevision } from '../hub/catalog.ts';
import { UserError } from '../util/errors.ts';

const MODELS_DIR_ENV = 'LORA_REPRO_MODELS';

export interface ModelResolveOptions {
  /** Where LORA_REPRO_MODELS and LORA_REPRO_CACHE are read (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** The cache root (default: resolveCacheRoot with `env`). */
  cacheRoot?: string;
}

export type ModelLocation =
  | { kind: 'models-dir'; dir: string }
  | { kind: 'hub-cache'; dir: string; repoId: string; commit: string }
  /** Not a hub model: a built-in config name or a path, passed on as it is. */
  | { kind: 'as-is'; name: string }
  /** A hub model with no local copy; `download` is the command that fetches it. */
  | { kind: 'missing'; repoId: string; looked: string[]; download: string };

/** The hub repository a name stands for, when it is a hub model and not a local path. */
function hubRepoId(name: string): string | undefined {
  if (HUB_MODELS[name] !== undefined) return HUB_MODELS[name];
  // owner/name is a hub id unless it is a directory or file the user points at.
  if (!name.includes('/') || existsSync(name)) return undefined;
  try {
    return modelRequest(name).repo.id;
  } catch {
    return undefined;
  }
}

/** Where `spec` (a model name, optionally `@revision`) would be loaded from; never throws for a miss. */
export function locateModel(spec: string, opts: ModelResolveOptions = {}): ModelLocation {
  const env = opts.env ?? process.env;
  const [name, revision] = splitRevision(spec);
  const looked: string[] = [];
  const modelsDir = env[MODELS_DIR_ENV];
  if (modelsDir !== undefined && modelsDir !== '') {
    const candidate = resolve(join(modelsDir, name));
    if (existsSync(join(candidate, 'config.json')) && statSync(candidate).isDirectory()) return { kind: 'models-dir', dir: candidate };
    looked.push(candidate);
  }
  const repoId = hubRepoId(name);
  if (repoId === undefined) return { kind: 'as-is', name: spec };
  const request = modelRequest(repoId, revision ?? 'main');
  const root = opts.cacheRoot ?? resolveCacheRoot({ env });
  const hubDir = hubCacheDir(root);
  const snapshot = findCachedSnapshot(hubDir, request.repo, request.files, revision);
  if (snapshot !== undefined) return { kind: 'hub-cache', dir: snapshot.dir, repoId, commit: snapshot.commit };
  looked.push(`${hubDir} (${repoId}${revision === undefined ? '' : `@${revision}`})`);
  // `download` reads LORA_REPRO_CACHE too; only a root it would not find by itself needs --cache.
  const cacheFlag = opts.cacheRoot !== undefined && opts.cacheRoot !== resolveCacheRoot({ env }) ? ` --cache ${root}` : '';
  return { kind: 'missing', repoId, looked, download: `lora-repro download --models ${spec}${cacheFlag}` };
}

/** The directory (or unchanged name) the trainer gets for `spec`; a UserError for an absent hub model. */
export function resolveModel(spec: string, opts: ModelResolveOptions = {}): string {
  const got = locateModel(spec, opts);
  switch (got.kind) {
    case 'models-dir':
    case 'hub-cache':
      return got.dir;
    case 'as-is':
      return got.name;
    case 'missing':
      throw new UserError(
        `model '${spec}' (${got.repoId}) is not downloaded (looked in ${got.looked.join(', ')}): ` +
          `run '${got.download}', or put its directory under $${MODELS_DIR_ENV}/${splitRevision(spec)[0]}/` +
          (MODEL_NOTES[got.repoId] === undefined ? '' : ` (${MODEL_NOTES[got.repoId]})`),
      );
  }
}
