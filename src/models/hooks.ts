/**
 * Points inside a Transformer block where adaptation methods other than LoRA plug in
 * (LoRA itself attaches to Linear modules). Every hook is optional and receives the layer index.
 *
 * - afterAttention: the attention sub-layer's output projection, before residual (+ LayerNorm):
 *   Houlsby adapters (Houlsby et al. 2019, Fig. 2).
 * - afterFfn: the FFN's output, before residual: Houlsby / Pfeiffer / Lin adapters.
 *   Both sub-layer hooks also receive `residual`, the hidden states the block adds the output to:
 *   Pfeiffer adapters read LN(output + residual) (AdapterHub `Adapter.pre_forward`).
 * - afterBlock: the block's output hidden states: prefix-layer tuning (Li & Liang 2021).
 * - afterEmbeddings: the embedding output (prefix-embedding tuning may insert positions here and
 *   must then return the widened attention mask).
 * - positionShift: a hook that inserts positions says, before the embedding lookup, how many of
 *   them precede each real token, so that position ids count the inserted tokens (a prefix of
 *   l_p tokens moves the input to positions l_p, l_p + 1, …, as in Li & Liang's GPT-2 prefix).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { TokenBatch } from './batch.ts';
import type { ForwardContext } from './context.ts';

export interface EmbeddingOutput {
  hidden: tf.Tensor3D;
  /** [batch, seqLen] float mask, 1 = attend. */
  attentionMask: tf.Tensor2D;
}

export interface BlockHooks {
  /**
   * Per token of `batch` (row-major [batch · seqLen]), the number of inserted positions before it;
   * `past` is the KV-cache length (GPT-2 decoding). Undefined when this forward inserts nothing.
   */
  positionShift?(batch: TokenBatch, past: number): Int32Array | undefined;
  afterEmbeddings?(out: EmbeddingOutput, ctx: ForwardContext): EmbeddingOutput;
  afterAttention?(layer: number, h: tf.Tensor3D, ctx: ForwardContext, residual: tf.Tensor3D): tf.Tensor3D;
  afterFfn?(layer: number, h: tf.Tensor3D, ctx: ForwardContext, residual: tf.Tensor3D): tf.Tensor3D;
  afterBlock?(layer: number, h: tf.Tensor3D, ctx: ForwardContext): tf.Tensor3D;
}

/**
 * Runs every registered hook of one kind in registration order; the sub-layer hooks get the
 * sub-layer's residual input as well.
 */
export function runHooks(hooks: BlockHooks[], kind: 'afterBlock', layer: number, h: tf.Tensor3D, ctx: ForwardContext): tf.Tensor3D;
export function runHooks(hooks: BlockHooks[], kind: 'afterAttention' | 'afterFfn', layer: number, h: tf.Tensor3D, ctx: ForwardContext, residual: tf.Tensor3D): tf.Tensor3D;
export function runHooks(
  hooks: BlockHooks[],
  kind: 'afterAttention' | 'afterFfn' | 'afterBlock',
  layer: number,
  h: tf.Tensor3D,
  ctx: ForwardContext,
  residual?: tf.Tensor3D,
): tf.Tensor3D {
  let out = h;
  for (const hk of hooks) {
    if (kind === 'afterBlock') {
      if (hk.afterBlock !== undefined) out = hk.afterBlock(layer, out, ctx);
    } else {
      const f = hk[kind];
      if (f !== undefined) out = f.call(hk, layer, out, ctx, residual as tf.Tensor3D);
    }
  }
  return out;
}

/** The summed position shifts of every hook, or undefined when no hook inserts positions. */
export function positionShift(hooks: BlockHooks[], batch: TokenBatch, past: number): Int32Array | undefined {
  let total: Int32Array | undefined;
  for (const hk of hooks) {
    const s = hk.positionShift?.(batch, past);
    if (s === undefined) continue;
    if (total === undefined) total = Int32Array.from(s);
    else for (let i = 0; i < total.length; i++) total[i] += s[i];
  }
  return total;
}
