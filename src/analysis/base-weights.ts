/**
 * The pre-trained W₀ of an adapted module, for the W-dependent quantities of paper Section 7.3
 * (Table 7). Read from a Hugging Face `model.safetensors` (a file, or a model directory holding
 * one), returned in nn.Linear orientation [out, in] like ΔW = scaling·B·A:
 * - RoBERTa: `roberta.encoder.layer.N.<module>.weight` is nn.Linear [out, in] (base-model
 *   checkpoints omit the `roberta.` prefix);
 * - GPT-2: Conv1D weights are [in, out] (`transformer.h.N.attn.c_attn.weight`, [d, 3d]); the q/k/v
 *   slice is columns [0,d) / [d,2d) / [2d,3d), transposed.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { floatWeights, readSafetensors, type SafetensorsFile } from '../io/safetensors.ts';
import { UserError } from '../util/errors.ts';
import { type Dense, dense } from './linalg.ts';
import type { LoraModule } from './lora-weights.ts';

export interface BaseWeights {
  source: string;
  file: SafetensorsFile;
}

export function openBaseWeights(path: string): BaseWeights {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'model.safetensors') : path;
  if (!existsSync(file)) throw new UserError(`${file}: base weights not found (give the pre-trained model.safetensors or its directory)`);
  return { source: file, file: readSafetensors(file) };
}

function moduleBase(m: LoraModule): string {
  return m.module.replace(/\[[qkv]\]$/, '');
}

/** W₀ [out, in] of one adapted module, or undefined when the checkpoint lacks it. */
export function baseWeightOf(base: BaseWeights, m: LoraModule): Dense | undefined {
  const mod = moduleBase(m);
  const bare = mod.replace(/^(roberta|transformer)\./, '');
  const candidates = [`${mod}.weight`, `${bare}.weight`, `roberta.${bare}.weight`, `transformer.${bare}.weight`];
  const name = candidates.find((c) => base.file.tensors.has(c));
  if (name === undefined) return undefined;
  const e = base.file.tensors.get(name)!;
  if (e.shape.length !== 2) throw new UserError(`${base.source}: ${name} is not a matrix`);
  const [rows, cols] = e.shape;
  const data = floatWeights(e, `${base.source}: ${name}`);
  const outDim = m.b.rows;
  const inDim = m.a.cols;
  if (/\.h\.\d+\./.test(name)) {
    // GPT-2 Conv1D [in, out]: take the slice's columns, then transpose to [out, in].
    const slice = /\[([qkv])\]$/.exec(m.module)?.[1];
    const offset = slice === undefined ? 0 : 'qkv'.indexOf(slice) * outDim;
    if (rows !== inDim || offset + outDim > cols) throw new UserError(`${base.source}: ${name} is ${rows}×${cols}, does not fit a ${outDim}×${inDim} ΔW`);
    const w = dense(outDim, inDim);
    for (let i = 0; i < inDim; i++) for (let o = 0; o < outDim; o++) w.data[o * inDim + i] = data[i * cols + offset + o];
    return w;
  }
  if (rows !== outDim || cols !== inDim) throw new UserError(`${base.source}: ${name} is ${rows}×${cols}, ΔW of ${m.module} is ${outDim}×${inDim}`);
  return dense(rows, cols, data);
}
