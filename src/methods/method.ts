/**
 * The shared shape of every adaptation method of the paper's Section 5.1 (FT, FT^Top2, BitFit,
 * adapters, prefix tuning, LoRA) and of the two related methods it discusses (Compacter, intrinsic
 * subspace fine-tuning).
 *
 * A method module exports a `MethodDefinition<C>`: a zod schema for its config C (defaults filled
 * in, unknown keys rejected), model-dependent checks, `apply`, and the closed-form trainable count
 * with the paper's formula. `defineMethod` erases C behind `Method`, so the registry can hold them
 * all and every config is validated at the boundary: bad values give a one-line UserError before
 * the model is touched.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { ModelConfig } from '../models/config.ts';
import type { TransformerModel } from '../models/model.ts';
import { UserError } from '../util/errors.ts';
import type { Rng } from '../util/rng.ts';

/** A validated method config as plain JSON-able data (what adapter_config.json records). */
export type MethodConfig = Readonly<Record<string, unknown>>;

export interface SaveOptions {
  /**
   * Where the base model was loaded from (a directory, a built-in name or a config file); the
   * artifact records the hub id and revision it stands for (peft-layout.ts, peftBaseModel).
   */
  baseModel?: string;
}

/** What `apply` returns: the method living inside a model. */
export interface AppliedMethod {
  readonly name: string;
  readonly config: MethodConfig;
  /** The method's trainable variables, excluding the task head (the paper's counts exclude it). */
  readonly trainable: tf.Variable[];
  /** One name per trainable variable (the module path used in artifacts). */
  readonly names: string[];
  /** Task-head variables (RoBERTa's classifier), trained with every method; empty for GPT-2. */
  readonly head: tf.Variable[];
  readonly headNames: string[];
  readonly enabled: boolean;
  /** Switches the method off: the model computes exactly the base model (the head stays as is). */
  disable(): void;
  enable(): void;
  /** Takes the method out: the base model's weights are restored and the method's state freed. */
  remove(): void;
  /**
   * Writes `adapter_config.json` + `adapter_model.safetensors` (its own weights and the head). Async:
   * the weights are read with `await data()`, as WebGPU has no synchronous read in Node.
   */
  save(dir: string, opts?: SaveOptions): Promise<void>;
  /** Strict load of an artifact written for the same method and config. */
  load(dir: string): void;
}

export interface MethodDefinition<C extends object> {
  readonly name: string;
  /** One line for listings. */
  readonly summary: string;
  readonly schema: z.ZodType<C>;
  /** Checks that need the model's shape (layer indices, divisibility); throws UserError. */
  check(model: ModelConfig, config: C): void;
  apply(model: TransformerModel, config: C, rng: Rng): AppliedMethod;
  /** The closed-form trainable count (head excluded), the paper's formula where it gives one. */
  formula(model: ModelConfig, config: C): number;
  /** The formula with its symbols and this configuration's values, e.g. "2·L̂·d·r = 2·24·768·8". */
  formulaText(model: ModelConfig, config: C): string;
}

/** A method with a validated config, ready to apply to any model that passes its checks. */
export interface ConfiguredMethod {
  readonly name: string;
  readonly config: MethodConfig;
  check(model: ModelConfig): void;
  apply(model: TransformerModel, rng: Rng): AppliedMethod;
  formula(model: ModelConfig): number;
  formulaText(model: ModelConfig): string;
}

/** A registered method, config type erased. */
export interface Method {
  readonly name: string;
  readonly summary: string;
  /** The config keys the schema accepts (for CLI flag checks). */
  readonly configKeys: string[];
  /** Validates `raw` (undefined: all defaults); `label` names the source in errors. */
  configure(raw: unknown, label?: string): ConfiguredMethod;
  /** The closed-form trainable count for a model and a (raw) method config. */
  formula(model: ModelConfig, config?: unknown): number;
  formulaText(model: ModelConfig, config?: unknown): string;
}

function formatIssues(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`).join('; ');
}

export function defineMethod<C extends object>(def: MethodDefinition<C>): Method {
  // A schema with a .transform() is a pipe whose input side is the object.
  const base: unknown = def.schema instanceof z.ZodPipe ? def.schema.in : def.schema;
  const shape = base instanceof z.ZodObject ? Object.keys(base.shape as Record<string, unknown>) : [];
  return {
    name: def.name,
    summary: def.summary,
    configKeys: shape,
    formula(model, config) {
      return this.configure(config).formula(model);
    },
    formulaText(model, config) {
      return this.configure(config).formulaText(model);
    },
    configure(raw: unknown, label = `method '${def.name}'`): ConfiguredMethod {
      const parsed = def.schema.safeParse(raw ?? {});
      if (!parsed.success) throw new UserError(`${label}: invalid config: ${formatIssues(parsed.error)}`);
      const config = parsed.data;
      const json = JSON.parse(JSON.stringify(config)) as MethodConfig;
      return {
        name: def.name,
        config: json,
        check: (model) => def.check(model, config),
        apply(model, rng) {
          def.check(model.config, config);
          return def.apply(model, config, rng);
        },
        formula(model) {
          def.check(model, config);
          return def.formula(model, config);
        },
        formulaText(model) {
          def.check(model, config);
          return def.formulaText(model, config);
        },
      };
    },
  };
}

/** Layer indices must exist in the model. */
export function checkLayers(model: ModelConfig, layers: readonly number[] | undefined, what: string): void {
  const bad = (layers ?? []).filter((l) => l >= model.layers);
  if (bad.length > 0) throw new UserError(`${what}: layer ${bad.join(', ')} does not exist (the model has layers 0..${model.layers - 1})`);
}

/** Integers with thousands separators, for formula texts. */
export function fmt(n: number): string {
  return n.toLocaleString('en-US');
}
