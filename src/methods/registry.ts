/**
 * Every adaptation method by name: the baselines of the paper's Section 5.1 and Tables 2–3, LoRA,
 * and the two related methods the paper discusses (Compacter, intrinsic-subspace fine-tuning).
 */
import { UserError } from '../util/errors.ts';
import { adapterDMethod } from './adapter-d.ts';
import { adapterHMethod } from './adapter-h.ts';
import { adapterLMethod } from './adapter-l.ts';
import { adapterPMethod } from './adapter-p.ts';
import { bitfitMethod } from './bitfit.ts';
import { compacterMethod } from './compacter.ts';
import { ftMethod } from './ft.ts';
import { ftTop2Method } from './ft-top2.ts';
import { intrinsicMethod } from './intrinsic.ts';
import { loraMethod } from './lora.ts';
import type { ConfiguredMethod, Method } from './method.ts';
import { prefixEmbedMethod } from './prefix-embed.ts';
import { prefixLayerMethod } from './prefix-layer.ts';

export const METHODS: readonly Method[] = [
  ftMethod,
  ftTop2Method,
  bitfitMethod,
  adapterHMethod,
  adapterPMethod,
  adapterLMethod,
  adapterDMethod,
  prefixEmbedMethod,
  prefixLayerMethod,
  loraMethod,
  compacterMethod,
  intrinsicMethod,
];

export const METHOD_NAMES: readonly string[] = METHODS.map((m) => m.name);

export function getMethod(name: string): Method {
  const m = METHODS.find((x) => x.name === name);
  if (m === undefined) throw new UserError(`unknown method '${name}' (one of ${METHOD_NAMES.join(', ')})`);
  return m;
}

/** Looks up `name` and validates `rawConfig` (undefined: defaults). */
export function configureMethod(name: string, rawConfig?: unknown): ConfiguredMethod {
  return getMethod(name).configure(rawConfig);
}
