/** What the pretraining tests share: the tiny settings, reading a scalar loss, the CLI run in process, a reference MLM loss. */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { pretrainCommand } from '../../src/cli/commands/pretrain.ts';
import { tokenBatch, type TokenBatch } from '../../src/models/batch.ts';
import { EVAL } from '../../src/models/context.ts';
import type { RobertaModel } from '../../src/models/roberta.ts';
import type { DebertaV2Model } from '../../src/models/deberta.ts';
import type { EnsurePretrainedOptions } from '../../src/pretrain/cache.ts';
import { mlmLoss } from '../../src/pretrain/objectives.ts';
import { Rng } from '../../src/util/rng.ts';

/**
 * A tiny model and corpus: a second or two per pretraining run on the synthetic corpus. maxPositions
 * 66 = seqLen + 2, RoBERTa's positions starting after the pad id (DeBERTa, without that offset, sets 64).
 */
export const TINY_PRETRAIN: NonNullable<EnsurePretrainedOptions['settings']> = {
  vocabSize: 400, hidden: 32, layers: 2, heads: 2, intermediate: 64, maxPositions: 66, seqLen: 32, batchSize: 8,
  shortSeqLen: 16, shortSeqSteps: 30, steps: 60, learningRate: 3e-3, warmupSteps: 6, corpusBytes: 40_000, evalBlocks: 8,
};

/** The value of a scalar tensor, disposing it. */
export const readScalar = (t: tf.Scalar): number => {
  const v = t.dataSync()[0] as number;
  t.dispose();
  return v;
};

/** Runs `lora-repro pretrain` in process, asserting exit 0; returns what it printed on stdout (stderr is dropped). */
export async function pretrainCli(argv: string[]): Promise<string[]> {
  const out: string[] = [];
  const log = console.log;
  const write = process.stderr.write.bind(process.stderr);
  console.log = (...a: unknown[]) => void out.push(a.map(String).join(' '));
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    assert.equal(await pretrainCommand.run(argv), 0);
  } finally {
    console.log = log;
    process.stderr.write = write;
  }
  return out;
}

/**
 * The masked-LM loss computed the slow way, as the independent truth for objectives.ts `mlmLoss`:
 * log-softmax of the model's full `mlmLogits`, averaged over the selected (flattened) positions.
 */
function referenceMlmLoss(
  model: { mlmLogits(batch: TokenBatch, ctx: typeof EVAL): tf.Tensor3D },
  batch: TokenBatch,
  positions: Int32Array,
  labels: Int32Array,
  vocabSize: number,
): number {
  const logits = model.mlmLogits(batch, EVAL);
  const logp = tf.tidy(() => tf.logSoftmax(tf.reshape(logits, [-1, vocabSize])).arraySync() as number[][]);
  tf.dispose(logits);
  let ref = 0;
  positions.forEach((p, k) => (ref -= (logp[p] as number[])[labels[k] as number] as number));
  return ref / positions.length;
}

/**
 * objectives.ts `mlmLoss` and the reference on one fixed case of a 100-token vocabulary: 3 sequences of
 * 12 random ids in firstId..firstId+span−1 (above the special ids), 5 masked positions across them.
 */
export function mlmLossAgainstReference(model: RobertaModel | DebertaV2Model, firstId: number, span: number): { ours: number; ref: number } {
  const rng = new Rng(9);
  const batch = tokenBatch(Array.from({ length: 3 }, () => Array.from({ length: 12 }, () => firstId + rng.int(span))));
  const positions = Int32Array.from([0, 5, 13, 20, 35]);
  const labels = Int32Array.from([7, 50, 3, 99, 12]);
  return { ours: readScalar(mlmLoss(model, batch, positions, labels, EVAL)), ref: referenceMlmLoss(model, batch, positions, labels, 100) };
}
