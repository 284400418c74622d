/**
 * What the `paper` profile fetches from the hub, by the names the rest of lora-repro uses.
 *
 * Models: the checkpoints the LoRA paper adapts, under their current canonical ids (the hub answers
 * the old short names `roberta-base`, `gpt2-medium`, … with a relative redirect to these). Each brings
 * config.json + model.safetensors (what loadPretrained reads) + tokenizer.json (all four repos ship one).
 * DeBERTa-v2 XXL (`microsoft/deberta-v2-xxlarge`) brings spm.model instead of tokenizer.json (its
 * repository has no tokenizer.json; tokenizers/load.ts reads either). Its weights are the exception:
 * the repository's main branch ships `pytorch_model.bin` (a pickle, which lora-repro does not read) and,
 * as far as its file listing could be checked, no `model.safetensors`. The catalog still asks for
 * model.safetensors (never a silent fallback to something else), so the download of that file fails
 * until the user converts the checkpoint or names a revision that has one; MODEL_NOTES says how, and
 * every message about a missing DeBERTa checkpoint carries it (docs/paper-scale.md).
 *
 * Datasets, as laid out on the hub (checked against the hub's file listings, not fetched here):
 * - GLUE: `nyu-mll/glue` on `main` holds one parquet file per config and split,
 *   `<config>/<split>-00000-of-00001.parquet` (the repository's "Convert dataset to Parquet" commit;
 *   its README's `configs` point each split at `<config>/<split>-*`). Config names are our task names;
 *   the eval splits are `validation` (`validation_matched` / `validation_mismatched` for MNLI).
 * - E2E: `tuetschek/e2e_nlg` keeps only a loading script on `main`; the hub's parquet conversion is on
 *   the `refs/convert/parquet` branch as `default/<split>/0000.parquet` for train, validation, test.
 */
import { UserError } from '../util/errors.ts';
import { GLUE_TASK_NAMES, GLUE_TASKS, parseGlueTaskName, type GlueTaskName } from '../data/glue-tasks.ts';
import type { E2eSplit } from '../data/e2e.ts';
import { checkRepoId, type HubRepo } from './repo.ts';
import type { SnapshotRequest } from './snapshot.ts';

export const MODEL_FILES = ['config.json', 'model.safetensors', 'tokenizer.json'] as const;
/** A SentencePiece model's repository: spm.model is its tokenizer. */
export const SPM_MODEL_FILES = ['config.json', 'model.safetensors', 'spm.model'] as const;

export const DEBERTA_XXL_REPO = 'microsoft/deberta-v2-xxlarge';

export const HUB_MODELS: Readonly<Record<string, string>> = {
  'roberta-base': 'FacebookAI/roberta-base',
  'roberta-large': 'FacebookAI/roberta-large',
  'gpt2-medium': 'openai-community/gpt2-medium',
  'gpt2-large': 'openai-community/gpt2-large',
  'deberta-v2-xxlarge': DEBERTA_XXL_REPO,
};

/** Repositories whose files differ from MODEL_FILES, by repository id (a catalog name or owner/name reaches it). */
const REPO_FILES: Readonly<Record<string, readonly string[]>> = {
  [DEBERTA_XXL_REPO]: SPM_MODEL_FILES,
};

/** What a user must know to get a repository's checkpoint in a form lora-repro reads (see the file comment). */
export const MODEL_NOTES: Readonly<Record<string, string>> = {
  [DEBERTA_XXL_REPO]:
    `${DEBERTA_XXL_REPO} ships pytorch_model.bin, not model.safetensors: convert it (python -c "import torch; from safetensors.torch import save_file; ` +
    `save_file({k: v.contiguous() for k, v in torch.load('pytorch_model.bin', map_location='cpu').items()}, 'model.safetensors')") and put ` +
    `config.json, spm.model and model.safetensors in $LORA_REPRO_MODELS/deberta-v2-xxlarge/, or name a revision that has model.safetensors (deberta-v2-xxlarge@<revision>)`,
};

/** The files lora-repro fetches from a model repository. */
export function modelFiles(repoId: string): readonly string[] {
  return REPO_FILES[repoId] ?? MODEL_FILES;
}

export const GLUE_REPO: HubRepo = { type: 'dataset', id: 'nyu-mll/glue' };
export const GLUE_REVISION = 'main';
export const E2E_REPO: HubRepo = { type: 'dataset', id: 'tuetschek/e2e_nlg' };
export const E2E_REVISION = 'refs/convert/parquet';

/** Our split names (those of the GLUE TSV files) -> the hub's. */
const GLUE_HUB_SPLITS: Readonly<Record<string, string>> = {
  train: 'train',
  dev: 'validation',
  dev_matched: 'validation_matched',
  dev_mismatched: 'validation_mismatched',
};

const E2E_HUB_SPLITS: Readonly<Record<E2eSplit, string>> = { train: 'train', dev: 'validation', test: 'test' };

/** Path of a GLUE split's parquet file in nyu-mll/glue ('train', 'dev', 'dev_matched', 'dev_mismatched'). */
export function glueHubPath(task: GlueTaskName, split: string): string {
  const spec = GLUE_TASKS[task];
  const ours = ['train', ...spec.evalSplits.map((s) => s.name)];
  const hub = GLUE_HUB_SPLITS[split];
  if (!ours.includes(split) || hub === undefined) {
    throw new UserError(`GLUE task ${task} has no split '${split}': use one of ${ours.join(', ')}`);
  }
  return `${task}/${hub}-00000-of-00001.parquet`;
}

export function e2eHubPath(split: E2eSplit): string {
  return `default/${E2E_HUB_SPLITS[split]}/0000.parquet`;
}

export function modelRequest(name: string, revision = 'main'): SnapshotRequest {
  const id = HUB_MODELS[name] ?? (name.includes('/') ? checkRepoId(name) : undefined);
  if (id === undefined) {
    throw new UserError(`unknown model '${name}': use one of ${Object.keys(HUB_MODELS).join(', ')} or a hub id owner/name`);
  }
  return { repo: { type: 'model', id }, revision, files: modelFiles(id) };
}

export function glueRequest(task: GlueTaskName, revision = GLUE_REVISION): SnapshotRequest {
  const splits = ['train', ...GLUE_TASKS[task].evalSplits.map((s) => s.name)];
  return { repo: GLUE_REPO, revision, files: splits.map((s) => glueHubPath(task, s)) };
}

export function e2eRequest(revision = E2E_REVISION): SnapshotRequest {
  return { repo: E2E_REPO, revision, files: (['train', 'dev', 'test'] as const).map(e2eHubPath) };
}

/** Splits `name@revision`; the revision is optional. */
export function splitRevision(item: string): [string, string | undefined] {
  const at = item.indexOf('@');
  return at < 0 ? [item, undefined] : [item.slice(0, at), item.slice(at + 1) || undefined];
}

/** `--models roberta-base,gpt2-medium@<commit>` -> requests; `fallback` is --revision. */
export function parseModelList(list: string, fallback?: string): SnapshotRequest[] {
  return items(list).map((item) => {
    const [name, rev] = splitRevision(item);
    return modelRequest(name, rev ?? fallback ?? 'main');
  });
}

/**
 * `--datasets glue:rte,glue:mnli,e2e` (`glue` alone: all eight tasks) -> one request per repository,
 * the GLUE files merged so `nyu-mll/glue` resolves to one commit.
 */
export function parseDatasetList(list: string, fallback?: string): SnapshotRequest[] {
  const out: SnapshotRequest[] = [];
  const glue = new Map<string, Set<string>>(); // revision -> files
  for (const item of items(list)) {
    const [name, rev] = splitRevision(item);
    const [family, task] = name.split(':', 2) as [string, string | undefined];
    if (family === 'e2e' && task === undefined) {
      out.push(e2eRequest(rev ?? fallback ?? E2E_REVISION));
      continue;
    }
    if (family !== 'glue') {
      throw new UserError(`unknown dataset '${item}': use glue, glue:<task> (${GLUE_TASK_NAMES.join(', ')}) or e2e`);
    }
    const tasks = task === undefined ? [...GLUE_TASK_NAMES] : [parseGlueTaskName(task)];
    if (tasks.includes(undefined)) throw new UserError(`unknown GLUE task '${task}': use one of ${GLUE_TASK_NAMES.join(', ')}`);
    const revision = rev ?? fallback ?? GLUE_REVISION;
    const files = glue.get(revision) ?? new Set<string>();
    for (const t of tasks as GlueTaskName[]) for (const f of glueRequest(t, revision).files) files.add(f);
    glue.set(revision, files);
  }
  for (const [revision, files] of glue) out.unshift({ repo: GLUE_REPO, revision, files: [...files] });
  return out;
}

function items(list: string): string[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
