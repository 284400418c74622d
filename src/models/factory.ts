/**
 * Builds models from a config (random init from a seed) or from a Hugging Face directory
 * (`config.json` + `model.safetensors`).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors } from '../io/safetensors.ts';
import { Rng } from '../util/rng.ts';
import { UserError } from '../util/errors.ts';
import { builtinConfig, readHfConfig, type ModelConfig } from './config.ts';
import { DebertaV2Model, type DebertaHead } from './deberta.ts';
import { Gpt2Model } from './gpt2.ts';
import { RobertaModel, type RobertaHead } from './roberta.ts';
import { loadHfWeights, type LoadReport } from './load-weights.ts';
import type { TransformerModel } from './model.ts';

export interface CreateOptions {
  seed: number;
  /** RoBERTa heads; default classification. */
  robertaHeads?: RobertaHead[];
  /** DeBERTa-v2 heads; default classification. */
  debertaHeads?: DebertaHead[];
}

export function createModel(config: ModelConfig, opts: CreateOptions): TransformerModel {
  const rng = new Rng(opts.seed);
  if (config.modelType === 'roberta') return new RobertaModel(config, opts.robertaHeads ?? ['classification'], rng);
  if (config.modelType === 'deberta-v2') return new DebertaV2Model(config, opts.debertaHeads ?? ['classification'], rng);
  return new Gpt2Model(config, rng);
}

/** A built-in name (roberta-base, mini-gpt2, …) or a directory holding config.json. */
export function resolveConfig(nameOrDir: string): ModelConfig {
  if (existsSync(nameOrDir) && statSync(nameOrDir).isDirectory()) return readHfConfig(nameOrDir);
  return builtinConfig(nameOrDir);
}

export interface PretrainedOptions extends CreateOptions {
  /** Overrides applied to the config before building (e.g. numLabels for a task head). */
  overrides?: Partial<ModelConfig>;
}

/**
 * Loads `dir/config.json` + `dir/model.safetensors`. Task heads absent from the checkpoint
 * (a base checkpoint fine-tuned on a new task) keep their seeded initialisation, as in HF.
 */
export function loadPretrained(dir: string, opts: PretrainedOptions): { model: TransformerModel; report: LoadReport } {
  const config = { ...readHfConfig(dir), ...(opts.overrides ?? {}) } as ModelConfig;
  const weights = join(dir, 'model.safetensors');
  if (!existsSync(weights)) throw new UserError(`${weights}: not found (expected the model weights as safetensors)`);
  const model = createModel(config, opts);
  try {
    const heads = new Set(model.headParamNames());
    const report = loadHfWeights(model, readSafetensors(weights), weights, { allowMissing: (n) => heads.has(n) });
    return { model, report };
  } catch (err) {
    model.dispose();
    throw err;
  }
}
