/** `lora-repro pretrain`: the offline mini profile's pretrained RoBERTa / GPT-2, built once and cached. */
import { locateDataDir } from '../../data/corpus.ts';
import { ensurePretrained } from '../../pretrain/cache.ts';
import type { PretrainFamily } from '../../pretrain/pretrain-config.ts';
import { UserError } from '../../util/errors.ts';
import { intFlag, parseCommandArgs } from '../args.ts';
import type { Command } from '../command.ts';

const FAMILIES: readonly PretrainFamily[] = ['roberta', 'gpt2'];

export const pretrainCommand: Command = {
  name: 'pretrain',
  summary: 'pretrain (or reuse from the cache) the small RoBERTa / GPT-2 of the offline mini profile',
  usage: [
    'Usage: lora-repro pretrain --model roberta|gpt2 [--steps N] [--seed S] [--data-dir D | --synthetic] [--cache DIR] [--json]',
    '',
    'Trains a byte-level BPE tokenizer and a small model from scratch (RoBERTa: masked LM, next-sentence',
    'prediction and bag of words on <s>; GPT-2: causal LM) on the mini corpus: GLUE train sentences +',
    'E2E train references from the data directory',
    '(--data-dir, else LORA_REPRO_DATA, else ../shared/data when present), or generated SYNTHETIC text',
    'when there is none, with --synthetic, or with --data-dir none / LORA_REPRO_DATA=none.',
    'The result is cached under --cache / LORA_REPRO_CACHE (default .cache/lora-repro) by a hash of',
    'corpus, settings and seed; a second call reuses it. Prints the model directory (config.json,',
    'model.safetensors, tokenizer.json, pretrain.json) on stdout, or with --json a summary of',
    'pretrain.json; progress goes to stderr.',
  ].join('\n'),
  async run(argv) {
    const { values } = parseCommandArgs(
      argv,
      {
        model: { type: 'string' },
        steps: { type: 'string' },
        seed: { type: 'string' },
        'data-dir': { type: 'string' },
        synthetic: { type: 'boolean', default: false },
        cache: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      false,
    );
    const family = values.model as PretrainFamily | undefined;
    if (family === undefined || !FAMILIES.includes(family)) {
      throw new UserError(`--model must be one of ${FAMILIES.join(', ')}${values.model === undefined ? '' : `, got '${values.model}'`}`);
    }
    if (values.synthetic && values['data-dir'] !== undefined) throw new UserError('--synthetic and --data-dir exclude each other');
    const steps = values.steps === undefined ? undefined : intFlag('steps', values.steps, 0);
    if (steps === 0) throw new UserError('--steps must be at least 1');
    const seed = intFlag('seed', values.seed, 0);
    const dataDir = values.synthetic ? undefined : locateDataDir({ flag: values['data-dir'] });
    const t0 = performance.now();
    const result = await ensurePretrained({
      family,
      dataDir,
      seed,
      settings: steps === undefined ? undefined : { steps },
      cacheDir: values.cache,
      log: (line) => process.stderr.write(`[pretrain ${family}] ${line}\n`),
    });
    const seconds = (performance.now() - t0) / 1000;
    const t = result.meta.training;
    process.stderr.write(
      `[pretrain ${family}] ${result.reused ? 'reused' : 'trained'} in ${seconds.toFixed(1)} s: held-out loss ${t.evalLoss.before.toFixed(3)} → ${t.evalLoss.after.toFixed(3)} (ln vocab ${t.evalLoss.lnVocab.toFixed(3)}), ${t.msPerStep.toFixed(0)} ms/step\n`,
    );
    if (values.json) {
      const { lossCurve, ...training } = t;
      console.log(JSON.stringify({ dir: result.dir, reused: result.reused, seconds, corpus: result.meta.corpus.description, training, lossCurveLength: lossCurve.length }, null, 2));
    } else {
      console.log(result.dir);
    }
    return 0;
  },
};
