/**
 * Li & Liang's reparametrisation of prefix-layer tuning (Li & Liang 2021, Section 4.3: optimising
 * the prefix directly is unstable and performs worse): the trained tensors are a small matrix P'
 * [n, d] and an MLP, and the prefix activations are MLP(P'). PrefixTuning gpt2/train_control.py,
 * `PrefixTuning.__init__` / `get_prompt_p5`: wte = nn.Embedding(preseqlen, n_embd), control_trans =
 * Linear(n_embd, mid_dim) → Tanh → Linear(mid_dim, n_layer·2·n_embd), mid_dim 512 by default
 * (gpt2/train_e2e.py `--mid_dim`), prefix_dropout 0.
 *
 * Their MLP emits a key and a value per layer (2·L·d); the prefix here replaces one activation per
 * layer slot (prefix-module.ts: after the embeddings and after blocks 0..L−2), so the MLP emits
 * L·d per token, slot j = columns [j·d, (j+1)·d). Training counts n·d + d·m + m + m·L·d + L·d;
 * after training the MLP is merged: the L plain [n, d] prefixes it computes are all that is saved,
 * the paper's L·d·(l_p + l_i) (Li & Liang also keep only the prefix after training).
 *
 * Initialisation as PyTorch's defaults in their code (no init_weights call): the embedding
 * N(0, 1), each Linear's weight and bias U(−1/√in, 1/√in).
 */
import * as tf from '@tensorflow/tfjs-core';
import { matMul } from '../models/matmul.ts';
import { init } from '../models/param-store.ts';
import { makeVariable } from '../models/shape-only.ts';
import type { Rng } from '../util/rng.ts';

export class PrefixMlp {
  readonly wte: tf.Variable;
  /** nn.Linear layout [out, in]. */
  readonly w1: tf.Variable;
  readonly b1: tf.Variable;
  readonly w2: tf.Variable;
  readonly b2: tf.Variable;

  constructor(
    private readonly tokens: number,
    private readonly hidden: number,
    private readonly slots: number,
    mid: number,
    rng: Rng,
  ) {
    const a1 = 1 / Math.sqrt(hidden);
    const a2 = 1 / Math.sqrt(mid);
    this.wte = makeVariable(init.normal([tokens, hidden], 1, rng));
    this.w1 = makeVariable(init.uniform([mid, hidden], -a1, a1, rng));
    this.b1 = makeVariable(init.uniform([mid], -a1, a1, rng));
    this.w2 = makeVariable(init.uniform([slots * hidden, mid], -a2, a2, rng));
    this.b2 = makeVariable(init.uniform([slots * hidden], -a2, a2, rng));
  }

  /** The trainable tensors under the reference module names (wte, control_trans.0, control_trans.2). */
  parameters(): { name: string; v: tf.Variable }[] {
    return [
      { name: 'prefix_mlp.wte.weight', v: this.wte },
      { name: 'prefix_mlp.control_trans.0.weight', v: this.w1 },
      { name: 'prefix_mlp.control_trans.0.bias', v: this.b1 },
      { name: 'prefix_mlp.control_trans.2.weight', v: this.w2 },
      { name: 'prefix_mlp.control_trans.2.bias', v: this.b2 },
    ];
  }

  /**
   * The prefix of every slot, [n, d] each, differentiable. Not in a tidy of its own: the tensors
   * belong to the caller's scope (a forward pass reads them at every block).
   */
  prefixes(): tf.Tensor2D[] {
    const h = tf.tanh(tf.add(matMul(this.wte, this.w1, true), this.b1));
    const out = tf.add(matMul(h, this.w2, true), this.b2);
    return tf.unstack(tf.reshape(out, [this.tokens, this.slots, this.hidden]), 1) as tf.Tensor2D[];
  }

  /** The merged plain prefixes (the caller disposes them). */
  merged(): tf.Tensor2D[] {
    return tf.tidy(() => this.prefixes());
  }

  dispose(): void {
    for (const p of this.parameters()) p.v.dispose();
  }
}
