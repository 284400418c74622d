/**
 * What deberta-v2-xxlarge needs in memory for one lora-repro training update, FT against LoRA: the
 * static part from the project's own parameter counter (methods/count.ts on the built-in config,
 * shapes only), the activations from the fit of the scaled-down measurements (deberta-memory-fit.ts),
 * at each per-device batch × length of experiments/table2.yaml's paper profile.
 *
 * An update runs in three phases, and the peak is the largest of them (deberta-memory-measure.ts
 * measures each): forward + backward (activations and the gradients), the loss / norm read (every
 * squared gradient of one tidy: about one more gradient's worth), and clipping + AdamW (a clipped copy
 * of the gradients, then per variable a few temporaries of its size).
 */
import { loadSpecFile } from '../src/spec/load.ts';
import { expandSpec } from '../src/spec/expand.ts';
import { DEBERTA_V2_XXLARGE, type DebertaV2Config } from '../src/models/deberta-config.ts';
import { createModel } from '../src/models/factory.ts';
import { shapesOnly } from '../src/models/shape-only.ts';
import { Rng } from '../src/util/rng.ts';
import { UserError } from '../src/util/errors.ts';
import { predictActivations, predictOneLayer, type ActivationFit, type StepShape } from './deberta-memory-fit.ts';
import { LORA_CONFIG, memoryMethod, methodParams, modelSize, type MemoryMethod, type MethodParams } from './deberta-memory-measure.ts';

export const GIB = 2 ** 30;
/** The card the question is asked about: an 80 GB A100 / H100 (80 GiB). */
export const GPU_BYTES = 80 * GIB;
export const FLOAT32 = 4;

/** Bytes that do not depend on the batch, by what holds them. */
export interface StaticBytes {
  weights: number;
  weightsFp16: number;
  /** LoRA's A and B. */
  added: number;
  /** FT's copy of the pretrained weights (methods/direct.ts keeps it for disable()). */
  copy: number;
  grads: number;
  adam: number;
  /** The accumulated gradients, held while later micro-batches run (one device simulating several). */
  accumulation: number;
  /** The largest trainable variable (AdamW's temporaries are per variable). */
  largestTrainable: number;
}

export function staticBytes(p: MethodParams, largestTrainableParams: number): StaticBytes {
  const trained = p.trainable + p.head;
  return {
    weights: FLOAT32 * p.model,
    weightsFp16: 2 * p.model,
    added: FLOAT32 * p.added,
    copy: FLOAT32 * p.copied,
    grads: FLOAT32 * trained,
    adam: 2 * FLOAT32 * trained,
    accumulation: FLOAT32 * trained,
    largestTrainable: FLOAT32 * largestTrainableParams,
  };
}

/** The largest variable the method trains (head included), from a shapes-only build. */
export function largestTrainableParams(config: DebertaV2Config, method: MemoryMethod): number {
  return shapesOnly(() => {
    const model = createModel(config, { seed: 0 });
    try {
      const applied = memoryMethod(method).apply(model, new Rng(0));
      return Math.max(...[...applied.trainable, ...applied.head].map((v) => v.size));
    } finally {
      model.dispose();
    }
  });
}

/** The two phases after the backward, as multiples measured on the scaled-down models. */
export interface PhaseRatios {
  /** Norm-read peak above the held gradients, per gradient byte (≈ 1: the squares). */
  normPerGrad: number;
  /** Update peak above 2 × gradients (held + clipped copy), per byte of the largest trainable variable. */
  updatePerLargest: number;
}

export interface Estimate {
  method: MemoryMethod;
  batch: number;
  seq: number;
  passes: number;
  activations: number;
  peak: number;
  phase: 'backward' | 'norm' | 'update';
  fits: boolean;
  /** The largest micro-batch ≤ batch whose update fits GPU_BYTES (more passes, same update); null: none. */
  maxMicroBatch: number | null;
  /** Peak with per-layer gradient checkpointing (not implemented in lora-repro): an estimate. */
  checkpointedPeak: number;
}

export function peakAt(s: StaticBytes, ratios: PhaseRatios, activations: number, passes: number): { peak: number; phase: Estimate['phase'] } {
  const held = s.weights + s.added + s.copy + s.adam + (passes > 1 ? s.accumulation : 0);
  const phases: [Estimate['phase'], number][] = [
    ['backward', held + s.grads + activations],
    ['norm', held + s.grads * (1 + ratios.normPerGrad)],
    ['update', held + 2 * s.grads + ratios.updatePerLargest * s.largestTrainable],
  ];
  const [phase, peak] = phases.reduce((a, b) => (b[1] > a[1] ? b : a));
  return { peak, phase };
}

export function estimate(method: MemoryMethod, fit: Pick<ActivationFit, 'coefficients'>, s: StaticBytes, ratios: PhaseRatios, config: DebertaV2Config, batch: number, seq: number, examplesPerUpdate: number): Estimate {
  const shape = (b: number): StepShape => ({ ...modelSize(config), batch: b, seq });
  const at = (b: number) => peakAt(s, ratios, predictActivations(fit, shape(b)), Math.ceil(examplesPerUpdate / b));
  const passes = Math.ceil(examplesPerUpdate / batch);
  const activations = predictActivations(fit, shape(batch));
  const { peak, phase } = at(batch);
  let maxMicroBatch: number | null = null;
  for (let b = batch; b >= 1 && maxMicroBatch === null; b--) if (at(b).peak <= GPU_BYTES) maxMicroBatch = b;
  // Checkpointing keeps each layer's input (B·S·d floats) and recomputes one layer at a time.
  const one = predictOneLayer(fit, shape(batch));
  const outside = activations - config.layers * one;
  const checkpointed = config.layers * FLOAT32 * batch * seq * config.hidden + one + outside;
  return { method, batch, seq, passes, activations, peak, phase, fits: peak <= GPU_BYTES, maxMicroBatch, checkpointedPeak: peakAt(s, ratios, checkpointed, passes).peak };
}

/** One per-device setting of the paper profile's DeBERTa rows. */
export interface PaperSetting {
  row: string;
  method: MemoryMethod;
  tasks: string[];
  batch: number;
  seq: number;
  devices: number;
  /** Examples per optimizer update: batch × devices × gradAccumulation. */
  examplesPerUpdate: number;
}

/**
 * The DeBERTa XXL settings of `spec`'s paper profile (seed 0), equal settings of a row merged (the FT*
 * row uses one for all tasks). A LoRA config other than the measured one is refused: the numbers would
 * be for a different model.
 */
export function paperSettings(spec: string): PaperSetting[] {
  const runs = expandSpec(loadSpecFile(spec), { profile: 'paper' }).runs.filter((r) => r.specModel === DEBERTA_V2_XXLARGE_NAME);
  const out: PaperSetting[] = [];
  for (const r of runs) {
    const c = r.config;
    if (c.method !== 'ft' && c.method !== 'lora') continue;
    if (c.method === 'lora') {
      const mc = c.methodConfig as { r?: number; alpha?: number; targets?: string[] };
      if (mc.r !== LORA_CONFIG.r || mc.alpha !== LORA_CONFIG.alpha || (mc.targets ?? []).join(',') !== LORA_CONFIG.targets.join(',')) {
        throw new UserError(`${spec}: ${r.row} / ${c.task} trains LoRA ${JSON.stringify(mc)}, not the measured r ${LORA_CONFIG.r}, α ${LORA_CONFIG.alpha} on ${LORA_CONFIG.targets.join(', ')}: update LORA_CONFIG in bench/deberta-memory-measure.ts`);
      }
    }
    const batch = c.microBatchSize ?? c.batchSize;
    const examplesPerUpdate = c.batchSize * (c.devices ?? 1) * c.gradAccumulation;
    const same = out.find((o) => o.row === r.row && o.batch === batch && o.seq === c.maxSeqLength && o.examplesPerUpdate === examplesPerUpdate);
    if (same !== undefined) {
      if (!same.tasks.includes(c.task)) same.tasks.push(c.task);
      continue;
    }
    out.push({ row: r.row, method: c.method, tasks: [c.task], batch, seq: c.maxSeqLength, devices: c.devices ?? 1, examplesPerUpdate });
  }
  if (out.length === 0) throw new UserError(`${spec}: no ${DEBERTA_V2_XXLARGE_NAME} runs in the paper profile`);
  return out;
}

export const DEBERTA_V2_XXLARGE_NAME = 'deberta-v2-xxlarge';

/** Everything analytic about XXL: parameter counts and static bytes per method. */
export function xxlStatic(): { params: Record<MemoryMethod, MethodParams>; bytes: Record<MemoryMethod, StaticBytes> } {
  const c = structuredClone(DEBERTA_V2_XXLARGE);
  const params = { ft: methodParams(c, 'ft'), lora: methodParams(c, 'lora') };
  return {
    params,
    bytes: { ft: staticBytes(params.ft, largestTrainableParams(c, 'ft')), lora: staticBytes(params.lora, largestTrainableParams(c, 'lora')) },
  };
}
