/**
 * Closed-form parameter counts of the architectures, from the config alone (param-counts.md,
 * "Model shapes used"). The methods' `formula`s are built from these; the `params` command checks
 * them against the variables of the instantiated model, so a wrong shape anywhere shows up.
 *
 * Both block types hold the same tensors: W_q, W_k, W_v, W_o (d×d + bias; GPT-2 fuses q/k/v into
 * one d×3d Conv1D), the FFN (d×f + f, f×d + d) and two LayerNorms (2d each). DeBERTa-v2's attention
 * width is heads·attention_head_size (= d in every released config), and with share_att_key false it
 * has separate position projections; its relative-position table (+ LayerNorm) and ConvLayer sit
 * outside the blocks (modeling_deberta_v2.py DebertaV2Encoder).
 */
import type { DebertaV2Config, ModelConfig } from '../models/config.ts';

/** DeBERTa-v2's separate position projections per block (none with share_att_key). */
function debertaPosProjections(m: DebertaV2Config): number {
  return m.shareAttKey ? 0 : m.posAttType.length;
}

/** Parameters of one Transformer block: 4d² + 4d + 2df + f + d + 4d. */
export function blockParams(m: ModelConfig): number {
  const d = m.hidden;
  const f = m.intermediate;
  if (m.modelType === 'deberta-v2') {
    const a = m.heads * m.headSize;
    return (3 + debertaPosProjections(m)) * (d * a + a) + a * d + d + 2 * d * f + f + d + 4 * d;
  }
  return 4 * d * d + 4 * d + 2 * d * f + f + d + 4 * d;
}

/** Embeddings (+ RoBERTa's embedding LayerNorm). GPT-2's LM head is tied to wte. */
export function embeddingParams(m: ModelConfig): number {
  const d = m.hidden;
  if (m.modelType === 'roberta') return (m.vocabSize + m.maxPositions + m.typeVocabSize) * d + 2 * d;
  if (m.modelType === 'deberta-v2') return (m.vocabSize + (m.positionBiasedInput ? m.maxPositions : 0) + m.typeVocabSize) * d + 2 * d;
  return (m.vocabSize + m.maxPositions) * d;
}

/**
 * Parameters outside the embeddings and blocks: GPT-2's ln_f; DeBERTa-v2's relative-position table
 * (2·span rows, span = position_buckets or max_relative_positions), its LayerNorm and the ConvLayer.
 */
export function finalParams(m: ModelConfig): number {
  if (m.modelType === 'gpt2') return 2 * m.hidden;
  if (m.modelType === 'deberta-v2') return debertaEncoderExtras(m).total;
  return 0;
}

/** DeBERTa-v2's encoder-level tensors: the position table, its LayerNorm, the ConvLayer (and their biases). */
function debertaEncoderExtras(m: DebertaV2Config): { total: number; biases: number } {
  const d = m.hidden;
  const span = m.positionBuckets > 0 ? m.positionBuckets : m.maxRelativePositions;
  const relLn = m.normRelEmbeddings ? 2 * d : 0;
  const conv = m.convKernelSize > 0 ? d * d * m.convKernelSize + d + 2 * d : 0;
  return { total: 2 * span * d + relLn + conv, biases: relLn / 2 + (m.convKernelSize > 0 ? 2 * d : 0) };
}

/** Every backbone parameter (RobertaForSequenceClassification builds no pooler; head excluded). */
export function backboneParams(m: ModelConfig): number {
  return embeddingParams(m) + m.layers * blockParams(m) + finalParams(m);
}

/**
 * Every bias vector of the backbone: per block the six linear biases (4d + f + d) and two LayerNorm
 * biases (2d), plus one more LayerNorm bias (RoBERTa's embedding LN, GPT-2's ln_f).
 */
export function biasParams(m: ModelConfig): number {
  const d = m.hidden;
  if (m.modelType === 'deberta-v2') {
    const a = m.heads * m.headSize;
    return m.layers * ((3 + debertaPosProjections(m)) * a + d + m.intermediate + d + 2 * d) + d + debertaEncoderExtras(m).biases;
  }
  return m.layers * (5 * d + m.intermediate + 2 * d) + d;
}
