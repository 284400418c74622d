/**
 * Measures the tensor memory of one DeBERTa-v2 training step on a scaled-down model, as lora-repro's
 * trainer runs it (accumulatedStep: accumulateGradients, readLossAndNorm, applyGradients; the method
 * applied through the registry; AdamW), phase by phase with tf.profile, whose peakBytes is the largest
 * engine byte count after any kernel. The model keeps every switch of deberta-v2-xxlarge (c2p + p2c
 * with shared keys, log buckets, LayerNorm-ed table, the ConvLayer, the pooler) and changes only sizes.
 *
 * Bytes are the engine's (tf.memory): every tensor's data, counted once per data id. They are the
 * same on every backend that runs the same ops; the backend's own scratch and allocator slack are not
 * in them. The native wasm kernels fuse LayerNorm, GELU and the biased projection into single ops, a
 * GPU backend does not, so the measurement runs where those fusions are off (bench/deberta-memory.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { tokenBatch } from '../src/models/batch.ts';
import { DEBERTA_V2_XXLARGE, type DebertaV2Config } from '../src/models/deberta-config.ts';
import { createModel } from '../src/models/factory.ts';
import { sequenceClassificationLoss } from '../src/models/losses.ts';
import type { DebertaV2Model } from '../src/models/deberta.ts';
import { countParams } from '../src/methods/count.ts';
import { configureMethod } from '../src/methods/registry.ts';
import type { ConfiguredMethod } from '../src/methods/method.ts';
import { accumulateGradients, type MicroBatch, applyGradients, readLossAndNorm } from '../src/train/step.ts';
import { AdamW } from '../src/train/optim.ts';
import { Rng } from '../src/util/rng.ts';
import type { StepShape } from './deberta-memory-fit.ts';

export type MemoryMethod = 'ft' | 'lora';
export const MEMORY_METHODS: readonly MemoryMethod[] = ['ft', 'lora'];

/** The paper's LoRA on DeBERTa XXL (experiments/table2.yaml, deb-xxl-lora): r 16, α 32 on W_q, W_v. */
export const LORA_CONFIG = { r: 16, alpha: 32, targets: ['q', 'v'] } as const;

export function memoryMethod(method: MemoryMethod): ConfiguredMethod {
  return configureMethod(method, method === 'lora' ? { ...LORA_CONFIG, targets: [...LORA_CONFIG.targets] } : undefined);
}

/** A model size: the architecture of deberta-v2-xxlarge with these sizes (position_buckets = k2 / 2). */
export type ModelSize = Omit<StepShape, 'batch' | 'seq'>;

export function scaledConfig(m: ModelSize): DebertaV2Config {
  if (m.hidden % m.heads !== 0) throw new Error(`scaledConfig: ${m.heads} heads do not divide hidden ${m.hidden}`);
  const buckets = m.k2 / 2;
  return {
    ...structuredClone(DEBERTA_V2_XXLARGE),
    vocabSize: m.vocab,
    hidden: m.hidden,
    layers: m.layers,
    heads: m.heads,
    headSize: m.hidden / m.heads,
    intermediate: m.intermediate,
    positionBuckets: buckets,
    // XXL's ratio: 512 positions over 256 buckets.
    maxRelativePositions: 2 * buckets,
    poolerHidden: m.hidden,
  };
}

/** The sizes of a config, for the fit (k2 = the table's rows). */
export function modelSize(c: DebertaV2Config): ModelSize {
  return { layers: c.layers, hidden: c.hidden, intermediate: c.intermediate, heads: c.heads, k2: 2 * (c.positionBuckets > 0 ? c.positionBuckets : c.maxRelativePositions), vocab: c.vocabSize };
}

/** Parameter counts from the project's counter (shapes only): what the analytic memory is made of. */
export interface MethodParams {
  /** Trainable, head excluded (the paper's count). */
  trainable: number;
  head: number;
  /** Every parameter of the model (backbone + head). */
  model: number;
  /** Parameters the method adds to the model (LoRA's A and B; 0 for FT). */
  added: number;
  /** The method's own copy of weights (FT keeps the originals for disable(): methods/direct.ts). */
  copied: number;
}

export function methodParams(config: DebertaV2Config, method: MemoryMethod): MethodParams {
  const ft = countParams('model', config, memoryMethod('ft'));
  const c = method === 'ft' ? ft : countParams('model', config, memoryMethod(method));
  return {
    trainable: c.trainable,
    head: c.head,
    model: ft.trainable + ft.head,
    added: method === 'lora' ? c.trainable : 0,
    copied: method === 'ft' ? c.trainable : 0,
  };
}

export interface MeasuredStep {
  method: MemoryMethod;
  shape: StepShape;
  /** Micro-batches per update (1: one pass; 2: the accumulation buffer shows). */
  passes: number;
  /** Engine bytes after building the model, applying the method, and the first update (Adam's moments). */
  weightsBytes: number;
  methodBytes: number;
  adamBytes: number;
  /** Held after the backward: the gradients (and the loss). */
  gradBytes: number;
  /** Peak above the static memory (weights + method + moments) during forward + backward, ... */
  backwardPeakBytes: number;
  /** ... during the loss / gradient-norm read (the squared gradients of one tidy), ... */
  normPeakBytes: number;
  /** ... and during clipping + the AdamW update. */
  updatePeakBytes: number;
  /** backwardPeak − gradBytes: what the activation fit models. */
  activationBytes: number;
  /** The largest trainable variable, in bytes (the update's temporaries are per variable). */
  largestTrainableBytes: number;
  kernels: number;
}

/** `f`'s result and the peak engine bytes above `base` while it ran (tf.profile: after every kernel). */
async function peakAbove<T>(base: number, f: () => T | Promise<T>): Promise<{ result: T; peak: number; kernels: number }> {
  let result: { value: T } | undefined;
  const p = await tf.profile(async () => {
    result = { value: await f() };
    return [];
  });
  let peak = base;
  for (const k of p.kernels) peak = Math.max(peak, k.totalBytesSnapshot);
  return { result: result!.value, peak: peak - base, kernels: p.kernels.length };
}

/**
 * One update of `method` on the scaled model at batch × seq in `passes` micro-batches, after one
 * warm-up update (which creates Adam's moments). Random tokens, no padding, dropout on, as training.
 */
export async function measureStep(size: ModelSize, method: MemoryMethod, batch: number, seq: number, passes = 1, seed = 0): Promise<MeasuredStep> {
  const config = scaledConfig(size);
  const m0 = tf.memory().numBytes;
  const model = createModel(config, { seed }) as DebertaV2Model;
  const m1 = tf.memory().numBytes;
  const applied = memoryMethod(method).apply(model, new Rng(seed + 1));
  const m2 = tf.memory().numBytes;
  const trainable = [...applied.trainable, ...applied.head];
  const rng = new Rng(seed + 2);
  const ctx = { training: true, rng };
  const micro: MicroBatch[] = Array.from({ length: passes }, () => {
    const rows = Array.from({ length: batch }, () => Array.from({ length: seq }, () => 3 + rng.int(config.vocabSize - 3)));
    const b = tokenBatch(rows);
    const labels = Int32Array.from(rows, (_, i) => i % config.numLabels);
    return { loss: () => sequenceClassificationLoss(model.classify(b, ctx), labels), units: batch };
  });
  const opt = new AdamW({ weightDecay: 0.01 });
  try {
    const update = async (): Promise<{ back: number; norm: number; upd: number; grads: number; kernels: number }> => {
      const base = tf.memory().numBytes;
      const back = await peakAbove(base, () => accumulateGradients(micro, 0, trainable));
      const { loss, grads } = back.result;
      const gradBytes = tf.memory().numBytes - base;
      try {
        // readLossAndNorm disposes the loss.
        const norm = await peakAbove(base, () => readLossAndNorm(loss, grads));
        const upd = await peakAbove(base, () => applyGradients(grads, trainable, opt, 1e-4, 1.0, norm.result.gradNorm));
        return { back: back.peak, norm: norm.peak, upd: upd.peak, grads: gradBytes, kernels: back.kernels };
      } finally {
        tf.dispose(grads);
      }
    };
    await update();
    const m3 = tf.memory().numBytes;
    const r = await update();
    return {
      method,
      shape: { ...size, batch, seq },
      passes,
      weightsBytes: m1 - m0,
      methodBytes: m2 - m1,
      adamBytes: m3 - m2,
      gradBytes: r.grads,
      backwardPeakBytes: r.back,
      normPeakBytes: r.norm,
      updatePeakBytes: r.upd,
      activationBytes: r.back - r.grads,
      largestTrainableBytes: Math.max(...trainable.map((v) => v.size * 4)),
      kernels: r.kernels,
    };
  } finally {
    opt.dispose();
    applied.remove();
    model.dispose();
  }
}
