/**
 * Turns a run config's `task` into TaskData: the GLUE tasks from the original TSVs (Section 5.2), E2E
 * from the challenge CSVs (Section 5.4), and the SYNTHETIC stand-ins of the offline mini profile
 * (below). One loader per source in TASK_LOADERS; all share the two builders at the end of this file.
 * A GLUE / E2E split missing from the data directory is read from the hub cache's parquet instead
 * (data/split-source.ts); `files` records which file each split came from, with its sha256.
 *
 * E2E is read from the official CSVs (trainset.csv / devset.csv / testset_w_refs.csv): MRs become the
 * LoRA repository's context strings (data/e2e.ts mrToLoraContext) and references are the challenge's
 * own texts, which the official scorer also uses. (The LoRA repository trains on, and scores against,
 * its re-tokenised references, `family - friendly`; its train.txt is not in the shared data.)
 */
import type { GlueExample } from '../data/glue-tsv.ts';
import { groupConsecutive, type E2eSplit, mrToLoraContext } from '../data/e2e.ts';
import { GLUE_TASKS, parseGlueTaskName, type GlueTaskName } from '../data/glue-tasks.ts';
import { e2eSplitSource, glueSplitSource, readE2eSource, readGlueSource, type SplitSource, type SplitSourceOptions } from '../data/split-source.ts';
import { computeGlueMetrics, scoreGlueMetrics } from '../eval/glue-metrics.ts';
import type { ModelConfig } from '../models/config.ts';
import { SYNTHETIC_TASK_NAMES, generateSyntheticE2e, generateSyntheticGlue, isSyntheticTask, syntheticSpec, type SyntheticGlueTaskName } from '../data/synthetic.ts';
import { UserError } from '../util/errors.ts';
import { sha256File } from './run-dir.ts';
import type { TrainRunConfig } from './run-config.ts';
import { holdOutExamples, holdOutMrs, evalProtocol, HELDOUT_SPLIT, trainingEvalSplits } from './eval-protocol.ts';
import { subsampleIndices } from './run-identity.ts';
import type { TaskData } from './task-data.ts';
import { encodeE2ePair } from '../data/encode-gpt2-e2e.ts';
import { encodeDebertaExample } from '../data/encode-deberta.ts';
import { encodeRobertaExample, type EncodedClassificationExample } from '../data/encode-roberta.ts';
import { scoreE2E } from '../eval/e2e/index.ts';
import { debertaSpecialTokens, gpt2SpecialTokens, robertaSpecialTokens } from '../tokenizers/special-tokens.ts';
import type { TextTokenizer } from '../tokenizers/types.ts';
import { classificationTask } from './classification-task.ts';
import { lmTask } from './lm-task.ts';
import { createHash } from 'node:crypto';

/** Records the source in the run's provenance (key → sha256 of the bytes read). */
function record(files: Record<string, string>, source: SplitSource): void {
  files[source.key] = sha256File(source.path);
}

const glueLoader: TaskLoader = {
  name: 'glue',
  matches: (task) => parseGlueTaskName(task) !== undefined,
  modelType: () => 'roberta',
  async load(ctx) {
    const task = parseGlueTaskName(ctx.config.task) as GlueTaskName;
    const spec = GLUE_TASKS[task];
    const where = ctx.splitSources();
    const c = ctx.config;
    if (ctx.evalSplit === undefined && c.evalSplit === 'test') throw new UserError(`${task}: evalSplit test is for E2E only (GLUE's test labels are not public); use dev`);
    const files: Record<string, string> = {};
    let train: GlueExample[] = [];
    let heldout: Omit<RawEvalSplit, 'name'> | undefined;
    if (ctx.needTrain) {
      const source = glueSplitSource(task, 'train', where);
      const all = await readGlueSource(source, task);
      const size = heldoutSizeToLoad(ctx);
      const split = holdOutExamples(all.length, size, c.trainLimit, task);
      train = split.train.map((i) => all[i]);
      if (size !== undefined) heldout = { rows: split.heldout, examples: split.heldout.map((i) => all[i]) };
      record(files, source);
    }
    const splitNames = ctx.evalSplit !== undefined ? [ctx.evalSplit] : spec.evalSplits.map((s) => s.name);
    const evalSplits: RawEvalSplit[] = [];
    for (const name of splitNames) {
      const source = glueSplitSource(task, name, where);
      record(files, source);
      const all = await readGlueSource(source, task);
      const rows = subsampleIndices(all.length, c.evalLimit);
      evalSplits.push({ name, rows, examples: rows.map((i) => all[i]) });
    }
    const def: GlueLikeTask = {
      task,
      numLabels: spec.numLabels,
      labelNames: spec.labels.map((l) => l.name),
      metrics: (preds, labels) => computeGlueMetrics(task, preds, labels).metrics as Record<string, number>,
      headline: spec.headline,
      headlineSplit: ctx.evalSplit ?? spec.headlineSplit,
    };
    return buildGlueLikeTask(ctx, def, train, evalSplits, files, heldout);
  },
};

const E2E_EVAL_SPLITS: readonly E2eSplit[] = ['dev', 'test'];

const e2eLoader: TaskLoader = {
  name: 'e2e',
  matches: (task) => task === 'e2e',
  modelType: () => 'gpt2',
  async load(ctx) {
    const where = ctx.splitSources();
    const c = ctx.config;
    const splits = evalSplitsToLoad(ctx) as E2eSplit[];
    const bad = splits.find((s) => !E2E_EVAL_SPLITS.includes(s));
    if (bad !== undefined) throw new UserError(`e2e has no eval split '${bad}': use dev or test`);
    const files: Record<string, string> = {};
    let train: { mr: string; ref: string; where: string }[] = [];
    let heldout: RawE2eEvalSet['instances'] | undefined;
    if (ctx.needTrain) {
      const source = e2eSplitSource('train', where);
      const data = await readE2eSource(source);
      const size = heldoutSizeToLoad(ctx);
      const split = holdOutMrs(data.pairs, size, c.trainLimit, 'e2e');
      train = split.train.map((i) => {
        const p = data.pairs[i];
        return { mr: p.mr, ref: p.ref, where: `${data.file}:${p.line}` };
      });
      if (size !== undefined) heldout = split.heldout.map((h) => ({ mr: h.mr, refs: h.pairs.map((i) => data.pairs[i].ref), where: `${data.file} (held-out MR "${h.mr}")` }));
      record(files, source);
    }
    const evalSets: RawE2eEvalSet[] = [];
    for (const split of splits) {
      const evalSource = e2eSplitSource(split, where);
      const evalData = await readE2eSource(evalSource);
      record(files, evalSource);
      const instances = groupConsecutive(evalData.pairs);
      const chosen = subsampleIndices(instances.length, c.evalLimit).map((i) => ({ ...instances[i], where: `${evalData.file} (MR "${instances[i].mr}")` }));
      evalSets.push({ split, instances: chosen });
    }
    return buildE2eLikeTask(ctx, 'e2e', train, evalSets, files, heldout);
  },
};

/*
 * The SYNTHETIC stand-in tasks of the offline mini profile (src/data/synthetic.ts: synthetic-sst2,
 * -rte, -stsb, -e2e) as TaskData, through the same builders as GLUE and E2E. Their data depend only on
 * each task's fixed data seed, never on the run's seed; trainLimit/evalLimit subsample them and
 * heldoutSize holds out of them (eval-protocol.ts) like real splits. Provenance records the generator and a hash of the generated examples, so a change of the
 * generators shows up as a different dataset.
 */
function dataHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

const syntheticLoader: TaskLoader = {
  name: 'synthetic',
  matches: isSyntheticTask,
  modelType: (task) => (syntheticSpec(task).kind === 'e2e' ? 'gpt2' : 'roberta'),
  async load(ctx) {
    const c = ctx.config;
    const spec = syntheticSpec(c.task);
    const wanted = evalSplitsToLoad(ctx).find((s) => s !== 'dev');
    if (wanted !== undefined) throw new UserError(`${spec.name} has only a dev split (got '${wanted}')`);
    const label = `${spec.name} (generator, data seed ${spec.dataSeed})`;
    const size = heldoutSizeToLoad(ctx);
    if (spec.kind === 'glue') {
      const data = generateSyntheticGlue(spec.name as SyntheticGlueTaskName);
      const split = ctx.needTrain ? holdOutExamples(data.train.length, size, c.trainLimit, spec.name) : { heldout: [], train: [] };
      const rows = subsampleIndices(data.dev.length, c.evalLimit);
      return buildGlueLikeTask(
        ctx,
        {
          task: spec.name,
          numLabels: spec.numLabels,
          labelNames: spec.labels.map((l) => l.name),
          metrics: (preds, labels) => scoreGlueMetrics(spec, preds, labels).metrics as Record<string, number>,
          headline: spec.headline,
          headlineSplit: 'dev',
        },
        split.train.map((i) => data.train[i]),
        [{ name: 'dev', rows, examples: rows.map((i) => data.dev[i]) }],
        { [label]: dataHash([data.train, data.dev]) },
        size !== undefined ? { rows: split.heldout, examples: split.heldout.map((i) => data.train[i]) } : undefined,
      );
    }
    const data = generateSyntheticE2e();
    const pairs = data.train.pairs;
    const split = ctx.needTrain ? holdOutMrs(pairs, size, c.trainLimit, spec.name) : { heldout: [], train: [] };
    const train = split.train.map((i) => ({ mr: pairs[i].mr, ref: pairs[i].ref, where: `${spec.name} train pair ${i}` }));
    const heldout = size !== undefined ? split.heldout.map((h) => ({ mr: h.mr, refs: h.pairs.map((i) => pairs[i].ref), where: `${spec.name} held-out train MR (pair ${h.pairs[0]})` })) : undefined;
    const chosen = subsampleIndices(data.dev.instances.length, c.evalLimit).map((i) => ({ ...data.dev.instances[i], where: `${spec.name} dev MR ${i}` }));
    return buildE2eLikeTask(ctx, spec.name, train, [{ split: 'dev', instances: chosen }], { [label]: dataHash([data.train.pairs, data.dev.pairs]) }, heldout);
  },
};

/** Every task source, tried in order. */
const TASK_LOADERS: TaskLoader[] = [glueLoader, e2eLoader, syntheticLoader];

function findTaskLoader(task: string): TaskLoader {
  const loader = TASK_LOADERS.find((l) => l.matches(task));
  if (loader === undefined) {
    throw new UserError(`unknown task '${task}' (one of ${Object.keys(GLUE_TASKS).join(', ')}, e2e, ${SYNTHETIC_TASK_NAMES.join(', ')})`);
  }
  return loader;
}

/**
 * Whether a model of family `model` runs a task that needs `needed` (TaskLoader.modelType): the
 * classification tasks take either encoder family (the paper's RoBERTa and DeBERTa-v2 rows).
 */
export function modelFitsTask(needed: 'roberta' | 'gpt2', model: ModelConfig['modelType']): boolean {
  return needed === model || (needed === 'roberta' && model === 'deberta-v2');
}

/** A UserError unless `model` is of a family the task takes. */
export function checkTaskModel(config: TrainRunConfig, model: ModelConfig): TaskLoader {
  const loader = findTaskLoader(config.task);
  const needed = loader.modelType(config.task);
  if (!modelFitsTask(needed, model.modelType)) {
    const want = needed === 'roberta' ? 'a RoBERTa model (e.g. roberta-base) or a DeBERTa-v2 model (deberta-v2-xxlarge)' : 'a GPT-2 model (e.g. gpt2-medium)';
    throw new UserError(`task '${config.task}' needs ${want}; '${config.model}' is ${model.modelType}`);
  }
  return loader;
}

export function loadTaskData(ctx: LoaderContext): Promise<TaskData> {
  return checkTaskModel(ctx.config, ctx.model).load(ctx);
}

/*
 * The contract between task sources and the trainer (LoaderContext → TaskData) and the two builders
 * every source shares: a GLUE-shaped classification task from text pairs, and an E2E-shaped generation
 * task from challenge-format MRs and references. Tokenizing happens here, after the tokenizer has been
 * fitted to the model on exactly these texts (fit-tokenizer.ts).
 */
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
function evalSplitsToLoad(ctx: Pick<LoaderContext, 'config' | 'needTrain' | 'evalSplit'>): string[] {
  if (ctx.evalSplit !== undefined) return [ctx.evalSplit];
  const p = evalProtocol(ctx.config);
  return ctx.needTrain ? trainingEvalSplits(p) : [p.split];
}

/**
 * Training examples (E2E: MRs) to hold out of the training split for selection (eval-protocol.ts), or
 * undefined: only a training run selecting on held-out data has the slice (eval/generate never do).
 */
function heldoutSizeToLoad(ctx: Pick<LoaderContext, 'config' | 'needTrain' | 'evalSplit'>): number | undefined {
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
 * `heldout`: the held-out slice of the training split (eval-protocol.ts), an eval set of its own.
 */
function buildGlueLikeTask(
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
 * `heldout`: the held-out MRs of the training split (eval-protocol.ts), an eval set of its own.
 */
function buildE2eLikeTask(
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
