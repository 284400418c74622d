/**
 * Sequence-classification evaluation: the model's outputs on a list of encoded examples (eval mode, no
 * dropout), batched with dynamic padding as run_glue.py's DataCollatorWithPadding does (rows of similar
 * length together), then the
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

/**
 * Logits of every example, row-major [n, numLabels], in the examples' order. Batches are formed in
 * order of length: each batch is padded to its longest row, and a row's logits do not depend on the
 * rows beside it (padded keys get probability 0), so sorting only removes padding — up to 3× less
 * work on dev sets whose lengths vary as much as SST-2's.
 */
export async function classifyExamples(model: ClassifierModel, examples: readonly EncodedClassificationExample[], opts: ClassifyOptions): Promise<Float32Array> {
  const out = new Float32Array(examples.length * opts.numLabels);
  const bs = Math.max(1, opts.batchSize);
  const order = examples.map((_, i) => i).sort((a, b) => examples[a].inputIds.length - examples[b].inputIds.length || a - b);
  for (let start = 0; start < order.length; start += bs) {
    const rows = order.slice(start, start + bs);
    const batch = collateRoberta(
      rows.map((i) => examples[i]),
      { pad: opts.pad, regression: opts.numLabels === 1 },
    );
    const logits = model.classify(batch, EVAL);
    const values = (await logits.data()) as Float32Array;
    tf.dispose(logits);
    rows.forEach((i, j) => out.set(values.subarray(j * opts.numLabels, (j + 1) * opts.numLabels), i * opts.numLabels));
    opts.onProgress?.(Math.min(start + bs, order.length), order.length);
  }
  return out;
}

/** Class ids (argmax, first on ties) or, for one output, the regression scores. */
export function predictionsFromLogits(logits: Float32Array, numLabels: number): Int32Array | Float32Array {
  return numLabels === 1 ? Float32Array.from(logits) : argmaxRows(logits, numLabels);
}
