/**
 * The batch arithmetic of src/train/batching.ts on hand-computed cases: per-device batch × devices ×
 * accumulation = effective batch; updates per epoch = ceil(examples / effective batch), as the HF
 * Trainer of the reference GLUE scripts counts them under DistributedSampler (ceil(ceil(n / W) / B));
 * warm-up ceil(ratio × total updates); the passes of each update.
 */
import assert from 'node:assert/strict';
import { effectiveBatchSize, stepMicroBatches, trainingSchedule, type BatchingFields } from '../src/train/batching.ts';

const fields = (over: Partial<BatchingFields>): BatchingFields => ({ epochs: 3, batchSize: 16, gradAccumulation: 1, warmupRatio: 0.06, ...over });

describe('train: effective batch, updates and warm-up', () => {
  it('1000 examples, 16 per device × 8 devices, 3 epochs, warm-up ratio 0.06: 128 per update, 8 updates an epoch, 24 in all, warm-up 2', () => {
    const s = trainingSchedule(fields({ devices: 8 }), 1000);
    // 1000 / 128 = 7.8 → 8; each of 8 processes gets 125 examples → ceil(125 / 16) = 8 batches.
    assert.equal(Math.ceil(Math.ceil(1000 / 8) / 16), 8);
    assert.deepEqual(s, {
      trainExamples: 1000,
      effectiveBatch: 128,
      microBatch: 16,
      microBatchesPerStep: 8,
      stepsPerEpoch: 8,
      totalSteps: 24,
      warmupSteps: 2, // ceil(24 × 0.06) = ceil(1.44)
      warmupFraction: 2 / 24,
    });
    // Batch 16 used as the whole batch (the bug this replaces): 63 updates an epoch, 189 in all, warm-up 12.
    const perDevice = trainingSchedule(fields({}), 1000);
    assert.deepEqual([perDevice.effectiveBatch, perDevice.stepsPerEpoch, perDevice.totalSteps, perDevice.warmupSteps], [16, 63, 189, 12]);
  });

  it('the paper profile cells: RoB-base LoRA MNLI (16 × 8, 30 epochs) and CoLA (32 × 2, 80 epochs)', () => {
    const mnli = trainingSchedule(fields({ devices: 8, epochs: 30 }), 392702);
    // 392702 / 128 = 3067.98 → 3068; × 30 = 92040; ceil(92040 × 0.06) = ceil(5522.4) = 5523.
    assert.deepEqual([mnli.effectiveBatch, mnli.stepsPerEpoch, mnli.totalSteps, mnli.warmupSteps], [128, 3068, 92040, 5523]);
    const cola = trainingSchedule(fields({ batchSize: 32, devices: 2, epochs: 80 }), 8551);
    // 8551 / 64 = 133.6 → 134; × 80 = 10720; ceil(643.2) = 644.
    assert.deepEqual([cola.effectiveBatch, cola.stepsPerEpoch, cola.totalSteps, cola.warmupSteps], [64, 134, 10720, 644]);
  });

  it('accumulation multiplies in; warm-up in steps wins over the ratio and may outlast training', () => {
    assert.equal(effectiveBatchSize({ batchSize: 4, devices: 8, gradAccumulation: 2 }), 64);
    assert.equal(effectiveBatchSize({ batchSize: 4, gradAccumulation: 2 }), 8);
    const s = trainingSchedule(fields({ batchSize: 4, devices: 8, gradAccumulation: 2, epochs: 2, warmupSteps: 100 }), 1000);
    // 1000 / 64 = 15.6 → 16 an epoch, 32 in all; 100 warm-up steps: fraction 3.125.
    assert.deepEqual([s.stepsPerEpoch, s.totalSteps, s.warmupSteps, s.warmupFraction], [16, 32, 100, 100 / 32]);
    assert.equal(trainingSchedule(fields({}), 0).warmupFraction, 0);
  });

  it('cuts each update into passes of at most microBatchSize (default: the per-device batch), every example once an epoch', () => {
    const order = Array.from({ length: 1000 }, (_, i) => i);
    const s = trainingSchedule(fields({ devices: 8 }), order.length);
    const sizes = (step: number, plan = s): number[] => stepMicroBatches(order, step, plan).map((b) => b.length);
    assert.deepEqual(sizes(0), Array(8).fill(16));
    // The last update: 1000 − 7 × 128 = 104 = 6 × 16 + 8.
    assert.deepEqual(sizes(7), [16, 16, 16, 16, 16, 16, 8]);
    const seen = Array.from({ length: s.stepsPerEpoch }, (_, k) => stepMicroBatches(order, k, s).flat()).flat();
    assert.deepEqual(seen, order);
    const one = trainingSchedule(fields({ devices: 8, microBatchSize: 512 }), 1000);
    assert.deepEqual([one.microBatch, one.microBatchesPerStep], [128, 1]);
    assert.deepEqual(sizes(0, one), [128]);
    const uneven = trainingSchedule(fields({ devices: 8, microBatchSize: 48 }), 1000);
    assert.equal(uneven.microBatchesPerStep, 3);
    assert.deepEqual(sizes(0, uneven), [48, 48, 32]);
    assert.deepEqual(sizes(7, uneven), [48, 48, 8]);
  });
});
