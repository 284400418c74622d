/**
 * Where runs execute. `ForkDispatcher` gives every run a fresh worker process (child_process.fork
 * through tsx): runs are independent, a crash or leak in one cannot touch another, and the peak
 * RSS a run reports is its own. The cost, ~0.5 s of process start per run, is noise next to
 * training. `InProcessDispatcher` calls an executor function directly (unit tests).
 *
 * Both reject a run's promise with an Error whose message says what happened; the runner turns
 * it into a failed result. close() kills whatever is still running (no result is produced for it,
 * so the run stays unfinished and a rerun restarts it).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EpochRecord } from '../train/result-schema.ts';
import type { Executor } from './executor.ts';
import type { FromWorker, RunJob, ToWorker } from './worker-protocol.ts';

export interface RunEvents {
  onEpoch?: (e: EpochRecord) => void;
  onStep?: (step: number, loss: number) => void;
  log?: (line: string) => void;
}

export interface Dispatcher {
  readonly concurrency: number;
  /** Resolves with the executor's raw result (validated by the caller). */
  run(job: RunJob, events: RunEvents): Promise<unknown>;
  close(): Promise<void>;
}

/** Error raised when a run ended without a result. */
export class RunFailure extends Error {}

export class InProcessDispatcher implements Dispatcher {
  constructor(
    private readonly executor: Executor,
    readonly concurrency: number,
  ) {}

  async run(job: RunJob, events: RunEvents): Promise<unknown> {
    try {
      return await this.executor(job.config, { outDir: job.outDir, runKeys: { runId: job.runId, cellKey: job.cellKey }, ...events });
    } catch (err) {
      throw new RunFailure(err instanceof Error ? err.message : String(err));
    }
  }

  async close(): Promise<void> {}
}

const WORKER_PATH = fileURLToPath(new URL('./worker.ts', import.meta.url));
/** Absolute, so workers find tsx whatever the current directory is. */
const TSX_LOADER = import.meta.resolve('tsx');

export class ForkDispatcher implements Dispatcher {
  private readonly children = new Set<ChildProcess>();
  private closed = false;
  /** GPU slots in use: with LORA_REPRO_GPUS=N in env, each worker gets its own LORA_REPRO_GPU (0…N−1). */
  private readonly busyGpus = new Set<number>();

  constructor(
    private readonly executorModule: string,
    readonly concurrency: number,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  run(job: RunJob, events: RunEvents): Promise<unknown> {
    if (this.closed) return Promise.reject(new RunFailure('runner is shutting down'));
    return new Promise((resolve, reject) => {
      const gpu = this.takeGpu();
      const child = fork(WORKER_PATH, [this.executorModule], {
        execArgv: ['--import', TSX_LOADER],
        env: gpu === undefined ? this.env : { ...this.env, LORA_REPRO_GPU: String(gpu) },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      this.children.add(child);
      let settled = false;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        if (gpu !== undefined) this.busyGpus.delete(gpu);
        fn();
        if (child.connected) child.disconnect();
      };
      child.on('message', (msg: FromWorker) => {
        switch (msg.type) {
          case 'epoch':
            events.onEpoch?.(msg.epoch);
            break;
          case 'step':
            events.onStep?.(msg.step, msg.loss);
            break;
          case 'log':
            events.log?.(msg.line);
            break;
          case 'done':
            settle(() => resolve(msg.result));
            break;
          case 'fail':
            settle(() => reject(new RunFailure(msg.error)));
            break;
          case 'fatal':
            settle(() => reject(new RunFailure(`worker could not load the executor: ${msg.error}`)));
            break;
        }
      });
      child.on('error', (err) => settle(() => reject(new RunFailure(`worker process error: ${err.message}`))));
      child.on('exit', (code, signal) => {
        this.children.delete(child);
        settle(() =>
          reject(new RunFailure(`worker process ended without a result (${signal !== null ? `signal ${signal}` : `exit code ${code}`})`)),
        );
      });
      const msg: ToWorker = { type: 'run', job };
      child.send(msg);
    });
  }

  /** The lowest free GPU slot (select.ts pins the worker's backend to it), if the run has GPUs. */
  private takeGpu(): number | undefined {
    const n = Number(this.env.LORA_REPRO_GPUS ?? 0);
    for (let i = 0; i < n; i++) {
      if (!this.busyGpus.has(i)) {
        this.busyGpus.add(i);
        return i;
      }
    }
    return undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    const waits = [...this.children].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGKILL');
        }),
    );
    await Promise.all(waits);
  }
}
