/**
 * LoRA (paper Section 4, Eq. 3) as a method: its layer (lora-layer.ts), put on the model by
 * lora-inject.ts, adds ΔW = (α/r)·B·A to the chosen matrices (W_q, W_k, W_v, W_o, the two FFN
 * matrices) of every block or of a layer subset; B starts at zero, so the adapted model starts as the
 * pretrained one. merge()/unmerge() write ΔW into W₀ and take it out again (Section 4.2: no
 * inference latency). Config: lora-config.ts; module names: lora-names.ts.
 *
 * Count (Section 5.1): |Θ| = 2·L̂_LoRA·d_model·r for d×d matrices; in general each adapted
 * in×out matrix costs r·(in + out) (so an FFN matrix costs r·(d + 4d)).
 * Artifacts are Hugging Face PEFT LoRA adapters (lora-peft.ts).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../models/config.ts';
import type { TransformerModel } from '../models/model.ts';
import { UserError } from '../util/errors.ts';
import type { Rng } from '../util/rng.ts';
import { AppliedBase } from './applied.ts';
import type { ArtifactFiles, ArtifactTensor } from './artifact.ts';
import { checkLayers, defineMethod, fmt, type SaveOptions } from './method.ts';
import { loraSchema, type LoraConfig, type LoraTarget } from './lora-config.ts';
import { injectLora, loraVariables, mergeLora, removeLora, setLoraEnabled, unmergeLora, type LoraInjection } from './lora-inject.ts';
import { isFusedTarget, loraModulePath } from './lora-names.ts';
import { loraConfigFromPeft, peftLoraConfig, peftLoraTensors } from './lora-peft.ts';

/** in + out of the matrix a target adapts (the GPT-2 q/k/v slices of c_attn are d×d each). */
function targetInOut(m: ModelConfig, t: LoraTarget): number {
  const d = m.hidden;
  return t === 'ffn1' || t === 'ffn2' ? d + m.intermediate : 2 * d;
}

function loraCount(m: ModelConfig, c: LoraConfig): number {
  const layers = c.layers?.length ?? m.layers;
  return layers * c.targets.reduce((s, t) => s + c.r * targetInOut(m, t), 0);
}

export class AppliedLora extends AppliedBase {
  readonly injection: LoraInjection;
  readonly trainable: tf.Variable[];
  readonly names: string[];

  constructor(
    model: TransformerModel,
    readonly loraConfig: LoraConfig,
    rng: Rng,
  ) {
    super(model, 'lora', loraConfig);
    this.injection = injectLora(model, loraConfig, rng);
    this.trainable = loraVariables(this.injection);
    this.names = [...this.injection.adapters.keys()].flatMap((k) => {
      const [layer, target] = k.split('.') as [string, LoraTarget];
      const m = loraModulePath(model.modelType, Number(layer), target);
      // GPT-2's q/k/v adapters are slices of the fused c_attn.
      const slice = isFusedTarget(model.modelType, target) ? `[${target}]` : '';
      return [`${m}.lora_A${slice}`, `${m}.lora_B${slice}`];
    });
  }

  get merged(): boolean {
    return [...this.injection.adapters.values()].some((a) => a.isMerged());
  }

  /** W ← W + (α/r)·B·A in every adapted matrix (inference without extra latency). */
  merge(): void {
    this.assertLive();
    if (!this.enabled) throw new UserError('lora: enable the method before merging it');
    mergeLora(this.injection);
  }

  unmerge(): void {
    this.assertLive();
    unmergeLora(this.injection);
  }

  protected setActive(on: boolean): void {
    if (this.merged) throw new UserError('lora: unmerge before disabling or enabling the adapters');
    setLoraEnabled(this.injection, on);
  }

  protected detach(): void {
    removeLora(this.injection);
  }

  protected override ownTensors(): ArtifactTensor[] {
    return peftLoraTensors(this.model, this.injection);
  }

  protected override artifactConfig(opts: SaveOptions): object {
    return peftLoraConfig(this.model, this.loraConfig, this.headNames, opts);
  }

  /** Compares what the artifact adapts (its PEFT config, or our metadata) with this LoRA. */
  protected override checkConfig(files: ArtifactFiles, label: string): void {
    if (files.config.peft_type !== 'LORA') throw new UserError(`${label}: peft_type is ${JSON.stringify(files.config.peft_type)}, expected "LORA"`);
    const meta = files.metadata.lora_repro_method === 'lora' ? files.metadata.lora_repro_config : undefined;
    const raw: unknown = meta !== undefined ? JSON.parse(meta) : loraConfigFromPeft(this.model, files.config, label);
    const parsed = loraSchema.safeParse(raw);
    if (!parsed.success) throw new UserError(`${label}: LoRA config not understood: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const read = parsed.data;
    const mine = this.loraConfig;
    const problems: string[] = [];
    const show = (x: unknown): string => JSON.stringify(x ?? 'all');
    if (read.r !== mine.r) problems.push(`r is ${read.r}, expected ${mine.r}`);
    if (read.alpha !== mine.alpha) problems.push(`lora_alpha is ${read.alpha}, expected ${mine.alpha}`);
    if (read.targets.join() !== mine.targets.join()) problems.push(`targets are ${read.targets.join(',')}, expected ${mine.targets.join(',')}`);
    if (show(read.layers) !== show(mine.layers)) problems.push(`layers are ${show(read.layers)}, expected ${show(mine.layers)}`);
    if (problems.length > 0) throw new UserError(`${label}: LoRA adapter does not fit: ${problems.join('; ')}`);
  }

  override loadArtifact(files: ArtifactFiles, label: string): void {
    // Loading writes A and B; a merged W₀ + ΔW would keep the old ΔW, so take it out first.
    const wasMerged = this.merged;
    if (wasMerged) this.unmerge();
    try {
      super.loadArtifact(files, label);
    } finally {
      if (wasMerged) this.merge();
    }
  }
}

export const loraMethod = defineMethod({
  name: 'lora',
  summary: 'LoRA: ΔW = (α/r)·B·A on the chosen matrices (default W_q, W_v)',
  schema: loraSchema,
  check(m, c) {
    checkLayers(m, c.layers, 'lora');
  },
  apply: (model, config, rng) => new AppliedLora(model, config, rng),
  formula: loraCount,
  formulaText(m, c) {
    const layers = c.layers?.length ?? m.layers;
    const square = c.targets.every((t) => targetInOut(m, t) === 2 * m.hidden);
    if (square) {
      const n = layers * c.targets.length;
      return `|Θ| = 2·L̂_LoRA·d_model·r, L̂_LoRA = ${n} (${c.targets.join(',')} × ${layers} layers): 2·${n}·${m.hidden}·${c.r} = ${fmt(loraCount(m, c))}`;
    }
    const terms = c.targets.map((t) => `${c.r}·${targetInOut(m, t)}`).join(' + ');
    return `|Θ| = Σ r·(in + out) over adapted matrices (2·d_model·r for d×d): ${layers}·(${terms}) = ${fmt(loraCount(m, c))}`;
  },
});
