/**
 * GPT-2 (Radford et al. 2019) with the tied LM head, the decoder of the paper's Table 3.
 * Semantics follow the reference NLG model (microsoft/LoRA examples/NLG/src/model.py), written down in
 * ../shared/fixtures/parity/gpt2-tiny/README.md: Conv1D weights [in, out], pre-LN blocks, `gelu_new`,
 * causal masking as w·b − 1e10·(1 − b), no attention mask (right padding), logits = h · wteᵀ.
 * A key/value cache makes decoding cost per new token flat in sequence length.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Gpt2Config } from './config.ts';
import type { ForwardContext } from './context.ts';
import type { TokenBatch } from './batch.ts';
import { type EmbeddingOutput, positionShift, runHooks } from './hooks.ts';
import type { Linear } from './linear.ts';
import { matMul } from './matmul.ts';
import { init } from './param-store.ts';
import { TransformerBase } from './transformer-base.ts';
import { activation, dropout, matmulLastAxis } from './ops.ts';
import { nativeKernelsActive } from '../backend/native-kernels.ts';
import { nativeAttention } from './native-ops.ts';
import type { Rng } from '../util/rng.ts';

/** Keys and values of every layer, [batch, heads, length, headDim] each. */
export interface KvCache {
  keys: tf.Tensor4D[];
  values: tf.Tensor4D[];
  length: number;
}

export function disposeCache(cache: KvCache | undefined): void {
  if (cache === undefined) return;
  for (const t of [...cache.keys, ...cache.values]) t.dispose();
}

/** Reorders the cache rows (beam search keeps the rows of the surviving beams). */
export function gatherCache(cache: KvCache, rows: number[]): KvCache {
  const idx = tf.tensor1d(rows, 'int32');
  const out: KvCache = {
    keys: cache.keys.map((k) => tf.gather(k, idx)),
    values: cache.values.map((v) => tf.gather(v, idx)),
    length: cache.length,
  };
  idx.dispose();
  return out;
}

export interface Gpt2Output {
  hidden: tf.Tensor3D;
  cache?: KvCache;
}

/** The causal mask b[i][j] = 1 if key j is visible to query i (query i sits at position past + i). */
function causalMask(queryLen: number, past: number): tf.Tensor2D {
  const total = past + queryLen;
  const b = new Float32Array(queryLen * total);
  for (let i = 0; i < queryLen; i++) for (let j = 0; j <= past + i; j++) b[i * total + j] = 1;
  return tf.tensor2d(b, [queryLen, total]);
}

export class Gpt2Model extends TransformerBase {
  readonly modelType = 'gpt2' as const;
  readonly prefix = 'transformer.';

  constructor(
    readonly config: Gpt2Config,
    rng: Rng,
  ) {
    super();
    const c = config;
    const std = c.initializerRange;
    this.params.add('transformer.wte.weight', init.normal([c.vocabSize, c.hidden], std, rng));
    this.params.add('transformer.wpe.weight', init.normal([c.maxPositions, c.hidden], std, rng));
    // GPT-2's scaled init of the residual projections: std / sqrt(2 · n_layer) (HF _init_weights).
    const projStd = std / Math.sqrt(2 * c.layers);
    for (let i = 0; i < c.layers; i++) {
      const l = `transformer.h.${i}`;
      this.addLayerNorm(`${l}.ln_1`, c.hidden);
      this.addConv1D(`${l}.attn.c_attn`, c.hidden, 3 * c.hidden, std, rng);
      this.addConv1D(`${l}.attn.c_proj`, c.hidden, c.hidden, projStd, rng);
      this.addLayerNorm(`${l}.ln_2`, c.hidden);
      this.addConv1D(`${l}.mlp.c_fc`, c.hidden, c.intermediate, std, rng);
      this.addConv1D(`${l}.mlp.c_proj`, c.intermediate, c.hidden, projStd, rng);
    }
    this.addLayerNorm('transformer.ln_f', c.hidden);
  }

  /** GPT-2's LM head is tied to wte: no separate head parameters. */
  headParamNames(): string[] {
    return [];
  }

  private addConv1D(name: string, inDim: number, outDim: number, std: number, rng: Rng): Linear {
    return this.addLinear(name, inDim, outDim, std, 'in_out', rng);
  }

  /** Token + position embeddings; positions continue after the cached prefix. */
  embed(batch: TokenBatch, past: number, ctx: ForwardContext): EmbeddingOutput {
    const ids = tf.tensor2d(batch.inputIds, [batch.batch, batch.seqLen], 'int32');
    // Prefix/infix tuning inserts positions: real tokens count them (hooks.ts positionShift).
    const shift = positionShift(this.hooks, batch, past);
    let pos: tf.Tensor;
    if (shift === undefined) pos = tf.range(past, past + batch.seqLen, 1, 'int32');
    else pos = tf.tensor2d(shift.map((s, i) => past + (i % batch.seqLen) + s), [batch.batch, batch.seqLen], 'int32');
    const h = tf.add(tf.gather(this.params.get('transformer.wte.weight'), ids), tf.gather(this.params.get('transformer.wpe.weight'), pos));
    const mask = tf.tensor2d(Float32Array.from(batch.attentionMask), [batch.batch, batch.seqLen]);
    return { hidden: dropout(h, this.config.embdDropout, ctx) as tf.Tensor3D, attentionMask: mask };
  }

  private attention(i: number, x: tf.Tensor3D, past: KvCache | undefined, ctx: ForwardContext, newCache?: KvCache): tf.Tensor3D {
    const c = this.config;
    const l = `transformer.h.${i}.attn`;
    const [b, len] = x.shape;
    const dh = c.hidden / c.heads;
    const qkv = this.lin(`${l}.c_attn`).apply(x, ctx);
    const native = nativeKernelsActive();
    if (native && past === undefined && newCache === undefined) {
      // Training: one fused kernel reads q, k and v in place from c_attn's output.
      const merged = nativeAttention({ heads: c.heads, qkv, causal: true, dropout: c.attnDropout, ctx });
      return this.lin(`${l}.c_proj`).apply(merged, ctx) as tf.Tensor3D;
    }
    // c_attn output columns are [q | k | v], each n_embd wide, split into heads.
    const [qFlat, kFlat, vFlat] = tf.split(qkv, 3, -1);
    const toHeads = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [b, len, c.heads, dh]), [0, 2, 1, 3]) as tf.Tensor4D;
    const [k, v] = [kFlat, vFlat].map(toHeads);
    const pastLen = past?.length ?? 0;
    const kAll = past ? tf.concat([past.keys[i], k], 2) : k;
    const vAll = past ? tf.concat([past.values[i], v], 2) : v;
    if (newCache) {
      newCache.keys.push(tf.keep(kAll) as tf.Tensor4D);
      newCache.values.push(tf.keep(vAll) as tf.Tensor4D);
    }
    if (native) {
      // Decoding: the kernel reads the cache's [B, heads, T, dh] layout in place.
      const merged = nativeAttention({ heads: c.heads, q: qFlat, k: kAll, v: vAll, kvLayout: 'bhld', causal: true, past: pastLen, dropout: c.attnDropout, ctx });
      return this.lin(`${l}.c_proj`).apply(merged, ctx) as tf.Tensor3D;
    }
    const q = toHeads(qFlat);
    const total = pastLen + len;
    const q3 = tf.reshape(q, [b * c.heads, len, dh]) as tf.Tensor3D;
    const k3 = tf.reshape(kAll, [b * c.heads, total, dh]) as tf.Tensor3D;
    const v3 = tf.reshape(vAll, [b * c.heads, total, dh]) as tf.Tensor3D;
    let w = tf.div(matMul(q3, k3, true), Math.sqrt(dh));
    const bMask = causalMask(len, pastLen);
    w = tf.sub(tf.mul(w, bMask), tf.mul(tf.sub(1, bMask), 1e10));
    let probs = tf.softmax(w, -1);
    probs = dropout(probs, c.attnDropout, ctx);
    const out = matMul(probs, v3);
    const merged = tf.reshape(tf.transpose(tf.reshape(out, [b, c.heads, len, dh]), [0, 2, 1, 3]), [b, len, c.hidden]);
    return this.lin(`${l}.c_proj`).apply(merged, ctx) as tf.Tensor3D;
  }

  /**
   * The final hidden states (after ln_f). With `past`, the batch holds only the new tokens; with
   * `returnCache`, the keys/values of past + new tokens are returned (the caller disposes them).
   */
  forward(batch: TokenBatch, ctx: ForwardContext, opts: { past?: KvCache; returnCache?: boolean } = {}): Gpt2Output {
    const c = this.config;
    const newCache: KvCache | undefined = opts.returnCache ? { keys: [], values: [], length: (opts.past?.length ?? 0) + batch.seqLen } : undefined;
    const hidden = tf.tidy(() => {
      let emb = this.embed(batch, opts.past?.length ?? 0, ctx);
      for (const hk of this.hooks) if (hk.afterEmbeddings) emb = hk.afterEmbeddings(emb, ctx);
      let h = emb.hidden;
      for (let i = 0; i < c.layers; i++) {
        const l = `transformer.h.${i}`;
        let a = this.attention(i, this.ln(`${l}.ln_1`, h) as tf.Tensor3D, opts.past, ctx, newCache);
        a = dropout(a, c.residDropout, ctx) as tf.Tensor3D;
        a = runHooks(this.hooks, 'afterAttention', i, a, ctx, h);
        h = tf.add(h, a);
        const inner = activation(c.activation, this.lin(`${l}.mlp.c_fc`).apply(this.ln(`${l}.ln_2`, h), ctx));
        let f = dropout(this.lin(`${l}.mlp.c_proj`).apply(inner, ctx), c.residDropout, ctx) as tf.Tensor3D;
        f = runHooks(this.hooks, 'afterFfn', i, f, ctx, h);
        h = tf.add(h, f);
        h = runHooks(this.hooks, 'afterBlock', i, h, ctx);
      }
      return this.ln('transformer.ln_f', h) as tf.Tensor3D;
    });
    // Hooks may insert positions (prefix tuning): the cache holds as many as the keys really have.
    if (newCache !== undefined && newCache.keys.length > 0) newCache.length = newCache.keys[0].shape[2];
    return { hidden, cache: newCache };
  }

  /** Tied LM head: logits = h · wteᵀ, [batch, seqLen, vocab]. */
  lmLogits(hidden: tf.Tensor3D): tf.Tensor3D {
    return matmulLastAxis(hidden, this.params.get('transformer.wte.weight'), true) as tf.Tensor3D;
  }

  /** Convenience: logits for a full batch without a cache. */
  logits(batch: TokenBatch, ctx: ForwardContext): tf.Tensor3D {
    return tf.tidy(() => {
      const { hidden } = this.forward(batch, ctx);
      return this.lmLogits(hidden);
    });
  }

  protected get layerNormEps(): number {
    return this.config.layerNormEps;
  }
}
