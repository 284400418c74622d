/**
 * Closed-form parameter counts of the two architectures, from the config alone (param-counts.md,
 * "Model shapes used"). The methods' `formula`s are built from these; the `params` command checks
 * them against the variables of the instantiated model, so a wrong shape anywhere shows up.
 *
 * Both block types hold the same tensors: W_q, W_k, W_v, W_o (d×d + bias; GPT-2 fuses q/k/v into
 * one d×3d Conv1D), the FFN (d×f + f, f×d + d) and two LayerNorms (2d each).
 */
import type { ModelConfig } from '../models/config.ts';

/** Parameters of one Transformer block: 4d² + 4d + 2df + f + d + 4d. */
export function blockParams(m: ModelConfig): number {
  const d = m.hidden;
  const f = m.intermediate;
  return 4 * d * d + 4 * d + 2 * d * f + f + d + 4 * d;
}

/** Embeddings (+ RoBERTa's embedding LayerNorm). GPT-2's LM head is tied to wte. */
export function embeddingParams(m: ModelConfig): number {
  const d = m.hidden;
  if (m.modelType === 'roberta') return (m.vocabSize + m.maxPositions + m.typeVocabSize) * d + 2 * d;
  return (m.vocabSize + m.maxPositions) * d;
}

/** Parameters after the last block: GPT-2's ln_f. */
export function finalParams(m: ModelConfig): number {
  return m.modelType === 'gpt2' ? 2 * m.hidden : 0;
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
  return m.layers * (5 * d + m.intermediate + 2 * d) + d;
}

/** RoBERTa's classification head: dense d×d + d, out_proj d×labels + labels; GPT-2: none (tied). */
export function classificationHeadParams(m: ModelConfig): number {
  if (m.modelType !== 'roberta') return 0;
  return m.hidden * m.hidden + m.hidden + m.hidden * m.numLabels + m.numLabels;
}
