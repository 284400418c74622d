/**
 * The contract between task sources and the trainer (LoaderContext → TaskData) and the two builders
 * every source shares: a GLUE-shaped classification task from text pairs, and an E2E-shaped generation
 * task from challenge-format MRs and references. Tokenizing happens here, after the tokenizer has been
 * fitted to the model on exactly these texts (fit-tokenizer.ts).
 */
import type { GlueExample } from '../data/glue-tsv.ts';
import type { SplitSourceOptions } from '../data/split-source.ts';
import { mrToLoraContext } from '../data/e2e.ts';
import { encodeE2ePair } from '../data/encode-gpt2-e2e.ts';
import { encodeDebertaExample } from '../data/encode-deberta.ts';
import { encodeRobertaExample, type EncodedClassificationExample } from '../data/encode-roberta.ts';
import { scoreE2E } from '../eval/e2e/index.ts';
import type { ModelConfig } from '../models/config.ts';
import { debertaSpecialTokens, gpt2SpecialTokens, robertaSpecialTokens } from '../tokenizers/special-tokens.ts';
import type { TextTokenizer } from '../tokenizers/types.ts';
import { classificationTask } from './classification-task.ts';
import { evalProtocol, HELDOUT_SPLIT, trainingEvalSplits } from './eval-protocol.ts';
import { lmTask } from './lm-task.ts';
import type { TrainRunConfig } from './run-config.ts';
import type { TaskData } from './task-data.ts';

export interface LoaderContext {
  config: TrainRunConfig;
  model: ModelConfig;
  /** Where GLUE / E2E splits are looked for (resolved on first use; a UserError for a bad --data-dir). */
  splitSources(): SplitSourceOptions;
  /** The tokenizer fitted to the model; `corpus` (every text to be encoded) is read only if needed. */
  tokenizer(corpus: () => Iterable<string>): TextTokenizer;
  /** False for eval/generate: no training examples are read or encoded. */
  needTrain: boolean;
  /** Evaluate on this split instead of the task's default (generate --split test). */
  evalSplit?: string;
}

/**
 * The eval splits to load, in TaskData.evalSets order: `evalSplit` alone when given; for training,
 * dev (selection) and the split the run reports (eval-protocol.ts); else the split it reports.
 */
export function evalSplitsToLoad(ctx: Pick<LoaderContext, 'config' | 'needTrain' | 'evalSplit'>): string[] {
  if (ctx.evalSplit !== undefined) return [ctx.evalSplit];
  const p = evalProtocol(ctx.config);
  return ctx.needTrain ? trainingEvalSplits(p) : [p.split];
}

/**
 * Training examples (E2E: MRs) to hold out of the training split for selection (heldout.ts), or
 * undefined: only a training run selecting on held-out data has the slice (eval/generate never do).
 */
export function heldoutSizeToLoad(ctx: Pick<LoaderContext, 'config' | 'needTrain' | 'evalSplit'>): number | undefined {
  return ctx.needTrain && ctx.evalSplit === undefined ? evalProtocol(ctx.config).heldoutSize : undefined;
}

export interface TaskLoader {
  name: string;
  matches(task: string): boolean;
  /**
   * The kind of model the task needs (checked before any data is read): 'roberta' is a sequence
   * classifier (RoBERTa or DeBERTa-v2, see modelFitsTask), 'gpt2' a language model.
   */
  modelType(task: string): 'roberta' | 'gpt2';
  load(ctx: LoaderContext): Promise<TaskData>;
}

/** A GLUE-shaped task: what the data say about labels and metrics. */
export interface GlueLikeTask {
  task: string;
  numLabels: number;
  labelNames: readonly string[];
  metrics(predictions: Int32Array | Float32Array, labels: Int32Array | Float32Array): Record<string, number>;
  headline: string;
  headlineSplit: string;
}

export interface RawEvalSplit {
  name: string;
  /** Row of each example in its source. */
  rows: number[];
  examples: GlueExample[];
}

/**
 * Tokenizes (fitting the tokenizer to the model on these texts) and builds the classification task;
 * `heldout`: the held-out slice of the training split (heldout.ts), an eval set of its own.
 */
export function buildGlueLikeTask(
  ctx: LoaderContext,
  def: GlueLikeTask,
  train: GlueExample[],
  evalSplits: RawEvalSplit[],
  files: Record<string, string>,
  heldout?: Omit<RawEvalSplit, 'name'>,
): TaskData {
  const tokenizer = ctx.tokenizer(function* () {
    for (const e of [...train, ...evalSplits.flatMap((s) => s.examples), ...(heldout?.examples ?? [])]) {
      yield e.text_a;
      if (e.text_b !== undefined) yield e.text_b;
    }
  });
  const { encode, pad } = pairEncoder(ctx, tokenizer);
  return classificationTask({
    task: def.task,
    numLabels: def.numLabels,
    labelNames: def.labelNames,
    pad,
    train: train.map(encode),
    evalSplits: evalSplits.map((s) => ({ name: s.name, rows: s.rows, examples: s.examples.map(encode) })),
    ...(heldout !== undefined ? { heldout: { name: HELDOUT_SPLIT, rows: heldout.rows, examples: heldout.examples.map(encode) } } : {}),
    metrics: (_split, preds, labels) => def.metrics(preds, labels),
    headlineSplit: def.headlineSplit,
    headlineMetric: def.headline,
    files,
  });
}

/** The model family's sentence-pair layout (RoBERTa `<s> A </s></s> B </s>`, DeBERTa-v2 `[CLS] A [SEP] B [SEP]`) and padding id. */
function pairEncoder(ctx: LoaderContext, tokenizer: TextTokenizer): { encode: (e: GlueExample) => EncodedClassificationExample; pad: number } {
  const maxLength = ctx.config.maxSeqLength;
  if (ctx.model.modelType === 'deberta-v2') {
    const special = debertaSpecialTokens(tokenizer);
    return { encode: (e) => encodeDebertaExample(tokenizer, e, { maxLength, special }), pad: special.pad };
  }
  const special = robertaSpecialTokens(tokenizer);
  return { encode: (e) => encodeRobertaExample(tokenizer, e, { maxLength, special }), pad: special.pad };
}

/** The evaluation instances of one split, MRs in challenge format. */
export interface RawE2eEvalSet {
  split: string;
  instances: { mr: string; refs: string[]; where: string }[];
}

/**
 * Training pairs and evaluation instances with challenge-format MRs (`name[X], eatType[Y]`);
 * `heldout`: the held-out MRs of the training split (heldout.ts), an eval set of its own.
 */
export function buildE2eLikeTask(
  ctx: LoaderContext,
  task: string,
  train: { mr: string; ref: string; where: string }[],
  evalSets: RawE2eEvalSet[],
  files: Record<string, string>,
  heldout?: RawE2eEvalSet['instances'],
): TaskData {
  const pairs = train.map((p) => ({ context: mrToLoraContext(p.mr, p.where), completion: p.ref }));
  const sets = [...evalSets, ...(heldout !== undefined ? [{ split: HELDOUT_SPLIT, instances: heldout }] : [])].map((s) => ({ split: s.split, chosen: s.instances.map((i) => ({ context: mrToLoraContext(i.mr, i.where), references: i.refs })) }));
  const tokenizer = ctx.tokenizer(function* () {
    for (const t of pairs) {
      yield t.context;
      yield ' ' + t.completion;
    }
    for (const s of sets) for (const e of s.chosen) yield e.context;
  });
  const eot = gpt2SpecialTokens(tokenizer).endOfText;
  return lmTask({
    task,
    tokenizer,
    maxSeqLength: ctx.config.maxSeqLength,
    train: pairs.map((t) => encodeE2ePair(tokenizer, t.context, t.completion, eot)),
    evalSets: sets.map((s) => ({
      split: s.split,
      instances: s.chosen.map((e) => ({ context: [...tokenizer.encode(e.context), eot], input: e.context, references: e.references })),
    })),
    metrics: (refs, hyps) => ({ ...scoreE2E(refs, hyps) }),
    headlineMetric: 'BLEU',
    files,
  });
}
