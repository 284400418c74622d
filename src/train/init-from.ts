/**
 * A run's starting weights from another run or a file (`initFrom`, run-config.ts): the paper starts
 * its MRPC, RTE and STS-B LoRA runs "from the best MNLI LoRA checkpoint" (App. D.1, Table 9 note;
 * App. D.2 for DeBERTa), which microsoft/LoRA's examples/NLU/roberta_base_{mrpc,rte,stsb}.sh do with
 * `--lora_path roberta_base_lora_mnli.bin` → run_glue.py `model.load_state_dict(torch.load(path),
 * strict=False)`.
 *
 * Only the method's own weights are taken over, never the task head: the released MNLI file holds a
 * 3-label `classifier.out_proj`, and load_state_dict raises on that size mismatch even with
 * strict=False for MRPC's 2 labels and STS-B's 1, so the reference runs can only have started from
 * the LoRA tensors with a freshly initialised head (the paper: "LoRA modules initialised from it").
 * The head here is initialised from the child's seed as in any run; the backbone stays frozen.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors } from '../io/safetensors.ts';
import { WEIGHTS_FILE } from '../methods/artifact.ts';
import { AppliedLora } from '../methods/lora.ts';
import { importLoralib } from '../methods/loralib.ts';
import type { AppliedMethod } from '../methods/method.ts';
import { loadMethodWeights } from '../methods/restore.ts';
import { UserError } from '../util/errors.ts';
import { sha256File, RUN_FILES } from './run-dir.ts';
import type { InitFrom } from './run-config.ts';

/**
 * The sha256 that identifies a checkpoint: of the file, or of a directory's adapter_model.safetensors.
 * `label` names where the path came from in the error.
 */
export function checkpointSha256(path: string, label: string): string {
  if (!existsSync(path)) throw new UserError(`${label}: checkpoint ${path} does not exist (give a loralib .safetensors file or an adapter directory)`);
  const file = statSync(path).isDirectory() ? join(path, WEIGHTS_FILE) : path;
  if (!existsSync(file)) throw new UserError(`${label}: ${path} is a directory without ${WEIGHTS_FILE} (not an adapter directory)`);
  return sha256File(file);
}

/**
 * Writes the starting weights `init` names into `applied` (freshly applied, before the first step);
 * returns the one-line provenance the run records. Problems are UserErrors naming the file.
 */
export function initialiseFrom(applied: AppliedMethod, init: InitFrom): string {
  if ('run' in init) {
    if (init.dir === undefined) {
      throw new UserError(`initFrom: parent run ${init.run} has no directory (a run that starts from another run is started by 'lora-repro run', which passes the parent's)`);
    }
    const dir = join(init.dir, RUN_FILES.adapter);
    if (!existsSync(dir)) throw new UserError(`initFrom: ${dir} not found: the parent run ${init.run} (${init.task}) has not saved its weights; rerun it first`);
    loadMethodWeights(applied, dir);
    return `run ${init.run} (${init.task}): ${dir} (sha256:${sha256File(join(dir, WEIGHTS_FILE))}); head newly initialised`;
  }
  const label = `initFrom.checkpoint ${init.checkpoint}`;
  const sha = checkpointSha256(init.checkpoint, 'initFrom');
  if (sha !== init.sha256) throw new UserError(`${label}: sha256 is ${sha}, the run id was made for ${init.sha256}: the file changed; expand the spec again`);
  if (statSync(init.checkpoint).isDirectory()) loadMethodWeights(applied, init.checkpoint);
  else {
    if (!(applied instanceof AppliedLora)) throw new UserError(`${label}: a loralib file fits method 'lora' only, not '${applied.name}' (give an adapter directory)`);
    importLoralib(applied, readSafetensors(init.checkpoint).tensors, init.checkpoint);
  }
  return `checkpoint ${init.checkpoint} (sha256:${sha}): method weights only; head newly initialised`;
}
