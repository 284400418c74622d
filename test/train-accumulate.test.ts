import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/select.ts';
import { tokenBatch } from '../src/models/batch.ts';
import { createModel } from '../src/models/factory.ts';
import { lmLoss, sequenceClassificationLoss } from '../src/models/losses.ts';
import type { TransformerModel } from '../src/models/model.ts';
import type { Gpt2Model } from '../src/models/gpt2.ts';
import type { RobertaModel } from '../src/models/roberta.ts';
import { AdamW } from '../src/train/optim.ts';
import { NonFiniteLossError, accumulateGradients, accumulatedStep, microBatchWeights, trainStep } from '../src/train/step.ts';
import { smoothedCrossEntropy } from '../src/train/classification-task.ts';
import { Rng } from '../src/util/rng.ts';
import { tinyGpt2, tinyRoberta } from './helpers/tiny.ts';

const NO_DROPOUT_ROBERTA = { hidden_dropout_prob: 0, attention_probs_dropout_prob: 0, num_labels: 2 };
const NO_DROPOUT_GPT2 = { resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 };

/** Unpadded rows of random ids (RoBERTa: <s> … </s>), lengths given. */
function rows(seed: number, lengths: number[], roberta: boolean): number[][] {
  const rng = new Rng(seed);
  return lengths.map((n) => {
    const r = Array.from({ length: n }, () => 3 + rng.int(90));
    if (roberta) {
      r[0] = 0;
      r[n - 1] = 2;
    }
    return r;
  });
}

/** Right-padded batch with the attention mask (pad 1 for RoBERTa, 0 for GPT-2). */
function padded(rs: number[][], pad: number) {
  const len = Math.max(...rs.map((r) => r.length));
  return tokenBatch(
    rs.map((r) => [...r, ...Array(len - r.length).fill(pad)]),
    rs.map((r) => [...Array(r.length).fill(1), ...Array(len - r.length).fill(0)]),
  );
}

function allVars(m: TransformerModel): tf.Variable[] {
  return [...m.params.vars.values()];
}

function maxParamDiff(a: TransformerModel, b: TransformerModel): number {
  let worst = 0;
  for (const [name, v] of a.params.vars) {
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(v, b.params.get(name)))).dataSync()[0]);
    worst = Math.max(worst, d);
  }
  return worst;
}

function gpt2Labels(rs: number[][], len: number, completionFrom: number[]): { labels: Int32Array; mask: Float32Array } {
  // Shifted targets; the loss counts positions predicting tokens at index ≥ completionFrom[r].
  const labels = new Int32Array(rs.length * len);
  const mask = new Float32Array(rs.length * len);
  rs.forEach((r, b) => {
    for (let t = 0; t + 1 < r.length; t++) {
      labels[b * len + t] = r[t + 1];
      if (t + 1 >= completionFrom[b]) mask[b * len + t] = 1;
    }
  });
  return { labels, mask };
}

describe('train: gradient accumulation equals the big batch', () => {
  before(async () => {
    await initBackend('wasm');
  });

  it('weights: Σ w_i = 1 without offset; (u_i + ε)/(Σu + ε) with the LM offset', () => {
    assert.deepEqual(microBatchWeights([4, 2], 0), [4 / 6, 2 / 6]);
    const w = microBatchWeights([3, 5], 1e-4);
    assert.ok(Math.abs(w[0] - 3.0001 / 8.0001) < 1e-15 && Math.abs(w[1] - 5.0001 / 8.0001) < 1e-15);
  });

  /** max |a − b| / max |a| over every gradient. */
  function relGradDiff(a: tf.Tensor[], b: tf.Tensor[]): number {
    let num = 0;
    let den = 0;
    a.forEach((g, i) => {
      num = Math.max(num, tf.tidy(() => tf.max(tf.abs(tf.sub(g, b[i]))).dataSync()[0]));
      den = Math.max(den, tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]));
    });
    return num / den;
  }

  it('RoBERTa classification, uneven micro-batches (4 + 2 rows, different padding): same loss and gradient as one batch of 6, same weights after 3 clipped AdamW steps', async () => {
    const cfg = tinyRoberta(NO_DROPOUT_ROBERTA);
    const rs = rows(1, [9, 5, 12, 7, 4, 10], true);
    const labels = Int32Array.from([0, 1, 1, 0, 1, 0]);
    const ctx = { training: true, rng: new Rng(3) };
    const bigLoss = (m: RobertaModel) => () => sequenceClassificationLoss(m.classify(padded(rs, 1), ctx), labels);
    const micro = (m: RobertaModel, naive = false) =>
      [
        { r: rs.slice(0, 4), y: labels.slice(0, 4) },
        { r: rs.slice(4), y: labels.slice(4) },
      ].map((p) => ({ loss: () => sequenceClassificationLoss(m.classify(padded(p.r, 1), ctx), p.y), units: naive ? 1 : p.r.length }));

    const model = createModel(cfg, { seed: 7 }) as RobertaModel;
    const vars = allVars(model);
    const ref = tf.valueAndGrads(bigLoss(model))(vars);
    const acc = accumulateGradients(micro(model), 0, vars);
    const naive = accumulateGradients(micro(model, true), 0, vars); // HF: every micro-batch weighs 1/n
    assert.ok(Math.abs(ref.value.dataSync()[0] - acc.loss.dataSync()[0]) < 1e-6);
    const d = relGradDiff(ref.grads, acc.grads);
    assert.ok(d < 1e-5, `relative gradient difference ${d}`);
    // The comparison can tell: weighting micro-batches equally is a different gradient.
    assert.ok(relGradDiff(ref.grads, naive.grads) > 1e-2);
    tf.dispose([ref.value, ...ref.grads, acc.loss, ...acc.grads, naive.loss, ...naive.grads]);
    model.dispose();

    const a = createModel(cfg, { seed: 7 }) as RobertaModel;
    const b = createModel(cfg, { seed: 7 }) as RobertaModel;
    const oa = new AdamW({ weightDecay: 0.1 });
    const ob = new AdamW({ weightDecay: 0.1 });
    for (let k = 0; k < 3; k++) {
      await trainStep(bigLoss(a), allVars(a), oa, 1e-3, 0.5);
      await accumulatedStep(micro(b), 0, allVars(b), ob, 1e-3, 0.5);
    }
    const w = maxParamDiff(a, b);
    assert.ok(w < 1e-5, `max weight difference ${w}`);
    oa.dispose();
    ob.dispose();
    a.dispose();
    b.dispose();
  });

  it('GPT-2 reference LM loss with label smoothing (+1e-4 denominator), uneven loss-token counts: same loss and gradient', async () => {
    const cfg = tinyGpt2(NO_DROPOUT_GPT2);
    const rs = rows(2, [14, 6, 11, 9, 16], false);
    const from = [5, 2, 8, 3, 6];
    const ctx = { training: true, rng: new Rng(3) };
    const lossOf = (model: Gpt2Model, part: number[][], starts: number[]) => {
      const b = padded(part, 0);
      const { labels, mask } = gpt2Labels(part, b.seqLen, starts);
      return { loss: () => tf.tidy(() => lmLoss(model.logits(b, ctx), labels, mask, 0.1)), units: mask.reduce((s, m) => s + m, 0) };
    };
    const model = createModel(cfg, { seed: 5 }) as Gpt2Model;
    const vars = allVars(model);
    const ref = tf.valueAndGrads(lossOf(model, rs, from).loss)(vars);
    const parts = [lossOf(model, rs.slice(0, 2), from.slice(0, 2)), lossOf(model, rs.slice(2), from.slice(2))];
    assert.notEqual(parts[0].units, parts[1].units);
    const acc = accumulateGradients(parts, 1e-4, vars);
    const naive = accumulateGradients(
      parts.map((p) => ({ ...p, units: 1 })),
      0,
      vars,
    );
    const l = ref.value.dataSync()[0];
    assert.ok(Math.abs(l - acc.loss.dataSync()[0]) < 1e-5, `loss ${l} vs ${acc.loss.dataSync()[0]}`);
    const d = relGradDiff(ref.grads, acc.grads);
    assert.ok(d < 1e-5, `relative gradient difference ${d}`);
    assert.ok(relGradDiff(ref.grads, naive.grads) > 1e-2);
    tf.dispose([ref.value, ...ref.grads, acc.loss, ...acc.grads, naive.loss, ...naive.grads]);
    model.dispose();
  });

  it('a non-finite loss throws before any weight changes, and leaves no tensors behind', async () => {
    const v = tf.variable(tf.tensor1d([1, 2]));
    const opt = new AdamW();
    const before = tf.memory().numTensors;
    await assert.rejects(() => accumulatedStep([{ loss: () => tf.div(tf.sum(v), 0) as tf.Scalar, units: 1 }], 0, [v], opt, 1), NonFiniteLossError);
    assert.deepEqual(Array.from(v.dataSync()), [1, 2]);
    assert.equal(tf.memory().numTensors, before);
    opt.dispose();
    v.dispose();
  });

  it('label smoothing ε: (1 − ε)·nll + ε·mean(−log p), by hand', () => {
    const logits = tf.tensor2d([
      [2, 0, -1],
      [0.5, 0.5, 3],
    ]);
    const got = smoothedCrossEntropy(logits as tf.Tensor2D, Int32Array.from([0, 1]), 0.1).dataSync()[0];
    const rowsLogp = [
      [2, 0, -1],
      [0.5, 0.5, 3],
    ].map((r) => {
      const lse = Math.log(r.reduce((s, x) => s + Math.exp(x), 0));
      return r.map((x) => x - lse);
    });
    const per = (r: number[], y: number): number => 0.9 * -r[y] + 0.1 * -(r.reduce((s, x) => s + x, 0) / r.length);
    const want = (per(rowsLogp[0], 0) + per(rowsLogp[1], 1)) / 2;
    assert.ok(Math.abs(got - want) < 1e-6, `${got} vs ${want}`);
    logits.dispose();
  });
});
