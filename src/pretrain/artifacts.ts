/**
 * The on-disk form of a pretrained mini model, a Hugging Face-style directory:
 *   config.json          HF config (readHfConfig / loadPretrained read it)
 *   model.safetensors    the base model under HF names (`roberta.*` / `deberta.*` / `transformer.*`);
 *                        for RoBERTa and DeBERTa without the MLM head and without the next-sentence
 *                        head pretraining trains (RoBERTa `classifier.*`, DeBERTa `pooler.*` +
 *                        `classifier.*`), so loadPretrained(dir) builds a classification model from
 *                        it and the head keeps its seeded initialisation (the loader is strict about
 *                        unexpected tensors, and a fine-tuning run never needs the head; the pooler
 *                        of microsoft/deberta-v2-xxlarge is not in its checkpoint either)
 *   mlm_head.safetensors RoBERTa and DeBERTa: the MLM head (RoBERTa `lm_head.*`, DeBERTa
 *                        `cls.predictions.*` as in DebertaV2ForMaskedLM; the decoder tied to the
 *                        word embeddings is not repeated), for loadPretrainedMlm below
 *   tokenizer.json       the byte-level BPE tokenizer (loadTokenizer(dir) finds it)
 *   pretrain.json        what produced it: corpus, settings, seed, loss curve, timings (written last,
 *                        so its presence marks a complete directory)
 */
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { f32, readSafetensors, writeSafetensors, type TensorEntry } from '../io/safetensors.ts';
import { loadHfWeights } from '../models/load-weights.ts';
import { loadPretrained } from '../models/factory.ts';
import type { TransformerModel } from '../models/model.ts';
import { UserError } from '../util/errors.ts';
import type { MlmModel } from './objectives.ts';
import { hfConfigJson } from './pretrain-config.ts';

export const PRETRAIN_FILES = {
  config: 'config.json',
  weights: 'model.safetensors',
  mlmHead: 'mlm_head.safetensors',
  tokenizer: 'tokenizer.json',
  meta: 'pretrain.json',
} as const;

const isMlmHead = (name: string): boolean => name.startsWith('lm_head.') || name.startsWith('cls.predictions.');
/** The next-sentence head of pretraining (next-sentence.ts; DeBERTa's reads its pooler): not a fine-tuning initialisation, not saved. */
export const isPretrainClassifier = (name: string): boolean => name.startsWith('classifier.') || name.startsWith('pooler.');

/** Awaited reads: WebGPU has no synchronous read in Node. */
async function entries(model: TransformerModel, keep: (name: string) => boolean): Promise<Map<string, TensorEntry>> {
  const out = new Map<string, TensorEntry>();
  for (const [name, v] of model.params.vars) {
    if (keep(name)) out.set(name, f32(v.shape.slice(), (await v.data()) as Float32Array));
  }
  return out;
}

/** Writes every file but pretrain.json into `dir` (which must exist). */
export async function writeModelFiles(dir: string, model: TransformerModel, tokenizerPath: string): Promise<void> {
  writeFileSync(join(dir, PRETRAIN_FILES.config), `${JSON.stringify(hfConfigJson(model.config), null, 2)}\n`);
  const meta = { format: 'pt' };
  writeSafetensors(join(dir, PRETRAIN_FILES.weights), await entries(model, (n) => !isMlmHead(n) && !isPretrainClassifier(n)), meta);
  if (model.modelType !== 'gpt2') writeSafetensors(join(dir, PRETRAIN_FILES.mlmHead), await entries(model, isMlmHead), meta);
  copyFileSync(tokenizerPath, join(dir, PRETRAIN_FILES.tokenizer));
}

/** A RoBERTa or DeBERTa with its pretrained MLM head (e.g. to score masked-LM loss after reloading). */
export function loadPretrainedMlm(dir: string, seed = 0): MlmModel {
  const headFile = join(dir, PRETRAIN_FILES.mlmHead);
  if (!existsSync(headFile)) throw new UserError(`${headFile}: not found (only pretrained RoBERTa and DeBERTa directories have an MLM head)`);
  const { model } = loadPretrained(dir, { seed, robertaHeads: ['mlm'], debertaHeads: ['mlm'] });
  if (model.modelType === 'gpt2') {
    model.dispose();
    throw new UserError(`${dir}: a GPT-2 model, which has no MLM head`);
  }
  try {
    // Only the head tensors: everything else is already loaded and may not be reported missing.
    loadHfWeights(model, readSafetensors(headFile), headFile, { allowMissing: (n) => !isMlmHead(n) });
  } catch (err) {
    model.dispose();
    throw err;
  }
  return model;
}
