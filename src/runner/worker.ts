/**
 * Worker process entry (forked by worker-pool.ts with tsx): loads the executor module given as
 * argv[2], runs the jobs it is sent one at a time, and reports epochs, steps, log lines and the
 * result over IPC. It never writes results itself: the runner is the only writer, so a worker
 * killed at any moment cannot leave a half-recorded run. If the runner dies, the IPC channel
 * closes and the worker exits instead of training on for nobody.
 */
import { DEFAULT_EXECUTOR_MODULE, loadExecutor, type Executor } from './executor.ts';
import type { FromWorker, ToWorker } from './worker-protocol.ts';

function send(msg: FromWorker): void {
  process.send?.(msg);
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

async function main(): Promise<void> {
  const modulePath = process.argv[2];
  if (process.send === undefined || modulePath === undefined) {
    console.error('lora-repro worker: must be forked by the runner with the executor module as argument');
    process.exit(2);
  }
  process.on('disconnect', () => process.exit(1));
  // Ctrl-C reaches the whole process group: the runner decides (it stops and kills the workers,
  // and an interrupted run must not be recorded as failed because its worker died first).
  process.on('SIGINT', () => {});
  let executor: Executor;
  try {
    // The real trainer needs a tensor backend; the runner passes --backend as LORA_REPRO_BACKEND.
    if (modulePath === DEFAULT_EXECUTOR_MODULE) await (await import('../backend/select.ts')).initBackend();
    executor = await loadExecutor(modulePath);
  } catch (err) {
    send({ type: 'fatal', error: errorText(err) });
    process.disconnect();
    return;
  }
  process.on('message', (msg: ToWorker) => {
    if (msg.type !== 'run') return;
    const { runId, cellKey, config, outDir } = msg.job;
    let lastStep = 0;
    executor(config, {
      outDir,
      runKeys: { runId, cellKey },
      log: (line) => send({ type: 'log', runId, line }),
      onEpoch: (epoch) => send({ type: 'epoch', runId, epoch }),
      onStep: (step, loss) => {
        // Throttled: a step can take milliseconds on tiny models; progress needs ~1/s.
        const now = Date.now();
        if (now - lastStep < 1000) return;
        lastStep = now;
        send({ type: 'step', runId, step, loss });
      },
    }).then(
      (result) => send({ type: 'done', runId, result }),
      (err: unknown) => send({ type: 'fail', runId, error: errorText(err) }),
    );
  });
}

void main();
