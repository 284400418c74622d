/**
 * The bottleneck adapter layer shared by Adapter^H, ^P, ^L and ^D (Houlsby et al. 2019, Fig. 2;
 * paper Section 5.1): h ↦ h + W_up·σ(W_down·x + b_down) + b_up, with x = h, or x = LN(h) for Lin
 * et al. 2020, whose adapter normalises its input with its own LayerNorm. One adapter has
 * 2·d·r + r + d parameters (the paper's per-adapter term); a trainable LayerNorm adds 2d.
 *
 * W_up and b_up start at zero, so every adapter is the identity at initialisation and the adapted
 * model starts as the pretrained one. Weights are stored as nn.Linear [out, in] under the names of
 * the reference code (examples/NLU/.../adapter.py: `adapter_A` = down, `adapter_B` = up).
 *
 * Adapters plug into the model through `model.hooks` (models/hooks.ts): after the attention output
 * projection, after the FFN output (both before the residual + LayerNorm) or after the whole block.
 *
 * Pfeiffer et al.'s adapter (`pfeiffer`) reads another input: the sub-layer output plus its residual,
 * through the block's own (frozen) LayerNorm, x = LN(f + h), and adds its output to f, so the block
 * computes LN(f + W_up·σ(W_down·x + b_down) + b_up + h). This is AdapterHub's SeqBnConfig
 * (adapters/configuration/adapter_config.py: original_ln_before, original_ln_after,
 * residual_before_ln = True; methods/modeling.py `Adapter.pre_forward` / `post_forward`) and what
 * the LoRA repo ran for its Adapter^P rows (examples/NLU/.../roberta/modeling_roberta.py,
 * `RobertaOutput.forward`, adapter_type 'pfeiffer'). GPT-2 normalises before its sub-layers, so
 * there is no LayerNorm at that point: AdapterHub's GPT-2 passes layer_norm=None and the adapter
 * reads f + h (adapters/models/gpt2/modeling_gpt2.py).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ForwardContext } from '../models/context.ts';
import type { BlockHooks } from '../models/hooks.ts';
import { matMul } from '../models/matmul.ts';
import { blockPrefix, type TransformerModel } from '../models/model.ts';
import { layerNorm } from '../models/ops.ts';
import { init } from '../models/param-store.ts';
import { makeVariable } from '../models/shape-only.ts';
import type { Rng } from '../util/rng.ts';
import { AppliedBase } from './applied.ts';

export const ADAPTER_ACTIVATIONS = ['relu', 'swish', 'gelu', 'tanh'] as const;
export type AdapterActivation = (typeof ADAPTER_ACTIVATIONS)[number];

/** Hook sites: after the attention sub-layer, after the FFN sub-layer, after the block. */
export type AdapterSite = 'afterAttention' | 'afterFfn' | 'afterBlock';

export interface AdapterPlacement {
  layer: number;
  site: AdapterSite;
}

export interface AdapterOptions {
  r: number;
  activation: AdapterActivation;
  /** Lin et al.: a LayerNorm on the adapter input; `trainable` makes its gain and bias train. */
  layerNorm?: { trainable: boolean };
  /** Pfeiffer et al.: the adapter reads LN(output + residual) (module comment). */
  pfeiffer?: boolean;
}

/** The block's frozen LayerNorm that Pfeiffer's adapter input goes through; undefined: none there. */
export interface FrozenNorm {
  weight: tf.Tensor;
  bias: tf.Tensor;
}

/**
 * The LayerNorm a post-LN block (RoBERTa) applies after the sub-layer at `p`; GPT-2 (pre-LN) has
 * none after a sub-layer.
 */
function blockNormAfter(model: TransformerModel, p: AdapterPlacement): FrozenNorm | undefined {
  if (model.modelType === 'gpt2') return undefined;
  const l = blockPrefix(model.modelType, p.layer);
  const name = p.site === 'afterAttention' ? `${l}.attention.output.LayerNorm` : `${l}.output.LayerNorm`;
  return { weight: model.params.get(`${name}.weight`), bias: model.params.get(`${name}.bias`) };
}

export function activate(name: AdapterActivation, x: tf.Tensor): tf.Tensor {
  switch (name) {
    case 'relu':
      return tf.relu(x);
    case 'swish': // x·sigmoid(x), transformers' "swish" used by the reference Houlsby adapter.
      return tf.mul(x, tf.sigmoid(x));
    case 'gelu':
      return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
    case 'tanh':
      return tf.tanh(x);
  }
}

/** The module path of the adapter at a site, mirroring where the reference code puts it. */
export function adapterModuleName(model: TransformerModel, p: AdapterPlacement): string {
  if (model.modelType !== 'gpt2') {
    const l = blockPrefix(model.modelType, p.layer);
    return p.site === 'afterAttention' ? `${l}.attention.output.adapter` : p.site === 'afterFfn' ? `${l}.output.adapter` : `${l}.adapter`;
  }
  const l = `transformer.h.${p.layer}`;
  return p.site === 'afterAttention' ? `${l}.attn.adapter` : p.site === 'afterFfn' ? `${l}.mlp.adapter` : `${l}.adapter`;
}

export class BottleneckAdapter implements SiteModule {
  readonly downW: tf.Variable;
  readonly downB: tf.Variable;
  readonly upW: tf.Variable;
  readonly upB: tf.Variable;
  readonly lnW?: tf.Variable;
  readonly lnB?: tf.Variable;

  constructor(
    readonly name: string,
    d: number,
    readonly options: AdapterOptions,
    private readonly eps: number,
    std: number,
    rng: Rng,
    /** With `options.pfeiffer`: the block's LayerNorm on the adapter input (undefined: none). */
    private readonly blockNorm?: FrozenNorm,
  ) {
    const r = options.r;
    this.downW = makeVariable(init.normal([r, d], std, rng));
    this.downB = makeVariable(init.zeros([r]));
    this.upW = makeVariable(init.zeros([d, r]));
    this.upB = makeVariable(init.zeros([d]));
    if (options.layerNorm !== undefined) {
      this.lnW = makeVariable(init.ones([d]));
      this.lnB = makeVariable(init.zeros([d]));
    }
  }

  /** Trainable tensors with their names (the LayerNorm only when it trains). */
  parameters(): { name: string; v: tf.Variable }[] {
    const out = [
      { name: `${this.name}.adapter_A.weight`, v: this.downW },
      { name: `${this.name}.adapter_A.bias`, v: this.downB },
      { name: `${this.name}.adapter_B.weight`, v: this.upW },
      { name: `${this.name}.adapter_B.bias`, v: this.upB },
    ];
    if (this.lnW !== undefined && this.lnB !== undefined && this.options.layerNorm?.trainable) {
      out.push({ name: `${this.name}.ln.weight`, v: this.lnW }, { name: `${this.name}.ln.bias`, v: this.lnB });
    }
    return out;
  }

  forward(h: tf.Tensor3D, residual: tf.Tensor3D | undefined): tf.Tensor3D {
    return tf.tidy(() => {
      const [b, l, d] = h.shape;
      let x: tf.Tensor = h;
      if (this.options.pfeiffer) {
        if (residual === undefined) throw new Error(`${this.name}: a Pfeiffer adapter needs the sub-layer's residual`);
        x = tf.add(h, residual);
        if (this.blockNorm !== undefined) x = layerNorm(x, this.blockNorm.weight, this.blockNorm.bias, this.eps);
      }
      if (this.lnW !== undefined && this.lnB !== undefined) x = layerNorm(x, this.lnW, this.lnB, this.eps);
      const flat = tf.reshape(x, [b * l, d]);
      const down = activate(this.options.activation, tf.add(matMul(flat, this.downW, true), this.downB));
      const up = tf.add(matMul(down, this.upW, true), this.upB);
      return tf.add(h, tf.reshape(up, [b, l, d])) as tf.Tensor3D;
    });
  }

  dispose(): void {
    for (const v of [this.downW, this.downB, this.upW, this.upB, this.lnW, this.lnB]) v?.dispose();
  }
}

/**
 * A module applied to the hidden states at a hook site; `residual` is the sub-layer's residual input
 * (undefined after the block).
 */
export interface SiteModule {
  forward(h: tf.Tensor3D, residual: tf.Tensor3D | undefined): tf.Tensor3D;
  /** Its trainable tensors with their artifact names. */
  parameters(): { name: string; v: tf.Variable }[];
  /** Frees every tensor it owns (trainable or not). */
  dispose(): void;
}

export function siteKey(p: AdapterPlacement): string {
  return `${p.site}:${p.layer}`;
}

/** Routes each hook call to the module placed at that (site, layer), if any. */
class SiteHooks implements BlockHooks {
  enabled = true;

  constructor(private readonly at: Map<string, SiteModule>) {}

  private run(site: AdapterSite, layer: number, h: tf.Tensor3D, residual: tf.Tensor3D | undefined): tf.Tensor3D {
    const a = this.enabled ? this.at.get(siteKey({ site, layer })) : undefined;
    return a === undefined ? h : a.forward(h, residual);
  }

  afterAttention(layer: number, h: tf.Tensor3D, _ctx: ForwardContext, residual: tf.Tensor3D): tf.Tensor3D {
    return this.run('afterAttention', layer, h, residual);
  }

  afterFfn(layer: number, h: tf.Tensor3D, _ctx: ForwardContext, residual: tf.Tensor3D): tf.Tensor3D {
    return this.run('afterFfn', layer, h, residual);
  }

  afterBlock(layer: number, h: tf.Tensor3D, _ctx: ForwardContext): tf.Tensor3D {
    return this.run('afterBlock', layer, h, undefined);
  }
}

/**
 * Modules at hook sites wired into the model's hooks: what every adapter-style method (the bottleneck
 * adapters below, Compacter) shares. `shared` are trainable tensors every module uses (Compacter's
 * PHM rule), listed first. Disabling switches the hooks off; removing takes them out of the model and
 * frees the modules and the shared tensors.
 */
export class AppliedSiteModules extends AppliedBase {
  readonly trainable: tf.Variable[];
  readonly names: string[];
  private readonly hooks: SiteHooks;

  constructor(
    model: TransformerModel,
    name: string,
    config: object,
    private readonly at: Map<string, SiteModule>,
    private readonly shared: { name: string; v: tf.Variable }[] = [],
  ) {
    super(model, name, config);
    const params = [...shared, ...[...at.values()].flatMap((m) => m.parameters())];
    this.trainable = params.map((p) => p.v);
    this.names = params.map((p) => p.name);
    this.hooks = new SiteHooks(at);
    model.hooks.push(this.hooks);
  }

  protected setActive(on: boolean): void {
    this.hooks.enabled = on;
  }

  protected detach(): void {
    const i = this.model.hooks.indexOf(this.hooks);
    if (i >= 0) this.model.hooks.splice(i, 1);
    for (const m of this.at.values()) m.dispose();
    for (const p of this.shared) p.v.dispose();
  }
}

/** Bottleneck adapters at the given placements (a later placement at the same site replaces an earlier one). */
function placeAdapters(model: TransformerModel, name: string, placements: AdapterPlacement[], options: AdapterOptions, rng: Rng): Map<string, BottleneckAdapter> {
  const at = new Map<string, BottleneckAdapter>();
  const eps = model.config.layerNormEps;
  for (const p of placements) {
    if (options.pfeiffer && p.site === 'afterBlock') throw new Error(`${name}: a Pfeiffer adapter sits after a sub-layer, not after the block`);
    const norm = options.pfeiffer ? blockNormAfter(model, p) : undefined;
    const a = new BottleneckAdapter(adapterModuleName(model, p), model.config.hidden, options, eps, model.config.initializerRange, rng, norm);
    at.set(siteKey(p), a);
  }
  return at;
}

/** Adapters at the given placements, wired into the model's hooks. */
export class AppliedAdapters extends AppliedSiteModules {
  readonly adapters: BottleneckAdapter[];

  constructor(model: TransformerModel, name: string, config: object, placements: AdapterPlacement[], options: AdapterOptions, rng: Rng) {
    const at = placeAdapters(model, name, placements, options, rng);
    super(model, name, config, at);
    this.adapters = [...at.values()];
  }
}

/** The paper's adapter count (Section 5.1): L̂_Adpt·(2·d·r + r + d) + 2·L̂_LN·d. */
export function adapterFormula(d: number, r: number, adapters: number, trainableLns: number): number {
  return adapters * (2 * d * r + r + d) + 2 * trainableLns * d;
}
