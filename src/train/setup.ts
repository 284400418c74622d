/**
 * Everything before the first step, shared by training and by re-evaluating a saved run: the base
 * model's config, the tokenizer fitted to it, the task's data, then the model itself with the task's
 * head. Input problems surface here as UserErrors, before any weight is allocated.
 */
import type { ModelConfig } from '../models/config.ts';
import type { TransformerModel } from '../models/model.ts';
import { findDataDir } from '../data/data-dir.ts';
import { hubCacheDir, resolveCacheRoot } from '../hub/cache.ts';
import { loadTextTokenizer } from '../tokenizers/load.ts';
import type { TextTokenizer } from '../tokenizers/types.ts';
import { UserError } from '../util/errors.ts';
import { fitTokenizer, type VocabMapJson } from './fit-tokenizer.ts';
import { buildModel, isRandomInit, maxInputLength, resolveModelSource, withHead, withModelDropout, type ModelSource } from './model-source.ts';
import type { TrainRunConfig } from './run-config.ts';
import type { TaskData } from './task-data.ts';
import { checkTaskModel, loadTaskData, modelFitsTask } from './task-loaders.ts';

export interface SetupOptions {
  needTrain: boolean;
  evalSplit?: string;
  /** Use this tokenizer instead of loading config.tokenizer / the model directory's. */
  tokenizer?: TextTokenizer;
  /** Randomly initialise this config instead of resolving config.model. */
  modelConfig?: ModelConfig;
  /** Reproduce a saved run's id map. */
  vocabMap?: VocabMapJson;
}

export interface RunSetup {
  source: ModelSource;
  /** The base config with the task's head and the run's model dropout. */
  modelConfig: ModelConfig;
  model: TransformerModel;
  modelDescription: string;
  /** What the trainer logs about the checkpoint load (unused heads, new heads). */
  modelLoadNotes: string[];
  task: TaskData;
  vocabMap: VocabMapJson;
}

function baseTokenizer(config: TrainRunConfig, source: ModelSource): TextTokenizer {
  if (config.tokenizer !== undefined) return loadTextTokenizer(config.tokenizer);
  if (source.kind === 'pretrained') return loadTextTokenizer(source.dir);
  throw new UserError(
    `model '${config.model}' is randomly initialised and has no tokenizer: pass --tokenizer <tokenizer.json or directory> (e.g. the GPT-2 BPE of ../shared/fixtures/tokenizers/gpt2)`,
  );
}

export async function setupRun(config: TrainRunConfig, opts: SetupOptions): Promise<RunSetup> {
  const source = resolveModelSource(config.model, opts.modelConfig);
  const base = source.config;
  checkTaskModel(config, base);
  if (config.maxSeqLength > maxInputLength(base)) {
    throw new UserError(`--max-seq ${config.maxSeqLength} exceeds the ${maxInputLength(base)} positions of model '${config.model}'`);
  }
  let vocabMap: VocabMapJson | undefined;
  const task = await loadTaskData({
    config,
    model: base,
    needTrain: opts.needTrain,
    evalSplit: opts.evalSplit,
    splitSources: () => ({ dataDir: findDataDir({ flag: config.dataDir })?.dir, hubDir: hubCacheDir(resolveCacheRoot()) }),
    tokenizer: (corpus) => {
      const fitted = fitTokenizer(opts.tokenizer ?? baseTokenizer(config, source), base, corpus, { saved: opts.vocabMap, allowRemap: isRandomInit(source) });
      vocabMap = fitted.map;
      return fitted.tokenizer;
    },
  });
  if (!modelFitsTask(task.modelType, base.modelType)) throw new Error(`task '${config.task}' produced ${task.modelType} data for a ${base.modelType} model`);
  if (opts.needTrain && task.trainSize === 0) throw new UserError(`task '${config.task}' has no training examples`);
  if (task.evalSize === 0) throw new UserError(`task '${config.task}' has no evaluation examples`);
  const modelConfig = withModelDropout(withHead(base, task.numLabels), config.modelDropout);
  const built = buildModel(source, modelConfig, config.seed);
  return {
    source,
    modelConfig,
    model: built.model,
    modelDescription: built.description,
    modelLoadNotes: built.loadNotes,
    task,
    vocabMap: vocabMap ?? { mode: 'identity', family: base.modelType, modelVocab: base.vocabSize, tokenizerVocab: base.vocabSize },
  };
}
