import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { GLUE_TASK_NAMES, GLUE_TASKS } from '../src/data/glue-tasks.ts';
import {
  accuracy,
  argmaxRows,
  averageRanks,
  computeGlueMetrics,
  f1Binary,
  matthewsCorrelation,
  pearson,
  spearman,
} from '../src/eval/glue-metrics.ts';

const close = (actual: number, expected: number, tol = 1e-12) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} != ${expected} (tol ${tol})`);

describe('GLUE metrics: hand-computed cases', () => {
  // TP=4 (0,3,6,7), FP=1 (1), FN=1 (4), TN=2 (2,5).
  const p = [1, 1, 0, 1, 0, 0, 1, 1];
  const t = [1, 0, 0, 1, 1, 0, 1, 1];

  it('accuracy = 6/8', () => close(accuracy(p, t), 0.75));
  it('F1 = 2TP/(2TP+FP+FN) = 8/10', () => close(f1Binary(p, t), 0.8));
  it('MCC = (4*2 - 1*1)/sqrt(5*5*3*3) = 7/15', () => close(matthewsCorrelation(p, t), 7 / 15));
  it('MCC is 0 when undefined (constant predictions), as sklearn', () => {
    assert.equal(matthewsCorrelation([1, 1, 1], [1, 0, 1]), 0);
    assert.equal(matthewsCorrelation([0, 1, 0], [1, 1, 1]), 0);
  });
  it('MCC is -1 when every prediction is wrong', () => close(matthewsCorrelation([1, 0, 1, 0], [0, 1, 0, 1]), -1));
  it('F1 is 0 with no true or predicted positive', () => assert.equal(f1Binary([0, 0], [0, 0]), 0));
  it('Pearson of a perfect linear relation is 1 / -1', () => {
    close(pearson([1, 2, 3, 4], [3, 5, 7, 9]), 1);
    close(pearson([1, 2, 3, 4], [8, 6, 4, 2]), -1);
  });
  it('Pearson: x=[1,2,3], y=[1,3,2] gives 0.5 (cov 1, var 2 and 2)', () => close(pearson([1, 2, 3], [1, 3, 2]), 0.5));
  it('Pearson is NaN for a constant input, as SciPy', () => assert.ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3]))));
  it('average ranks for ties: [10, 20, 20, 5] -> [2, 3.5, 3.5, 1]', () => {
    assert.deepEqual(Array.from(averageRanks([10, 20, 20, 5])), [2, 3.5, 3.5, 1]);
    assert.deepEqual(Array.from(averageRanks([7, 7, 7])), [2, 2, 2]);
  });
  it('Spearman with ties equals Pearson of the average ranks', () => {
    // ranks x: [1, 2.5, 2.5, 4] (deviations -1.5, 0, 0, 1.5); y: [1, 2, 3, 4] (-1.5, -.5, .5, 1.5):
    // sxy = 4.5, sxx = 4.5, syy = 5 -> 4.5 / sqrt(22.5) = 0.9486832980505138
    close(spearman([1, 2, 2, 3], [10, 20, 30, 40]), 4.5 / Math.sqrt(4.5 * 5));
  });
  it('Spearman is invariant under monotone transforms', () => close(spearman([1, 2, 3, 4], [1, 8, 27, 64]), 1));
  it('length mismatch is an error', () => assert.throws(() => accuracy([1], [1, 0]), /1 predictions for 2 labels/));
  it('argmaxRows picks the first maximum', () => {
    assert.deepEqual(Array.from(argmaxRows(new Float32Array([0.1, 0.9, 0.5, 0.5, 2, -1]), 2)), [1, 0, 0]);
  });
});

const Case = z.object({
  name: z.string(),
  task: z.enum(GLUE_TASK_NAMES),
  predictions: z.array(z.number()),
  labels: z.array(z.number()),
  accuracy: z.number().optional(),
  f1: z.number().optional(),
  matthews: z.number().optional(),
  pearson: z.number().nullable().optional(),
  spearman: z.number().nullable().optional(),
});
const Fixture = z.object({ cases: z.array(Case) });

describe('GLUE metrics: reference values from SciPy / exact fractions (test/fixtures/make_glue_metric_cases.py)', () => {
  const fixture = Fixture.parse(JSON.parse(readFileSync(new URL('./fixtures/glue-metric-cases.json', import.meta.url), 'utf8')));

  for (const c of fixture.cases) {
    it(c.name, () => {
      const p = c.predictions;
      const t = c.labels;
      if (c.accuracy !== undefined) close(accuracy(p, t), c.accuracy);
      if (c.f1 !== undefined) close(f1Binary(p, t), c.f1);
      if (c.matthews !== undefined) close(matthewsCorrelation(p, t), c.matthews, 1e-12);
      for (const key of ['pearson', 'spearman'] as const) {
        const want = c[key];
        if (want === undefined) continue;
        const got = key === 'pearson' ? pearson(p, t) : spearman(p, t);
        if (want === null) assert.ok(Number.isNaN(got), `${key} should be NaN, got ${got}`);
        else close(got, want, 1e-12);
      }
    });
  }

  it('computeGlueMetrics returns each task\'s metrics and the Table 2 headline', () => {
    const byName = new Map(fixture.cases.map((c) => [c.name, c]));
    const mrpc = byName.get('binary-random-1');
    assert.ok(mrpc);
    const r = computeGlueMetrics('mrpc', mrpc.predictions, mrpc.labels);
    assert.deepEqual(Object.keys(r.metrics).sort(), ['accuracy', 'f1']);
    assert.equal(r.headline.name, 'accuracy');
    close(r.headline.value, mrpc.accuracy as number);
    close(r.metrics.f1 as number, mrpc.f1 as number);

    const cola = byName.get('binary-random-0');
    assert.ok(cola);
    const rc = computeGlueMetrics('cola', cola.predictions, cola.labels);
    assert.deepEqual(Object.keys(rc.metrics), ['matthews']);
    close(rc.headline.value, cola.matthews as number);

    const sts = byName.get('regression-ties-0');
    assert.ok(sts);
    const rs = computeGlueMetrics('stsb', sts.predictions, sts.labels);
    assert.equal(rs.headline.name, 'pearson');
    close(rs.metrics.pearson as number, sts.pearson as number);
    close(rs.metrics.spearman as number, sts.spearman as number);

    const mnli = byName.get('three-class-random');
    assert.ok(mnli);
    const rm = computeGlueMetrics('mnli', mnli.predictions, mnli.labels);
    close(rm.headline.value, mnli.accuracy as number);
  });

  it('headline metrics match the paper\'s Table 2 conventions', () => {
    const headlines = Object.fromEntries(GLUE_TASK_NAMES.map((n) => [n, GLUE_TASKS[n].headline]));
    assert.deepEqual(headlines, {
      mnli: 'accuracy',
      sst2: 'accuracy',
      mrpc: 'accuracy',
      cola: 'matthews',
      qnli: 'accuracy',
      qqp: 'accuracy',
      rte: 'accuracy',
      stsb: 'pearson',
    });
  });
});
