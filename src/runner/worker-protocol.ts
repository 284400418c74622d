/** Messages between the runner and its worker processes (child_process IPC, JSON-serialised). */
import type { TrainRunConfig } from '../train/run-config.ts';
import type { EpochRecord } from '../train/result-schema.ts';

export interface RunJob {
  /** The run's identity as the runner keys it (the spec's model name, not the resolved directory). */
  runId: string;
  cellKey: string;
  config: TrainRunConfig;
  outDir: string;
}

export type ToWorker = { type: 'run'; job: RunJob };

export type FromWorker =
  | { type: 'epoch'; runId: string; epoch: EpochRecord }
  | { type: 'step'; runId: string; step: number; loss: number }
  | { type: 'log'; runId: string; line: string }
  /** `result` is validated by the parent (runResultSchema), never trusted as typed. */
  | { type: 'done'; runId: string; result: unknown }
  | { type: 'fail'; runId: string; error: string }
  /** The executor module could not be loaded: nothing can run in this worker. */
  | { type: 'fatal'; error: string };
