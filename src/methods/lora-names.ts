/**
 * Where each LoRA target sits in the Hugging Face module tree of each model family: the one table
 * that the loralib names (loralib.ts), the PEFT keys and target_modules (lora-peft.ts), the method's
 * parameter names (lora.ts) and the subspace analysis's checkpoint reader (src/analysis/lora-weights.ts)
 * all read.
 *
 * RoBERTa: one nn.Linear per target. DeBERTa-v2 names its attention projections
 * `attention.self.{query,key,value}_proj` (modeling_deberta_v2.py). GPT-2 fuses q, k and v into one
 * Conv1D, `attn.c_attn` (our adapters are per-slice; loralib's MergedLinear stacks them, PEFT puts one
 * LoRA on the whole module).
 */
import { blockPrefix, type TransformerModel } from '../models/model.ts';
import type { LoraTarget } from './lora-config.ts';

type ModelType = TransformerModel['modelType'];

const ROBERTA_MODULE: Readonly<Record<LoraTarget, string>> = {
  q: 'attention.self.query',
  k: 'attention.self.key',
  v: 'attention.self.value',
  o: 'attention.output.dense',
  ffn1: 'intermediate.dense',
  ffn2: 'output.dense',
};

/** Block-relative module path of each target, per model family. */
export const LORA_MODULE: Readonly<Record<ModelType, Readonly<Record<LoraTarget, string>>>> = {
  roberta: ROBERTA_MODULE,
  'deberta-v2': { ...ROBERTA_MODULE, q: 'attention.self.query_proj', k: 'attention.self.key_proj', v: 'attention.self.value_proj' },
  gpt2: { q: 'attn.c_attn', k: 'attn.c_attn', v: 'attn.c_attn', o: 'attn.c_proj', ffn1: 'mlp.c_fc', ffn2: 'mlp.c_proj' },
};

const ROBERTA_PEFT_NAME: Readonly<Record<LoraTarget, string>> = {
  q: 'query',
  k: 'key',
  v: 'value',
  o: 'attention.output.dense',
  ffn1: 'intermediate.dense',
  ffn2: 'output.dense',
};

/**
 * PEFT target_modules entries (suffix-matched): short where unambiguous. RoBERTa's `output.dense`
 * is also a suffix of `attention.output.dense` (lora-peft.ts then writes a regex instead).
 */
export const PEFT_TARGET_NAME: Readonly<Record<ModelType, Readonly<Record<LoraTarget, string>>>> = {
  roberta: ROBERTA_PEFT_NAME,
  'deberta-v2': { ...ROBERTA_PEFT_NAME, q: 'query_proj', k: 'key_proj', v: 'value_proj' },
  gpt2: { q: 'c_attn', k: 'c_attn', v: 'c_attn', o: 'attn.c_proj', ffn1: 'c_fc', ffn2: 'mlp.c_proj' },
};

/** The targets that are slices of one fused module (GPT-2's c_attn), in slice order. */
export const FUSED_TARGETS = ['q', 'k', 'v'] as const;

/** Whether `target` is a slice of a fused module in this family. */
export function isFusedTarget(modelType: ModelType, target: LoraTarget): boolean {
  return modelType === 'gpt2' && (FUSED_TARGETS as readonly LoraTarget[]).includes(target);
}

/** Full module path of a target in one block, e.g. `roberta.encoder.layer.3.attention.self.query`. */
export function loraModulePath(modelType: ModelType, layer: number, target: LoraTarget): string {
  return `${blockPrefix(modelType, layer)}.${LORA_MODULE[modelType][target]}`;
}

/** The block path without its index (`roberta.encoder.layer.`, `transformer.h.`), for matching names. */
export function blockStem(modelType: ModelType): string {
  return blockPrefix(modelType, 0).slice(0, -1);
}
