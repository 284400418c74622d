/**
 * LoRA adapters in Hugging Face PEFT's format, so Python PEFT can load what we train:
 * `PeftModel.from_pretrained(base, dir)` reads `adapter_config.json` (a LoraConfig) and
 * `adapter_model.safetensors` with keys `base_model.model.<module path>.lora_A.weight` [r, in] and
 * `.lora_B.weight` [out, r] (PEFT's get_peft_model_state_dict drops the adapter name "default").
 * The head is listed in `modules_to_save`; PEFT saves a ModulesToSaveWrapper's tensors under the
 * wrapped module's own path (`base_model.model.classifier.dense.weight`: its adapter_state_dict
 * strips `modules_to_save.default.`), which is what we write.
 *
 * GPT-2: PEFT puts one LoRA on the whole fused c_attn (Conv1D, hence `fan_in_fan_out: true`; the
 * tensors keep the [r, in] / [out, r] layout, only merging transposes). Our per-slice adapters on q
 * and v (loralib's MergedLinear with enable_lora [q, k, v]) become one rank-k·r LoRA on c_attn:
 * A = [A_q; A_v] and B block-diagonal (B_q in rows [0, d), B_v in rows [2d, 3d)), with
 * rank_pattern {c_attn: k·r} and alpha_pattern {c_attn: k·α} so that PEFT's scaling α/r is ours and
 * ΔW = (kα/kr)·B·A = (α/r)·(B_q·A_q ⊕ B_v·A_v) exactly. Loading refuses a c_attn B with non-zero
 * entries outside those blocks (not representable as per-slice adapters).
 *
 * Targets PEFT >= PEFT_MIN_VERSION (peft-layout.ts); docs/peft.md shows the loading code.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TransformerModel } from '../models/model.ts';
import { LORA_TARGETS, type LoraConfig, type LoraTarget } from './lora-config.ts';
import { adaptersByLayer, type LoraInjection } from './lora-inject.ts';
import type { LoraAdapter } from './lora-layer.ts';
import { LORA_MODULE, PEFT_TARGET_NAME, loraModulePath } from './lora-names.ts';
import { PEFT_PREFIX, variableTensor, type ArtifactTensor } from './artifact.ts';
import { modulesToSave, peftAutoMapping, peftBaseModel, peftModuleName, peftTaskType } from './peft-layout.ts';
import { UserError } from '../util/errors.ts';
import { escapeRegExp } from '../util/regex.ts';
import type { SaveOptions } from './method.ts';

/**
 * The LoraConfig fields PEFT needs (and nothing PEFT would not know). LoraConfig.__post_init__
 * (peft/tuners/lora/config.py, every version since 0.6) raises when target_modules is a regex
 * string and layers_to_transform or layers_pattern is set: a regex carries the layer subset itself.
 */
export function peftLoraConfig(model: TransformerModel, c: LoraConfig, headNames: string[], opts: SaveOptions): Record<string, unknown> {
  // RoBERTa and DeBERTa-v2: one nn.Linear per target (DeBERTa's are `query_proj` …); GPT-2: fused Conv1D.
  const roberta = model.modelType !== 'gpt2';
  const peftNames = PEFT_TARGET_NAME[model.modelType];
  const moduleTable = LORA_MODULE[model.modelType];
  const names = [...new Set(c.targets.map((t) => peftNames[t]))];
  // RoBERTa's FFN output `output.dense` is also a suffix of `attention.output.dense`: PEFT then
  // needs a full-match regex (re.fullmatch in check_target_module_exists) instead of the suffix list.
  const ambiguous = roberta && c.targets.includes('ffn2');
  const layerRe = c.layers ? `(${c.layers.join('|')})` : '\\d+';
  const targetModules = ambiguous
    ? `.*\\.layer\\.${layerRe}\\.(${[...new Set(c.targets.map((t) => escapeRegExp(moduleTable[t])))].join('|')})`
    : names;
  const byLayerList = c.layers !== undefined && !ambiguous;
  const fused = roberta ? 0 : c.targets.filter((t) => t === 'q' || t === 'k' || t === 'v').length;
  const base = peftBaseModel(opts.baseModel);
  return {
    peft_type: 'LORA',
    task_type: peftTaskType(model),
    auto_mapping: peftAutoMapping(model),
    base_model_name_or_path: base.name,
    revision: base.revision,
    inference_mode: true,
    r: c.r,
    target_modules: targetModules,
    lora_alpha: c.alpha,
    lora_dropout: c.dropout,
    fan_in_fan_out: !roberta,
    bias: 'none',
    modules_to_save: modulesToSave(model, headNames),
    init_lora_weights: true,
    layers_to_transform: byLayerList ? c.layers : null,
    layers_pattern: byLayerList ? (roberta ? 'layer' : 'h') : null,
    rank_pattern: fused > 1 ? { c_attn: fused * c.r } : {},
    alpha_pattern: fused > 1 ? { c_attn: fused * c.alpha } : {},
  };
}

/** A LoRA module's key prefix in the artifact (module path in the class PEFT wraps). */
function peftKey(model: TransformerModel, layer: number, target: LoraTarget): string {
  return `${PEFT_PREFIX}${peftModuleName(model, loraModulePath(model.modelType, layer, target))}`;
}

/** GPT-2's fused c_attn slices as one PEFT LoRA (see the file comment). */
function fusedTensors(prefix: string, slices: LoraAdapter[], d: number): ArtifactTensor[] {
  const r = slices[0].A.shape[0];
  const k = slices.length;
  const out = 3 * d;
  const a: ArtifactTensor = {
    key: `${prefix}.lora_A.weight`,
    shape: [k * r, d],
    async read() {
      // The concatenation outlives tidy (it is its result): dispose it once read.
      const t = tf.concat(slices.map((s) => s.A), 0);
      try {
        return Float32Array.from((await t.data()) as Float32Array);
      } finally {
        t.dispose();
      }
    },
    write(data) {
      slices.forEach((s, j) => {
        const t = tf.tensor2d(data.subarray(j * r * d, (j + 1) * r * d), [r, d]);
        s.A.assign(t);
        t.dispose();
      });
    },
  };
  const b: ArtifactTensor = {
    key: `${prefix}.lora_B.weight`,
    shape: [out, k * r],
    async read() {
      const full = new Float32Array(out * k * r);
      const blocks = await Promise.all(slices.map((s) => s.B.data() as Promise<Float32Array>)); // [d, r] each
      slices.forEach((s, j) => {
        const data = blocks[j];
        for (let i = 0; i < d; i++) for (let c = 0; c < r; c++) full[(s.outStart + i) * k * r + j * r + c] = data[i * r + c];
      });
      return full;
    },
    validate(data) {
      let bad = 0;
      for (let row = 0; row < out; row++) {
        for (let col = 0; col < k * r; col++) {
          const s = slices[Math.floor(col / r)];
          if ((row < s.outStart || row >= s.outEnd) && data[row * k * r + col] !== 0) bad++;
        }
      }
      return bad === 0 ? undefined : `${bad} non-zero entries outside the blocks of the adapted q/k/v slices (not representable as per-slice LoRA)`;
    },
    write(data) {
      slices.forEach((s, j) => {
        const block = new Float32Array(d * r);
        for (let i = 0; i < d; i++) for (let c = 0; c < r; c++) block[i * r + c] = data[(s.outStart + i) * k * r + j * r + c];
        const t = tf.tensor2d(block, [d, r]);
        s.B.assign(t);
        t.dispose();
      });
    },
  };
  return [a, b];
}

/** Every LoRA tensor of the injection under its PEFT key. */
export function peftLoraTensors(model: TransformerModel, inj: LoraInjection): ArtifactTensor[] {
  const out: ArtifactTensor[] = [];
  for (const [layer, adapters] of adaptersByLayer(inj)) {
    if (model.modelType === 'gpt2') {
      const slices = (['q', 'k', 'v'] as const).filter((t) => adapters.has(t)).map((t) => adapters.get(t)!);
      if (slices.length > 0) out.push(...fusedTensors(peftKey(model, layer, 'q'), slices, model.config.hidden));
    }
    for (const [target, a] of adapters) {
      if (model.modelType === 'gpt2' && (target === 'q' || target === 'k' || target === 'v')) continue;
      const p = peftKey(model, layer, target);
      out.push(variableTensor(`${p}.lora_A.weight`, a.A), variableTensor(`${p}.lora_B.weight`, a.B));
    }
  }
  return out;
}

function matcher(targetModules: unknown, label: string): (path: string) => boolean {
  if (typeof targetModules === 'string') {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${targetModules})$`);
    } catch {
      throw new UserError(`${label}: target_modules regex ${JSON.stringify(targetModules)} is not valid`);
    }
    return (p) => re.test(p);
  }
  if (Array.isArray(targetModules) && targetModules.every((t) => typeof t === 'string')) {
    return (p) => targetModules.some((t: string) => p === t || p.endsWith(`.${t}`));
  }
  throw new UserError(`${label}: target_modules must be a list of names or a regex string`);
}

/**
 * Our LoRA config (raw, validated later by the schema) from a PEFT LoraConfig written by Python PEFT.
 * It maps when the adapted modules are ours: RoBERTa query/key/value/attention.output.dense/
 * intermediate.dense/output.dense (a suffix list or a full-match regex, optional
 * layers_to_transform), GPT-2 c_proj/c_fc/mlp.c_proj. PEFT's LoRA on GPT-2's whole fused c_attn is
 * one [r, d] × [3d, r] pair our per-slice adapters cannot hold (only lora-repro's own c_attn
 * artifacts, which carry their config in the safetensors metadata, load). Per-module ranks, DoRA,
 * rsLoRA and trained biases are refused.
 */
export function loraConfigFromPeft(model: TransformerModel, c: Record<string, unknown>, label: string): Record<string, unknown> {
  const refuse: string[] = [];
  if (c.use_dora === true) refuse.push('DoRA');
  if (c.use_rslora === true) refuse.push('rsLoRA scaling');
  if (c.bias !== undefined && c.bias !== 'none') refuse.push(`bias "${String(c.bias)}"`);
  for (const k of ['rank_pattern', 'alpha_pattern']) if (c[k] && Object.keys(c[k] as object).length > 0) refuse.push(`per-module ${k}`);
  if (refuse.length > 0) throw new UserError(`${label}: unsupported PEFT LoRA features: ${refuse.join(', ')}`);
  const match = matcher(c.target_modules, label);
  const only = c.layers_to_transform;
  const layerFilter = typeof only === 'number' ? [only] : Array.isArray(only) ? (only as number[]) : undefined;
  const perLayer = new Map<number, LoraTarget[]>();
  for (let layer = 0; layer < model.config.layers; layer++) {
    if (layerFilter !== undefined && !layerFilter.includes(layer)) continue;
    const hits = LORA_TARGETS.filter((t) => match(peftModuleName(model, loraModulePath(model.modelType, layer, t))));
    if (hits.length > 0) perLayer.set(layer, hits);
  }
  if (perLayer.size === 0) throw new UserError(`${label}: target_modules ${JSON.stringify(c.target_modules)} match no module of this ${model.modelType} model`);
  const sets = [...new Set([...perLayer.values()].map((t) => t.join(',')))];
  if (sets.length > 1) throw new UserError(`${label}: layers adapt different module sets (${sets.join(' / ')}); not representable`);
  const targets = [...perLayer.values()][0];
  if (model.modelType === 'gpt2' && targets.some((t) => t === 'q' || t === 'k' || t === 'v')) {
    throw new UserError(`${label}: a PEFT LoRA on GPT-2's whole fused c_attn has no per-slice equivalent here (only c_attn adapters written by lora-repro load)`);
  }
  const layers = [...perLayer.keys()];
  return {
    r: c.r,
    alpha: c.lora_alpha,
    dropout: c.lora_dropout ?? 0,
    targets,
    ...(layers.length < model.config.layers ? { layers } : {}),
  };
}
