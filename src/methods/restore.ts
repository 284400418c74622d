/**
 * Applies and loads a method from an artifact directory alone, without being told its config:
 * LORA_REPRO artifacts record method and config; LoRA artifacts are PEFT LoraConfigs, read back
 * into our LoRA config (our own carry it exactly in the safetensors metadata as well).
 *
 * A LoRA written by Python PEFT loads when it maps onto our adapters (lora-peft.ts, loraConfigFromPeft).
 */
import type { TransformerModel } from '../models/model.ts';
import { UserError } from '../util/errors.ts';
import type { Rng } from '../util/rng.ts';
import { AppliedBase, LORA_REPRO_PEFT_TYPE } from './applied.ts';
import { readArtifact } from './artifact.ts';
import { loraConfigFromPeft } from './lora-peft.ts';
import type { AppliedMethod } from './method.ts';
import { configureMethod } from './registry.ts';

/** Applies the method an artifact directory records, then loads its weights strictly. */
export function restoreMethod(model: TransformerModel, dir: string, rng: Rng): AppliedMethod {
  const files = readArtifact(dir);
  const c = files.config;
  let name: string;
  let raw: unknown;
  if (c.peft_type === LORA_REPRO_PEFT_TYPE) {
    if (typeof c.method !== 'string') throw new UserError(`${dir}: adapter_config.json has no method`);
    name = c.method;
    raw = c.method_config;
  } else if (c.peft_type === 'LORA') {
    name = 'lora';
    const ours = files.metadata.lora_repro_method === 'lora' ? files.metadata.lora_repro_config : undefined;
    raw = ours !== undefined ? (JSON.parse(ours) as unknown) : loraConfigFromPeft(model, c, dir);
  } else {
    throw new UserError(`${dir}: peft_type ${JSON.stringify(c.peft_type)} is not supported (LORA or ${LORA_REPRO_PEFT_TYPE})`);
  }
  const applied = configureMethod(name, raw).apply(model, rng) as AppliedBase;
  try {
    applied.loadArtifact(files, dir);
  } catch (err) {
    applied.remove();
    throw err;
  }
  return applied;
}

/**
 * Loads an artifact directory's method weights, not its head, into an applied method of the same
 * method and config (checked): how a run starts from another run (src/train/init-from.ts).
 */
export function loadMethodWeights(applied: AppliedMethod, dir: string): void {
  if (!(applied instanceof AppliedBase)) throw new Error(`${applied.name}: not an AppliedBase; cannot load method weights`);
  applied.loadOwnWeights(readArtifact(dir), dir);
}
