/**
 * The official loralib tensor names and layouts (microsoft/LoRA `loralib.lora_state_dict`), so that
 * reference checkpoints load and our gradients compare name for name, and the one importer of such
 * checkpoints (parity fixtures, the released MNLI checkpoint a run may start from, tests).
 *
 * - nn.Linear targets (RoBERTa, DeBERTa-v2): `<module>.lora_A` [r, in], `<module>.lora_B` [out, r]
 *   (module paths: lora-names.ts).
 * - GPT-2's fused c_attn is one MergedLinear with enable_lora [q, k, v]: `lora_A` stacks the A of
 *   each enabled slice ([A_q; A_v] = [2r, in]) and `lora_B` stacks their B ([B_q; B_v] = [2d, r]),
 *   stacked, not interleaved (../shared/fixtures/parity/gpt2-tiny/lora.json).
 *
 * Loading is strict where the reference is not (it calls load_state_dict(strict=False)): every
 * adapter tensor must be present with its shape and no unknown LoRA tensor may be left over, else one
 * UserError lists every problem and nothing is written (artifact.ts, assignStrict).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TensorEntry } from '../io/safetensors.ts';
import type { TransformerModel } from '../models/model.ts';
import { escapeRegExp } from '../util/regex.ts';
import { assignStrict, variableTensor, type ArtifactTensor } from './artifact.ts';
import { LORA_TARGETS, type LoraTarget } from './lora-config.ts';
import { adaptersByLayer, type LoraInjection } from './lora-inject.ts';
import type { LoraAdapter } from './lora-layer.ts';
import { FUSED_TARGETS, LORA_MODULE, blockStem, isFusedTarget, loraModulePath } from './lora-names.ts';

export interface LoralibTensor {
  name: string;
  /** Concatenated along axis 0 in this order. */
  parts: { adapter: LoraAdapter; which: 'A' | 'B' }[];
}

/** Where a loralib checkpoint loads: an injection in its model (an AppliedLora is one). */
export interface LoralibTarget {
  model: TransformerModel;
  injection: LoraInjection;
}

/** A trained head a checkpoint carries beside its LoRA tensors, under Hugging Face names. */
export interface LoralibHead {
  head: tf.Variable[];
  headNames: string[];
}

const LORA_NAME = /\.lora_[AB]$/;

/** Every loralib tensor of an injection, in a stable order. */
export function loralibLayout(model: TransformerModel, inj: LoraInjection): LoralibTensor[] {
  const pair = (m: string, parts: LoraAdapter[]): LoralibTensor[] => [
    { name: `${m}.lora_A`, parts: parts.map((adapter) => ({ adapter, which: 'A' as const })) },
    { name: `${m}.lora_B`, parts: parts.map((adapter) => ({ adapter, which: 'B' as const })) },
  ];
  const out: LoralibTensor[] = [];
  for (const [layer, adapters] of adaptersByLayer(inj)) {
    if (model.modelType !== 'gpt2') {
      for (const [target, adapter] of adapters) out.push(...pair(loraModulePath(model.modelType, layer, target), [adapter]));
      continue;
    }
    // MergedLinear first (its slices stacked in q, k, v order), then the unfused modules.
    const fused = FUSED_TARGETS.filter((t) => adapters.has(t)).map((t) => adapters.get(t)!);
    if (fused.length > 0) out.push(...pair(loraModulePath('gpt2', layer, 'q'), fused));
    for (const target of LORA_TARGETS.filter((t) => !isFusedTarget('gpt2', t))) {
      const adapter = adapters.get(target);
      if (adapter !== undefined) out.push(...pair(loraModulePath('gpt2', layer, target), [adapter]));
    }
  }
  return out;
}

/** Composes one loralib tensor from per-adapter tensors (weights or their gradients). */
export function composeLoralib(t: LoralibTensor, pick: (adapter: LoraAdapter, which: 'A' | 'B') => tf.Tensor): tf.Tensor {
  const parts = t.parts.map((p) => pick(p.adapter, p.which));
  return parts.length === 1 ? parts[0].clone() : tf.concat(parts, 0);
}

const variableOf = (adapter: LoraAdapter, which: 'A' | 'B'): tf.Variable => (which === 'A' ? adapter.A : adapter.B);
const shapeOf = (p: LoralibTensor['parts'][number]): number[] => variableOf(p.adapter, p.which).shape as number[];

/** One loralib tensor as an artifact tensor: read stacks the parts, write splits them by rows. */
function loralibTensor(t: LoralibTensor): ArtifactTensor {
  const rows = (p: LoralibTensor['parts'][number]): number => shapeOf(p)[0];
  const cols = shapeOf(t.parts[0])[1];
  return {
    key: t.name,
    shape: [t.parts.reduce((s, p) => s + rows(p), 0), cols],
    async read() {
      const whole = composeLoralib(t, variableOf);
      try {
        return Float32Array.from((await whole.data()) as Float32Array);
      } finally {
        whole.dispose();
      }
    },
    write(data) {
      let row = 0;
      for (const p of t.parts) {
        const n = rows(p);
        const v = tf.tensor2d(data.subarray(row * cols, (row + n) * cols), [n, cols]);
        variableOf(p.adapter, p.which).assign(v);
        v.dispose();
        row += n;
      }
    },
  };
}

/** The loralib tensors of `into` (and of `head`, under its Hugging Face names), as loralib names them. */
export function loralibTensors(into: LoralibTarget, head?: LoralibHead): ArtifactTensor[] {
  const lora = loralibLayout(into.model, into.injection).map(loralibTensor);
  return head === undefined ? lora : [...lora, ...head.head.map((v, i) => variableTensor(head.headNames[i], v))];
}

/**
 * Normalises a checkpoint name: drops DistributedDataParallel's `module.` prefix and adds GPT-2's
 * `transformer.` prefix where a checkpoint stores names without it.
 */
function normaliseLoraName(name: string, modelType: TransformerModel['modelType']): string {
  let n = name.startsWith('module.') ? name.slice('module.'.length) : name;
  if (modelType === 'gpt2' && n.startsWith('h.')) n = `transformer.${n}`;
  return n;
}

/**
 * Loads a loralib checkpoint's tensors into `into` (`label` names the file in errors). With `head`,
 * the file must hold exactly the LoRA tensors and that head (a `lora_state_dict` plus the trained
 * classifier, e.g. examples/NLU/roberta_base_lora_mnli.bin); without, its other tensors are not used
 * and their names are returned (how a run starts from the released MNLI checkpoint:
 * src/train/init-from.ts explains the head).
 */
export function importLoralib(into: LoralibTarget, tensors: Map<string, TensorEntry>, label: string, head?: LoralibHead): string[] {
  if ([...into.injection.adapters.values()].some((a) => a.isMerged())) throw new Error('lora: unmerge before importing');
  const byName = new Map<string, TensorEntry>();
  const others: string[] = [];
  for (const [raw, t] of tensors) {
    const n = normaliseLoraName(raw, into.model.modelType);
    if (head === undefined && !LORA_NAME.test(n)) others.push(raw);
    else byName.set(n, t);
  }
  assignStrict(label, loralibTensors(into, head), byName);
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
  const modules = LORA_MODULE[modelType];
  const enabled = (t: LoraTarget): boolean => !isFusedTarget(modelType, t) || enableLora[(FUSED_TARGETS as readonly LoraTarget[]).indexOf(t)];
  const layerRe = new RegExp(`^${escapeRegExp(blockStem(modelType))}(\\d+)\\.(.+)\\.lora_[AB]$`);
  for (const raw of names) {
    const m = layerRe.exec(normaliseLoraName(raw, modelType));
    if (m === null) continue;
    const adapted = LORA_TARGETS.filter((t) => modules[t] === m[2]);
    if (adapted.length === 0) continue;
    layers.add(Number(m[1]));
    for (const t of adapted.filter(enabled)) targets.add(t);
  }
  return { targets: LORA_TARGETS.filter((t) => targets.has(t)), layers: [...layers].sort((a, b) => a - b) };
}
