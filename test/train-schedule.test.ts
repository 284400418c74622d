import { strict as assert } from 'node:assert';
import { LinearSchedule, linearWarmupDecay, resolveWarmupSteps } from '../src/train/optim.ts';

/**
 * Hand values of HF get_linear_schedule_with_warmup's lambda (the factor of update k, k counted from 0):
 * k < W: k / W; else (T − k) / (T − W), floored at 0.
 */
describe('train: linear warm-up + linear decay schedule', () => {
  it('T = 10, W = 2: 0, 1/2, then 8/8 down to 1/8 and 0', () => {
    const got = Array.from({ length: 11 }, (_, k) => linearWarmupDecay(k, 2, 10));
    assert.deepEqual(got, [0, 0.5, 1, 7 / 8, 6 / 8, 5 / 8, 4 / 8, 3 / 8, 2 / 8, 1 / 8, 0]);
  });

  it('no warm-up: the first update uses the full rate, then it falls by 1/T per update', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((k) => linearWarmupDecay(k, 0, 4)),
      [1, 0.75, 0.5, 0.25, 0],
    );
  });

  it('never negative past the end; W = T keeps warming up to the last update', () => {
    assert.equal(linearWarmupDecay(12, 2, 10), 0);
    assert.deepEqual(
      [0, 1, 2, 3].map((k) => linearWarmupDecay(k, 4, 4)),
      [0, 0.25, 0.5, 0.75],
    );
  });

  it('warm-up steps: explicit steps win, else ceil(T · ratio) as the HF Trainer computes it', () => {
    assert.equal(resolveWarmupSteps(1000, { warmupRatio: 0.06 }), 60);
    assert.equal(resolveWarmupSteps(101, { warmupRatio: 0.06 }), 7); // 6.06 → 7
    assert.equal(resolveWarmupSteps(100, { warmupRatio: 0.06, warmupSteps: 500 }), 500);
    assert.equal(resolveWarmupSteps(100, {}), 0);
  });

  it('LinearSchedule: lr = base · factor (GLUE: 4e-4 peak, ratio 0.06 of 50 updates → 3 warm-up)', () => {
    const s = new LinearSchedule(4e-4, 50, { warmupRatio: 0.06 });
    assert.equal(s.warmupSteps, 3);
    assert.equal(s.lr(0), 0);
    assert.ok(Math.abs(s.lr(1) - 4e-4 / 3) < 1e-18);
    assert.equal(s.lr(3), 4e-4);
    assert.ok(Math.abs(s.lr(26) - (4e-4 * 24) / 47) < 1e-18);
    assert.equal(s.lr(50), 0);
  });
});
