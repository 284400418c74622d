/**
 * Puts LoRA adapters on the chosen weight matrices of every (or selected) block. The paper adapts
 * W_q and W_v (Section 7.1 / Table 5 compare other choices); GPT-2's fused c_attn gets one adapter
 * per slice (q: columns [0, d), k: [d, 2d), v: [2d, 3d)), the separate-adapter view of loralib's
 * MergedLinear.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { blockLinears, type TransformerModel } from '../models/model.ts';
import type { Linear } from '../models/linear.ts';
import type { Rng } from '../util/rng.ts';
import type { LoraConfig, LoraTarget } from './lora-config.ts';
import { LoraAdapter } from './lora-layer.ts';

export interface LoraInjection {
  config: LoraConfig;
  /** Keyed `<layer>.<target>`, e.g. `0.q`. */
  adapters: Map<string, LoraAdapter>;
}

export function injectLora(model: TransformerModel, config: LoraConfig, rng: Rng): LoraInjection {
  const adapters = new Map<string, LoraAdapter>();
  const layers = config.layers ?? [...Array(model.config.layers).keys()];
  const hidden = model.config.hidden;
  for (const layer of layers) {
    const b = blockLinears(model, layer);
    for (const target of config.targets) {
      let linear: Linear;
      let slice: { outStart?: number; outEnd?: number } = {};
      if (target === 'q' || target === 'k' || target === 'v') {
        linear = b.qkv[target];
        if (b.qkv.fused) {
          const k = target === 'q' ? 0 : target === 'k' ? 1 : 2;
          slice = { outStart: k * hidden, outEnd: (k + 1) * hidden };
        }
      } else {
        linear = b[target];
      }
      const adapter = new LoraAdapter(linear, { r: config.r, alpha: config.alpha, dropout: config.dropout, ...slice }, rng);
      linear.adapters.push(adapter);
      adapters.set(`${layer}.${target}`, adapter);
    }
  }
  return { config, adapters };
}

/** The adapters by block (ascending) and, within a block, by target (in injection order). */
export function adaptersByLayer(inj: LoraInjection): Map<number, Map<LoraTarget, LoraAdapter>> {
  const out = new Map<number, Map<LoraTarget, LoraAdapter>>();
  for (const [key, adapter] of inj.adapters) {
    const [layerText, target] = key.split('.') as [string, LoraTarget];
    const layer = Number(layerText);
    if (!out.has(layer)) out.set(layer, new Map());
    out.get(layer)!.set(target, adapter);
  }
  return new Map([...out].sort((x, y) => x[0] - y[0]));
}

export function loraVariables(inj: LoraInjection): tf.Variable[] {
  return [...inj.adapters.values()].flatMap((a) => [a.A, a.B]);
}

export function mergeLora(inj: LoraInjection): void {
  for (const a of inj.adapters.values()) a.merge();
}

export function unmergeLora(inj: LoraInjection): void {
  for (const a of inj.adapters.values()) a.unmerge();
}

/** Switches every adapter off (the base model) or on again; merged adapters must be unmerged first. */
export function setLoraEnabled(inj: LoraInjection, enabled: boolean): void {
  for (const a of inj.adapters.values()) {
    if (a.isMerged()) throw new Error('unmerge LoRA before disabling it');
    a.enabled = enabled;
  }
}

/** Removes the adapters from their modules and frees them. */
export function removeLora(inj: LoraInjection): void {
  for (const a of inj.adapters.values()) {
    a.unmerge();
    const i = a.target.adapters.indexOf(a);
    if (i >= 0) a.target.adapters.splice(i, 1);
    a.dispose();
  }
  inj.adapters.clear();
}
