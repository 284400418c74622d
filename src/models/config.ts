/**
 * Model configurations: Hugging Face `config.json` files (validated at the boundary) and the
 * built-in configs of the paper's models (roberta-base/large, gpt2-medium/large, deberta-v2-xxlarge),
 * of the offline stand-ins `mini-*` (stand-ins.ts) and of the training-step benchmark's `bench-*` models.
 */
import { readFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../util/errors.ts';
import { encoderJsonShape, encoderToJson, fromEncoderJson, type EncoderFields } from './encoder-config.ts';
import { DEBERTA_V2_XXLARGE, debertaV2Schema, debertaV2ToJson, fromDebertaV2, type DebertaV2Config } from './deberta-config.ts';
import { STAND_IN_CONFIGS } from './stand-ins.ts';

export type { DebertaV2Config } from './deberta-config.ts';

const robertaSchema = z.object({
  model_type: z.literal('roberta'),
  ...encoderJsonShape,
  type_vocab_size: z.number().int().positive().default(1),
  layer_norm_eps: z.number().positive().default(1e-5),
  pad_token_id: z.number().int().nonnegative().default(1),
  bos_token_id: z.number().int().nonnegative().default(0),
  eos_token_id: z.number().int().nonnegative().default(2),
});

const gpt2Schema = z.object({
  model_type: z.literal('gpt2'),
  vocab_size: z.number().int().positive(),
  n_embd: z.number().int().positive(),
  n_layer: z.number().int().positive(),
  n_head: z.number().int().positive(),
  n_inner: z.number().int().positive().nullable().optional(),
  n_positions: z.number().int().positive(),
  activation_function: z.enum(['gelu_new', 'gelu']).default('gelu_new'),
  layer_norm_epsilon: z.number().positive().default(1e-5),
  initializer_range: z.number().positive().default(0.02),
  resid_pdrop: z.number().min(0).max(1).default(0.1),
  embd_pdrop: z.number().min(0).max(1).default(0.1),
  attn_pdrop: z.number().min(0).max(1).default(0.1),
  bos_token_id: z.number().int().nonnegative().default(50256),
  eos_token_id: z.number().int().nonnegative().default(50256),
  pad_token_id: z.number().int().nonnegative().nullable().optional(),
});

export type RobertaConfigJson = z.infer<typeof robertaSchema>;
export type Gpt2ConfigJson = z.infer<typeof gpt2Schema>;

export interface RobertaConfig extends EncoderFields {
  modelType: 'roberta';
  typeVocabSize: number;
  layerNormEps: number;
  padTokenId: number;
  bosTokenId: number;
  eosTokenId: number;
}

export interface Gpt2Config {
  modelType: 'gpt2';
  vocabSize: number;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  activation: 'gelu_new' | 'gelu';
  maxPositions: number;
  layerNormEps: number;
  initializerRange: number;
  residDropout: number;
  embdDropout: number;
  attnDropout: number;
  bosTokenId: number;
  eosTokenId: number;
}

export type ModelConfig = RobertaConfig | Gpt2Config | DebertaV2Config;

function fromRoberta(j: RobertaConfigJson): RobertaConfig {
  return {
    modelType: 'roberta',
    ...fromEncoderJson(j),
    typeVocabSize: j.type_vocab_size,
    layerNormEps: j.layer_norm_eps,
    padTokenId: j.pad_token_id,
    bosTokenId: j.bos_token_id,
    eosTokenId: j.eos_token_id,
  };
}

function fromGpt2(j: Gpt2ConfigJson): Gpt2Config {
  return {
    modelType: 'gpt2',
    vocabSize: j.vocab_size,
    hidden: j.n_embd,
    layers: j.n_layer,
    heads: j.n_head,
    intermediate: j.n_inner ?? 4 * j.n_embd,
    activation: j.activation_function,
    maxPositions: j.n_positions,
    layerNormEps: j.layer_norm_epsilon,
    initializerRange: j.initializer_range,
    residDropout: j.resid_pdrop,
    embdDropout: j.embd_pdrop,
    attnDropout: j.attn_pdrop,
    bosTokenId: j.bos_token_id,
    eosTokenId: j.eos_token_id,
  };
}

function formatIssues(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/**
 * Attention splits the width into equal heads; a width the heads do not divide would build (the
 * reshape rounds) and train to numbers that mean nothing, so it is refused where the config enters.
 */
function checkHeads<C extends { hidden: number; heads: number }>(c: C, label: string, hiddenKey: string, headsKey: string): C {
  if (c.hidden % c.heads !== 0) {
    throw new UserError(`${label}: ${headsKey} (${c.heads}) must divide ${hiddenKey} (${c.hidden}): set ${headsKey} to a divisor of ${c.hidden}`);
  }
  return c;
}

/** Parses a Hugging Face config object; `label` names its file in errors. */
export function parseHfConfig(json: unknown, label: string): ModelConfig {
  const type = (json as { model_type?: unknown } | null)?.model_type;
  if (type === 'roberta') {
    const r = robertaSchema.safeParse(json);
    if (!r.success) throw new UserError(`${label}: invalid RoBERTa config: ${formatIssues(r.error)}`);
    return checkHeads(fromRoberta(r.data), label, 'hidden_size', 'num_attention_heads');
  }
  if (type === 'gpt2') {
    const r = gpt2Schema.safeParse(json);
    if (!r.success) throw new UserError(`${label}: invalid GPT-2 config: ${formatIssues(r.error)}`);
    return checkHeads(fromGpt2(r.data), label, 'n_embd', 'n_head');
  }
  if (type === 'deberta-v2') {
    const r = debertaV2Schema.safeParse(json);
    if (!r.success) throw new UserError(`${label}: invalid DeBERTa-v2 config: ${formatIssues(r.error)}`);
    const c = fromDebertaV2(r.data);
    if (typeof c === 'string') throw new UserError(`${label}: unsupported DeBERTa-v2 config: ${c}`);
    return c;
  }
  throw new UserError(`${label}: model_type must be 'roberta', 'gpt2' or 'deberta-v2', got ${JSON.stringify(type)}`);
}

export function readHfConfig(path: string): ModelConfig {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'config.json') : path;
  if (!existsSync(file)) throw new UserError(`${file}: config file not found (expected a Hugging Face config.json)`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  return parseHfConfig(json, file);
}

const roberta = (hidden: number, layers: number, heads: number, vocab = 50265, maxPos = 514): RobertaConfig => ({
  modelType: 'roberta',
  vocabSize: vocab,
  hidden,
  layers,
  heads,
  intermediate: 4 * hidden,
  hiddenAct: 'gelu',
  hiddenDropout: 0.1,
  attentionDropout: 0.1,
  maxPositions: maxPos,
  typeVocabSize: 1,
  layerNormEps: 1e-5,
  initializerRange: 0.02,
  padTokenId: 1,
  bosTokenId: 0,
  eosTokenId: 2,
  numLabels: 2,
});

const gpt2 = (hidden: number, layers: number, heads: number, vocab = 50257, maxPos = 1024): Gpt2Config => ({
  modelType: 'gpt2',
  vocabSize: vocab,
  hidden,
  layers,
  heads,
  intermediate: 4 * hidden,
  activation: 'gelu_new',
  maxPositions: maxPos,
  layerNormEps: 1e-5,
  initializerRange: 0.02,
  residDropout: 0.1,
  embdDropout: 0.1,
  attnDropout: 0.1,
  bosTokenId: 50256,
  eosTokenId: 50256,
});

/**
 * Built-in configs (a random init, unless a run resolves the name to weights). The paper's models
 * are the Hugging Face ones. `mini-roberta` and `mini-gpt2` are the offline stand-ins the mini
 * profiles train (stand-ins.ts: d_model 128, 4 layers, the shipped models' config.json);
 * `mini-deberta` is one too, but not a built-in name (as before: a rehearsal of the mini profile
 * leaves its rows out, and `train --model mini-deberta` needs its weights), so it is only in
 * `namedConfig`. `bench-*` are the training-step benchmark's models (`lora-repro bench`,
 * bench/pytorch_reference.py): 4 layers, d_model 256, 4 heads, FFN 1024, vocab 8000.
 */
export const BUILTIN_CONFIGS: Record<string, ModelConfig> = {
  'roberta-base': roberta(768, 12, 12),
  'roberta-large': roberta(1024, 24, 16),
  'gpt2-medium': gpt2(1024, 24, 16),
  'gpt2-large': gpt2(1280, 36, 20),
  'deberta-v2-xxlarge': DEBERTA_V2_XXLARGE,
  'mini-roberta': STAND_IN_CONFIGS['mini-roberta'],
  'mini-gpt2': STAND_IN_CONFIGS['mini-gpt2'],
  'bench-roberta': roberta(256, 4, 4, 8000, 514),
  'bench-gpt2': gpt2(256, 4, 4, 8000, 1024),
};

/**
 * The architecture a model name stands for, without loading anything (captions, parameter formulas,
 * cost estimates): a built-in config or a stand-in's; undefined for any other name.
 */
export function namedConfig(name: string): ModelConfig | undefined {
  const c = BUILTIN_CONFIGS[name] ?? STAND_IN_CONFIGS[name];
  return c === undefined ? undefined : structuredClone(c);
}

export function builtinConfig(name: string): ModelConfig {
  const c = BUILTIN_CONFIGS[name];
  if (c === undefined) {
    throw new UserError(`unknown model '${name}' (built in: ${Object.keys(BUILTIN_CONFIGS).join(', ')}; or a directory with config.json)`);
  }
  return structuredClone(c);
}

/** The model config as a Hugging Face config.json object (parseHfConfig reads it back unchanged). */
export function toHfConfigJson(c: ModelConfig): Record<string, unknown> {
  if (c.modelType === 'deberta-v2') return debertaV2ToJson(c);
  if (c.modelType === 'roberta') {
    return {
      model_type: 'roberta',
      ...encoderToJson(c),
      type_vocab_size: c.typeVocabSize,
      layer_norm_eps: c.layerNormEps,
      pad_token_id: c.padTokenId,
      bos_token_id: c.bosTokenId,
      eos_token_id: c.eosTokenId,
    };
  }
  return {
    model_type: 'gpt2',
    vocab_size: c.vocabSize,
    n_embd: c.hidden,
    n_layer: c.layers,
    n_head: c.heads,
    n_inner: c.intermediate,
    n_positions: c.maxPositions,
    activation_function: c.activation,
    layer_norm_epsilon: c.layerNormEps,
    initializer_range: c.initializerRange,
    resid_pdrop: c.residDropout,
    embd_pdrop: c.embdDropout,
    attn_pdrop: c.attnDropout,
    bos_token_id: c.bosTokenId,
    eos_token_id: c.eosTokenId,
  };
}

