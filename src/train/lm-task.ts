/**
 * A conditional-generation task (GPT-2, the paper's E2E setting, Section 5.4) from encoded
 * (context, completion) pairs: FT_Dataset batches with the loss on completion tokens only and the
 * reference loss (label smoothing, + 1e-4 in the denominator, models/losses.ts lmLoss); evaluation
 * decodes every eval context with beam search and scores the texts against their references.
 */
import * as tf from '@tensorflow/tfjs-core';
import { collateE2e, type E2eTokenPair } from '../data/encode-gpt2-e2e.ts';
import { copyInputBaseline } from '../eval/baselines.ts';
import { formatE2eHypotheses, formatE2eReferences, generateE2e, oneLine } from '../eval/evaluate-e2e.ts';
import type { ForwardContext } from '../models/context.ts';
import type { Gpt2Model } from '../models/gpt2.ts';
import { lmLoss } from '../models/losses.ts';
import type { TransformerModel } from '../models/model.ts';
import type { TextTokenizer } from '../tokenizers/types.ts';
import type { EvalOutput, EvaluateOptions, TaskBatch, TaskData } from './task-data.ts';

export interface LmEvalInstance {
  /** Context ids (with the trailing end-of-text, as in training). */
  context: number[];
  /** The context as text (the MR rendered by mrToLoraContext): the copy-input baseline's output. */
  input: string;
  references: string[];
}

export interface LmEvalSet {
  split: string;
  instances: LmEvalInstance[];
}

export interface LmTaskSpec {
  task: string;
  tokenizer: TextTokenizer;
  /** FT_Dataset max_seq_length (the E2E command: 512). */
  maxSeqLength: number;
  train: E2eTokenPair[];
  /**
   * The eval sets by split name (which names the prediction files): dev, and test when the run
   * reports it (TaskData.evalSets; the first is the default).
   */
  evalSets: LmEvalSet[];
  /** All metrics of the generated texts against the references. */
  metrics(references: string[][], hypotheses: string[]): Record<string, number>;
  headlineMetric: string;
  files: Record<string, string>;
}

function asGpt2(model: TransformerModel): Gpt2Model {
  if (model.modelType !== 'gpt2') throw new Error('a generation task needs a GPT-2 model');
  return model;
}

/** The reference loss's constant: sum(loss·mask) / (sum(mask) + 1e-4). */
const LM_LOSS_OFFSET = 1e-4;

export function lmTask(spec: LmTaskSpec): TaskData {
  if (spec.evalSets.length === 0) throw new Error(`${spec.task}: a generation task needs an eval set`);
  const setOf = (split: string | undefined): LmEvalSet => {
    const set = split === undefined ? spec.evalSets[0] : spec.evalSets.find((s) => s.split === split);
    if (set === undefined) throw new Error(`${spec.task}: no eval set '${split}' loaded (have ${spec.evalSets.map((s) => s.split).join(', ')})`);
    return set;
  };
  // Scored as the files read back: one line each, stripped.
  const references = (set: LmEvalSet): string[][] => set.instances.map((e) => e.references.map(oneLine));
  return {
    task: spec.task,
    modelType: 'gpt2',
    headlineMetric: spec.headlineMetric,
    trainSize: spec.train.length,
    evalSize: spec.evalSets[0].instances.length,
    evalSets: spec.evalSets.map((s) => ({ split: s.split, size: s.instances.length })),
    lossOffset: LM_LOSS_OFFSET,
    files: spec.files,
    batch(indices: readonly number[]): TaskBatch {
      const b = collateE2e(
        indices.map((i) => spec.train[i]),
        { maxSeqLength: spec.maxSeqLength },
      );
      let tokens = 0;
      for (const m of b.attentionMask) tokens += m;
      let units = 0;
      for (const m of b.lossMask) units += m;
      return {
        tokens,
        units,
        loss(model: TransformerModel, ctx: ForwardContext, labelSmoothing: number): tf.Scalar {
          return tf.tidy(() => lmLoss(asGpt2(model).logits(b, ctx), b.labels, b.lossMask, labelSmoothing));
        },
      };
    },
    async evaluate(model: TransformerModel, opts: EvaluateOptions): Promise<EvalOutput> {
      const set = setOf(opts.split);
      const hyps = await generateE2e(
        asGpt2(model),
        spec.tokenizer,
        set.instances.map((e) => e.context),
        { ...opts.decoding, maxSeqLength: spec.maxSeqLength },
        opts.onProgress,
      );
      const refs = references(set);
      return {
        metrics: spec.metrics(refs, hyps),
        predictions: {
          [`${set.split}.hyp.txt`]: formatE2eHypotheses(hyps),
          [`${set.split}.ref.txt`]: formatE2eReferences(refs),
        },
      };
    },
    baseline(split?: string) {
      const set = setOf(split);
      return copyInputBaseline(
        references(set),
        set.instances.map((e) => oneLine(e.input)),
        spec.metrics,
      );
    },
  };
}
