/** Shared pieces of the adaptation-method tests: tiny models, batches, losses, comparisons. */
import * as tf from '@tensorflow/tfjs-core';
import { tokenBatch, type TokenBatch } from '../../src/models/batch.ts';
import { parseHfConfig, type Gpt2Config, type ModelConfig, type RobertaConfig } from '../../src/models/config.ts';
import { EVAL, type ForwardContext } from '../../src/models/context.ts';
import { createModel } from '../../src/models/factory.ts';
import { lmLoss, sequenceClassificationLoss } from '../../src/models/losses.ts';
import type { TransformerModel } from '../../src/models/model.ts';

export const ROBERTA_TINY = parseHfConfig(
  {
    model_type: 'roberta',
    vocab_size: 100,
    hidden_size: 32,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    intermediate_size: 64,
    max_position_embeddings: 40,
    initializer_range: 0.15,
    num_labels: 3,
  },
  'roberta-tiny',
) as RobertaConfig;

export const GPT2_TINY = parseHfConfig(
  { model_type: 'gpt2', vocab_size: 100, n_embd: 32, n_layer: 2, n_head: 4, n_inner: 128, n_positions: 32, initializer_range: 0.1 },
  'gpt2-tiny',
) as Gpt2Config;

const MODEL_SEED = 7;

export function build(config: ModelConfig): TransformerModel {
  return createModel(structuredClone(config), { seed: MODEL_SEED });
}

/** Right-padded rows; RoBERTa rows start with <s>=0 and end with </s>=2, pad 1; GPT-2 pad 0. */
export function batchFor(model: TransformerModel): TokenBatch {
  if (model.modelType === 'roberta') {
    return tokenBatch(
      [
        [0, 5, 6, 7, 8, 2],
        [0, 9, 10, 2, 1, 1],
      ],
      [
        [1, 1, 1, 1, 1, 1],
        [1, 1, 1, 1, 0, 0],
      ],
    );
  }
  return tokenBatch(
    [
      [5, 6, 7, 8, 9, 10],
      [11, 12, 13, 14, 0, 0],
    ],
    [
      [1, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 0, 0],
    ],
  );
}

/** The model's task output: RoBERTa classification logits, GPT-2 LM logits. */
export function outputs(model: TransformerModel, batch: TokenBatch, ctx: ForwardContext = EVAL): tf.Tensor {
  return model.modelType !== 'gpt2' ? model.classify(batch, ctx) : model.logits(batch, ctx);
}

/** The backbone output (RoBERTa: final hidden states, so a trained head does not matter). */
export function backbone(model: TransformerModel, batch: TokenBatch): tf.Tensor {
  return tf.tidy(() => (model.modelType !== 'gpt2' ? model.encode(batch, EVAL).hidden : model.logits(batch, EVAL)));
}

export function loss(model: TransformerModel, batch: TokenBatch, ctx: ForwardContext): tf.Scalar {
  return tf.tidy(() => {
    if (model.modelType !== 'gpt2') return sequenceClassificationLoss(model.classify(batch, ctx), Int32Array.from([0, 2]));
    // Next-token targets within each row; loss on the real positions that have a successor.
    const { batch: b, seqLen: l } = batch;
    const labels = new Int32Array(b * l);
    const mask = new Float32Array(b * l);
    for (let r = 0; r < b; r++) {
      for (let t = 0; t + 1 < l; t++) {
        labels[r * l + t] = batch.inputIds[r * l + t + 1];
        mask[r * l + t] = batch.attentionMask[r * l + t + 1];
      }
    }
    return lmLoss(model.logits(batch, ctx), labels, mask, 0);
  });
}

export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  if (a.shape.join() !== b.shape.join()) throw new Error(`shapes differ: [${a.shape}] vs [${b.shape}]`);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/** Runs `f`, returns its result's values and disposes it. */
export function values(f: () => tf.Tensor): Float32Array {
  const t = f();
  const v = Float32Array.from(t.dataSync() as Float32Array);
  t.dispose();
  return v;
}

export function maxDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function snapshot(vars: Iterable<tf.Variable>): Map<tf.Variable, Float32Array> {
  const out = new Map<tf.Variable, Float32Array>();
  for (const v of vars) out.set(v, Float32Array.from(v.dataSync() as Float32Array));
  return out;
}

export function changed(v: tf.Variable, before: Float32Array): boolean {
  const now = v.dataSync() as Float32Array;
  for (let i = 0; i < now.length; i++) if (now[i] !== before[i]) return true;
  return false;
}
