/**
 * The hook between a spec's model names and what the trainer loads. Specs name models
 * (`roberta-base`, `mini-roberta`, `gpt2-medium`); a run's identity (runId) and its records use
 * the name, so results stay comparable across machines. Just before a run is handed to a worker,
 * the runner replaces the name by `resolveModel(name)`: a directory with config.json +
 * model.safetensors (+ tokenizer.json) of pretrained weights, or the name itself (a built-in
 * config, random init).
 *
 * Default resolution: `$LORA_REPRO_MODELS/<name>/config.json` exists → that directory; else the
 * name unchanged. A profile module that knows better (e.g. the offline pretrained mini models)
 * installs its own with setModelResolver(); returning undefined falls back to the default.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const MODELS_DIR_ENV = 'LORA_REPRO_MODELS';

export type ModelResolver = (name: string) => string | undefined;

let custom: ModelResolver | undefined;

export function setModelResolver(fn: ModelResolver | undefined): void {
  custom = fn;
}

export function defaultModelResolver(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const dir = env[MODELS_DIR_ENV];
  if (dir !== undefined && dir !== '') {
    const candidate = resolve(join(dir, name));
    if (existsSync(join(candidate, 'config.json'))) return candidate;
  }
  return name;
}

export function resolveModel(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return custom?.(name) ?? defaultModelResolver(name, env);
}
