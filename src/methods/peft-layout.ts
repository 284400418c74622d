/**
 * Where our models' modules sit inside the Hugging Face classes PEFT wraps, and the adapter_config
 * fields that follow from that, so `AutoPeftModel*.from_pretrained(dir)` (PEFT >= PEFT_MIN_VERSION)
 * loads our artifacts. Written from PEFT's source: peft/config.py (PeftConfigMixin, from_peft_type),
 * peft/auto.py (AutoPeftModel.from_pretrained: task_type picks the class, else auto_mapping),
 * peft/utils/save_and_load.py (set_peft_model_state_dict) and peft/tuners/lora/config.py.
 */
import { basename } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import type { TransformerModel } from '../models/model.ts';
import { PEFT_PREFIX, variableTensor, type ArtifactTensor } from './artifact.ts';
import type * as tf from '@tensorflow/tfjs-core';

/**
 * The oldest PEFT that takes our adapter_config.json: every field we write exists in v0.6.0's
 * LoraConfig (rank_pattern / alpha_pattern arrived there). Before v0.14 an unknown field is a
 * TypeError (from_peft_type only filters unknown keys since then), so fields newer than 0.6 are
 * written only when they differ from their default (use_rslora, use_dora: never, we refuse them).
 */
export const PEFT_MIN_VERSION = '0.6.0';

/** Models with a task head PEFT's AutoPeftModelFor<Task> builds from task_type. */
export function peftTaskType(model: TransformerModel): 'CAUSAL_LM' | 'SEQ_CLS' | 'FEATURE_EXTRACTION' | null {
  if (model.modelType === 'gpt2') return 'CAUSAL_LM';
  if (model.modelType === 'deberta-v2') return 'SEQ_CLS';
  if (model.heads.includes('classification')) return 'SEQ_CLS';
  // PEFT has no masked-LM task type: a RoBERTa with only its MLM head loads through auto_mapping.
  if (model.heads.includes('mlm')) return null;
  return 'FEATURE_EXTRACTION';
}

/** AutoPeftModel's way to a class without a task type (what PEFT itself writes for such models). */
export function peftAutoMapping(model: TransformerModel): { base_model_class: string; parent_library: string } | null {
  if (peftTaskType(model) !== null) return null;
  return { base_model_class: 'RobertaForMaskedLM', parent_library: 'transformers.models.roberta.modeling_roberta' };
}

/**
 * Module name of one of our parameter/module names in the class PEFT wraps. FEATURE_EXTRACTION
 * wraps AutoModel, a bare RobertaModel whose modules have no `roberta.` prefix: a key that kept it
 * would load nothing (load_state_dict(strict=False) ignores it silently).
 */
export function peftModuleName(model: TransformerModel, name: string): string {
  return peftTaskType(model) === 'FEATURE_EXTRACTION' && name.startsWith('roberta.') ? name.slice('roberta.'.length) : name;
}

/** The heads PEFT's class has as modules: `classifier` (SEQ_CLS) or `lm_head` (masked LM). */
export function modulesToSave(model: TransformerModel, headNames: string[]): string[] | null {
  const task = peftTaskType(model);
  const present = task === 'SEQ_CLS' ? ['classifier'] : task === null ? ['lm_head'] : [];
  const mods = [...new Set(headNames.map((n) => n.split('.')[0]))].filter((m) => present.includes(m));
  return mods.length > 0 ? mods : null;
}

/**
 * The head under PEFT's modules_to_save keys (`base_model.model.classifier.dense.weight`). PEFT >=
 * 0.15 maps every key of the wrapped module's state_dict (ModulesToSaveWrapper.adapter_state_dict_
 * load_map) and raises KeyError on a missing one; RobertaLMHead's state_dict also has `decoder.weight`
 * (tied to the word embeddings, frozen) and `decoder.bias` (the same tensor as `bias`), so both are
 * written; reading them back changes nothing the model does not already hold.
 */
export function peftHeadTensors(model: TransformerModel, head: tf.Variable[], headNames: string[]): ArtifactTensor[] {
  const out = head.map((v, i) => variableTensor(PEFT_PREFIX + peftModuleName(model, headNames[i]), v));
  if (modulesToSave(model, headNames)?.includes('lm_head')) {
    const emb = model.params.get('roberta.embeddings.word_embeddings.weight');
    const tied = variableTensor(`${PEFT_PREFIX}lm_head.decoder.weight`, emb);
    out.push({ ...tied, write: () => undefined });
    out.push(variableTensor(`${PEFT_PREFIX}lm_head.decoder.bias`, model.params.get('lm_head.bias')));
  }
  return out;
}

/** The huggingface_hub cache layout (src/hub/cache.ts): `models--<owner>--<name>/snapshots/<commit>`. */
const HUB_SNAPSHOT_RE = /(?:^|[\\/])models--([^\\/]+)[\\/]snapshots[\\/]([0-9a-f]{40})[\\/]?$/;

/**
 * base_model_name_or_path + revision for where the base was loaded from. A hub-cache snapshot is its
 * repository id at that commit, which from_pretrained fetches anywhere. Anything else is written as
 * a name the hub refuses (`:` is not allowed in a repo id), so AutoPeftModel fails loudly instead of
 * loading pretrained weights under an adapter trained on something else: `lora-repro-local:<dir>`
 * for another directory (an offline stand-in, a copy of unknown revision), and
 * `lora-repro-random-init:<name>` for a built-in config or config file (random weights, seeded).
 */
export function peftBaseModel(location: string | undefined): { name: string | null; revision: string | null } {
  if (location === undefined || location === '') return { name: null, revision: null };
  const hub = HUB_SNAPSHOT_RE.exec(location);
  if (hub !== null) return { name: hub[1].split('--').join('/'), revision: hub[2] };
  const isDir = existsSync(location) && statSync(location).isDirectory();
  const name = basename(location.replace(/[\\/]+$/, '')) || location;
  return { name: isDir ? `lora-repro-local:${name}` : `lora-repro-random-init:${name}`, revision: null };
}
