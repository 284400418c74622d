/**
 * Prefix-embedding and prefix-layer tuning (Li & Liang 2021; paper Section 5.1): l_p prefix and l_i
 * infix special tokens are inserted among the input tokens. Their activations after the embedding
 * layer are trainable vectors (PreEmbed; the paper: "trainable word embeddings (or equivalently, the
 * activations after the embedding layer)"); PreLayer also replaces their activations after every
 * block but the last with trainable vectors. So PreEmbed has d·(l_p + l_i) parameters and PreLayer
 * L·d·(l_p + l_i): one vector per special token after the embeddings and after blocks 0..L−2.
 *
 * Layout of a row: GPT-2 [P₁..P_lp, x₁..x_k, I₁..I_li, x_k+1.., pad], RoBERTa
 * [<s>, P₁..P_lp, x.., I.., pad] (the prefix follows <s> so the classifier still reads <s>). The
 * infix goes after the prompt: after the row's last attended token, or at `setPromptLengths(k)`
 * (GPT-2 training on [prompt; target]). Special tokens occupy sequence positions, so real tokens'
 * position ids count them (hooks.ts positionShift), as in Li & Liang's GPT-2 where the input starts
 * at position l_p; RoBERTa's attention mask is widened with 1s for them; GPT-2 is causal and uses no
 * mask. After the last block the special positions are removed again, so logits and hidden states
 * have the input's shape. GPT-2 decoding with a KV cache inserts them in the first forward only
 * (the cache then holds them; later steps continue at the right positions).
 *
 * The hooks keep a per-forward layout between positionShift, afterEmbeddings and afterBlock (a
 * forward pass runs synchronously, so one layout is live at a time).
 *
 * PreLayer with `mlp` trains Li & Liang's reparametrisation instead of the vectors (prefix-mlp.ts);
 * its artifacts hold the merged plain prefixes under a plain prefix-layer config, so they restore
 * (restore.ts) as the inference-time method, which computes exactly what the MLP form does.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TokenBatch } from '../models/batch.ts';
import type { ForwardContext } from '../models/context.ts';
import type { BlockHooks, EmbeddingOutput } from '../models/hooks.ts';
import type { TransformerModel } from '../models/model.ts';
import { init } from '../models/param-store.ts';
import { makeVariable } from '../models/shape-only.ts';
import { UserError } from '../util/errors.ts';
import type { Rng } from '../util/rng.ts';
import { AppliedBase } from './applied.ts';
import { PEFT_PREFIX, type ArtifactFiles, type ArtifactTensor } from './artifact.ts';
import type { MethodConfig, SaveOptions } from './method.ts';
import { PrefixMlp } from './prefix-mlp.ts';

interface Layout {
  batch: number;
  seqLen: number;
  /** seqLen + l_p + l_i. */
  newLen: number;
  /** [batch·newLen] rows of concat([hidden [batch·seqLen, d], vectors [n, d]]). */
  insert: Int32Array;
  /** [batch·newLen] rows of concat([hidden [batch·newLen, d], vectors [n, d]]). */
  replace: Int32Array;
  /** [batch·seqLen] rows of hidden [batch·newLen, d]: the real tokens, in order. */
  strip: Int32Array;
  shift: Int32Array;
  /** [batch·newLen] attention mask, 1 on special tokens. */
  mask: Float32Array;
}

class PrefixHooks implements BlockHooks {
  enabled = true;
  promptLengths: Int32Array | undefined;
  private layout: Layout | undefined;
  /** This forward's prefix per slot (read once at the embeddings: the MLP form computes them). */
  private vectors: readonly tf.Tensor[] = [];

  constructor(
    private readonly model: TransformerModel,
    private readonly lp: number,
    private readonly li: number,
    private readonly source: () => readonly tf.Tensor[],
  ) {}

  private computeLayout(batch: TokenBatch): Layout {
    const { lp, li } = this;
    const n = lp + li;
    const B = batch.batch;
    const L = batch.seqLen;
    const L2 = L + n;
    const c = this.model.config;
    const limit = c.modelType === 'roberta' ? c.maxPositions - c.padTokenId - 1 : c.maxPositions;
    if (L2 > limit) throw new UserError(`prefix tuning: ${L} tokens + ${n} special tokens exceed the model's ${limit} positions`);
    // After [CLS] / <s> in the encoders, at the start for GPT-2.
    const insertAt = c.modelType !== 'gpt2' ? Math.min(1, L) : 0;
    if (this.promptLengths !== undefined && this.promptLengths.length !== B) throw new Error(`prefix tuning: ${this.promptLengths.length} prompt lengths for a batch of ${B}`);
    const insert = new Int32Array(B * L2);
    const replace = new Int32Array(B * L2);
    const strip = new Int32Array(B * L);
    const shift = new Int32Array(B * L);
    const mask = new Float32Array(B * L2);
    for (let b = 0; b < B; b++) {
      let infixAt = insertAt;
      if (this.promptLengths !== undefined) infixAt = this.promptLengths[b];
      else for (let t = 0; t < L; t++) if (batch.attentionMask[b * L + t] !== 0) infixAt = t + 1;
      if (infixAt < insertAt || infixAt > L) throw new Error(`prefix tuning: infix position ${infixAt} outside [${insertAt}, ${L}]`);
      let p = 0;
      const special = (j: number): void => {
        insert[b * L2 + p] = B * L + j;
        replace[b * L2 + p] = B * L2 + j;
        mask[b * L2 + p] = 1;
        p++;
      };
      const token = (t: number): void => {
        insert[b * L2 + p] = b * L + t;
        replace[b * L2 + p] = b * L2 + p;
        strip[b * L + t] = b * L2 + p;
        shift[b * L + t] = p - t;
        mask[b * L2 + p] = batch.attentionMask[b * L + t];
        p++;
      };
      for (let t = 0; t < insertAt; t++) token(t);
      for (let j = 0; j < lp; j++) special(j);
      for (let t = insertAt; t < infixAt; t++) token(t);
      for (let j = 0; j < li; j++) special(lp + j);
      for (let t = infixAt; t < L; t++) token(t);
    }
    return { batch: B, seqLen: L, newLen: L2, insert, replace, strip, shift, mask };
  }

  positionShift(batch: TokenBatch, past: number): Int32Array | undefined {
    this.layout = undefined;
    // With a KV cache the special tokens were inserted by the first forward and live in the cache.
    if (!this.enabled || past > 0) return undefined;
    this.layout = this.computeLayout(batch);
    return this.layout.shift;
  }

  afterEmbeddings(out: EmbeddingOutput, _ctx: ForwardContext): EmbeddingOutput {
    const lay = this.layout;
    if (lay === undefined) return out;
    const d = out.hidden.shape[2];
    this.vectors = this.source();
    const hidden = tf.tidy(() => {
      const rows = tf.concat([tf.reshape(out.hidden, [lay.batch * lay.seqLen, d]), this.vectors[0]], 0);
      return tf.reshape(tf.gather(rows, tf.tensor1d(lay.insert, 'int32')), [lay.batch, lay.newLen, d]) as tf.Tensor3D;
    });
    return { hidden, attentionMask: tf.tensor2d(lay.mask, [lay.batch, lay.newLen]) };
  }

  afterBlock(layer: number, h: tf.Tensor3D, _ctx: ForwardContext): tf.Tensor3D {
    const lay = this.layout;
    if (lay === undefined) return h;
    const d = h.shape[2];
    if (layer === this.model.config.layers - 1) {
      this.layout = undefined;
      this.vectors = [];
      return tf.tidy(() => tf.reshape(tf.gather(tf.reshape(h, [lay.batch * lay.newLen, d]), tf.tensor1d(lay.strip, 'int32')), [lay.batch, lay.seqLen, d]) as tf.Tensor3D);
    }
    const next = this.vectors[layer + 1];
    if (next === undefined) return h;
    return tf.tidy(() => {
      const rows = tf.concat([tf.reshape(h, [lay.batch * lay.newLen, d]), next], 0);
      return tf.reshape(tf.gather(rows, tf.tensor1d(lay.replace, 'int32')), [lay.batch, lay.newLen, d]) as tf.Tensor3D;
    });
  }
}

export interface PrefixOptions {
  prefixLength: number;
  infixLength: number;
  /** PreLayer: trainable activations after the embeddings and after every block but the last. */
  layerwise: boolean;
  /** PreLayer only: train Li & Liang's MLP reparametrisation with this hidden size (prefix-mlp.ts). */
  mlp?: number;
}

/** Artifact names of the plain prefixes. */
function prefixNames(layerwise: boolean, count: number): string[] {
  return layerwise ? Array.from({ length: count }, (_, j) => `prefix_layers.${j}.weight`) : ['prefix_embedding.weight'];
}

export class AppliedPrefix extends AppliedBase {
  readonly trainable: tf.Variable[];
  readonly names: string[];
  private readonly hooks: PrefixHooks;
  private readonly mlp: PrefixMlp | undefined;
  private readonly slots: number;

  constructor(model: TransformerModel, name: string, config: object, opts: PrefixOptions, rng: Rng) {
    super(model, name, config);
    const n = opts.prefixLength + opts.infixLength;
    this.slots = opts.layerwise ? model.config.layers : 1;
    if (opts.mlp !== undefined) {
      if (!opts.layerwise) throw new Error(`${name}: the MLP reparametrisation is for prefix-layer tuning`);
      const mlp = new PrefixMlp(n, model.config.hidden, this.slots, opts.mlp, rng);
      this.mlp = mlp;
      const params = mlp.parameters();
      this.trainable = params.map((p) => p.v);
      this.names = params.map((p) => p.name);
      this.hooks = new PrefixHooks(model, opts.prefixLength, opts.infixLength, () => mlp.prefixes());
    } else {
      const std = model.config.initializerRange;
      const vectors = Array.from({ length: this.slots }, () => makeVariable(init.normal([n, model.config.hidden], std, rng)));
      this.trainable = vectors;
      this.names = prefixNames(opts.layerwise, this.slots);
      this.hooks = new PrefixHooks(model, opts.prefixLength, opts.infixLength, () => vectors);
    }
    model.hooks.push(this.hooks);
  }

  /** The prefixes the model uses, [n, d] per slot (merged from the MLP when there is one); caller disposes. */
  mergedPrefixes(): tf.Tensor2D[] {
    return this.mlp !== undefined ? this.mlp.merged() : this.trainable.map((v) => v.clone() as tf.Tensor2D);
  }

  /** What an artifact records: the plain method the merged prefixes belong to. */
  private savedConfig(): MethodConfig {
    if (this.mlp === undefined) return this.config;
    const { prefixMlp: _dropped, ...plain } = this.config;
    return plain;
  }

  protected override ownTensors(): ArtifactTensor[] {
    const mlp = this.mlp;
    if (mlp === undefined) return super.ownTensors();
    const names = prefixNames(true, this.slots);
    // The MLP computes every slot at once: merged on the first read, all read back, then freed.
    let values: Promise<Float32Array[]> | undefined;
    const readAll = async (): Promise<Float32Array[]> => {
      const merged = this.mergedPrefixes();
      try {
        return await Promise.all(merged.map(async (t) => Float32Array.from((await t.data()) as Float32Array)));
      } finally {
        for (const t of merged) t.dispose();
      }
    };
    return names.map((name, j) => ({
      key: PEFT_PREFIX + name,
      // [n, d]: the prefix of one slot has the shape of the MLP's token table.
      shape: mlp.wte.shape.slice(),
      read: async () => (await (values ??= readAll()))[j],
      write: () => {
        throw new Error(`${this.name}: merged prefixes are written, not loaded`);
      },
    }));
  }

  protected override artifactConfig(opts: SaveOptions): object {
    return { ...super.artifactConfig(opts), method_config: this.savedConfig() };
  }

  protected override metadata(): Record<string, string> {
    return { ...super.metadata(), lora_repro_config: JSON.stringify(this.savedConfig()) };
  }

  override loadArtifact(files: ArtifactFiles, label: string): void {
    if (this.mlp !== undefined) {
      throw new UserError(`${label}: ${this.name} with prefixMlp saves merged plain prefixes; restore the artifact as it is recorded (a plain ${this.name})`);
    }
    super.loadArtifact(files, label);
  }

  /**
   * Where each row's prompt ends (the infix goes there) for the next forward passes; undefined:
   * after the last attended token. Rows [prompt; target] for GPT-2 training need it.
   */
  setPromptLengths(lengths: ArrayLike<number> | undefined): void {
    this.hooks.promptLengths = lengths === undefined ? undefined : Int32Array.from(lengths);
  }

  protected setActive(on: boolean): void {
    this.hooks.enabled = on;
  }

  protected detach(): void {
    const i = this.model.hooks.indexOf(this.hooks);
    if (i >= 0) this.model.hooks.splice(i, 1);
    for (const v of this.trainable) v.dispose();
  }
}
