/**
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
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseHfConfig, type ModelConfig } from '../models/config.ts';
import { runResultSchema, type RunResult } from './result-schema.ts';
import { UserError } from '../util/errors.ts';
import { vocabMapSchema, type VocabMapJson } from './fit-tokenizer.ts';
import { trainRunConfigSchema, type TrainRunConfig } from './run-config.ts';

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
