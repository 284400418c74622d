/**
 * The eight GLUE tasks of the LoRA paper's Table 2: where their files are, which TSV columns hold the
 * sentences and the label, the label vocabulary, and which metrics are reported.
 *
 * Sources of truth:
 * - File layout and header names: the original GLUE TSV release (`download_glue_data.py`), as described in
 *   /work/shared/data/MANIFEST.md. Columns are looked up by header name, because train and dev files of the
 *   same task can have different column counts (MNLI train has 12 columns, its dev files 16).
 * - Label order: Hugging Face `datasets` "glue" builder (`ClassLabel(names=[...])`), which is what
 *   run_glue.py trains on: MNLI [entailment, neutral, contradiction]; QNLI/RTE [entailment,
 *   not_entailment]; MRPC [not_equivalent, equivalent]; QQP [not_duplicate, duplicate]; SST-2 [negative,
 *   positive]; CoLA [unacceptable, acceptable]; STS-B a float score (num_labels = 1, regression).
 * - Metrics: the HF `evaluate`/`datasets` "glue" metric (the one run_glue.py calls): accuracy everywhere,
 *   plus F1 for MRPC/QQP, Matthews correlation for CoLA, Pearson + Spearman for STS-B; MNLI is scored on
 *   dev_matched and dev_mismatched separately.
 * - Headline: what the LoRA paper's Table 2 prints (reference/README.md "Metrics"): Matthews for CoLA,
 *   Pearson for STS-B, accuracy elsewhere (MRPC and QQP included), MNLI matched accuracy (caveat 3 there:
 *   the column mixes conventions; for RoBERTa it is the matched value).
 */

export const GLUE_TASK_NAMES = ['mnli', 'sst2', 'mrpc', 'cola', 'qnli', 'qqp', 'rte', 'stsb'] as const;
export type GlueTaskName = (typeof GLUE_TASK_NAMES)[number];

export type GlueMetricName = 'accuracy' | 'f1' | 'matthews' | 'pearson' | 'spearman';

/** How to find text_a, text_b and the label in a row. */
export type GlueColumns =
  | {
      /** The first line is a header; columns are found by name. */
      kind: 'header';
      textA: string;
      textB?: string;
      label: string;
    }
  | {
      /** No header line (CoLA): fixed field count and 0-based column indices. */
      kind: 'headerless';
      numFields: number;
      textA: number;
      label: number;
    };

export interface GlueEvalSplit {
  /** Split name as in HF datasets ('validation_matched' there is 'dev_matched' here, after the file name). */
  name: string;
  /** Path relative to the data directory. */
  file: string;
  /** Short name as papers print it, e.g. 'MNLI-m'. */
  display: string;
}

export interface GlueTaskSpec {
  name: GlueTaskName;
  /** Directory name under glue/ in the original GLUE download (e.g. 'SST-2'). */
  dir: string;
  /** Column header in the paper's Table 2 / reference/paper-table2.csv. */
  tableColumn: string;
  /** Training file, relative to the data directory. */
  trainFile: string;
  /** Evaluation splits (two for MNLI). */
  evalSplits: readonly GlueEvalSplit[];
  columns: GlueColumns;
  /**
   * Label vocabulary for classification: `raw` is the string in the TSV, its position is the class id,
   * `name` is the HF datasets ClassLabel name. Empty for regression.
   */
  labels: readonly { raw: string; name: string }[];
  /** Model output size: number of classes, or 1 for STS-B regression. */
  numLabels: number;
  isRegression: boolean;
  /** Regression only: the closed range of the gold scores (STS-B 0–5); a score outside is a broken file. */
  scoreRange?: readonly [number, number];
  /** All metrics the HF glue metric reports for the task, in its order. */
  metrics: readonly GlueMetricName[];
  /** The metric printed in the paper's Table 2. */
  headline: GlueMetricName;
  /** For MNLI: the eval split whose value Table 2 prints for RoBERTa (see caveat 3). */
  headlineSplit: string;
}

const binary = (neg: string, pos: string) => [
  { raw: '0', name: neg },
  { raw: '1', name: pos },
];

const entailment = [
  { raw: 'entailment', name: 'entailment' },
  { raw: 'not_entailment', name: 'not_entailment' },
];

function devOnly(dir: string, display: string): GlueEvalSplit[] {
  return [{ name: 'dev', file: `glue/${dir}/dev.tsv`, display }];
}

export const GLUE_TASKS: Readonly<Record<GlueTaskName, GlueTaskSpec>> = {
  mnli: {
    name: 'mnli',
    dir: 'MNLI',
    tableColumn: 'MNLI',
    trainFile: 'glue/MNLI/train.tsv',
    evalSplits: [
      { name: 'dev_matched', file: 'glue/MNLI/dev_matched.tsv', display: 'MNLI-m' },
      { name: 'dev_mismatched', file: 'glue/MNLI/dev_mismatched.tsv', display: 'MNLI-mm' },
    ],
    // train.tsv: ... sentence1 sentence2 label1 gold_label; dev_*.tsv: ... label1..label5 gold_label.
    columns: { kind: 'header', textA: 'sentence1', textB: 'sentence2', label: 'gold_label' },
    labels: [
      { raw: 'entailment', name: 'entailment' },
      { raw: 'neutral', name: 'neutral' },
      { raw: 'contradiction', name: 'contradiction' },
    ],
    numLabels: 3,
    isRegression: false,
    metrics: ['accuracy'],
    headline: 'accuracy',
    headlineSplit: 'dev_matched',
  },
  sst2: {
    name: 'sst2',
    dir: 'SST-2',
    tableColumn: 'SST-2',
    trainFile: 'glue/SST-2/train.tsv',
    evalSplits: devOnly('SST-2', 'SST-2'),
    columns: { kind: 'header', textA: 'sentence', label: 'label' },
    labels: binary('negative', 'positive'),
    numLabels: 2,
    isRegression: false,
    metrics: ['accuracy'],
    headline: 'accuracy',
    headlineSplit: 'dev',
  },
  mrpc: {
    name: 'mrpc',
    dir: 'MRPC',
    tableColumn: 'MRPC',
    trainFile: 'glue/MRPC/train.tsv',
    evalSplits: devOnly('MRPC', 'MRPC'),
    columns: { kind: 'header', textA: '#1 String', textB: '#2 String', label: 'Quality' },
    labels: binary('not_equivalent', 'equivalent'),
    numLabels: 2,
    isRegression: false,
    metrics: ['accuracy', 'f1'],
    headline: 'accuracy',
    headlineSplit: 'dev',
  },
  cola: {
    name: 'cola',
    dir: 'CoLA',
    tableColumn: 'CoLA',
    trainFile: 'glue/CoLA/train.tsv',
    evalSplits: devOnly('CoLA', 'CoLA'),
    // source code, label, original judgement mark (often empty), sentence.
    columns: { kind: 'headerless', numFields: 4, textA: 3, label: 1 },
    labels: binary('unacceptable', 'acceptable'),
    numLabels: 2,
    isRegression: false,
    metrics: ['matthews'],
    headline: 'matthews',
    headlineSplit: 'dev',
  },
  qnli: {
    name: 'qnli',
    dir: 'QNLI',
    tableColumn: 'QNLI',
    trainFile: 'glue/QNLI/train.tsv',
    evalSplits: devOnly('QNLI', 'QNLI'),
    columns: { kind: 'header', textA: 'question', textB: 'sentence', label: 'label' },
    labels: entailment,
    numLabels: 2,
    isRegression: false,
    metrics: ['accuracy'],
    headline: 'accuracy',
    headlineSplit: 'dev',
  },
  qqp: {
    name: 'qqp',
    dir: 'QQP',
    tableColumn: 'QQP',
    trainFile: 'glue/QQP/train.tsv',
    evalSplits: devOnly('QQP', 'QQP'),
    columns: { kind: 'header', textA: 'question1', textB: 'question2', label: 'is_duplicate' },
    labels: binary('not_duplicate', 'duplicate'),
    numLabels: 2,
    isRegression: false,
    metrics: ['accuracy', 'f1'],
    headline: 'accuracy',
    headlineSplit: 'dev',
  },
  rte: {
    name: 'rte',
    dir: 'RTE',
    tableColumn: 'RTE',
    trainFile: 'glue/RTE/train.tsv',
    evalSplits: devOnly('RTE', 'RTE'),
    columns: { kind: 'header', textA: 'sentence1', textB: 'sentence2', label: 'label' },
    labels: entailment,
    numLabels: 2,
    isRegression: false,
    metrics: ['accuracy'],
    headline: 'accuracy',
    headlineSplit: 'dev',
  },
  stsb: {
    name: 'stsb',
    dir: 'STS-B',
    tableColumn: 'STS-B',
    trainFile: 'glue/STS-B/train.tsv',
    evalSplits: devOnly('STS-B', 'STS-B'),
    columns: { kind: 'header', textA: 'sentence1', textB: 'sentence2', label: 'score' },
    labels: [],
    numLabels: 1,
    isRegression: true,
    scoreRange: [0, 5],
    metrics: ['pearson', 'spearman'],
    headline: 'pearson',
    headlineSplit: 'dev',
  },
};

/** Why a regression score cannot be a gold label of `spec` (not finite, out of its range), or undefined when it can. */
export function badScore(spec: GlueTaskSpec, score: number): string | undefined {
  if (!Number.isFinite(score)) return `score ${score} is not finite`;
  const range = spec.scoreRange;
  if (range !== undefined && (score < range[0] || score > range[1])) return `score ${score} is outside ${spec.dir}'s range ${range[0]}–${range[1]}`;
  return undefined;
}

/** Accepts the usual spellings ('SST-2', 'sst-2', 'sst2', 'STS-B', 'MNLI') and returns the task name. */
export function parseGlueTaskName(input: string): GlueTaskName | undefined {
  const key = input.toLowerCase().replace(/[-_]/g, '');
  return (GLUE_TASK_NAMES as readonly string[]).includes(key) ? (key as GlueTaskName) : undefined;
}
