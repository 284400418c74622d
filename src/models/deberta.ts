/**
 * DeBERTa-v2 as microsoft/LoRA's fork builds DebertaV2ForSequenceClassification (the encoder of the
 * paper's DeBERTa XXL rows, Table 2): examples/NLU/src/transformers/models/deberta_v2/modeling_deberta_v2.py.
 * Embeddings without absolute positions, post-LN blocks with disentangled attention over a shared,
 * LayerNorm-ed relative-position table (deberta-attention.ts), a ConvLayer after layer 0 that reads the
 * embedding output, and a ContextPooler (dense → GELU, no tanh) before the classifier.
 * ../shared/fixtures/parity/deberta-tiny/README.md lists each detail. The `mlm` head is
 * DebertaV2ForMaskedLM's (`cls.predictions`), for pretraining the mini stand-in (../pretrain/).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DebertaV2Config } from './deberta-config.ts';
import type { ForwardContext } from './context.ts';
import type { TokenBatch } from './batch.ts';
import { type EmbeddingOutput, runHooks } from './hooks.ts';
import { init } from './param-store.ts';
import { TransformerBase } from './transformer-base.ts';
import { activation, dropout, linear, matmulLastAxis } from './ops.ts';
import { attentionSpan, disentangledAttention, positionIndex } from './deberta-attention.ts';
import type { Rng } from '../util/rng.ts';

/** hidden_act / conv_act / pooler_hidden_act: ACT2FN of the reference. */
function act(name: 'gelu' | 'gelu_new' | 'tanh', x: tf.Tensor): tf.Tensor {
  return name === 'tanh' ? tf.tanh(x) : activation(name, x);
}

export type DebertaHead = 'classification' | 'mlm';

/** What one forward can hand back for debugging (the fixture's intermediates.safetensors names). */
export type DebertaTrace = Map<string, tf.Tensor>;

export class DebertaV2Model extends TransformerBase {
  readonly modelType = 'deberta-v2' as const;
  readonly prefix = 'deberta.';

  constructor(
    readonly config: DebertaV2Config,
    readonly heads: readonly DebertaHead[],
    rng: Rng,
  ) {
    super();
    const c = config;
    const std = c.initializerRange;
    const p = this.params;
    const all = c.heads * c.headSize;
    p.add('deberta.embeddings.word_embeddings.weight', init.embedding(c.vocabSize, c.hidden, std, rng, c.padTokenId));
    if (c.positionBiasedInput) p.add('deberta.embeddings.position_embeddings.weight', init.normal([c.maxPositions, c.hidden], std, rng));
    if (c.typeVocabSize > 0) p.add('deberta.embeddings.token_type_embeddings.weight', init.normal([c.typeVocabSize, c.hidden], std, rng));
    this.addLayerNorm('deberta.embeddings.LayerNorm', c.hidden);
    for (let i = 0; i < c.layers; i++) {
      const l = `deberta.encoder.layer.${i}`;
      for (const n of ['query_proj', 'key_proj', 'value_proj']) this.addLinear(`${l}.attention.self.${n}`, c.hidden, all, std, 'out_in', rng);
      // share_att_key false: separate projections of the position table (c2p needs keys, p2c queries).
      if (!c.shareAttKey && c.posAttType.includes('c2p')) this.addLinear(`${l}.attention.self.pos_key_proj`, c.hidden, all, std, 'out_in', rng);
      if (!c.shareAttKey && c.posAttType.includes('p2c')) this.addLinear(`${l}.attention.self.pos_query_proj`, c.hidden, all, std, 'out_in', rng);
      this.addLinear(`${l}.attention.output.dense`, all, c.hidden, std, 'out_in', rng);
      this.addLayerNorm(`${l}.attention.output.LayerNorm`, c.hidden);
      this.addLinear(`${l}.intermediate.dense`, c.hidden, c.intermediate, std, 'out_in', rng);
      this.addLinear(`${l}.output.dense`, c.intermediate, c.hidden, std, 'out_in', rng);
      this.addLayerNorm(`${l}.output.LayerNorm`, c.hidden);
    }
    p.add('deberta.encoder.rel_embeddings.weight', init.normal([2 * attentionSpan(this.relSpec), c.hidden], std, rng));
    if (c.normRelEmbeddings) this.addLayerNorm('deberta.encoder.LayerNorm', c.hidden);
    if (c.convKernelSize > 0) {
      // _init_weights leaves Conv1d alone: PyTorch's default U(±1/sqrt(in · k)) for weight and bias.
      const bound = 1 / Math.sqrt(c.hidden * c.convKernelSize);
      p.add('deberta.encoder.conv.conv.weight', init.uniform([c.hidden, c.hidden, c.convKernelSize], -bound, bound, rng));
      p.add('deberta.encoder.conv.conv.bias', init.uniform([c.hidden], -bound, bound, rng));
      this.addLayerNorm('deberta.encoder.conv.LayerNorm', c.hidden);
    }
    // Heads after the body, classification first: a classification model draws what it always did.
    if (heads.includes('classification')) {
      this.addLinear('pooler.dense', c.hidden, c.poolerHidden, std, 'out_in', rng);
      this.addLinear('classifier', c.poolerHidden, c.numLabels, std, 'out_in', rng);
    }
    if (heads.includes('mlm')) {
      // DebertaV2LMPredictionHead: transform (dense → hidden_act → LayerNorm), then a decoder tied to
      // the word embeddings (not a tensor of its own) plus `cls.predictions.bias`.
      this.addLinear('cls.predictions.transform.dense', c.hidden, c.hidden, std, 'out_in', rng);
      this.addLayerNorm('cls.predictions.transform.LayerNorm', c.hidden);
      p.add('cls.predictions.bias', init.zeros([c.vocabSize]));
    }
  }

  private get relSpec(): { buckets: number; maxRelative: number } {
    return { buckets: this.config.positionBuckets, maxRelative: this.config.maxRelativePositions };
  }

  /** The task head (ContextPooler + classifier) and the MLM head: trained with every method, outside the paper's counts. */
  headParamNames(): string[] {
    return this.params.names().filter((n) => n.startsWith('pooler.') || n.startsWith('classifier.') || n.startsWith('cls.'));
  }

  /** DebertaV2Embeddings: word (+ absolute position, + token type 0) → LayerNorm → × mask → dropout. */
  embed(batch: TokenBatch, ctx: ForwardContext): EmbeddingOutput {
    const c = this.config;
    const ids = tf.tensor2d(batch.inputIds, [batch.batch, batch.seqLen], 'int32');
    let h = tf.gather(this.params.get('deberta.embeddings.word_embeddings.weight'), ids);
    if (c.positionBiasedInput) {
      // position_ids = arange(seq_len): DeBERTa does not derive them from the padding.
      h = tf.add(h, tf.slice(this.params.get('deberta.embeddings.position_embeddings.weight'), [0, 0], [batch.seqLen, c.hidden]));
    }
    // TokenBatch carries no segment ids: type 0 everywhere (deberta-v2-xxlarge has type_vocab_size 0).
    if (c.typeVocabSize > 0) h = tf.add(h, tf.slice(this.params.get('deberta.embeddings.token_type_embeddings.weight'), [0, 0], [1, c.hidden]));
    const mask = tf.tensor2d(Float32Array.from(batch.attentionMask), [batch.batch, batch.seqLen]);
    // The mask multiply comes after the LayerNorm (README step 1): padded positions become exactly 0.
    h = tf.mul(this.ln('deberta.embeddings.LayerNorm', h), tf.expandDims(mask, 2));
    return { hidden: dropout(h, c.hiddenDropout, ctx) as tf.Tensor3D, attentionMask: mask };
  }

  /** get_rel_embedding: the position table, through encoder.LayerNorm when norm_rel_ebd has layer_norm. */
  relEmbeddings(): tf.Tensor2D {
    const r = this.params.get('deberta.encoder.rel_embeddings.weight');
    return (this.config.normRelEmbeddings ? this.ln('deberta.encoder.LayerNorm', r) : r) as tf.Tensor2D;
  }

  private attention(i: number, h: tf.Tensor3D, rel: tf.Tensor2D, index: Int32Array, mask: tf.Tensor2D, ctx: ForwardContext, trace?: DebertaTrace): tf.Tensor3D {
    const c = this.config;
    const l = `deberta.encoder.layer.${i}.attention.self`;
    const q = this.lin(`${l}.query_proj`).apply(h, ctx) as tf.Tensor3D;
    const k = this.lin(`${l}.key_proj`).apply(h, ctx) as tf.Tensor3D;
    const v = this.lin(`${l}.value_proj`).apply(h, ctx) as tf.Tensor3D;
    // pos_dropout(rel_embeddings), drawn per layer as in the reference.
    const r = dropout(rel, c.hiddenDropout, ctx) as tf.Tensor2D;
    let posKey: tf.Tensor2D | undefined;
    let posQuery: tf.Tensor2D | undefined;
    if (c.shareAttKey) {
      // key_proj(rel) is the module's forward; the query side is `nn.Linear.forward(self.query_proj, rel)`:
      // W and b only, so LoRA reaches the position query only once it is merged into W (README step 8).
      if (c.posAttType.includes('c2p')) posKey = this.lin(`${l}.key_proj`).apply(r, ctx) as tf.Tensor2D;
      if (c.posAttType.includes('p2c')) {
        const qp = this.lin(`${l}.query_proj`);
        posQuery = linear(r, qp.weight, qp.bias, true) as tf.Tensor2D;
      }
    } else {
      if (c.posAttType.includes('c2p')) posKey = this.lin(`${l}.pos_key_proj`).apply(r, ctx) as tf.Tensor2D;
      if (c.posAttType.includes('p2c')) posQuery = this.lin(`${l}.pos_query_proj`).apply(r, ctx) as tf.Tensor2D;
    }
    const out = disentangledAttention({
      heads: c.heads,
      posAttType: c.posAttType,
      q,
      k,
      v,
      posKey,
      posQuery,
      index,
      mask,
      attentionDropout: c.attentionDropout,
      ctx,
    });
    if (trace) {
      if (out.relScores) trace.set(`layer.${i}.rel_scores`, tf.keep(out.relScores));
      trace.set(`layer.${i}.attention_probs`, tf.keep(out.probs));
    }
    return out.context;
  }

  /**
   * ConvLayer: Conv1d over the embedding output E (cross-correlation, zero padding (k − 1)/2), padded
   * positions zeroed, act, then LN(Z₀ + c) · mask. Written as k shifted products rather than tf.conv1d so
   * every backend (wasm, WebGPU, the native kernels) runs it through the shared matmul path.
   */
  private conv(e: tf.Tensor3D, z0: tf.Tensor3D, mask: tf.Tensor2D, ctx: ForwardContext): tf.Tensor3D {
    const c = this.config;
    const ks = c.convKernelSize;
    const half = (ks - 1) / 2;
    const [b, s, hd] = e.shape;
    const w = this.params.get('deberta.encoder.conv.conv.weight'); // PyTorch layout [out, in, k]
    const padded = tf.pad(e, [[0, 0], [half, half], [0, 0]]);
    let out: tf.Tensor = this.params.get('deberta.encoder.conv.conv.bias');
    for (let j = 0; j < ks; j++) {
      // Tap j reads E_{t + j − half}.
      const shifted = tf.slice(padded, [0, j, 0], [b, s, hd]);
      const wj = tf.reshape(tf.slice(w, [0, 0, j], [hd, hd, 1]), [hd, hd]);
      out = tf.add(out, matmulLastAxis(shifted, wj, true));
    }
    const m = tf.expandDims(mask, 2);
    out = act(c.convAct, dropout(tf.mul(out, m), c.hiddenDropout, ctx));
    return tf.mul(this.ln('deberta.encoder.conv.LayerNorm', tf.add(z0, out)), m) as tf.Tensor3D;
  }

  /** The encoder: hidden states [batch, seqLen, hidden] and the (possibly widened) mask. */
  encode(batch: TokenBatch, ctx: ForwardContext, trace?: DebertaTrace): EmbeddingOutput {
    const c = this.config;
    let emb = this.embed(batch, ctx);
    for (const hk of this.hooks) if (hk.afterEmbeddings) emb = hk.afterEmbeddings(emb, ctx);
    const e = emb.hidden;
    const mask = emb.attentionMask;
    const index = positionIndex(e.shape[1], this.relSpec);
    const rel = this.relEmbeddings();
    if (trace) {
      trace.set('embeddings', tf.keep(e));
      trace.set('rel_embeddings', tf.keep(rel));
    }
    let h = e;
    for (let i = 0; i < c.layers; i++) {
      const l = `deberta.encoder.layer.${i}`;
      const x = h;
      let a = this.lin(`${l}.attention.output.dense`).apply(this.attention(i, x, rel, index, mask, ctx, trace), ctx);
      a = dropout(a, c.hiddenDropout, ctx);
      a = runHooks(this.hooks, 'afterAttention', i, a as tf.Tensor3D, ctx, x);
      const y = this.ln(`${l}.attention.output.LayerNorm`, tf.add(a, x)) as tf.Tensor3D;
      const inter = activation(c.hiddenAct, this.lin(`${l}.intermediate.dense`).apply(y, ctx));
      let f = dropout(this.lin(`${l}.output.dense`).apply(inter, ctx), c.hiddenDropout, ctx);
      f = runHooks(this.hooks, 'afterFfn', i, f as tf.Tensor3D, ctx, y);
      h = this.ln(`${l}.output.LayerNorm`, tf.add(f, y)) as tf.Tensor3D;
      if (i === 0 && c.convKernelSize > 0) {
        if (trace) trace.set('layer.0.output_before_conv', tf.keep(h));
        h = this.conv(e, h, mask, ctx);
      }
      h = runHooks(this.hooks, 'afterBlock', i, h, ctx);
      if (trace) trace.set(`layer.${i}.output`, tf.keep(h));
    }
    return { hidden: h, attentionMask: mask };
  }

  /** Logits [batch, numLabels]: ContextPooler on token 0 ([CLS]), dropout, classifier. */
  classify(batch: TokenBatch, ctx: ForwardContext, clsIndex = 0): tf.Tensor2D {
    return tf.tidy(() => this.classifyHidden(this.encode(batch, ctx).hidden, ctx, clsIndex));
  }

  /** The pooled representation: GELU(dense(dropout(h[:, cls]))) (ContextPooler; no tanh). */
  pool(h: tf.Tensor3D, ctx: ForwardContext, clsIndex = 0): tf.Tensor2D {
    const c = this.config;
    let x = tf.reshape(tf.slice(h, [0, clsIndex, 0], [h.shape[0], 1, c.hidden]), [h.shape[0], c.hidden]);
    x = dropout(x, c.poolerDropout, ctx);
    return act(c.poolerAct, this.lin('pooler.dense').apply(x, ctx)) as tf.Tensor2D;
  }

  /** The classification head on already encoded hidden states [batch, seqLen, hidden]. */
  classifyHidden(h: tf.Tensor3D, ctx: ForwardContext, clsIndex = 0): tf.Tensor2D {
    return tf.tidy(() => {
      const p = dropout(this.pool(h, ctx, clsIndex), this.config.clsDropout, ctx);
      return this.lin('classifier').apply(p, ctx) as tf.Tensor2D;
    });
  }

  /** The MLM head on hidden states [..., hidden] → vocabulary logits [..., vocab]. */
  mlmHead(h: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    return tf.tidy(() => {
      const x = this.ln('cls.predictions.transform.LayerNorm', activation(this.config.hiddenAct, this.lin('cls.predictions.transform.dense').apply(h, ctx)));
      const logits = matmulLastAxis(x, this.params.get('deberta.embeddings.word_embeddings.weight'), true);
      return tf.add(logits, this.params.get('cls.predictions.bias'));
    });
  }

  /** DebertaV2ForMaskedLM's logits [batch, seqLen, vocab]. */
  mlmLogits(batch: TokenBatch, ctx: ForwardContext): tf.Tensor3D {
    return tf.tidy(() => this.mlmHead(this.encode(batch, ctx).hidden, ctx) as tf.Tensor3D);
  }

  protected get layerNormEps(): number {
    return this.config.layerNormEps;
  }
}
