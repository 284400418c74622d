/** A tiny model with dropout, its trainable set (LoRA on q, v + head, or every weight) and a loss, for step-level tests. */
import type * as tf from '@tensorflow/tfjs-core';
import { createModel } from '../../src/models/factory.ts';
import { Gpt2Model } from '../../src/models/gpt2.ts';
import { RobertaModel } from '../../src/models/roberta.ts';
import type { TransformerModel } from '../../src/models/model.ts';
import { lmLoss, sequenceClassificationLoss } from '../../src/models/losses.ts';
import { injectLora, loraVariables } from '../../src/methods/lora-inject.ts';
import { Rng } from '../../src/util/rng.ts';
import { randomBatch, tinyGpt2, tinyRoberta } from './tiny.ts';

export function tinyTrainingSetup(kind: 'roberta' | 'gpt2', method: 'lora' | 'ft'): { m: TransformerModel; trainable: tf.Variable[]; loss: () => tf.Scalar } {
  const m = createModel(kind === 'roberta' ? tinyRoberta() : tinyGpt2(), { seed: 3 });
  const rng = new Rng(9);
  const trainable =
    method === 'lora'
      ? [...loraVariables(injectLora(m, { r: 4, alpha: 8, dropout: 0.1, targets: ['q', 'v'] }, rng)), ...m.headParamNames().map((n) => m.params.get(n))]
      : [...m.params.vars.values()];
  const batch = randomBatch(4, 3, 9, kind);
  const ctx = { training: true, rng };
  const loss =
    m instanceof RobertaModel
      ? () => sequenceClassificationLoss(m.classify(batch, ctx), Int32Array.from([0, 1, 2]))
      : () => lmLoss((m as Gpt2Model).logits(batch, ctx), Int32Array.from(batch.inputIds, (t, i) => batch.inputIds[i + 1] ?? t), Float32Array.from(batch.attentionMask), 0.1);
  return { m, trainable, loss };
}
