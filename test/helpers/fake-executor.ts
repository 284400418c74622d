/**
 * A fast, deterministic stand-in for the trainer, for the runner's tests and for trying a spec's
 * bookkeeping end to end without training (`LORA_REPRO_EXECUTOR=test/helpers/fake-executor.ts`).
 * Its numbers are a hash of the config: they mean nothing, and results carry backend `fake`.
 *
 * Environment knobs (all optional):
 *   LORA_REPRO_FAKE_SLEEP_MS   "max" or "min-max": sleep a random time per run, spread over its epochs
 *   LORA_REPRO_FAKE_FAIL       "key=value[,key=value]": runs whose config matches throw an error
 *   LORA_REPRO_FAKE_FAIL_ONCE  a directory: each matching run fails only on its first attempt
 *   LORA_REPRO_FAKE_CRASH      "key=value[,…]": matching runs kill their own process (a crashed worker)
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { trainingSchedule } from '../../src/train/batching.ts';
import type { TrainRunConfig } from '../../src/train/run-config.ts';
import { runKeys } from '../../src/train/run-identity.ts';
import type { ExecutorOptions } from '../../src/runner/executor.ts';
import type { EpochRecord, RunResult } from '../../src/train/result-schema.ts';

function unit(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0) / 2 ** 32;
}

function configMatches(config: TrainRunConfig, spec: string | undefined): boolean {
  if (spec === undefined || spec.trim() === '') return false;
  const c = config as unknown as Record<string, unknown>;
  return spec.split(',').every((clause) => {
    const [k, v] = clause.split('=').map((s) => s.trim());
    return String(c[k]) === v;
  });
}

function sleepRange(env: NodeJS.ProcessEnv): [number, number] {
  const s = env.LORA_REPRO_FAKE_SLEEP_MS;
  if (s === undefined || s === '') return [0, 0];
  const [a, b] = s.split('-').map(Number);
  return b === undefined ? [0, a] : [a, b];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function headlineFor(task: string): string {
  return task.endsWith('e2e') ? 'bleu' : task.endsWith('cola') ? 'matthews' : task.endsWith('stsb') ? 'pearson' : 'accuracy';
}

/**
 * A fake baseline that, like the real one, depends only on what fixes the eval subset (task and
 * limits), so every run of a table column records the same value.
 */
function fakeBaseline(config: TrainRunConfig, headline: string): NonNullable<RunResult['baseline']> {
  const kind = headline === 'bleu' ? 'copy-input' : headline === 'pearson' ? 'mean' : 'majority';
  const value = kind === 'mean' ? 0 : 0.3 + 0.2 * unit(`${config.task}:${config.trainLimit}:${config.evalLimit}:baseline`);
  return { kind, description: `fake ${kind} baseline`, metrics: { [headline]: value } };
}

export async function runTraining(config: TrainRunConfig, opts: ExecutorOptions, env: NodeJS.ProcessEnv = process.env): Promise<RunResult> {
  const started = Date.now();
  const { runId, cellKey } = runKeys(config);
  if (configMatches(config, env.LORA_REPRO_FAKE_CRASH)) process.kill(process.pid, 'SIGKILL');
  // Like the trainer (train/init-from.ts), a child needs what its parent run left behind: here the
  // parent's predictions.txt, written last, so a child started before its parent finished fails.
  const init = config.initFrom;
  const parentOutput = init !== undefined && 'run' in init && init.dir !== undefined ? join(init.dir, 'predictions.txt') : undefined;
  if (init !== undefined && 'run' in init && (parentOutput === undefined || !existsSync(parentOutput))) {
    throw new Error(`initFrom: parent run ${init.run} has no output${parentOutput !== undefined ? ` (${parentOutput})` : ' directory'}`);
  }
  const [lo, hi] = sleepRange(env);
  const total = lo + Math.random() * (hi - lo);
  const headline = headlineFor(config.task);
  const base = 0.5 + 0.4 * unit(`${runId}:base`);
  const epochs: EpochRecord[] = [];
  const schedule = trainingSchedule(config, config.trainLimit ?? 1000);
  const stepsPerEpoch = Math.max(1, schedule.stepsPerEpoch);
  for (let e = 0; e < config.epochs; e++) {
    await sleep(total / config.epochs);
    const step = (e + 1) * stepsPerEpoch;
    const loss = 1 / (e + 1) + 0.1 * unit(`${runId}:loss:${e}`);
    opts.onStep?.(step, loss);
    const rec: EpochRecord = {
      epoch: e,
      step,
      trainLoss: loss,
      metrics: { [headline]: Math.min(1, base + 0.02 * e - 0.05 * unit(`${runId}:m:${e}`)) },
      seconds: total / config.epochs / 1000,
    };
    epochs.push(rec);
    opts.onEpoch?.(rec);
    opts.log?.(`fake epoch ${e}: loss ${loss.toFixed(3)}`);
  }
  const failOnce = env.LORA_REPRO_FAKE_FAIL_ONCE;
  if (configMatches(config, env.LORA_REPRO_FAKE_FAIL)) {
    const marker = failOnce ? join(failOnce, runId) : undefined;
    if (marker === undefined || !existsSync(marker)) {
      if (failOnce) {
        mkdirSync(failOnce, { recursive: true });
        writeFileSync(marker as string, 'failed once\n');
      }
      throw new Error(`injected failure for ${config.task} seed ${config.seed}`);
    }
  }
  writeFileSync(join(opts.outDir, 'predictions.txt'), `fake predictions of ${runId}\n`);
  let best = 0;
  epochs.forEach((r, i) => {
    if (r.metrics[headline] > epochs[best].metrics[headline]) best = i;
  });
  const wall = (Date.now() - started) / 1000;
  return {
    schema: 1,
    runId,
    cellKey,
    experiment: config.experiment,
    profile: config.profile,
    model: config.model,
    method: config.method,
    variant: config.variant,
    task: config.task,
    seed: config.seed,
    config: config as unknown as Record<string, unknown>,
    status: 'finished',
    epochs,
    bestEpoch: epochs.length > 0 ? epochs[best].epoch : null,
    metrics: epochs.length > 0 ? epochs[best].metrics : {},
    headlineMetric: headline,
    baseline: fakeBaseline(config, headline),
    trainableParams: { counted: 1000, formula: 1000, head: 0 },
    wallSeconds: wall,
    tokensPerSecond: (stepsPerEpoch * config.epochs * schedule.effectiveBatch * config.maxSeqLength) / Math.max(wall, 1e-3),
    peakRssMiB: process.memoryUsage().rss / 2 ** 20,
    provenance: {
      gitCommit: 'fake',
      gitDirty: false,
      packages: {},
      backend: 'fake',
      cpu: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      model: config.model,
      datasets: {},
      ...(init !== undefined ? { initFrom: 'run' in init ? `run ${init.run} (${init.task}): ${parentOutput}` : `checkpoint ${init.checkpoint}` } : {}),
    },
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date().toISOString(),
  };
}
