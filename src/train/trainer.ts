/**
 * One training run end to end, as the paper's runs go (Sections 5.2–5.4, Appendix D): the method
 * applied to the base model, AdamW with decoupled weight decay (none on biases and LayerNorm weights),
 * linear warm-up and decay, gradient clipping, label smoothing, gradient accumulation; evaluation of
 * the selection split (dev, or a held-out slice of the training data) after every epoch with the
 * task's metrics; the reported checkpoint kept (eval-protocol.ts: the best epoch on the selection
 * split, as the paper's GLUE runs on dev, or the final one, as the reference E2E runs) and scored on
 * the reported split (dev, or E2E test); its trainable weights + head saved; a RunResult with
 * provenance written to the run directory.
 *
 * A non-finite loss (or any other failure after setup) ends the run with status 'failed' and the error
 * in the result; input problems found during setup throw a UserError before anything is trained.
 */
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend/select.ts';
import { PAPER_DECODING, type DecodingOptions } from '../generate/paper-decoding.ts';
import { sizeOf } from '../methods/count.ts';
import type { AppliedMethod } from '../methods/method.ts';
import { configureMethod } from '../methods/registry.ts';
import { toHfConfigJson, type ModelConfig } from '../models/config.ts';
import { runResultSchema, type EpochRecord, type Reported, type RunBaseline, type RunResult } from './result-schema.ts';
import type { TextTokenizer } from '../tokenizers/types.ts';
import { UserError } from '../util/errors.ts';
import { accumulatedStep } from './step.ts';
import { describeSchedule, stepMicroBatches, trainingSchedule, type TrainingSchedule } from './batching.ts';
import { AdamW, isNoDecay, LinearSchedule } from './optim.ts';
import { defersReport, evalProtocol, evaluatesSelection, keepsCheckpoint, selectionProblem, type EvalProtocol } from './eval-protocol.ts';
import { Progress, formatDuration } from './progress.ts';
import { collectProvenance, RUN_FILES } from './run-dir.ts';
import { trainRunConfigSchema, type TrainRunConfig } from './run-config.ts';
import { runKeys, streamRng } from './run-identity.ts';
import { setupRun, type RunSetup } from './setup.ts';
import { initialiseFrom } from './init-from.ts';
import type { EvalOutput, TaskData } from './task-data.ts';

export interface TrainOptions {
  outDir: string;
  /** Log lines (default: stderr). Also appended to <outDir>/train.log. */
  log?: (line: string) => void;
  onEpoch?: (e: EpochRecord) => void;
  /** After every optimizer update (1-based) with its loss. */
  onStep?: (step: number, loss: number) => void;
  /** Tests: this tokenizer instead of config.tokenizer / the model directory's. */
  tokenizer?: TextTokenizer;
  /** Tests: a randomly initialised model of this config instead of config.model. */
  model?: ModelConfig;
  /**
   * The ids the runner keys this run by (hashed from the spec's config, before its model name was
   * resolved to a directory); without them (`lora-repro train`), the hash of `config` itself.
   */
  runKeys?: { runId: string; cellKey: string };
  /** A terminal to draw the progress bar on (default: stderr when it is a TTY and no `log` is given). */
  tty?: { write: (text: string) => void; columns?: number };
}

export function parseRunConfig(input: unknown): TrainRunConfig {
  const r = trainRunConfigSchema.safeParse(input);
  if (!r.success) throw new UserError(`run config: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  const problem = selectionProblem(r.data);
  if (problem !== undefined) throw new UserError(`run config: ${problem}`);
  return r.data;
}

/** Metrics with non-finite values left out (JSON and the result schema hold finite numbers only). */
export function finiteMetrics(metrics: Record<string, number>, warn: (line: string) => void): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(metrics)) {
    if (Number.isFinite(v)) out[k] = v;
    else warn(`metric ${k} is ${v} (e.g. a correlation of constant predictions): left out`);
  }
  return out;
}

function formatMetrics(m: Record<string, number>): string {
  return Object.entries(m)
    .map(([k, v]) => `${k} ${v.toFixed(4)}`)
    .join(', ');
}

interface LoopState {
  epochs: EpochRecord[];
  bestEpoch: number | null;
  /** The reported checkpoint's metrics on the reported split, and which checkpoint that is. */
  reportedMetrics: Record<string, number>;
  reported?: Reported;
  tokens: number;
  trainMs: number;
  schedule?: TrainingSchedule;
}

export async function runTraining(input: TrainRunConfig, opts: TrainOptions): Promise<RunResult> {
  await initBackend();
  const config = parseRunConfig(input);
  const { runId, cellKey } = opts.runKeys ?? runKeys(config);
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  mkdirSync(opts.outDir, { recursive: true });
  const logPath = join(opts.outDir, RUN_FILES.log);
  writeFileSync(logPath, '');
  const sink = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const log = (line: string): void => {
    sink(line);
    appendFileSync(logPath, line + '\n');
  };
  const tty = opts.tty ?? (opts.log === undefined && process.stderr.isTTY ? { write: (s: string) => void process.stderr.write(s), columns: process.stderr.columns } : undefined);

  const setup = await setupRun(config, { needTrain: true, tokenizer: opts.tokenizer, modelConfig: opts.model });
  const { model, task } = setup;
  let applied: AppliedMethod | undefined;
  let optimizer: AdamW | undefined;
  const state: LoopState = { epochs: [], bestEpoch: null, reportedMetrics: {}, tokens: 0, trainMs: 0 };
  const protocol = evalProtocol(config);
  let status: RunResult['status'] = 'finished';
  let error: string | undefined;
  let trainableParams = { counted: 0, formula: 0, head: 0 };
  let initNote: string | undefined;
  let baseline: RunBaseline | undefined;
  try {
    const method = configureMethod(config.method, config.methodConfig);
    applied = method.apply(model, streamRng(config.seed, 'method'));
    // After apply, so the fresh weights' draws (and every other stream) are those of any run.
    if (config.initFrom !== undefined) initNote = initialiseFrom(applied, config.initFrom);
    trainableParams = { counted: sizeOf(applied.trainable), formula: method.formula(setup.modelConfig), head: sizeOf(applied.head) };
    if (setup.source.kind !== 'pretrained') writeFileSync(join(opts.outDir, RUN_FILES.baseConfig), JSON.stringify(toHfConfigJson(setup.modelConfig), null, 2) + '\n');
    writeFileSync(join(opts.outDir, RUN_FILES.vocabMap), JSON.stringify(setup.vocabMap) + '\n');
    log(`run ${runId}: ${config.method} on ${config.model} / ${config.task}, seed ${config.seed}`);
    log(`model ${setup.modelDescription}; tokenizer ids: ${setup.vocabMap.mode}`);
    if (initNote !== undefined) log(`method weights start from ${initNote}`);
    for (const line of setup.modelLoadNotes) log(line);
    if (config.modelDropout !== undefined) log(`model dropout ${config.modelDropout} in every layer (modelDropout; replaces config.json's rates)`);
    log(`data: ${task.trainSize} training examples, ${task.evalSize} evaluation examples${task.evalSets.slice(1).map((s) => `, ${s.size} ${s.split} examples`).join('')}`);
    const heldout = protocol.heldoutSize !== undefined ? `, chosen on ${protocol.heldoutSize} held-out training ${task.modelType === 'gpt2' ? 'MRs' : 'examples'}` : '';
    log(`reports the ${protocol.checkpoint} checkpoint on ${protocol.split}${heldout}${protocol.everyEpoch ? `; ${protocol.selectOn} evaluated every epoch` : ''}`);
    baseline = recordBaseline(task, protocol.split, log);
    log(`trainable: ${trainableParams.counted} (formula ${trainableParams.formula}) + head ${trainableParams.head}`);
    const names = [...applied.names, ...applied.headNames];
    const trainable = [...applied.trainable, ...applied.head];
    const noDecay = new Set(trainable.filter((_, i) => isNoDecay(names[i])));
    optimizer = new AdamW({ beta1: config.adamBetas[0], beta2: config.adamBetas[1], eps: config.adamEps, weightDecay: config.weightDecay }, noDecay);
    await trainLoop(config, protocol, setup, applied, trainable, optimizer, opts, log, tty, state);
  } catch (err) {
    if (err instanceof UserError && state.epochs.length === 0 && applied === undefined) {
      cleanup(applied, optimizer, setup);
      throw err;
    }
    status = 'failed';
    error = (err as Error).message;
    log(`run failed: ${error}`);
  }
  cleanup(applied, optimizer, setup);

  const trainSeconds = state.trainMs / 1000;
  const result: RunResult = {
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
    config: { ...config },
    ...(state.schedule !== undefined ? { schedule: state.schedule } : {}),
    // The architecture built, so reports never guess it from the name or a cache (issue 19).
    modelConfig: toHfConfigJson(setup.modelConfig),
    status,
    ...(error !== undefined ? { error } : {}),
    epochs: state.epochs,
    bestEpoch: state.bestEpoch,
    metrics: state.reportedMetrics,
    ...(state.reported !== undefined ? { reported: state.reported } : {}),
    headlineMetric: task.headlineMetric,
    ...(baseline !== undefined ? { baseline } : {}),
    trainableParams,
    wallSeconds: (performance.now() - t0) / 1000,
    tokensPerSecond: trainSeconds > 0 ? state.tokens / trainSeconds : 0,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    provenance: { ...collectProvenance(setup.modelDescription, task.files), ...(initNote !== undefined ? { initFrom: initNote } : {}) },
    startedAt,
    finishedAt: new Date().toISOString(),
  };
  const checked = runResultSchema.parse(result);
  writeFileSync(join(opts.outDir, RUN_FILES.result), JSON.stringify(checked, null, 2) + '\n');
  return checked;
}

/**
 * The task's untrained baseline on this run's eval subset, for the tables' baseline row. It is a
 * reference point, not part of the run: a failure to compute it is logged and leaves it out.
 */
function recordBaseline(task: TaskData, split: string, log: (line: string) => void): RunBaseline | undefined {
  try {
    const b = task.baseline(split);
    if (b === undefined) return undefined;
    const metrics = finiteMetrics(b.metrics, (l) => log(`baseline: ${l}`));
    log(`baseline (${b.description}): ${formatMetrics(metrics)}`);
    return { kind: b.kind, description: b.description, metrics, ...(b.prediction !== undefined ? { prediction: b.prediction } : {}) };
  } catch (err) {
    log(`baseline not recorded: ${(err as Error).message}`);
    return undefined;
  }
}

function cleanup(applied: AppliedMethod | undefined, optimizer: AdamW | undefined, setup: RunSetup): void {
  optimizer?.dispose();
  applied?.remove();
  setup.model.dispose();
}

async function trainLoop(
  config: TrainRunConfig,
  protocol: EvalProtocol,
  setup: RunSetup,
  applied: AppliedMethod,
  trainable: tf.Variable[],
  optimizer: AdamW,
  opts: TrainOptions,
  log: (line: string) => void,
  tty: TrainOptions['tty'],
  state: LoopState,
): Promise<void> {
  const { model, task } = setup;
  const plan = trainingSchedule(config, task.trainSize);
  state.schedule = plan;
  const { stepsPerEpoch, totalSteps } = plan;
  const schedule = new LinearSchedule(config.learningRate, totalSteps, { warmupSteps: plan.warmupSteps });
  log(describeSchedule(config, plan));
  const orderRng = streamRng(config.seed, 'data-order');
  const ctx = { training: true, rng: streamRng(config.seed, 'dropout') };
  const decoding: DecodingOptions = { ...PAPER_DECODING, ...(config.decoding ?? {}) };
  const progress = new Progress({ totalSteps, log, tty });
  let step = 0;
  let bestValue = -Infinity;
  // A deferred report (eval-protocol.ts defersReport): the epoch whose saved weights are the reported
  // checkpoint; they are scored on the reported split once, after the last epoch.
  let kept: { epoch: number; isBest: boolean } | undefined;
  const selectionLabel = protocol.selectOn === 'dev' ? '' : `${protocol.selectOn}: `;
  for (let epoch = 1; epoch <= config.epochs; epoch++) {
    const epochStart = performance.now();
    const order = orderRng.shuffle(Array.from({ length: task.trainSize }, (_, i) => i));
    let lossSum = 0;
    for (let s = 0; s < stepsPerEpoch; s++) {
      const stepStart = performance.now();
      const micro = stepMicroBatches(order, s, plan).map((ids) => task.batch(ids));
      const res = await accumulatedStep(
        micro.map((b) => ({ loss: () => b.loss(model, ctx, config.labelSmoothing), units: b.units })),
        task.lossOffset,
        trainable,
        optimizer,
        schedule.lr(step),
        config.maxGradNorm,
      );
      step++;
      lossSum += res.loss;
      state.tokens += micro.reduce((n, b) => n + b.tokens, 0);
      state.trainMs += performance.now() - stepStart;
      opts.onStep?.(step, res.loss);
      progress.update(step, res.loss, state.tokens / (state.trainMs / 1000), state.trainMs);
    }
    const trainLoss = lossSum / stepsPerEpoch;
    // A non-finite mean (an overflowing loss the per-step check let through) fails the run here: the
    // result record only holds finite numbers, and a failure must still write its result.json.
    if (!Number.isFinite(trainLoss)) throw new Error(`epoch ${epoch}: the mean training loss is ${trainLoss}: lower the learning rate, or check the data for extreme values`);
    let metrics: Record<string, number> = {};
    let note = '';
    const last = epoch === config.epochs;
    let selection: EvalOutput | undefined;
    if (evaluatesSelection(protocol, epoch, config.epochs)) {
      selection = await evaluateWithProgress(task, model, config, decoding, progress, protocol.selectOn);
      metrics = finiteMetrics(selection.metrics, (l) => progress.message(`${selectionLabel}${l}`));
    }
    const value = metrics[task.headlineMetric];
    const isBest = value !== undefined && value > bestValue;
    if (isBest) {
      bestValue = value;
      state.bestEpoch = epoch;
      note = ' (best)';
    }
    // With no finite headline at all, a `best` run still saves the final epoch's weights (no metrics).
    if (keepsCheckpoint(protocol, { isBest, last, hasBest: state.bestEpoch !== null })) {
      if (defersReport(protocol)) {
        // Chosen without looking at the reported split, and scored on it only once it is final.
        await saveWeights(opts.outDir, applied, config);
        kept = { epoch, isBest };
      } else {
        const out = selection !== undefined && protocol.split === protocol.selectOn ? selection : await evaluateWithProgress(task, model, config, decoding, progress, protocol.split);
        const reported = out === selection ? metrics : finiteMetrics(out.metrics, (l) => progress.message(`${protocol.split}: ${l}`));
        if (isBest || protocol.checkpoint === 'final') state.reportedMetrics = reported;
        state.reported = { split: protocol.split, checkpoint: protocol.checkpoint, epoch };
        if (out !== selection) note += `; ${protocol.split}: ${formatMetrics(reported)}`;
        if (protocol.checkpoint === 'final') note += ' (final checkpoint: reported)';
        await saveWeights(opts.outDir, applied, config);
        savePredictions(opts.outDir, out);
      }
    }
    // The split is named where it is not dev (records without it are dev's, as before it existed).
    const record: EpochRecord = { epoch, step, trainLoss, metrics, ...(selection !== undefined && protocol.selectOn !== 'dev' ? { split: protocol.selectOn } : {}), seconds: (performance.now() - epochStart) / 1000 };
    state.epochs.push(record);
    progress.message(`epoch ${epoch}/${config.epochs}: train loss ${trainLoss.toFixed(4)}${Object.keys(metrics).length > 0 ? `, ${selectionLabel}${formatMetrics(metrics)}` : ''}${note} [${formatDuration(record.seconds)}]`);
    opts.onEpoch?.(record);
  }
  if (kept !== undefined) {
    // The chosen epoch's weights back from its saved checkpoint (the live ones when it is the last), so
    // the reported numbers are those of the saved adapter, as `lora-repro eval` reads it.
    if (kept.epoch !== config.epochs) applied.load(join(opts.outDir, RUN_FILES.adapter));
    const out = await evaluateWithProgress(task, model, config, decoding, progress, protocol.split);
    const reported = finiteMetrics(out.metrics, (l) => progress.message(`${protocol.split}: ${l}`));
    if (kept.isBest) state.reportedMetrics = reported;
    state.reported = { split: protocol.split, checkpoint: protocol.checkpoint, epoch: kept.epoch, selectedOn: protocol.selectOn, heldoutSize: protocol.heldoutSize };
    progress.message(`reported checkpoint: epoch ${kept.epoch} (chosen on ${protocol.selectOn}); ${protocol.split}: ${formatMetrics(reported)}`);
    savePredictions(opts.outDir, out);
  }
  progress.finish();
}

function evaluateWithProgress(task: TaskData, model: RunSetup['model'], config: TrainRunConfig, decoding: DecodingOptions, progress: Progress, split: string): Promise<EvalOutput> {
  let last = performance.now();
  return task.evaluate(model, {
    batchSize: config.batchSize,
    decoding,
    split,
    onProgress: (done, total) => {
      const now = performance.now();
      if (now - last > 10_000 && done < total) {
        progress.message(`evaluating ${split}: ${done}/${total}`);
        last = now;
      }
    },
  });
}

/** The method's weights + head of this epoch (replacing the previously kept checkpoint's). */
async function saveWeights(outDir: string, applied: AppliedMethod, config: TrainRunConfig): Promise<void> {
  const adapterDir = join(outDir, RUN_FILES.adapter);
  rmSync(adapterDir, { recursive: true, force: true });
  await applied.save(adapterDir, { baseModel: config.model });
}

/** The reported checkpoint's predictions (replacing the previously kept checkpoint's). */
function savePredictions(outDir: string, out: EvalOutput): void {
  const predDir = join(outDir, RUN_FILES.predictions);
  rmSync(predDir, { recursive: true, force: true });
  mkdirSync(predDir, { recursive: true });
  for (const [name, content] of Object.entries(out.predictions)) writeFileSync(join(predDir, name), content);
}
