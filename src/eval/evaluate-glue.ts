/**
 * Sequence-classification evaluation: the model's outputs on a list of encoded examples (eval mode, no
 * dropout), batched with dynamic padding as run_glue.py's DataCollatorWithPadding does, then the
 * predictions the GLUE metric takes: the argmax class, or the raw score for regression (STS-B).
 */
import * as tf from '@tensorflow/tfjs-core';
import { collateRoberta, type EncodedClassificationExample } from '../data/encode-roberta.ts';
import { EVAL } from '../models/context.ts';
import type { ClassifierModel } from '../models/model.ts';
import { argmaxRows } from './glue-metrics.ts';

export interface ClassifyOptions {
  batchSize: number;
  pad: number;
  numLabels: number;
  onProgress?: (done: number, total: number) => void;
}

/** Logits of every example, row-major [n, numLabels]. */
export async function classifyExamples(model: ClassifierModel, examples: readonly EncodedClassificationExample[], opts: ClassifyOptions): Promise<Float32Array> {
  const out = new Float32Array(examples.length * opts.numLabels);
  const bs = Math.max(1, opts.batchSize);
  for (let start = 0; start < examples.length; start += bs) {
    const chunk = examples.slice(start, start + bs);
    const batch = collateRoberta(chunk, { pad: opts.pad, regression: opts.numLabels === 1 });
    const logits = model.classify(batch, EVAL);
    out.set((await logits.data()) as Float32Array, start * opts.numLabels);
    tf.dispose(logits);
    opts.onProgress?.(Math.min(start + bs, examples.length), examples.length);
  }
  return out;
}

/** Class ids (argmax, first on ties) or, for one output, the regression scores. */
export function predictionsFromLogits(logits: Float32Array, numLabels: number): Int32Array | Float32Array {
  return numLabels === 1 ? Float32Array.from(logits) : argmaxRows(logits, numLabels);
}
