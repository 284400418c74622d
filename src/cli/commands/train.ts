/**
 * `lora-repro train`: one training run end to end (src/train/trainer.ts), its result, predictions and
 * trainable weights written to --out (default results/adhoc/<runId>/).
 *
 * Defaults follow the paper's settings for the task family: GLUE — RoBERTa-base LoRA of Table 9
 * (AdamW, lr 4e-4, batch 16, warm-up ratio 0.06, max length 512; weight decay 0.1 and gradient
 * clipping 1.0 as run_glue.py's scripts and defaults), except the epochs (3 here; Table 9 uses 25–80);
 * E2E — Table 11 (lr 2e-4, batch 8, 5 epochs, warm-up 500 steps, weight decay 0.01, label smoothing
 * 0.1, length 512, no clipping as the reference gpt2_ft.py's --clip 0, beam 10, length penalty 0.9,
 * no-repeat n-gram 4).
 */
import { resolve } from 'node:path';
import { METHOD_NAMES, getMethod } from '../../methods/registry.ts';
import { GLUE_TASK_NAMES, parseGlueTaskName } from '../../data/glue-tasks.ts';
import { SYNTHETIC_TASK_NAMES } from '../../data/synthetic.ts';
import { initBackend } from '../../backend/select.ts';
import { PAPER_DECODING } from '../../generate/paper-decoding.ts';
import { parseRunConfig, runTraining } from '../../train/trainer.ts';
import { describeReported } from '../../train/result-schema.ts';
import { runKeys } from '../../train/run-identity.ts';
import { resolveModel } from '../../runner/model-resolver.ts';
import type { TrainRunConfig } from '../../train/run-config.ts';
import { UserError } from '../../util/errors.ts';
import { intFlag, numberFlag, parseCommandArgs } from '../args.ts';
import type { Command } from '../command.ts';
import { METHOD_FLAGS, methodConfigFromFlags } from './params.ts';
import { abandonOutDir, commitOutDir, stageOutDir } from '../../train/run-dir.ts';

/** The method option flags of `lora-repro params`, plus a JSON escape hatch for the rest. */
const TRAIN_METHOD_FLAGS = { ...METHOD_FLAGS, 'method-config': { type: 'string' } } as const;

/** Decoding flags shared with `generate`. */
export const DECODING_FLAGS = {
  beam: { type: 'string' },
  'length-penalty': { type: 'string' },
  'no-repeat-ngram': { type: 'string' },
  'max-new-tokens': { type: 'string' },
} as const;

export function decodingFromFlags(values: Record<string, string | boolean | undefined>, base = PAPER_DECODING): typeof PAPER_DECODING {
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const positive = (k: string, v: number): number => {
    if (v < 1) throw new UserError(`--${k} must be at least 1`);
    return v;
  };
  return {
    beam: positive('beam', intFlag('beam', str('beam'), base.beam)),
    lengthPenalty: numberFlag('length-penalty', str('length-penalty'), base.lengthPenalty),
    noRepeatNgramSize: intFlag('no-repeat-ngram', str('no-repeat-ngram'), base.noRepeatNgramSize),
    repetitionPenalty: base.repetitionPenalty,
    maxNewTokens: positive('max-new-tokens', intFlag('max-new-tokens', str('max-new-tokens'), base.maxNewTokens)),
  };
}

type Family = 'glue' | 'e2e';

const DEFAULTS: Record<Family, { lr: number; batch: number; epochs: number; warmupRatio: number; warmupSteps?: number; weightDecay: number; labelSmoothing: number; clip: number; maxSeq: number }> = {
  glue: { lr: 4e-4, batch: 16, epochs: 3, warmupRatio: 0.06, weightDecay: 0.1, labelSmoothing: 0, clip: 1, maxSeq: 512 },
  e2e: { lr: 2e-4, batch: 8, epochs: 5, warmupRatio: 0, warmupSteps: 500, weightDecay: 0.01, labelSmoothing: 0.1, clip: 0, maxSeq: 512 },
};

function parseMethodConfigJson(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new UserError(`--method-config: not valid JSON (${(err as Error).message}); e.g. --method-config '{"dropout":0.1}'`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new UserError('--method-config must be a JSON object');
  return v as Record<string, unknown>;
}

export const trainCommand: Command = {
  name: 'train',
  summary: 'train one run end to end (GLUE or E2E) and write its result, predictions and weights',
  usage: [
    'Usage: lora-repro train --model <dir|name> --task <task> --method <method> [method options] [options]',
    '',
    '  --model <dir|name|file> a Hugging Face directory (config.json + model.safetensors [+ tokenizer.json]); a hub',
    '                          model (roberta-base, roberta-large, gpt2-medium, gpt2-large, deberta-v2-xxlarge, owner/name[@rev]): its',
    '                          snapshot from `lora-repro download --models NAME` or $LORA_REPRO_MODELS/NAME/, never',
    '                          a random init; the config of a stand-in (mini-roberta, mini-gpt2; artifacts/stand-ins/NAME',
    '                          holds their pretrained weights) or a config.json file: randomly initialised from --seed',
    `  --task <task>           ${GLUE_TASK_NAMES.join(' | ')} | e2e | ${SYNTHETIC_TASK_NAMES.join(' | ')} (SYNTHETIC stand-ins, no data needed)`,
    `  --method <method>       ${METHOD_NAMES.join(' | ')}`,
    '  --r, --alpha, --targets q,v, --layers 0,1, --ln, --prefix-len, --infix-len, --drop-layers, --phm-dim, --dim',
    '                          method options (as in `lora-repro params`); --method-config JSON for any other key',
    '  --epochs N              (GLUE 3, E2E 5)',
    '  --limit N               train on a fixed random subset of N examples (E2E: MR-reference pairs)',
    '  --eval-limit N          evaluate on a fixed random subset of N examples (E2E: MRs)',
    '  --eval-split dev|test   the split the run reports (default dev; test: E2E only, as the paper\'s Table 3)',
    '  --checkpoint best|final the checkpoint it reports: the best dev epoch (default) or the last epoch',
    '  --select-on dev|heldout --heldout-size N',
    '                          choose the best epoch on dev (default) or on N examples held out of the training split',
    '                          (E2E: N MRs; never trained on, the same for every seed), then score it once on --eval-split',
    '  --seed S                initialisation, data order and dropout (default 0)',
    '  --lr X                  peak learning rate (GLUE 4e-4, E2E 2e-4)',
    '  --batch N               examples per device per update (GLUE 16, E2E 8)',
    '  --devices N             data-parallel processes of the reference run, simulated by accumulation (default 1)',
    '  --grad-acc N            accumulated batches per device and update (default 1)',
    '  --micro-batch N         most examples per forward/backward pass (default: --batch; not part of the run id)',
    '  --max-seq N             maximum input length in tokens (512)',
    '  --warmup-ratio X | --warmup-steps N   linear warm-up (GLUE ratio 0.06, E2E 500 steps)',
    '  --weight-decay X        (GLUE 0.1, E2E 0.01)    --label-smoothing X (GLUE 0, E2E 0.1)',
    '  --clip X                gradient-norm clipping, 0 = none (GLUE 1, E2E 0)',
    "  --model-dropout X       every dropout rate of the base model while training (default: its config.json's)",
    '  --beam N --length-penalty X --no-repeat-ngram N --max-new-tokens N',
    `                          E2E decoding for evaluation (${PAPER_DECODING.beam}, ${PAPER_DECODING.lengthPenalty} as Table 11 — the LoRA README uses 0.8 —, ${PAPER_DECODING.noRepeatNgramSize}, ${PAPER_DECODING.maxNewTokens})`,
    '  --tokenizer PATH        tokenizer.json, spm.model or a directory holding one (required for a built-in, randomly initialised model)',
    '  --data-dir DIR          the data directory (or LORA_REPRO_DATA; default ../shared/data)',
    '  --out DIR               run directory (default results/adhoc/<runId>/); a non-empty one must hold a previous',
    '                          run of the same config (replaced when this one finishes) unless --force',
    '  --force                 write into a non-empty --out anyway (only the run\'s own files are replaced)',
    '  --json                  print the RunResult as JSON',
    '  --backend B             tensor backend (wasm, cpu, tensorflow, tensorflow-gpu)',
    '',
    'Writes <out>/result.json, <out>/adapter/ (trainable weights + head of the reported checkpoint), <out>/predictions/,',
    '<out>/train.log. Exit 0 when the run finished, 1 when it failed (e.g. a non-finite loss).',
  ].join('\n'),
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      {
        model: { type: 'string' },
        task: { type: 'string' },
        method: { type: 'string' },
        ...TRAIN_METHOD_FLAGS,
        epochs: { type: 'string' },
        limit: { type: 'string' },
        'eval-limit': { type: 'string' },
        'eval-split': { type: 'string' },
        checkpoint: { type: 'string' },
        'select-on': { type: 'string' },
        'heldout-size': { type: 'string' },
        seed: { type: 'string' },
        lr: { type: 'string' },
        batch: { type: 'string' },
        'grad-acc': { type: 'string' },
        devices: { type: 'string' },
        'micro-batch': { type: 'string' },
        'max-seq': { type: 'string' },
        'warmup-ratio': { type: 'string' },
        'warmup-steps': { type: 'string' },
        'weight-decay': { type: 'string' },
        'label-smoothing': { type: 'string' },
        clip: { type: 'string' },
        'model-dropout': { type: 'string' },
        ...DECODING_FLAGS,
        tokenizer: { type: 'string' },
        'data-dir': { type: 'string' },
        out: { type: 'string' },
        force: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        backend: { type: 'string' },
      },
      false,
    );
    if (positionals.length > 0) throw new UserError(`unexpected argument '${positionals[0]}' (see --help)`);
    if (values.model === undefined) throw new UserError('--model is required (a model directory or a built-in name)');
    if (values.task === undefined) throw new UserError(`--task is required (${GLUE_TASK_NAMES.join(', ')}, e2e)`);
    if (values.method === undefined) throw new UserError(`--method is required (one of ${METHOD_NAMES.join(', ')})`);
    getMethod(values.method);
    const glue = parseGlueTaskName(values.task);
    const task = glue ?? values.task;
    const family: Family = task === 'e2e' || task.endsWith('-e2e') ? 'e2e' : 'glue';
    const d = DEFAULTS[family];
    const methodConfig = { ...parseMethodConfigJson(values['method-config']), ...methodConfigFromFlags(values.method, values) };
    // Validate the method options before loading anything.
    getMethod(values.method).configure(methodConfig, `--method ${values.method}`);
    const optionalInt = (k: 'limit' | 'eval-limit' | 'warmup-steps' | 'devices' | 'micro-batch' | 'heldout-size'): number | undefined =>
      values[k] === undefined ? undefined : intFlag(k, values[k], 0);
    const warmupSteps = values['warmup-steps'] !== undefined ? optionalInt('warmup-steps') : values['warmup-ratio'] !== undefined ? undefined : d.warmupSteps;
    const raw: Record<string, unknown> = {
      // The paper's models resolve as in `lora-repro run` (a downloaded snapshot, else the one-line
      // download error): a random init of roberta-base would give numbers that mean nothing.
      model: resolveModel(values.model),
      tokenizer: values.tokenizer,
      task,
      method: values.method,
      methodConfig,
      seed: intFlag('seed', values.seed, 0),
      epochs: intFlag('epochs', values.epochs, d.epochs),
      batchSize: intFlag('batch', values.batch, d.batch),
      gradAccumulation: intFlag('grad-acc', values['grad-acc'], 1),
      devices: optionalInt('devices'),
      microBatchSize: optionalInt('micro-batch'),
      learningRate: numberFlag('lr', values.lr, d.lr),
      weightDecay: numberFlag('weight-decay', values['weight-decay'], d.weightDecay),
      warmupRatio: numberFlag('warmup-ratio', values['warmup-ratio'], warmupSteps !== undefined ? 0 : d.warmupRatio),
      warmupSteps,
      maxGradNorm: numberFlag('clip', values.clip, d.clip),
      modelDropout: values['model-dropout'] === undefined ? undefined : numberFlag('model-dropout', values['model-dropout'], 0),
      labelSmoothing: numberFlag('label-smoothing', values['label-smoothing'], d.labelSmoothing),
      maxSeqLength: intFlag('max-seq', values['max-seq'], d.maxSeq),
      trainLimit: optionalInt('limit'),
      evalLimit: optionalInt('eval-limit'),
      evalSplit: values['eval-split'],
      checkpoint: values.checkpoint,
      selectOn: values['select-on'],
      heldoutSize: optionalInt('heldout-size'),
      dataDir: values['data-dir'],
      ...(family === 'e2e' ? { decoding: decodingFromFlags(values) } : {}),
    };
    let config: TrainRunConfig;
    try {
      config = parseRunConfig(raw);
    } catch (err) {
      // Name flags, not config keys.
      throw new UserError(`bad option: ${(err as Error).message.replace(/^run config: /, '')}`);
    }
    await initBackend(values.backend);
    const runId = runKeys(config).runId;
    // Staged: nothing under --out changes until the run has a result (src/train/run-dir.ts).
    const staged = stageOutDir(resolve(values.out ?? `results/adhoc/${runId}`), runId, values.force === true, (line) => console.error(line));
    let result: Awaited<ReturnType<typeof runTraining>>;
    try {
      result = await runTraining(config, { outDir: staged.stage, log: values.json ? (line) => process.stderr.write(line + '\n') : undefined });
    } catch (err) {
      abandonOutDir(staged);
      throw err;
    }
    const outDir = commitOutDir(staged, result.status);
    if (outDir !== staged.target) console.error(`${staged.target}: kept the finished run; this failed run is in ${outDir}`);
    if (values.json) console.log(JSON.stringify(result, null, 2));
    else {
      const head = result.metrics[result.headlineMetric];
      console.log(`run ${result.runId} ${result.status}${result.error ? `: ${result.error}` : ''}`);
      if (result.reported !== undefined) console.log(`${describeReported(result.reported)}: ${result.headlineMetric} ${head?.toFixed(4)}; ${JSON.stringify(result.metrics)}`);
      console.log(`written to ${outDir}`);
    }
    return result.status === 'finished' ? 0 : 1;
  },
};
