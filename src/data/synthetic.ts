/**
 * Built-in deterministic stand-in tasks for runs with NO data directory (issue 7, the offline `mini`
 * profile), so the pipeline runs end to end on a fresh machine. They are generated text, not GLUE or
 * E2E: every name starts with `synthetic-` and every description says SYNTHETIC, so no table can
 * present them as the real benchmarks.
 *
 * - synthetic-sst2: single-sentence sentiment (lexicon polarity, negation, contrast) — accuracy.
 * - synthetic-rte: sentence-pair entailment (paraphrase vs contradiction by templated edits) — accuracy.
 * - synthetic-stsb: sentence-pair similarity regression 0–5 (slot overlap + noise) — Pearson/Spearman.
 * - synthetic-e2e: meaning representation → text with several references per MR — the E2E metrics.
 *
 * The splits have the shapes of the real readers (GLUE: GlueExample[]; E2E: E2eData with challenge-
 * format MRs), so the trainer treats them as tasks. The data depend only on the task's data seed (a
 * constant per task unless overridden), never on a run's seed: like a real dataset, every run of every
 * seed sees the same examples. Metrics and baselines are eval's (eval/glue-metrics.ts scoreGlueMetrics,
 * eval/baselines.ts), as for the real tasks: data/ stays below eval/.
 */
import { Rng } from '../util/rng.ts';
import { UserError } from '../util/errors.ts';
import type { GlueMetricName, GlueTaskName } from './glue-tasks.ts';
import type { GlueExample } from './glue-tsv.ts';
import type { E2eData, E2eMetricName } from './e2e.ts';
import { entailmentExample, sentimentExample, similarityExample } from './synthetic-glue.ts';
import { generateE2eSplits, randomMr, reference } from './synthetic-e2e.ts';

export const SYNTHETIC_GLUE_TASK_NAMES = ['synthetic-sst2', 'synthetic-rte', 'synthetic-stsb'] as const;
export type SyntheticGlueTaskName = (typeof SYNTHETIC_GLUE_TASK_NAMES)[number];
export const SYNTHETIC_TASK_NAMES = [...SYNTHETIC_GLUE_TASK_NAMES, 'synthetic-e2e'] as const;
export type SyntheticTaskName = (typeof SYNTHETIC_TASK_NAMES)[number];

export interface SyntheticGlueSpec {
  name: SyntheticGlueTaskName;
  kind: 'glue';
  /** One line for captions; always says SYNTHETIC. */
  description: string;
  /** The real task whose shape it imitates (also its label order and metrics). */
  imitates: GlueTaskName;
  labels: readonly { raw: string; name: string }[];
  numLabels: number;
  isRegression: boolean;
  metrics: readonly GlueMetricName[];
  headline: GlueMetricName;
  defaultSizes: { train: number; dev: number };
  dataSeed: number;
  generate(rng: Rng): GlueExample;
}

export interface SyntheticE2eSpec {
  name: 'synthetic-e2e';
  kind: 'e2e';
  description: string;
  imitates: 'e2e';
  metrics: readonly E2eMetricName[];
  headline: E2eMetricName;
  /** Sizes in MRs (each with 2–6 references). */
  defaultSizes: { train: number; dev: number };
  dataSeed: number;
}

export type SyntheticSpec = SyntheticGlueSpec | SyntheticE2eSpec;

const binary = (neg: string, pos: string) => [{ raw: '0', name: neg }, { raw: '1', name: pos }];

export const SYNTHETIC_TASKS: Readonly<Record<SyntheticTaskName, SyntheticSpec>> = {
  'synthetic-sst2': {
    name: 'synthetic-sst2',
    kind: 'glue',
    description: 'SYNTHETIC sentiment (generated reviews with negation and contrast; stand-in, not SST-2)',
    imitates: 'sst2',
    labels: binary('negative', 'positive'),
    numLabels: 2,
    isRegression: false,
    metrics: ['accuracy'],
    headline: 'accuracy',
    defaultSizes: { train: 3000, dev: 500 },
    dataSeed: 101,
    generate: sentimentExample,
  },
  'synthetic-rte': {
    name: 'synthetic-rte',
    kind: 'glue',
    description: 'SYNTHETIC entailment (templated paraphrase/contradiction edits; stand-in, not RTE)',
    imitates: 'rte',
    labels: [{ raw: 'entailment', name: 'entailment' }, { raw: 'not_entailment', name: 'not_entailment' }],
    numLabels: 2,
    isRegression: false,
    metrics: ['accuracy'],
    headline: 'accuracy',
    defaultSizes: { train: 3000, dev: 500 },
    dataSeed: 102,
    generate: entailmentExample,
  },
  'synthetic-stsb': {
    name: 'synthetic-stsb',
    kind: 'glue',
    description: 'SYNTHETIC similarity 0-5 (slot overlap with noise; stand-in, not STS-B)',
    imitates: 'stsb',
    labels: [],
    numLabels: 1,
    isRegression: true,
    metrics: ['pearson', 'spearman'],
    headline: 'pearson',
    defaultSizes: { train: 3000, dev: 500 },
    dataSeed: 103,
    generate: similarityExample,
  },
  'synthetic-e2e': {
    name: 'synthetic-e2e',
    kind: 'e2e',
    description: 'SYNTHETIC restaurant MR-to-text (E2E attributes, invented names, templated references; stand-in, not E2E)',
    imitates: 'e2e',
    metrics: ['BLEU', 'NIST', 'METEOR', 'ROUGE_L', 'CIDEr'],
    headline: 'BLEU',
    defaultSizes: { train: 800, dev: 120 },
    dataSeed: 104,
  },
};

export function isSyntheticTask(name: string): name is SyntheticTaskName {
  return (SYNTHETIC_TASK_NAMES as readonly string[]).includes(name);
}

export function syntheticSpec(name: string): SyntheticSpec {
  if (!isSyntheticTask(name)) throw new UserError(`unknown synthetic task '${name}' (known: ${SYNTHETIC_TASK_NAMES.join(', ')})`);
  return SYNTHETIC_TASKS[name];
}

export interface SyntheticOptions {
  /** Overrides the task's data seed (tests; a run's seed must not change its data). */
  dataSeed?: number;
  trainSize?: number;
  devSize?: number;
}

export interface SyntheticGlueData {
  spec: SyntheticGlueSpec;
  train: GlueExample[];
  dev: GlueExample[];
}

const exampleKey = (e: GlueExample): string => `${e.text_a}\t${e.text_b ?? ''}`;

/** Train and dev splits of a GLUE-like stand-in; dev texts never occur in train. */
export function generateSyntheticGlue(name: SyntheticGlueTaskName, opts: SyntheticOptions = {}): SyntheticGlueData {
  const spec = SYNTHETIC_TASKS[name] as SyntheticGlueSpec;
  const rng = new Rng(opts.dataSeed ?? spec.dataSeed);
  const trainSize = opts.trainSize ?? spec.defaultSizes.train;
  const devSize = opts.devSize ?? spec.defaultSizes.dev;
  const train = Array.from({ length: trainSize }, () => spec.generate(rng));
  const inTrain = new Set(train.map(exampleKey));
  const dev: GlueExample[] = [];
  for (let tries = 0; dev.length < devSize; tries++) {
    if (tries > 100 * devSize) throw new Error(`${name}: cannot draw ${devSize} dev examples unseen in train`);
    const e = spec.generate(rng);
    if (!inTrain.has(exampleKey(e))) dev.push(e);
  }
  return { spec, train, dev };
}

export interface SyntheticE2eData {
  spec: SyntheticE2eSpec;
  train: E2eData;
  dev: E2eData;
}

export function generateSyntheticE2e(opts: SyntheticOptions = {}): SyntheticE2eData {
  const spec = SYNTHETIC_TASKS['synthetic-e2e'] as SyntheticE2eSpec;
  const rng = new Rng(opts.dataSeed ?? spec.dataSeed);
  const { train, dev } = generateE2eSplits(rng, opts.trainSize ?? spec.defaultSizes.train, opts.devSize ?? spec.defaultSizes.dev);
  return { spec, train, dev };
}

/**
 * Unlabelled text in the style of every stand-in task, for pretraining without a data directory:
 * sentences from the same generators under a separate seed (so they are not the tasks' splits),
 * drawn round-robin until `budgetBytes` (UTF-8) is reached. Each document is given as its texts:
 * one, or with `linkRelated` the texts that belong together, in order (a pair example's two
 * sentences, three references of one MR), as ./corpus.ts links related data-directory texts.
 */
export function syntheticCorpusDocuments(budgetBytes: number, seed = 7, linkRelated = false): string[][] {
  const rng = new Rng(seed);
  const encoder = new TextEncoder();
  const pair = (e: { text_a: string; text_b?: string }): string[][] => (linkRelated ? [[e.text_a, e.text_b as string]] : [[e.text_a], [e.text_b as string]]);
  const makers: (() => string[][])[] = [
    () => [[sentimentExample(rng).text_a]],
    () => pair(entailmentExample(rng)),
    () => pair(similarityExample(rng)),
    () => {
      const mr = randomMr(rng);
      return linkRelated ? [[reference(rng, mr), reference(rng, mr), reference(rng, mr)]] : [[reference(rng, mr)]];
    },
  ];
  const docs: string[][] = [];
  let bytes = 0;
  for (let i = 0; bytes < budgetBytes; i++) {
    for (const doc of (makers[i % makers.length] as () => string[][])()) {
      docs.push(doc);
      for (const text of doc) bytes += encoder.encode(text).length + 1;
    }
  }
  return docs;
}
