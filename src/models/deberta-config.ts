/**
 * DeBERTa-v2 configuration (He et al. 2021), the encoder of the paper's DeBERTa XXL rows. The keys and
 * defaults follow the reference `DebertaV2Config` / `getattr(config, …, default)` reads of microsoft/LoRA's
 * fork (examples/NLU/src/transformers/models/deberta_v2/modeling_deberta_v2.py). Switches the reference
 * has but microsoft/deberta-v2-xxlarge does not use (p2p attention, embedding_size ≠ hidden_size,
 * conv_groups > 1, no relative attention) are refused with a UserError rather than silently mis-run.
 */
import { z } from 'zod';
import type { RobertaConfig } from './config.ts';
import { encoderJsonShape, encoderToJson, fromEncoderJson } from './encoder-config.ts';

export type DebertaPosAtt = 'c2p' | 'p2c';

/**
 * The RoBERTa fields (same meaning, same config.json keys) without bos/eos, which DeBERTa-v2's config
 * does not use, plus its own switches.
 */
export interface DebertaV2Config extends Omit<RobertaConfig, 'modelType' | 'bosTokenId' | 'eosTokenId'> {
  modelType: 'deberta-v2';
  /** attention_head_size; hidden / heads when absent. */
  headSize: number;
  /** Absolute position embeddings added to the input (false in deberta-v2). */
  positionBiasedInput: boolean;
  /** position_buckets; ≤ 0 means no log buckets (the table then has 2 · maxRelativePositions rows). */
  positionBuckets: number;
  /** max_relative_positions, already resolved (< 1 → max_position_embeddings, as the reference). */
  maxRelativePositions: number;
  posAttType: DebertaPosAtt[];
  shareAttKey: boolean;
  /** norm_rel_ebd contains "layer_norm": the position table goes through encoder.LayerNorm. */
  normRelEmbeddings: boolean;
  /** conv_kernel_size; 0 = no ConvLayer. */
  convKernelSize: number;
  convAct: 'gelu' | 'gelu_new' | 'tanh';
  poolerHidden: number;
  poolerAct: 'gelu' | 'gelu_new' | 'tanh';
  poolerDropout: number;
  clsDropout: number;
}

const act = z.enum(['gelu', 'gelu_new', 'tanh']);

export const debertaV2Schema = z
  .object({
    model_type: z.literal('deberta-v2'),
    ...encoderJsonShape,
    attention_head_size: z.number().int().positive().optional(),
    type_vocab_size: z.number().int().nonnegative().default(0),
    position_biased_input: z.boolean().default(true),
    relative_attention: z.boolean().default(false),
    position_buckets: z.number().int().default(-1),
    max_relative_positions: z.number().int().default(-1),
    // The real config.json writes "p2c|c2p"; transformers' DebertaV2Config turns it into a list.
    pos_att_type: z.union([z.string(), z.array(z.string())]).nullable().default(null),
    share_att_key: z.boolean().default(false),
    norm_rel_ebd: z.string().default('none'),
    conv_kernel_size: z.number().int().nonnegative().default(0),
    conv_groups: z.number().int().positive().default(1),
    // ConvLayer: getattr(config, "conv_act", "tanh").
    conv_act: act.default('tanh'),
    embedding_size: z.number().int().positive().optional(),
    layer_norm_eps: z.number().positive().default(1e-7),
    pad_token_id: z.number().int().nonnegative().default(0),
    pooler_hidden_size: z.number().int().positive().optional(),
    pooler_hidden_act: act.default('gelu'),
    pooler_dropout: z.number().min(0).max(1).default(0),
    cls_dropout: z.number().min(0).max(1).nullable().optional(),
  })
  .passthrough();

export type DebertaV2ConfigJson = z.infer<typeof debertaV2Schema>;

/** The reference's parse of pos_att_type: "p2c|c2p" → ["p2c", "c2p"], lower-cased and trimmed. */
function posAttTypes(raw: string | string[] | null): string[] {
  if (raw === null) return [];
  const list = typeof raw === 'string' ? raw.toLowerCase().split('|') : raw.map((s) => s.toLowerCase());
  return list.map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Converts a validated config.json; returns the config or the one-line reason it is not supported. */
export function fromDebertaV2(j: DebertaV2ConfigJson): DebertaV2Config | string {
  const pos = posAttTypes(j.pos_att_type);
  const bad = pos.filter((p) => p !== 'c2p' && p !== 'p2c');
  if (bad.length > 0) return `pos_att_type ${bad.join(', ')} is not supported (only c2p and p2c)`;
  if (!j.relative_attention) return 'relative_attention false is not supported';
  if (j.embedding_size !== undefined && j.embedding_size !== j.hidden_size) return 'embedding_size different from hidden_size is not supported';
  if (j.conv_groups !== 1) return 'conv_groups other than 1 is not supported';
  if (j.conv_kernel_size > 0 && j.conv_kernel_size % 2 === 0) return 'conv_kernel_size must be odd (the reference pads (k − 1) / 2 on each side)';
  const headSize = j.attention_head_size ?? j.hidden_size / j.num_attention_heads;
  if (!Number.isInteger(headSize)) return `hidden_size ${j.hidden_size} is not a multiple of num_attention_heads ${j.num_attention_heads}`;
  const poolerHidden = j.pooler_hidden_size ?? j.hidden_size;
  if (poolerHidden !== j.hidden_size) return 'pooler_hidden_size different from hidden_size is not supported';
  return {
    modelType: 'deberta-v2',
    ...fromEncoderJson(j),
    headSize,
    typeVocabSize: j.type_vocab_size,
    positionBiasedInput: j.position_biased_input,
    positionBuckets: j.position_buckets,
    maxRelativePositions: j.max_relative_positions < 1 ? j.max_position_embeddings : j.max_relative_positions,
    posAttType: pos as DebertaPosAtt[],
    shareAttKey: j.share_att_key,
    normRelEmbeddings: j.norm_rel_ebd.toLowerCase().split('|').map((s) => s.trim()).includes('layer_norm'),
    convKernelSize: j.conv_kernel_size,
    convAct: j.conv_act,
    layerNormEps: j.layer_norm_eps,
    padTokenId: j.pad_token_id,
    poolerHidden,
    poolerAct: j.pooler_hidden_act,
    poolerDropout: j.pooler_dropout,
    // StableDropout(cls_dropout), hidden_dropout_prob when absent (DebertaV2ForSequenceClassification).
    clsDropout: j.cls_dropout ?? j.hidden_dropout_prob,
  };
}

/** The config as config.json keys (fromDebertaV2 reads it back unchanged). */
export function debertaV2ToJson(c: DebertaV2Config): Record<string, unknown> {
  return {
    model_type: 'deberta-v2',
    ...encoderToJson(c),
    attention_head_size: c.headSize,
    type_vocab_size: c.typeVocabSize,
    position_biased_input: c.positionBiasedInput,
    relative_attention: true,
    position_buckets: c.positionBuckets,
    max_relative_positions: c.maxRelativePositions,
    pos_att_type: c.posAttType.join('|'),
    share_att_key: c.shareAttKey,
    norm_rel_ebd: c.normRelEmbeddings ? 'layer_norm' : 'none',
    conv_kernel_size: c.convKernelSize,
    conv_act: c.convAct,
    layer_norm_eps: c.layerNormEps,
    pad_token_id: c.padTokenId,
    pooler_hidden_size: c.poolerHidden,
    pooler_hidden_act: c.poolerAct,
    pooler_dropout: c.poolerDropout,
    cls_dropout: c.clsDropout,
  };
}

/**
 * microsoft/deberta-v2-xxlarge's config.json (48 layers, hidden 1536, 24 heads of 64, FFN 6144,
 * 128,100 tokens, 256 log buckets over 512 positions, c2p + p2c with shared keys, conv kernel 3).
 */
export const DEBERTA_V2_XXLARGE: DebertaV2Config = {
  modelType: 'deberta-v2',
  vocabSize: 128100,
  hidden: 1536,
  layers: 48,
  heads: 24,
  headSize: 64,
  intermediate: 6144,
  hiddenAct: 'gelu',
  hiddenDropout: 0.1,
  attentionDropout: 0.1,
  maxPositions: 512,
  typeVocabSize: 0,
  positionBiasedInput: false,
  positionBuckets: 256,
  maxRelativePositions: 512,
  posAttType: ['p2c', 'c2p'],
  shareAttKey: true,
  normRelEmbeddings: true,
  convKernelSize: 3,
  convAct: 'gelu',
  layerNormEps: 1e-7,
  initializerRange: 0.02,
  padTokenId: 0,
  poolerHidden: 1536,
  poolerAct: 'gelu',
  poolerDropout: 0,
  clsDropout: 0.1,
  numLabels: 2,
};
