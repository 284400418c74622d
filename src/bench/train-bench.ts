/**
 * Training-step benchmark on a model built from a config (random weights, random tokens): the
 * same step that training runs (forward, loss, gradients of the trainable variables, AdamW).
 * Reports the median step time after warm-up, tokens/s and peak RSS.
 */
import * as tf from '@tensorflow/tfjs-core';
import { activeBackend } from '../backend/select.ts';
import { tokenBatch } from '../models/batch.ts';
import { builtinConfig, type ModelConfig } from '../models/config.ts';
import { maxInputLength } from '../train/model-source.ts';
import { UserError } from '../util/errors.ts';
import { createModel } from '../models/factory.ts';
import { lmLoss, sequenceClassificationLoss } from '../models/losses.ts';
import { injectLora, loraVariables } from '../methods/lora-inject.ts';
import { AdamW } from '../train/optim.ts';
import { trainStep } from '../train/step.ts';
import { Rng } from '../util/rng.ts';
import { median } from '../util/stats.ts';

export interface TrainBenchOptions {
  model: string;
  method: 'lora' | 'ft';
  batch: number;
  seq: number;
  steps: number;
  warmup: number;
  seed: number;
}

export interface TrainBenchResult {
  model: string;
  method: string;
  batch: number;
  seq: number;
  steps: number;
  msPerStep: number;
  stepTimesMs: number[];
  /** Median CPU time (user + system, all threads) per step: less sensitive than wall time to other load. */
  cpuMsPerStep: number;
  tokensPerSecond: number;
  peakRssMiB: number;
  trainableParams: number;
  backend: string;
  threads: number;
  simd: boolean;
  /** Which kernels ran the step (BackendInfo.kernelsDetail). */
  kernels: string;
  tensorsAfterFirstStep: number;
  tensorsAtEnd: number;
}

/**
 * Benchmark sizes checked before a model is built: a sequence past the model's positions ends in a
 * backend gather error, and 0 rows or 0 steps would "measure" 0 tokens/s.
 */
export function checkBenchSizes(config: ModelConfig, model: string, sizes: Record<string, number>, seqFlag?: string): void {
  for (const [flag, n] of Object.entries(sizes)) {
    if (!Number.isInteger(n) || n < 1) throw new UserError(`--${flag} ${n}: must be at least 1`);
  }
  if (seqFlag !== undefined && sizes[seqFlag] !== undefined && sizes[seqFlag] > maxInputLength(config)) {
    throw new UserError(`--${seqFlag} ${sizes[seqFlag]}: exceeds the ${maxInputLength(config)} positions of model '${model}': use at most ${maxInputLength(config)}`);
  }
}

export async function runTrainBench(o: TrainBenchOptions): Promise<TrainBenchResult> {
  const config = builtinConfig(o.model);
  checkBenchSizes(config, o.model, { batch: o.batch, seq: o.seq, steps: o.steps }, 'seq');
  const rng = new Rng(o.seed);
  const model = createModel(config, { seed: o.seed });
  let trainable: tf.Variable[];
  if (o.method === 'lora') {
    const inj = injectLora(model, { r: 8, alpha: 16, dropout: 0, targets: ['q', 'v'] }, rng);
    trainable = [...loraVariables(inj), ...model.headParamNames().map((n) => model.params.get(n))];
  } else {
    trainable = [...model.params.vars.values()];
  }
  const rows = Array.from({ length: o.batch }, () => Array.from({ length: o.seq }, () => 3 + rng.int(config.vocabSize - 3)));
  const batch = tokenBatch(rows);
  const ctx = { training: true, rng };
  const lossFn =
    model.modelType !== 'gpt2'
      ? () => sequenceClassificationLoss(model.classify(batch, ctx), Int32Array.from(rows.map((_, i) => i % 2)))
      : () => {
          const labels = Int32Array.from(rows.flatMap((r) => [...r.slice(1), 0]));
          return lmLoss(model.logits(batch, ctx), labels, new Float32Array(labels.length).fill(1), 0.1);
        };
  const opt = new AdamW({ weightDecay: 0.01 });
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let afterFirst = 0;
  for (let i = 0; i < o.warmup + o.steps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await trainStep(lossFn, trainable, opt, 1e-4, 1.0);
    const dt = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (i === 0) afterFirst = tf.memory().numTensors;
    if (i >= o.warmup) {
      times.push(dt);
      cpuTimes.push((c.user + c.system) / 1000);
    }
  }
  const tensorsAtEnd = tf.memory().numTensors;
  const trainableParams = trainable.reduce((s, v) => s + v.size, 0);
  opt.dispose();
  model.dispose();
  const ms = median(times);
  const b = activeBackend();
  return {
    model: o.model,
    method: o.method,
    batch: o.batch,
    seq: o.seq,
    steps: o.steps,
    msPerStep: ms,
    stepTimesMs: times,
    cpuMsPerStep: median(cpuTimes),
    tokensPerSecond: (o.batch * o.seq * 1000) / ms,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    trainableParams,
    backend: b?.name ?? 'unknown',
    threads: b?.threads ?? 1,
    simd: b?.simd ?? false,
    kernels: b?.kernelsDetail ?? 'unknown',
    tensorsAfterFirstStep: afterFirst,
    tensorsAtEnd,
  };
}
