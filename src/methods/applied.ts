/**
 * What every applied method shares: the task head (trained with every method, as the reference
 * run_glue.py keeps all non-backbone parameters trainable, but excluded from the paper's counts),
 * the enabled switch, and saving/loading its own tensors plus the head.
 *
 * Methods other than LoRA write a LORA_REPRO adapter_config.json (same two-file shape as PEFT, their
 * own config); LoRA overrides the config with a real PEFT LoraConfig (lora.ts).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { TransformerModel } from '../models/model.ts';
import { UserError } from '../util/errors.ts';
import {
  PEFT_PREFIX,
  assignStrict,
  readArtifact,
  variableTensor,
  writeArtifact,
  type ArtifactFiles,
  type ArtifactTensor,
} from './artifact.ts';
import type { AppliedMethod, MethodConfig, SaveOptions } from './method.ts';
import { modulesToSave, peftBaseModel, peftHeadTensors, peftTaskType } from './peft-layout.ts';

/** `peft_type` of artifacts that PEFT has no type for. */
export const LORA_REPRO_PEFT_TYPE = 'LORA_REPRO';

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export abstract class AppliedBase implements AppliedMethod {
  readonly head: tf.Variable[];
  readonly headNames: string[];
  /** The config as plain JSON (what artifacts record; undefined options dropped). */
  readonly config: MethodConfig;
  private on = true;
  private removed = false;

  constructor(
    readonly model: TransformerModel,
    readonly name: string,
    config: object,
  ) {
    this.config = JSON.parse(JSON.stringify(config)) as MethodConfig;
    this.headNames = model.headParamNames();
    this.head = this.headNames.map((n) => model.params.get(n));
  }

  abstract readonly trainable: tf.Variable[];
  abstract readonly names: string[];

  /** Switches the method's effect on the forward pass. */
  protected abstract setActive(on: boolean): void;
  /** Takes the (active) method out of the model, restores the base model, frees the method's state. */
  protected abstract detach(): void;

  get enabled(): boolean {
    return this.on;
  }

  protected assertLive(): void {
    if (this.removed) throw new Error(`${this.name}: the method was removed`);
  }

  disable(): void {
    this.assertLive();
    if (!this.on) return;
    this.setActive(false);
    this.on = false;
  }

  enable(): void {
    this.assertLive();
    if (this.on) return;
    this.setActive(true);
    this.on = true;
  }

  remove(): void {
    if (this.removed) return;
    if (!this.on) this.enable();
    this.detach();
    this.removed = true;
  }

  /** The method's own tensors in the artifact; by default its trainable variables under their names. */
  protected ownTensors(): ArtifactTensor[] {
    return this.trainable.map((v, i) => variableTensor(PEFT_PREFIX + this.names[i], v));
  }

  /** The head under PEFT's modules_to_save key convention: `base_model.model.classifier.dense.weight`. */
  protected headTensors(): ArtifactTensor[] {
    return peftHeadTensors(this.model, this.head, this.headNames);
  }

  protected artifactConfig(opts: SaveOptions): object {
    return {
      peft_type: LORA_REPRO_PEFT_TYPE,
      method: this.name,
      method_config: this.config,
      model_type: this.model.modelType,
      task_type: peftTaskType(this.model),
      base_model_name_or_path: peftBaseModel(opts.baseModel).name,
      revision: peftBaseModel(opts.baseModel).revision,
      modules_to_save: modulesToSave(this.model, this.headNames),
      inference_mode: true,
    };
  }

  /** Refuses an artifact written for another method or configuration. */
  protected checkConfig(files: ArtifactFiles, label: string): void {
    const c = files.config;
    const problems: string[] = [];
    if (c.peft_type !== LORA_REPRO_PEFT_TYPE) problems.push(`peft_type is ${JSON.stringify(c.peft_type)}, expected "${LORA_REPRO_PEFT_TYPE}"`);
    if (c.method !== this.name) problems.push(`method is ${JSON.stringify(c.method)}, this model has '${this.name}'`);
    else if (!sameJson(c.method_config, this.config)) {
      problems.push(`method_config ${JSON.stringify(c.method_config)} differs from the applied ${JSON.stringify(this.config)}`);
    }
    if (c.model_type !== undefined && c.model_type !== this.model.modelType) problems.push(`model_type is ${JSON.stringify(c.model_type)}, the model is ${this.model.modelType}`);
    if (problems.length > 0) throw new UserError(`${label}: artifact does not fit: ${problems.join('; ')}`);
  }

  /** Also what PEFT's adapter_config.json cannot hold (older PEFT refuses unknown fields): the head's label count. */
  protected metadata(): Record<string, string> {
    const numLabels = this.model.modelType === 'roberta' && this.model.heads.includes('classification') ? this.model.config.numLabels : undefined;
    return {
      lora_repro_method: this.name,
      lora_repro_config: JSON.stringify(this.config),
      ...(numLabels !== undefined ? { num_labels: String(numLabels) } : {}),
    };
  }

  async save(dir: string, opts: SaveOptions = {}): Promise<void> {
    this.assertLive();
    if (!this.on) throw new UserError(`${this.name}: enable the method before saving it`);
    await writeArtifact(dir, this.artifactConfig(opts), [...this.ownTensors(), ...this.headTensors()], this.metadata());
  }

  load(dir: string): void {
    this.loadArtifact(readArtifact(dir), dir);
  }

  /** Strict load of artifact files already read (`label` names them in errors). */
  loadArtifact(files: ArtifactFiles, label: string): void {
    this.assertLive();
    if (!this.on) throw new UserError(`${this.name}: enable the method before loading into it`);
    this.checkConfig(files, label);
    assignStrict(label, [...this.ownTensors(), ...this.headTensors()], files.tensors);
  }

  /**
   * Strict load of the method's own tensors only; the artifact's head is left out, as a run started
   * from another task's run keeps its own head (src/train/init-from.ts: MNLI's 3 labels vs MRPC's 2).
   */
  loadOwnWeights(files: ArtifactFiles, label: string): void {
    this.assertLive();
    if (!this.on) throw new UserError(`${this.name}: enable the method before loading into it`);
    this.checkConfig(files, label);
    const headKeys = new Set(this.headTensors().map((t) => t.key));
    const own = new Map([...files.tensors].filter(([k]) => !headKeys.has(k)));
    assignStrict(label, this.ownTensors(), own);
  }
}
