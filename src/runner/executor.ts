/**
 * What runs one training run. The runner never imports the trainer directly: it is handed an
 * executor (tests pass a fake one in-process) or loads one in each worker process from a module
 * path that exports `runTraining`, the trainer's signature (src/train/trainer.ts).
 *
 * Which module: RunnerOptions.executorModule, else the LORA_REPRO_EXECUTOR environment variable
 * (a path, relative to the working directory), else src/train/trainer.ts. The fake executor
 * (test/helpers/fake-executor.ts) is selected that way in the kill-and-resume tests.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TrainRunConfig } from '../train/run-config.ts';
import { UserError } from '../util/errors.ts';
import type { EpochRecord, RunResult } from '../train/result-schema.ts';

const EXECUTOR_ENV = 'LORA_REPRO_EXECUTOR';

export interface ExecutorOptions {
  /** The run's own output directory (exists and is empty when the run starts). */
  outDir: string;
  /**
   * The run's ids as the runner keys it, hashed from the spec's config (`config.model` may since
   * have been resolved to a directory): the executor records these rather than hashing what it got.
   */
  runKeys?: { runId: string; cellKey: string };
  log?: (line: string) => void;
  onEpoch?: (e: EpochRecord) => void;
  onStep?: (step: number, loss: number) => void;
}

export type Executor = (config: TrainRunConfig, opts: ExecutorOptions) => Promise<RunResult>;

export const DEFAULT_EXECUTOR_MODULE = fileURLToPath(new URL('../train/trainer.ts', import.meta.url));

/** The absolute path of the executor module to use, checked to exist. */
export function resolveExecutorModule(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const given = explicit ?? (env[EXECUTOR_ENV] || undefined);
  const path = given === undefined ? DEFAULT_EXECUTOR_MODULE : isAbsolute(given) ? given : resolve(given);
  if (!existsSync(path)) {
    throw new UserError(
      given === undefined
        ? `the trainer (${path}) is not available in this checkout; set ${EXECUTOR_ENV} to an executor module or use --dry-run`
        : `executor module '${given}' does not exist (from ${explicit !== undefined ? '--executor-module' : EXECUTOR_ENV})`,
    );
  }
  return path;
}

export async function loadExecutor(modulePath: string): Promise<Executor> {
  const mod = (await import(pathToFileURL(modulePath).href)) as { runTraining?: unknown };
  if (typeof mod.runTraining !== 'function') {
    throw new UserError(`executor module '${modulePath}' does not export a function runTraining(config, opts)`);
  }
  return mod.runTraining as Executor;
}
