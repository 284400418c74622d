/**
 * The official loralib tensor names and layouts (microsoft/LoRA `loralib.lora_state_dict`), so that
 * reference checkpoints load and our gradients compare name for name.
 *
 * - nn.Linear targets (RoBERTa, DeBERTa-v2): `<module>.lora_A` [r, in], `<module>.lora_B` [out, r]. DeBERTa-v2's
 *   fork names the attention projections `attention.self.{query,key,value}_proj` (modeling_deberta_v2.py).
 * - GPT-2's fused c_attn is one MergedLinear with enable_lora [q, k, v]: `lora_A` stacks the A of
 *   each enabled slice ([A_q; A_v] = [2r, in]) and `lora_B` stacks their B ([B_q; B_v] = [2d, r]),
 *   stacked, not interleaved (../shared/fixtures/parity/gpt2-tiny/lora.json).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TransformerModel } from '../models/model.ts';
import { UserError } from '../util/errors.ts';
import type { LoraAdapter } from './lora-layer.ts';
import type { LoraInjection, LoraTarget } from './inject.ts';

export interface LoralibTensor {
  name: string;
  /** Concatenated along axis 0 in this order. */
  parts: { adapter: LoraAdapter; which: 'A' | 'B' }[];
}

const ROBERTA_MODULE: Record<LoraTarget, string> = {
  q: 'attention.self.query',
  k: 'attention.self.key',
  v: 'attention.self.value',
  o: 'attention.output.dense',
  ffn1: 'intermediate.dense',
  ffn2: 'output.dense',
};

/** DeBERTa-v2's modules per target (the attention projections are `*_proj` in modeling_deberta_v2.py). */
export const DEBERTA_LORA_MODULE: Record<LoraTarget, string> = {
  ...ROBERTA_MODULE,
  q: 'attention.self.query_proj',
  k: 'attention.self.key_proj',
  v: 'attention.self.value_proj',
};

/** Per-module (unfused) families: the block prefix and the module of each target. */
function unfusedTable(modelType: TransformerModel['modelType']): { block: string; modules: Record<LoraTarget, string> } | undefined {
  if (modelType === 'roberta') return { block: 'roberta.encoder.layer', modules: ROBERTA_MODULE };
  if (modelType === 'deberta-v2') return { block: 'deberta.encoder.layer', modules: DEBERTA_LORA_MODULE };
  return undefined;
}

const GPT2_MODULE: Record<Exclude<LoraTarget, 'q' | 'k' | 'v'>, string> = {
  o: 'attn.c_proj',
  ffn1: 'mlp.c_fc',
  ffn2: 'mlp.c_proj',
};

/** Every loralib tensor of an injection, in a stable order. */
export function loralibLayout(model: TransformerModel, inj: LoraInjection): LoralibTensor[] {
  const byLayer = new Map<number, Map<LoraTarget, LoraAdapter>>();
  for (const [key, adapter] of inj.adapters) {
    const [layerText, target] = key.split('.') as [string, LoraTarget];
    const layer = Number(layerText);
    if (!byLayer.has(layer)) byLayer.set(layer, new Map());
    byLayer.get(layer)!.set(target, adapter);
  }
  const out: LoralibTensor[] = [];
  for (const layer of [...byLayer.keys()].sort((a, b) => a - b)) {
    const adapters = byLayer.get(layer)!;
    const unfused = unfusedTable(model.modelType);
    if (unfused !== undefined) {
      for (const [target, adapter] of adapters) {
        const m = `${unfused.block}.${layer}.${unfused.modules[target]}`;
        out.push({ name: `${m}.lora_A`, parts: [{ adapter, which: 'A' }] });
        out.push({ name: `${m}.lora_B`, parts: [{ adapter, which: 'B' }] });
      }
    } else {
      const fused = (['q', 'k', 'v'] as const).filter((t) => adapters.has(t)).map((t) => adapters.get(t)!);
      if (fused.length > 0) {
        const m = `transformer.h.${layer}.attn.c_attn`;
        out.push({ name: `${m}.lora_A`, parts: fused.map((adapter) => ({ adapter, which: 'A' as const })) });
        out.push({ name: `${m}.lora_B`, parts: fused.map((adapter) => ({ adapter, which: 'B' as const })) });
      }
      for (const target of ['o', 'ffn1', 'ffn2'] as const) {
        const adapter = adapters.get(target);
        if (adapter === undefined) continue;
        const m = `transformer.h.${layer}.${GPT2_MODULE[target]}`;
        out.push({ name: `${m}.lora_A`, parts: [{ adapter, which: 'A' }] });
        out.push({ name: `${m}.lora_B`, parts: [{ adapter, which: 'B' }] });
      }
    }
  }
  return out;
}

/** Composes one loralib tensor from per-adapter tensors (weights or their gradients). */
export function composeLoralib(t: LoralibTensor, pick: (adapter: LoraAdapter, which: 'A' | 'B') => tf.Tensor): tf.Tensor {
  const parts = t.parts.map((p) => pick(p.adapter, p.which));
  return parts.length === 1 ? parts[0].clone() : tf.concat(parts, 0);
}

/**
 * Normalises a checkpoint name: drops DistributedDataParallel's `module.` prefix and adds GPT-2's
 * `transformer.` prefix where a checkpoint stores names without it.
 */
export function normaliseLoraName(name: string, modelType: TransformerModel['modelType']): string {
  let n = name.startsWith('module.') ? name.slice('module.'.length) : name;
  if (modelType === 'gpt2' && n.startsWith('h.')) n = `transformer.${n}`;
  return n;
}

export interface LoraTensorSource {
  shape: number[];
  data: Float32Array;
}

/**
 * Loads loralib tensors into the adapters of `inj`. Strict: every adapter tensor must be present
 * with the right shape and no unknown LoRA tensor may be left over; one error lists every problem.
 * Returns the names that were not LoRA tensors (e.g. a trained classifier), for the caller.
 */
export function importLoralib(
  model: TransformerModel,
  inj: LoraInjection,
  tensors: Map<string, LoraTensorSource>,
  label: string,
): string[] {
  const byName = new Map<string, LoraTensorSource>();
  const others: string[] = [];
  for (const [raw, t] of tensors) {
    const n = normaliseLoraName(raw, model.modelType);
    if (/\.lora_[AB]$/.test(n)) byName.set(n, t);
    else others.push(raw);
  }
  const problems: string[] = [];
  const assignments: { adapter: LoraAdapter; which: 'A' | 'B'; value: tf.Tensor }[] = [];
  for (const lt of loralibLayout(model, inj)) {
    const src = byName.get(lt.name);
    byName.delete(lt.name);
    const expectedRows = lt.parts.reduce((s, p) => s + (p.which === 'A' ? p.adapter.A.shape[0] : p.adapter.B.shape[0]), 0);
    const cols = lt.parts[0].which === 'A' ? lt.parts[0].adapter.A.shape[1] : lt.parts[0].adapter.B.shape[1];
    if (src === undefined) {
      problems.push(`missing ${lt.name}`);
      continue;
    }
    if (src.shape.length !== 2 || src.shape[0] !== expectedRows || src.shape[1] !== cols) {
      problems.push(`${lt.name} has shape [${src.shape}] but the model expects [${expectedRows}, ${cols}]`);
      continue;
    }
    let row = 0;
    for (const p of lt.parts) {
      const rows = p.which === 'A' ? p.adapter.A.shape[0] : p.adapter.B.shape[0];
      const value = tf.tensor2d(src.data.subarray(row * cols, (row + rows) * cols), [rows, cols]);
      assignments.push({ adapter: p.adapter, which: p.which, value });
      row += rows;
    }
  }
  for (const extra of byName.keys()) problems.push(`unexpected ${extra} (no such adapter in this configuration)`);
  if (problems.length > 0) {
    for (const a of assignments) a.value.dispose();
    throw new UserError(`${label}: LoRA tensors do not match the model: ${problems.join('; ')}`);
  }
  for (const a of assignments) {
    (a.which === 'A' ? a.adapter.A : a.adapter.B).assign(a.value);
    a.value.dispose();
  }
  return others;
}

/**
 * Which targets and layers a set of loralib tensor names implies (checkpoints do not record them).
 * GPT-2's fused c_attn needs `enableLora` (loralib's enable_lora, [q, k, v]); the reference uses
 * [true, false, true].
 */
export function inferLoralibTargets(
  names: string[],
  modelType: TransformerModel['modelType'],
  enableLora: [boolean, boolean, boolean] = [true, false, true],
): { targets: LoraTarget[]; layers: number[] } {
  const targets = new Set<LoraTarget>();
  const layers = new Set<number>();
  const unfused = unfusedTable(modelType);
  const table: [string, LoraTarget[]][] =
    unfused !== undefined
      ? Object.entries(unfused.modules).map(([t, m]) => [m, [t as LoraTarget]])
      : [
          ['attn.c_attn', (['q', 'k', 'v'] as const).filter((_, i) => enableLora[i])],
          ...Object.entries(GPT2_MODULE).map(([t, m]): [string, LoraTarget[]] => [m, [t as LoraTarget]]),
        ];
  const layerRe = unfused !== undefined ? new RegExp(`^${unfused.block.replaceAll('.', '\\.')}\\.(\\d+)\\.(.+)\\.lora_[AB]$`) : /^transformer\.h\.(\d+)\.(.+)\.lora_[AB]$/;
  for (const raw of names) {
    const m = layerRe.exec(normaliseLoraName(raw, modelType));
    if (m === null) continue;
    const entry = table.find(([module]) => module === m[2]);
    if (entry === undefined) continue;
    layers.add(Number(m[1]));
    for (const t of entry[1]) targets.add(t);
  }
  return { targets: LORA_ORDER.filter((t) => targets.has(t)), layers: [...layers].sort((a, b) => a - b) };
}

const LORA_ORDER: LoraTarget[] = ['q', 'k', 'v', 'o', 'ffn1', 'ffn2'];
