/**
 * Re-evaluates a saved run (`lora-repro eval` / `generate`): the base model built again (the same
 * pretrained weights, or the same random initialisation from the run's seed and base-config.json),
 * the method applied and its saved weights + head loaded strictly (methods/restore.ts), then the task's
 * evaluation on the run's eval subset or on another split.
 */
import { initBackend } from '../backend/select.ts';
import { PAPER_DECODING, type DecodingOptions } from '../generate/paper-decoding.ts';
import { restoreMethod } from '../methods/restore.ts';
import type { TextTokenizer } from '../tokenizers/types.ts';
import { readSavedRun, type SavedRun } from './run-dir.ts';
import { streamRng } from './run-identity.ts';
import { setupRun } from './setup.ts';
import type { EvalOutput, TaskData } from './task-data.ts';

export interface EvaluateRunOptions {
  /** Another eval split (GLUE: a split name of the task; E2E: dev or test). */
  evalSplit?: string;
  /** Subset size; `null` = the whole split; absent = the run's own evalLimit. */
  evalLimit?: number | null;
  dataDir?: string;
  /** E2E decoding; default: the run's own decoding settings (or Table 11's). */
  decoding?: DecodingOptions;
  /** Tests: the tokenizer the run was trained with, when it was not given by path. */
  tokenizer?: TextTokenizer;
  onProgress?: (done: number, total: number) => void;
}

export interface RunEvaluation {
  saved: SavedRun;
  task: TaskData;
  output: EvalOutput;
}

export async function evaluateSavedRun(dir: string, opts: EvaluateRunOptions = {}): Promise<RunEvaluation> {
  await initBackend();
  const saved = readSavedRun(dir);
  const config = {
    ...saved.config,
    evalLimit: opts.evalLimit === null ? undefined : (opts.evalLimit ?? saved.config.evalLimit),
    dataDir: opts.dataDir ?? saved.config.dataDir,
  };
  const setup = await setupRun(config, {
    needTrain: false,
    evalSplit: opts.evalSplit,
    tokenizer: opts.tokenizer,
    modelConfig: saved.baseConfig,
    vocabMap: saved.vocabMap,
  });
  try {
    const applied = restoreMethod(setup.model, saved.adapterDir, streamRng(config.seed, 'method'));
    try {
      const decoding = opts.decoding ?? { ...PAPER_DECODING, ...(config.decoding ?? {}) };
      const output = await setup.task.evaluate(setup.model, { batchSize: config.batchSize, decoding, onProgress: opts.onProgress });
      return { saved, task: setup.task, output };
    } finally {
      applied.remove();
    }
  } finally {
    setup.model.dispose();
  }
}
