/**
 * RoBERTa (Liu et al. 2019) as Hugging Face's RobertaForSequenceClassification / RobertaForMaskedLM,
 * the encoder of the paper's Table 2. The semantics follow the reference (HF transformers 4.4.2 as
 * vendored in microsoft/LoRA); ../shared/fixtures/parity/roberta-tiny/README.md lists each detail:
 * position ids from the padding id, exact erf GELU, -10000 added to padded keys, post-LN blocks,
 * a classifier that reads `<s>` (dense → tanh → out_proj, no pooler).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RobertaConfig } from './config.ts';
import type { ForwardContext } from './context.ts';
import type { TokenBatch } from './batch.ts';
import { type EmbeddingOutput, positionShift, runHooks } from './hooks.ts';
import type { Linear } from './linear.ts';
import { matMul } from './matmul.ts';
import { init } from './param-store.ts';
import { TransformerBase } from './transformer-base.ts';
import { activation, dropout, mergeHeads, splitHeads, matmulLastAxis } from './ops.ts';
import { nativeKernelsActive } from '../backend/native-kernels.ts';
import { nativeAttention } from './native-ops.ts';
import type { Rng } from '../util/rng.ts';

export type RobertaHead = 'classification' | 'mlm';

/**
 * RoBERTa position ids: cumsum(mask)·mask + padding_idx over mask = (id != pad), so real tokens
 * count from pad+1 and padding gets pad itself (create_position_ids_from_input_ids).
 */
export function robertaPositionIds(batch: TokenBatch, padTokenId: number): Int32Array {
  const out = new Int32Array(batch.inputIds.length);
  for (let b = 0; b < batch.batch; b++) {
    let count = 0;
    for (let t = 0; t < batch.seqLen; t++) {
      const i = b * batch.seqLen + t;
      if (batch.inputIds[i] !== padTokenId) {
        count++;
        out[i] = count + padTokenId;
      } else {
        out[i] = padTokenId;
      }
    }
  }
  return out;
}

export class RobertaModel extends TransformerBase {
  readonly modelType = 'roberta' as const;
  readonly prefix = 'roberta.';

  constructor(
    readonly config: RobertaConfig,
    readonly heads: RobertaHead[],
    rng: Rng,
  ) {
    super();
    const c = config;
    const std = c.initializerRange;
    const p = this.params;
    p.add('roberta.embeddings.word_embeddings.weight', init.embedding(c.vocabSize, c.hidden, std, rng, c.padTokenId));
    p.add('roberta.embeddings.position_embeddings.weight', init.embedding(c.maxPositions, c.hidden, std, rng, c.padTokenId));
    p.add('roberta.embeddings.token_type_embeddings.weight', init.normal([c.typeVocabSize, c.hidden], std, rng));
    this.addLayerNorm('roberta.embeddings.LayerNorm', c.hidden);
    for (let i = 0; i < c.layers; i++) {
      const l = `roberta.encoder.layer.${i}`;
      for (const n of ['query', 'key', 'value']) this.addLinearOutIn(`${l}.attention.self.${n}`, c.hidden, c.hidden, rng);
      this.addLinearOutIn(`${l}.attention.output.dense`, c.hidden, c.hidden, rng);
      this.addLayerNorm(`${l}.attention.output.LayerNorm`, c.hidden);
      this.addLinearOutIn(`${l}.intermediate.dense`, c.hidden, c.intermediate, rng);
      this.addLinearOutIn(`${l}.output.dense`, c.intermediate, c.hidden, rng);
      this.addLayerNorm(`${l}.output.LayerNorm`, c.hidden);
    }
    if (heads.includes('classification')) {
      this.addLinearOutIn('classifier.dense', c.hidden, c.hidden, rng);
      this.addLinearOutIn('classifier.out_proj', c.hidden, c.numLabels, rng);
    }
    if (heads.includes('mlm')) {
      // The decoder weight is tied to the word embeddings (HF ties lm_head.decoder to them).
      this.addLinearOutIn('lm_head.dense', c.hidden, c.hidden, rng);
      this.addLayerNorm('lm_head.layer_norm', c.hidden);
      p.add('lm_head.bias', init.zeros([c.vocabSize]));
    }
  }

  /** Names of the task-head parameters (trained with every method, excluded from the paper's counts). */
  headParamNames(): string[] {
    return this.params.names().filter((n) => n.startsWith('classifier.') || n.startsWith('lm_head.'));
  }

  private addLinearOutIn(name: string, inDim: number, outDim: number, rng: Rng): Linear {
    return this.addLinear(name, inDim, outDim, this.config.initializerRange, 'out_in', rng);
  }

  /** Word + position + token-type(0) embeddings, LayerNorm, dropout. */
  embed(batch: TokenBatch, ctx: ForwardContext): EmbeddingOutput {
    const c = this.config;
    const ids = tf.tensor2d(batch.inputIds, [batch.batch, batch.seqLen], 'int32');
    const posIds = robertaPositionIds(batch, c.padTokenId);
    // Prefix/infix tuning inserts positions: real (non-pad) tokens count them (hooks.ts positionShift).
    const shift = positionShift(this.hooks, batch, 0);
    if (shift !== undefined) for (let i = 0; i < posIds.length; i++) if (batch.inputIds[i] !== c.padTokenId) posIds[i] += shift[i];
    const pos = tf.tensor2d(posIds, [batch.batch, batch.seqLen], 'int32');
    const words = tf.gather(this.params.get('roberta.embeddings.word_embeddings.weight'), ids);
    const positions = tf.gather(this.params.get('roberta.embeddings.position_embeddings.weight'), pos);
    // Every token has type 0; row 0 of token_type_embeddings is added (it is not zero in roberta-base).
    const typeRow = tf.slice(this.params.get('roberta.embeddings.token_type_embeddings.weight'), [0, 0], [1, c.hidden]);
    let h = tf.add(tf.add(words, positions), typeRow);
    h = dropout(this.ln('roberta.embeddings.LayerNorm', h), c.hiddenDropout, ctx);
    const mask = tf.tensor2d(Float32Array.from(batch.attentionMask), [batch.batch, batch.seqLen]);
    return { hidden: h as tf.Tensor3D, attentionMask: mask };
  }

  private selfAttention(i: number, h: tf.Tensor3D, additiveMask: tf.Tensor, ctx: ForwardContext): tf.Tensor3D {
    const c = this.config;
    const l = `roberta.encoder.layer.${i}.attention.self`;
    const [b, len] = h.shape;
    const dh = c.hidden / c.heads;
    if (nativeKernelsActive()) {
      // One fused kernel reads the heads in place: no 4-D transposes, no batched tfjs matmuls.
      const [q, k, v] = ['query', 'key', 'value'].map((n) => this.lin(`${l}.${n}`).apply(h, ctx));
      const mask = tf.reshape(additiveMask, [b, additiveMask.shape[3]!]);
      return nativeAttention({ heads: c.heads, q, k, v, mask, dropout: c.attentionDropout, ctx });
    }
    const q = splitHeads(this.lin(`${l}.query`).apply(h, ctx), c.heads);
    const k = splitHeads(this.lin(`${l}.key`).apply(h, ctx), c.heads);
    const v = splitHeads(this.lin(`${l}.value`).apply(h, ctx), c.heads);
    let scores = tf.div(matMul(q, k, true), Math.sqrt(dh));
    scores = tf.add(tf.reshape(scores, [b, c.heads, len, len]), additiveMask);
    let probs = tf.softmax(scores, -1);
    probs = dropout(probs, c.attentionDropout, ctx);
    const out = matMul(tf.reshape(probs, [b * c.heads, len, len]), v);
    return mergeHeads(out, b, c.heads);
  }

  /** The encoder: hidden states [batch, seqLen, hidden] and the (possibly widened) mask. */
  encode(batch: TokenBatch, ctx: ForwardContext): EmbeddingOutput {
    const c = this.config;
    let emb = this.embed(batch, ctx);
    for (const hk of this.hooks) if (hk.afterEmbeddings) emb = hk.afterEmbeddings(emb, ctx);
    let h = emb.hidden;
    const [b, len] = h.shape;
    // HF get_extended_attention_mask: (1 - mask) * -10000 added to the scores of padded keys.
    const additiveMask = tf.reshape(tf.mul(tf.sub(1, emb.attentionMask), -10000), [b, 1, 1, len]);
    for (let i = 0; i < c.layers; i++) {
      const l = `roberta.encoder.layer.${i}`;
      let a = this.lin(`${l}.attention.output.dense`).apply(this.selfAttention(i, h, additiveMask, ctx), ctx);
      a = dropout(a, c.hiddenDropout, ctx);
      a = runHooks(this.hooks, 'afterAttention', i, a as tf.Tensor3D, ctx, h);
      h = this.ln(`${l}.attention.output.LayerNorm`, tf.add(a, h)) as tf.Tensor3D;
      const inter = activation(c.hiddenAct, this.lin(`${l}.intermediate.dense`).apply(h, ctx));
      let f = dropout(this.lin(`${l}.output.dense`).apply(inter, ctx), c.hiddenDropout, ctx);
      f = runHooks(this.hooks, 'afterFfn', i, f as tf.Tensor3D, ctx, h);
      h = this.ln(`${l}.output.LayerNorm`, tf.add(f, h)) as tf.Tensor3D;
      h = runHooks(this.hooks, 'afterBlock', i, h, ctx);
    }
    return { hidden: h, attentionMask: emb.attentionMask };
  }

  /** RobertaClassificationHead on token 0 (`<s>`): dropout → dense → tanh → dropout → out_proj. */
  classify(batch: TokenBatch, ctx: ForwardContext, clsIndex = 0): tf.Tensor2D {
    return tf.tidy(() => this.classifyHidden(this.encode(batch, ctx).hidden, ctx, clsIndex));
  }

  /** The classification head on already encoded hidden states [batch, seqLen, hidden]. */
  classifyHidden(h: tf.Tensor3D, ctx: ForwardContext, clsIndex = 0): tf.Tensor2D {
    return tf.tidy(() => {
      const c = this.config;
      let x = tf.reshape(tf.slice(h, [0, clsIndex, 0], [h.shape[0], 1, c.hidden]), [h.shape[0], c.hidden]);
      x = dropout(x, c.hiddenDropout, ctx);
      x = tf.tanh(this.lin('classifier.dense').apply(x, ctx));
      x = dropout(x, c.hiddenDropout, ctx);
      return this.lin('classifier.out_proj').apply(x, ctx) as tf.Tensor2D;
    });
  }

  /** RobertaLMHead: dense → gelu → LayerNorm → tied decoder + bias; logits [batch, seqLen, vocab]. */
  mlmLogits(batch: TokenBatch, ctx: ForwardContext): tf.Tensor3D {
    return tf.tidy(() => {
      const h = this.encode(batch, ctx).hidden;
      let x = activation('gelu', this.lin('lm_head.dense').apply(h, ctx));
      x = this.ln('lm_head.layer_norm', x);
      const logits = matmulLastAxis(x, this.params.get('roberta.embeddings.word_embeddings.weight'), true);
      return tf.add(logits, this.params.get('lm_head.bias')) as tf.Tensor3D;
    });
  }

  protected get layerNormEps(): number {
    return this.config.layerNormEps;
  }
}
