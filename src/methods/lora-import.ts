/**
 * Imports an official loralib checkpoint (microsoft/LoRA `lora.lora_state_dict` plus the trained
 * head, e.g. examples/NLU/roberta_base_lora_mnli.bin) into an applied LoRA method. The names and
 * layouts are loralib's (src/lora/loralib-format.ts: `<module>.lora_A` [r, in], `.lora_B` [out, r],
 * GPT-2's c_attn stacking the enabled slices); head tensors keep their Hugging Face names.
 *
 * Strict where the reference is not (it calls load_state_dict(strict=False)): every adapter and
 * head tensor must be present with its shape and every tensor of the file must be mapped, else one
 * UserError lists every problem and nothing is written.
 */
import * as tf from '@tensorflow/tfjs-core';
import { toFloat32, type TensorEntry } from '../io/safetensors.ts';
import { importLoralib, loralibLayout, normaliseLoraName, type LoralibTensor } from '../lora/loralib-format.ts';
import { assignStrict, variableTensor, type ArtifactTensor } from './artifact.ts';
import type { AppliedLora } from './lora.ts';

function loralibTensor(t: LoralibTensor): ArtifactTensor {
  const shapeOf = (p: LoralibTensor['parts'][number]): number[] => (p.which === 'A' ? p.adapter.A : p.adapter.B).shape as number[];
  const rows = (p: LoralibTensor['parts'][number]): number => shapeOf(p)[0];
  const cols = shapeOf(t.parts[0])[1];
  const total = t.parts.reduce((s, p) => s + rows(p), 0);
  return {
    key: t.name,
    shape: [total, cols],
    read: () => Float32Array.from(tf.tidy(() => tf.concat(t.parts.map((p) => (p.which === 'A' ? p.adapter.A : p.adapter.B)), 0)).dataSync() as Float32Array),
    write(data) {
      let row = 0;
      for (const p of t.parts) {
        const n = rows(p);
        const v = tf.tensor2d(data.subarray(row * cols, (row + n) * cols), [n, cols]);
        (p.which === 'A' ? p.adapter.A : p.adapter.B).assign(v);
        v.dispose();
        row += n;
      }
    },
  };
}

/** The loralib tensors (and head) of `applied`, keyed as loralib names them. */
export function loralibTensors(applied: AppliedLora): ArtifactTensor[] {
  const lora = loralibLayout(applied.model, applied.injection).map(loralibTensor);
  const head = applied.head.map((v, i) => variableTensor(applied.headNames[i], v));
  return [...lora, ...head];
}

/** Loads a loralib checkpoint's tensors (`label` names the file in errors). */
export function importLoralibCheckpoint(applied: AppliedLora, tensors: Map<string, TensorEntry>, label: string): void {
  if (applied.merged) throw new Error('lora: unmerge before importing');
  const byName = new Map<string, TensorEntry>();
  for (const [raw, t] of tensors) byName.set(normaliseLoraName(raw, applied.model.modelType), t);
  assignStrict(label, loralibTensors(applied), byName);
}

/**
 * Loads only a loralib checkpoint's LoRA tensors (strictly: every adapter present with its shape, no
 * unknown LoRA tensor); its other tensors (the trained head) are not used. Returns their names. This
 * is how a run starts from the released MNLI checkpoint (src/train/init-from.ts explains the head).
 */
export function importLoralibAdapter(applied: AppliedLora, tensors: Map<string, TensorEntry>, label: string): string[] {
  if (applied.merged) throw new Error('lora: unmerge before importing');
  const sources = new Map([...tensors].map(([k, t]) => [k, { shape: t.shape, data: toFloat32(t) }]));
  return importLoralib(applied.model, applied.injection, sources, label);
}
