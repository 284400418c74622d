/**
 * Points inside a Transformer block where adaptation methods other than LoRA plug in
 * (LoRA itself attaches to Linear modules). Every hook is optional and receives the layer index.
 *
 * - afterAttention: the attention sub-layer's output projection, before residual (+ LayerNorm):
 *   Houlsby adapters (Houlsby et al. 2019, Fig. 2).
 * - afterFfn: the FFN's output, before residual: Houlsby / Pfeiffer / Lin adapters.
 * - afterBlock: the block's output hidden states: prefix-layer tuning (Li & Liang 2021).
 * - afterEmbeddings: the embedding output (prefix-embedding tuning may insert positions here and
 *   must then return the widened attention mask).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ForwardContext } from './context.ts';

export interface EmbeddingOutput {
  hidden: tf.Tensor3D;
  /** [batch, seqLen] float mask, 1 = attend. */
  attentionMask: tf.Tensor2D;
}

export interface BlockHooks {
  afterEmbeddings?(out: EmbeddingOutput, ctx: ForwardContext): EmbeddingOutput;
  afterAttention?(layer: number, h: tf.Tensor3D, ctx: ForwardContext): tf.Tensor3D;
  afterFfn?(layer: number, h: tf.Tensor3D, ctx: ForwardContext): tf.Tensor3D;
  afterBlock?(layer: number, h: tf.Tensor3D, ctx: ForwardContext): tf.Tensor3D;
}

/** Runs every registered hook of one kind in registration order. */
export function runHooks(
  hooks: BlockHooks[],
  kind: 'afterAttention' | 'afterFfn' | 'afterBlock',
  layer: number,
  h: tf.Tensor3D,
  ctx: ForwardContext,
): tf.Tensor3D {
  let out = h;
  for (const hk of hooks) {
    const f = hk[kind];
    if (f !== undefined) out = f.call(hk, layer, out, ctx);
  }
  return out;
}
