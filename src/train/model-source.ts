/**
 * Where a run's base model comes from and how to build it again: a pretrained Hugging Face directory
 * (config.json + model.safetensors [+ tokenizer.json]), a built-in config name, or a config.json FILE
 * (or a config object, in tests). The last kinds are randomly initialised from the run's seed, so the
 * run directory keeps their config (base-config.json, Hugging Face format) and `eval`/`generate`
 * rebuild the same weights. (A directory without model.safetensors is an error, never a silent
 * random initialisation: name the config.json file to ask for one.)
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { builtinConfig, readHfConfig, toHfConfigJson, type ModelConfig } from '../models/config.ts';
import { createModel, loadPretrained } from '../models/factory.ts';
import { loadReportLines } from '../models/load-weights.ts';
import type { TransformerModel } from '../models/model.ts';
import { sha256File } from './run-dir.ts';
import { canonicalJson } from '../util/canonical-json.ts';

export type ModelSource =
  | { kind: 'pretrained'; dir: string; config: ModelConfig }
  | { kind: 'builtin'; name: string; config: ModelConfig }
  | { kind: 'config'; config: ModelConfig; file?: string };

export function resolveModelSource(model: string, override?: ModelConfig): ModelSource {
  if (override !== undefined) return { kind: 'config', config: structuredClone(override) };
  if (existsSync(model) && statSync(model).isDirectory()) return { kind: 'pretrained', dir: model, config: readHfConfig(model) };
  if (existsSync(model) && statSync(model).isFile()) return { kind: 'config', config: readHfConfig(model), file: model };
  return { kind: 'builtin', name: model, config: builtinConfig(model) };
}

/** Randomly initialised: the tokenizer may be remapped onto its rows (fit-tokenizer.ts). */
export function isRandomInit(source: ModelSource): boolean {
  return source.kind !== 'pretrained';
}

/** Longest input the model's position table allows (RoBERTa's positions start after the padding id). */
export function maxInputLength(c: ModelConfig): number {
  return c.modelType === 'roberta' ? c.maxPositions - c.padTokenId - 1 : c.maxPositions;
}

/** The source's config with a task head of `numLabels` outputs (the classifier families only). */
export function withHead(c: ModelConfig, numLabels: number | undefined): ModelConfig {
  return c.modelType !== 'gpt2' && numLabels !== undefined ? { ...c, numLabels } : c;
}

/**
 * The config with every dropout rate of the base model set to `p` (undefined: unchanged). Only the
 * model's own layers: a method's dropout lives in the method config.
 */
export function withModelDropout(c: ModelConfig, p: number | undefined): ModelConfig {
  if (p === undefined) return c;
  return c.modelType !== 'gpt2' ? { ...c, hiddenDropout: p, attentionDropout: p } : { ...c, residDropout: p, embdDropout: p, attnDropout: p };
}

export interface BuiltModel {
  model: TransformerModel;
  /** Provenance: weight hash of a pretrained model, or how a random one was made. */
  description: string;
  /** Log lines about the load: checkpoint heads not used, task heads newly initialised. */
  loadNotes: string[];
}

export function buildModel(source: ModelSource, config: ModelConfig, seed: number): BuiltModel {
  if (source.kind === 'pretrained') {
    // `config` is the directory's config.json with the run's changes (task head, model dropout).
    const { model, report } = loadPretrained(source.dir, { seed, overrides: config });
    const weights = join(source.dir, 'model.safetensors');
    return { model, description: `${source.dir} (model.safetensors sha256:${sha256File(weights)})`, loadNotes: loadReportLines(report, weights) };
  }
  const model = createModel(config, { seed });
  const hash = createHash('sha256').update(canonicalJson(toHfConfigJson(config))).digest('hex').slice(0, 16);
  const label = source.kind === 'builtin' ? `builtin:${source.name}` : `${source.file !== undefined ? `${source.file}, ` : ''}config sha256:${hash}`;
  return { model, description: `${label} (random init, seed ${seed})`, loadNotes: [] };
}
