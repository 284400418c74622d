/**
 * The config.json keys RoBERTa and DeBERTa-v2 share (both are BERT-family encoders with transformers'
 * BertConfig names) and their conversion both ways: one home, so the two configs cannot drift apart.
 * What differs between them (type_vocab_size, layer_norm_eps and pad_token_id defaults, RoBERTa's
 * bos/eos ids, DeBERTa's attention switches) stays in config.ts and deberta-config.ts.
 */
import { z } from 'zod';

/** The shared keys, spread into each model's zod object. */
export const encoderJsonShape = {
  vocab_size: z.number().int().positive(),
  hidden_size: z.number().int().positive(),
  num_hidden_layers: z.number().int().positive(),
  num_attention_heads: z.number().int().positive(),
  intermediate_size: z.number().int().positive(),
  hidden_act: z.enum(['gelu', 'gelu_new']).default('gelu'),
  hidden_dropout_prob: z.number().min(0).max(1).default(0.1),
  attention_probs_dropout_prob: z.number().min(0).max(1).default(0.1),
  max_position_embeddings: z.number().int().positive(),
  initializer_range: z.number().positive().default(0.02),
  num_labels: z.number().int().positive().optional(),
  id2label: z.record(z.string(), z.string()).optional(),
  problem_type: z.string().optional(),
};

type EncoderJson = z.infer<z.ZodObject<typeof encoderJsonShape>>;

/** The shared fields of our config objects. */
export interface EncoderFields {
  vocabSize: number;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  hiddenAct: 'gelu' | 'gelu_new';
  hiddenDropout: number;
  attentionDropout: number;
  maxPositions: number;
  initializerRange: number;
  /** Classification labels; 1 means regression (MSE), as in Hugging Face (num_labels, else len(id2label), else 2). */
  numLabels: number;
}

export function fromEncoderJson(j: EncoderJson): EncoderFields {
  const numLabels = j.num_labels ?? (j.id2label ? Object.keys(j.id2label).length : 2);
  return {
    vocabSize: j.vocab_size,
    hidden: j.hidden_size,
    layers: j.num_hidden_layers,
    heads: j.num_attention_heads,
    intermediate: j.intermediate_size,
    hiddenAct: j.hidden_act,
    hiddenDropout: j.hidden_dropout_prob,
    attentionDropout: j.attention_probs_dropout_prob,
    maxPositions: j.max_position_embeddings,
    initializerRange: j.initializer_range,
    numLabels: j.problem_type === 'regression' ? 1 : numLabels,
  };
}

/** The shared keys of config.json (fromEncoderJson reads them back unchanged). */
export function encoderToJson(c: EncoderFields): Record<string, unknown> {
  return {
    vocab_size: c.vocabSize,
    hidden_size: c.hidden,
    num_hidden_layers: c.layers,
    num_attention_heads: c.heads,
    intermediate_size: c.intermediate,
    hidden_act: c.hiddenAct,
    hidden_dropout_prob: c.hiddenDropout,
    attention_probs_dropout_prob: c.attentionDropout,
    max_position_embeddings: c.maxPositions,
    initializer_range: c.initializerRange,
    num_labels: c.numLabels,
    ...(c.numLabels === 1 ? { problem_type: 'regression' } : {}),
  };
}
