/**
 * Reads the LoRA A and B matrices of a checkpoint for the subspace analysis (paper Section 7), in
 * either naming:
 * - PEFT (what lora-repro saves, `src/methods/lora-peft.ts`): `adapter_model.safetensors` with
 *   `base_model.model.<module>.lora_A.weight` [r, in] / `.lora_B.weight` [out, r], beside an
 *   `adapter_config.json` (LoraConfig: `r`, `lora_alpha`);
 * - loralib (microsoft/LoRA's `lora_state_dict`, e.g. ../shared/fixtures/real-lora/):
 *   `<module>.lora_A` [r, in] / `<module>.lora_B` [out, r].
 *
 * ΔW = scaling · B·A in nn.Linear orientation [out, in], scaling = α / r (paper Section 4.1).
 * GPT-2's fused c_attn is split back into per-slice adapters: loralib's MergedLinear stacks
 * A = [A_q; A_v] and B = [B_q; B_v]; lora-repro's PEFT artifact holds A = [A_q; A_v] and a
 * block-diagonal B over the 3·d outputs, with the per-slice config in its safetensors metadata.
 * A PEFT c_attn LoRA without that metadata (Python PEFT) stays one module, weight type `c_attn`.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { floatWeights, readSafetensors, type TensorEntry } from '../io/safetensors.ts';
import { LORA_TARGETS } from '../methods/lora-config.ts';
import { LORA_MODULE, isFusedTarget } from '../methods/lora-names.ts';
import { UserError } from '../util/errors.ts';
import { escapeRegExp } from '../util/regex.ts';
import { type Dense, dense } from './linalg.ts';

export type WeightType = 'q' | 'k' | 'v' | 'o' | 'ffn1' | 'ffn2' | 'c_attn';

/** How the paper names each weight type (Section 4.2: W_q, W_k, W_v, W_o). */
export const WEIGHT_LABEL: Readonly<Record<WeightType, string>> = {
  q: 'Wq',
  k: 'Wk',
  v: 'Wv',
  o: 'Wo',
  ffn1: 'Wffn1',
  ffn2: 'Wffn2',
  c_attn: 'Wc_attn',
};

export interface LoraModule {
  /** The module path without prefix, e.g. `roberta.encoder.layer.3.attention.self.query` (GPT-2 slices: `…c_attn[q]`). */
  module: string;
  layer: number;
  weight: WeightType;
  /** r × in. */
  a: Dense;
  /** out × in of ΔW is b·a: out × r. */
  b: Dense;
  r: number;
}

export interface LoraCheckpoint {
  source: string;
  format: 'peft' | 'loralib';
  modelType: 'roberta' | 'gpt2';
  modules: LoraModule[];
  /** lora_alpha, when known (flag, adapter config or metadata); scaling = alpha / r. */
  alpha: number | undefined;
  alphaSource: string;
  /** Tensors that are not LoRA matrices (a trained classifier head, …). */
  other: string[];
}

/** Block-relative module → weight type, from the LoRA module table (GPT-2's fused q/k/v: `c_attn`). */
function weightTypes(modelType: 'roberta' | 'gpt2'): Map<string, WeightType> {
  return new Map(LORA_TARGETS.map((t): [string, WeightType] => [LORA_MODULE[modelType][t], isFusedTarget(modelType, t) ? 'c_attn' : t]));
}
const ROBERTA_TYPE = weightTypes('roberta');
const GPT2_TYPE = weightTypes('gpt2');
const alternatives = (types: Map<string, WeightType>): string => [...types.keys()].map(escapeRegExp).join('|');
// The stem's first part is optional: a bare RobertaModel (PEFT FEATURE_EXTRACTION) and some GPT-2 checkpoints drop it.
const ROBERTA_RE = new RegExp(`^(?:roberta\\.)?encoder\\.layer\\.(\\d+)\\.(${alternatives(ROBERTA_TYPE)})$`);
const GPT2_RE = new RegExp(`^(?:transformer\\.)?h\\.(\\d+)\\.(${alternatives(GPT2_TYPE)})$`);

function toDense(e: TensorEntry, name: string, source: string): Dense {
  if (e.shape.length !== 2) throw new UserError(`${source}: ${name} has shape [${e.shape.join(', ')}], expected a matrix`);
  return dense(e.shape[0], e.shape[1], floatWeights(e, `${source}: ${name}`));
}

function rowsOf(m: Dense, from: number, to: number, colFrom = 0, colTo = m.cols): Dense {
  const out = dense(to - from, colTo - colFrom);
  for (let i = from; i < to; i++) for (let j = colFrom; j < colTo; j++) out.data[(i - from) * out.cols + (j - colFrom)] = m.data[i * m.cols + j];
  return out;
}

export interface ReadOptions {
  /** lora_alpha (overrides what the files say). */
  alpha?: number;
  /** For a GPT-2 loralib c_attn: which of q, k, v the stacked slices are (default q,v for 2 slices, q,k,v for 3). */
  cAttnTargets?: WeightType[];
}

function readJsonObject(path: string): Record<string, unknown> | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const j: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return j !== null && typeof j === 'object' && !Array.isArray(j) ? (j as Record<string, unknown>) : undefined;
  } catch {
    throw new UserError(`${path}: not valid JSON; fix or remove it`);
  }
}

/** Reads a checkpoint file, or a directory holding adapter_model.safetensors (+ adapter_config.json). */
export function readLoraCheckpoint(path: string, opts: ReadOptions = {}): LoraCheckpoint {
  if (!existsSync(path)) throw new UserError(`${path}: not found (give a .safetensors LoRA checkpoint or a directory with adapter_model.safetensors)`);
  const isDir = statSync(path).isDirectory();
  const file = isDir ? join(path, 'adapter_model.safetensors') : path;
  if (!existsSync(file)) throw new UserError(`${path}: no adapter_model.safetensors in this directory`);
  if (!file.endsWith('.safetensors')) throw new UserError(`${file}: only .safetensors checkpoints are read (convert a torch .bin with safetensors.torch.save_file)`);
  const st = readSafetensors(file);
  const config = isDir ? readJsonObject(join(path, 'adapter_config.json')) : undefined;
  const metaCfg = st.metadata.lora_repro_method === 'lora' && st.metadata.lora_repro_config ? (JSON.parse(st.metadata.lora_repro_config) as Record<string, unknown>) : undefined;

  const pairs = new Map<string, { a?: TensorEntry; b?: TensorEntry }>();
  const other: string[] = [];
  let format: 'peft' | 'loralib' | undefined;
  for (const [name, entry] of st.tensors) {
    const peft = /^base_model\.model\.(.+)\.lora_([AB])\.weight$/.exec(name);
    const lib = peft ? null : /^(?:module\.)?(.+)\.lora_([AB])$/.exec(name);
    const m = peft ?? lib;
    if (!m) {
      other.push(name);
      continue;
    }
    const f = peft ? 'peft' : 'loralib';
    if (format !== undefined && format !== f) throw new UserError(`${file}: mixes PEFT and loralib tensor names; save one format`);
    format = f;
    const p = pairs.get(m[1]) ?? {};
    if (m[2] === 'A') p.a = entry;
    else p.b = entry;
    pairs.set(m[1], p);
  }
  if (format === undefined) throw new UserError(`${file}: no LoRA tensors (expected *.lora_A / *.lora_B or base_model.model.*.lora_A.weight)`);

  let alpha = opts.alpha;
  let alphaSource = alpha !== undefined ? '--alpha' : '';
  if (alpha === undefined && typeof metaCfg?.alpha === 'number') [alpha, alphaSource] = [metaCfg.alpha, 'safetensors metadata (lora_repro_config)'];
  if (alpha === undefined && typeof config?.lora_alpha === 'number') [alpha, alphaSource] = [config.lora_alpha, 'adapter_config.json lora_alpha'];
  if (alpha === undefined) alphaSource = 'unknown (not in the file; pass --alpha)';

  const modules: LoraModule[] = [];
  let modelType: 'roberta' | 'gpt2' | undefined;
  for (const [module, p] of pairs) {
    if (!p.a || !p.b) throw new UserError(`${file}: ${module} has lora_${p.a ? 'A' : 'B'} but not lora_${p.a ? 'B' : 'A'}`);
    const a = toDense(p.a, `${module}.lora_A`, file);
    const b = toDense(p.b, `${module}.lora_B`, file);
    const rob = ROBERTA_RE.exec(module);
    const gpt = rob ? null : GPT2_RE.exec(module);
    if (!rob && !gpt) throw new UserError(`${file}: LoRA module ${module} is not a RoBERTa or GPT-2 linear layer this analysis knows`);
    const mt = rob ? 'roberta' : 'gpt2';
    if (modelType !== undefined && modelType !== mt) throw new UserError(`${file}: mixes RoBERTa and GPT-2 module names`);
    modelType = mt;
    const layer = Number((rob ?? gpt)![1]);
    const weight = (rob ? ROBERTA_TYPE.get(rob[2]) : GPT2_TYPE.get(gpt![2]))!;
    if (weight === 'c_attn') modules.push(...splitCAttn(module, layer, a, b, format, metaCfg, opts, file));
    else {
      if (b.cols !== a.rows) throw new UserError(`${file}: ${module} lora_B is ${b.rows}×${b.cols} but lora_A is ${a.rows}×${a.cols} (B's columns must equal A's rows)`);
      modules.push({ module, layer, weight, a, b, r: a.rows });
    }
  }
  const order: WeightType[] = ['q', 'k', 'v', 'c_attn', 'o', 'ffn1', 'ffn2'];
  modules.sort((x, y) => x.layer - y.layer || order.indexOf(x.weight) - order.indexOf(y.weight));
  return { source: file, format, modelType: modelType!, modules, alpha, alphaSource, other };
}

const QKV: WeightType[] = ['q', 'k', 'v'];

function splitCAttn(
  module: string,
  layer: number,
  a: Dense,
  b: Dense,
  format: 'peft' | 'loralib',
  metaCfg: Record<string, unknown> | undefined,
  opts: ReadOptions,
  file: string,
): LoraModule[] {
  const d = a.cols;
  const metaTargets = Array.isArray(metaCfg?.targets) ? (metaCfg.targets as string[]).filter((t): t is WeightType => QKV.includes(t as WeightType)) : undefined;
  if (format === 'loralib') {
    // MergedLinear: A [k·r, d] = stacked A of each enabled slice, B [k·d, r] = stacked B.
    const r = b.cols;
    const k = a.rows / r;
    if (!Number.isInteger(k) || b.rows !== k * d) throw new UserError(`${file}: ${module} lora_A ${a.rows}×${a.cols} and lora_B ${b.rows}×${b.cols} are not a grouped MergedLinear`);
    const targets = opts.cAttnTargets ?? metaTargets ?? (k === 2 ? ['q', 'v'] : k === 3 ? ['q', 'k', 'v'] : undefined);
    if (targets === undefined || targets.length !== k) throw new UserError(`${file}: ${module} holds ${k} slice(s); say which of q,k,v they are with --c-attn-targets`);
    return targets.map((t, j) => ({ module: `${module}[${t}]`, layer, weight: t, a: rowsOf(a, j * r, (j + 1) * r), b: rowsOf(b, j * d, (j + 1) * d), r }));
  }
  // PEFT: A [K, d], B [3d, K]. lora-repro's own artifact: K = k·r, B block-diagonal (see lora-peft.ts).
  const r = typeof metaCfg?.r === 'number' ? metaCfg.r : undefined;
  if (r === undefined || metaTargets === undefined || b.rows !== 3 * d) {
    return [{ module, layer, weight: 'c_attn', a, b, r: a.rows }];
  }
  const order = QKV.filter((t) => metaTargets.includes(t));
  if (order.length * r !== a.rows) throw new UserError(`${file}: ${module} lora_A has ${a.rows} rows, expected ${order.length}·${r} for targets ${order.join(',')}`);
  return order.map((t, j) => {
    const out = QKV.indexOf(t) * d;
    return { module: `${module}[${t}]`, layer, weight: t, a: rowsOf(a, j * r, (j + 1) * r), b: rowsOf(b, out, out + d, j * r, (j + 1) * r), r };
  });
}

/** scaling = α / r (paper Section 4.1), or undefined when α is unknown. */
export function scalingOf(ckpt: LoraCheckpoint, m: LoraModule): number | undefined {
  return ckpt.alpha === undefined ? undefined : ckpt.alpha / m.r;
}
