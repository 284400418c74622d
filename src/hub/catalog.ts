/**
 * The models the `paper` profile fetches from the hub, by the names the rest of lora-repro uses.
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
 * The datasets' catalog (GLUE and E2E on the hub) is data's: src/data/hub-datasets.ts. This file knows
 * only models, so hub/ stays a plain Hugging Face client below data/.
 */
import { UserError } from '../util/errors.ts';
import { checkRepoId } from './repo.ts';
import type { SnapshotRequest } from './snapshot.ts';

export const MODEL_FILES = ['config.json', 'model.safetensors', 'tokenizer.json'] as const;
/** A SentencePiece model's repository: spm.model is its tokenizer. */
const SPM_MODEL_FILES = ['config.json', 'model.safetensors', 'spm.model'] as const;

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
function modelFiles(repoId: string): readonly string[] {
  return REPO_FILES[repoId] ?? MODEL_FILES;
}

export function modelRequest(name: string, revision = 'main'): SnapshotRequest {
  const id = HUB_MODELS[name] ?? (name.includes('/') ? checkRepoId(name) : undefined);
  if (id === undefined) {
    throw new UserError(`unknown model '${name}': use one of ${Object.keys(HUB_MODELS).join(', ')} or a hub id owner/name`);
  }
  return { repo: { type: 'model', id }, revision, files: modelFiles(id) };
}

/** Splits `name@revision`; the revision is optional. */
export function splitRevision(item: string): [string, string | undefined] {
  const at = item.indexOf('@');
  return at < 0 ? [item, undefined] : [item.slice(0, at), item.slice(at + 1) || undefined];
}

/** `--models roberta-base,gpt2-medium@<commit>` -> requests; `fallback` is --revision. */
export function parseModelList(list: string, fallback?: string): SnapshotRequest[] {
  return listItems(list).map((item) => {
    const [name, rev] = splitRevision(item);
    return modelRequest(name, rev ?? fallback ?? 'main');
  });
}

/** `a, b,,c` -> ['a', 'b', 'c']: the items of a comma-separated flag. */
export function listItems(list: string): string[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
