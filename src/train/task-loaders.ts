/**
 * Turns a run config's `task` into TaskData: the GLUE tasks from the original TSVs (Section 5.2), E2E
 * from the challenge CSVs (Section 5.4), and the SYNTHETIC stand-ins of the offline mini profile
 * (synthetic-loader.ts). One loader per source in TASK_LOADERS; all share the two builders below.
 * A GLUE / E2E split missing from the data directory is read from the hub cache's parquet instead
 * (data/split-source.ts); `files` records which file each split came from, with its sha256.
 *
 * E2E is read from the official CSVs (trainset.csv / devset.csv / testset_w_refs.csv): MRs become the
 * LoRA repository's context strings (data/e2e.ts mrToLoraContext) and references are the challenge's
 * own texts, which the official scorer also uses. (The LoRA repository trains on, and scores against,
 * its re-tokenised references, `family - friendly`; its train.txt is not in the shared data.)
 */
import type { GlueExample } from '../data/glue-tsv.ts';
import { groupConsecutive, type E2eSplit } from '../data/e2e.ts';
import { GLUE_TASKS, parseGlueTaskName, type GlueTaskName } from '../data/glue-tasks.ts';
import { e2eSplitSource, glueSplitSource, readE2eSource, readGlueSource, type SplitSource } from '../data/split-source.ts';
import { computeGlueMetrics } from '../eval/glue-metrics.ts';
import type { ModelConfig } from '../models/config.ts';
import { SYNTHETIC_TASK_NAMES } from '../data/synthetic.ts';
import { UserError } from '../util/errors.ts';
import { sha256File } from './provenance.ts';
import type { TrainRunConfig } from './run-config.ts';
import { holdOutExamples, holdOutMrs } from './heldout.ts';
import { subsampleIndices } from './seeds.ts';
import { syntheticLoader } from './synthetic-loader.ts';
import type { TaskData } from './task-data.ts';
import {
  buildE2eLikeTask,
  buildGlueLikeTask,
  evalSplitsToLoad,
  heldoutSizeToLoad,
  type GlueLikeTask,
  type LoaderContext,
  type RawE2eEvalSet,
  type RawEvalSplit,
  type TaskLoader,
} from './task-builders.ts';

export type { LoaderContext, TaskLoader } from './task-builders.ts';

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
