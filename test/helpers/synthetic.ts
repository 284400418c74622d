/**
 * Test-only views of the SYNTHETIC stand-in tasks (src/data/synthetic.ts): their untrained baselines
 * through eval's own functions (eval/baselines.ts, eval/glue-metrics.ts, eval/e2e/), as the trainer
 * records them for every run, and which stand-in imitates which real task. Here, not in src/data/, so
 * data/ never imports eval/.
 */
import { mrToLoraContext, type E2eData } from '../../src/data/e2e.ts';
import type { GlueMetricName, GlueTaskName } from '../../src/data/glue-tasks.ts';
import type { GlueExample } from '../../src/data/glue-tsv.ts';
import type { SyntheticGlueData, SyntheticTaskName } from '../../src/data/synthetic.ts';
import { constantBaseline, copyInputBaseline } from '../../src/eval/baselines.ts';
import { scoreE2E, type E2EScores } from '../../src/eval/e2e/index.ts';
import { scoreGlueMetrics, type GlueMetricValues } from '../../src/eval/glue-metrics.ts';

/**
 * Which stand-in imitates each real task: single-sentence tasks → synthetic-sst2, pair
 * classification → synthetic-rte, STS-B → synthetic-stsb, E2E → synthetic-e2e.
 */
export const SYNTHETIC_STAND_IN: Readonly<Record<GlueTaskName | 'e2e', SyntheticTaskName>> = {
  sst2: 'synthetic-sst2', cola: 'synthetic-sst2', mnli: 'synthetic-rte', qnli: 'synthetic-rte', qqp: 'synthetic-rte',
  mrpc: 'synthetic-rte', rte: 'synthetic-rte', stsb: 'synthetic-stsb', e2e: 'synthetic-e2e',
};

export interface GlueBaseline extends GlueMetricValues {
  /** 'majority' (the most frequent train class) or 'mean' (the train mean score, regression). */
  kind: 'majority' | 'mean';
  prediction: number;
}

/**
 * The majority-class baseline on dev, as the trainer records it for every run (eval/baselines.ts):
 * always predict train's most frequent class (ties → the lower id). Regression: always predict the
 * train mean; a constant has no correlation with anything (Pearson/Spearman undefined), reported as 0.
 */
export function majorityBaseline(data: SyntheticGlueData): GlueBaseline {
  const { spec, train, dev } = data;
  const b = constantBaseline({
    numLabels: spec.numLabels,
    trainLabels: train.map((e) => e.label),
    splits: [{ name: 'dev', labels: labelArray(dev, spec.isRegression) }],
    metrics: (_split, preds, labels) => scoreGlueMetrics(spec, preds, labels).metrics as Record<string, number>,
    key: (metric) => metric,
  });
  const metrics = b.metrics as Partial<Record<GlueMetricName, number>>;
  return { kind: b.kind as GlueBaseline['kind'], prediction: b.prediction as number, metrics, headline: { name: spec.headline, value: metrics[spec.headline] as number } };
}

function labelArray(examples: readonly GlueExample[], regression: boolean): Int32Array | Float32Array {
  return regression ? Float32Array.from(examples, (e) => e.label) : Int32Array.from(examples, (e) => e.label);
}

/** Copy-the-input on E2E-like data: each output is the instance's LoRA context string. */
export function copyInputHypotheses(data: E2eData): string[] {
  return data.instances.map((inst) => mrToLoraContext(inst.mr));
}

/** The E2E scores of copy-the-input on E2E-like data (eval/baselines.ts copyInputBaseline, the E2E scorer). */
export function syntheticCopyInputScores(data: E2eData): E2EScores {
  return copyInputBaseline(
    data.instances.map((i) => i.refs),
    copyInputHypotheses(data),
    scoreE2E,
  ).metrics;
}
