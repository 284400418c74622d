/** `lora-repro pretrain`: the offline mini profile's pretrained RoBERTa / GPT-2 / DeBERTa-v2, built once and cached (and shipped, --ship). */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { locateDataDir } from '../../data/corpus.ts';
import { ensurePretrained } from '../../pretrain/cache.ts';
import { artifactsRoot, exportShipped } from '../../pretrain/shipped.ts';
import { ARCH_FIELDS, archLabel, resolveArchitecture } from '../../pretrain/architecture.ts';
import { OBJECTIVES, resolveCorpusExtra, resolveObjective, resolveVocab } from '../../pretrain/pretrain-options.ts';
import { CORPUS_EXTRAS, PRETRAIN_FAMILIES, pretrainDefaults, type PretrainFamily } from '../../pretrain/pretrain-config.ts';
import { UserError } from '../../util/errors.ts';
import { intFlag, parseCommandArgs } from '../args.ts';
import type { Command } from '../command.ts';

const FAMILIES: readonly PretrainFamily[] = PRETRAIN_FAMILIES;

export const pretrainCommand: Command = {
  name: 'pretrain',
  summary: 'pretrain (or reuse from the cache) the small RoBERTa / GPT-2 / DeBERTa-v2 of the offline mini profile',
  usage: [
    'Usage: lora-repro pretrain --model roberta|gpt2|deberta [--steps N] [--seed S] [--data-dir D | --synthetic] [--cache DIR] [--json]',
    '       [--snapshots N,N,... --snapshot-dir DIR]   also write the model after those steps (a study of score vs compute)',
    '       [--ship [--artifacts DIR]]                  then export it as the shipped stand-in (below)',
    '       [--hidden N] [--layers N] [--heads N] [--intermediate N]',
    '                                                   another size than the stand-in\'s (d 128, 4 layers, 4 heads, FFN 512),',
    '                                                   for the width / depth study; --hidden alone keeps heads of 32 and',
    '                                                   FFN 4 × hidden. Part of the cache key; not with --ship',
    '       [--short-seq-steps N]                       steps on 32-token pieces before full blocks (default: a fixed count,',
    '                                                   RoBERTa 12000, whatever --steps is); part of the cache key; not with --ship',
    `       [--corpus-extra ${CORPUS_EXTRAS.join('|')}]          add WordNet 3.0's glosses and examples (METEOR's WordNet), or the`,
    '                                                   stand-in tasks\' generated text, to the data-directory corpus, in what',
    '                                                   it leaves of the byte budget',
    `       [--objective ${OBJECTIVES.join('|')}]       RoBERTa / DeBERTa objective (default mlm-nsp-bow: masked LM, next-sentence`,
    '                                                   pairs, bag of words of <s>; mlm: masked LM on blocks only); both part of',
    '                                                   the cache key when not the default; not with --ship (docs/stand-ins.md)',
    '       [--vocab N]                                 the byte-level BPE tokenizer\'s size (default 8000), trained on the same',
    '                                                   corpus; part of the cache key when not the default; not with --ship',
    '',
    'Trains a byte-level BPE tokenizer and a small model from scratch (RoBERTa: masked LM, next-sentence',
    'prediction and bag of words on <s>; DeBERTa-v2: the same on [CLS], RoBERTa\'s size and schedule;',
    'GPT-2: causal LM) on the mini corpus: GLUE train sentences +',
    'E2E train references from the data directory',
    '(--data-dir, else LORA_REPRO_DATA, else ../shared/data when present), or generated SYNTHETIC text',
    'when there is none, with --synthetic, or with --data-dir none / LORA_REPRO_DATA=none.',
    'The result is cached under --cache / LORA_REPRO_CACHE (default .cache/lora-repro) by a hash of',
    'corpus, settings and seed; a second call reuses it. Prints the model directory (config.json,',
    'model.safetensors, tokenizer.json, pretrain.json) on stdout, or with --json a summary of',
    'pretrain.json; progress goes to stderr.',
    '',
    '--ship then writes (replacing) the shipped stand-in <DIR>/mini-<model>/ (DIR: --artifacts, else',
    'LORA_REPRO_ARTIFACTS, else artifacts/stand-ins in the repository) and prints that folder instead:',
    'config.json, tokenizer.json, model.safetensors (and the MLM head, mlm_head.safetensors) in float16,',
    'provenance.json (pretrain.json, the command that pretrains the float32 model again, the sha256 of',
    'every file). The same cache entry exports byte-identical files. `lora-repro run` uses the shipped',
    'stand-in whenever its corpus, settings and seed are what pretraining would use (docs/stand-ins.md).',
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
        snapshots: { type: 'string' },
        'snapshot-dir': { type: 'string' },
        ship: { type: 'boolean', default: false },
        artifacts: { type: 'string' },
        hidden: { type: 'string' },
        layers: { type: 'string' },
        heads: { type: 'string' },
        intermediate: { type: 'string' },
        'short-seq-steps': { type: 'string' },
        'corpus-extra': { type: 'string' },
        objective: { type: 'string' },
        vocab: { type: 'string' },
      },
      false,
    );
    const family = values.model as PretrainFamily | undefined;
    if (family === undefined || !FAMILIES.includes(family)) {
      throw new UserError(`--model must be one of ${FAMILIES.join(', ')}${values.model === undefined ? '' : `, got '${values.model}'`}`);
    }
    if (values.artifacts !== undefined && !values.ship) throw new UserError('--artifacts goes with --ship (where the shipped stand-ins are written)');
    if (values.synthetic && values['data-dir'] !== undefined) throw new UserError('--synthetic and --data-dir exclude each other');
    const steps = values.steps === undefined ? undefined : intFlag('steps', values.steps, 0);
    if (steps === 0) throw new UserError('--steps must be at least 1');
    const seed = intFlag('seed', values.seed, 0);
    const snapshotSteps = values.snapshots === undefined ? [] : values.snapshots.split(',').map((v) => intFlag('snapshots', v.trim(), 1));
    if (snapshotSteps.length > 0 && values['snapshot-dir'] === undefined) throw new UserError('--snapshots needs --snapshot-dir DIR (where step-<N>/ folders are written)');
    const archFlags = Object.fromEntries(ARCH_FIELDS.filter((f) => values[f] !== undefined).map((f) => [f, intFlag(f, values[f], 1)]));
    const shortSeqSteps = values['short-seq-steps'] === undefined ? undefined : intFlag('short-seq-steps', values['short-seq-steps'], 0);
    const dataDir = values.synthetic ? undefined : locateDataDir({ flag: values['data-dir'] });
    const objective = resolveObjective(family, dataDir, values.objective);
    const corpusExtra = resolveCorpusExtra(values['corpus-extra'], dataDir);
    const vocab = resolveVocab(family, dataDir, values.vocab === undefined ? undefined : intFlag('vocab', values.vocab, 1));
    const studyFlags = [
      ...Object.keys(archFlags),
      ...(shortSeqSteps === undefined ? [] : ['short-seq-steps']),
      ...(corpusExtra === undefined ? [] : ['corpus-extra']),
      ...(objective === undefined ? [] : ['objective']),
      ...(vocab === undefined ? [] : ['vocab']),
    ];
    if (values.ship && studyFlags.length > 0) {
      throw new UserError(`--ship exports the shipped stand-in, with the default corpus, objective, tokenizer size, architecture and schedule: drop ${studyFlags.map((f) => `--${f}`).join(' ')} (or --ship)`);
    }
    const arch = resolveArchitecture(family, dataDir, archFlags);
    // No flag (or one naming the default): no override at all, so the settings (and the cache key) are the defaults' exactly.
    const overrides = {
      ...(steps === undefined ? {} : { steps }),
      ...(arch ?? {}),
      ...(shortSeqSteps === undefined ? {} : { shortSeqSteps }),
      ...(corpusExtra === undefined ? {} : { corpusExtra }),
      ...(objective ?? {}),
      ...(vocab ?? {}),
    };
    if (arch !== undefined) process.stderr.write(`[pretrain ${family}] architecture ${archLabel(arch)} (${arch.heads} heads, FFN ${arch.intermediate})\n`);
    const planned = { ...pretrainDefaults(family, dataDir), ...overrides };
    if (planned.shortSeqSteps >= planned.steps && planned.shortSeqSteps > 0) {
      // The short phase is a step count of its own, so a shorter --steps can leave no full-block phase at all.
      process.stderr.write(`[pretrain ${family}] note: all ${planned.steps} steps train on ${planned.shortSeqLen}-token pieces (short-seq-steps ${planned.shortSeqSteps}); --short-seq-steps N keeps a full-block phase\n`);
    }
    const t0 = performance.now();
    const result = await ensurePretrained({
      family,
      dataDir,
      seed,
      settings: Object.keys(overrides).length === 0 ? undefined : overrides,
      cacheDir: values.cache,
      log: (line) => process.stderr.write(`[pretrain ${family}] ${line}\n`),
      ...(snapshotSteps.length > 0 ? { snapshots: { steps: snapshotSteps, dir: values['snapshot-dir'] as string } } : {}),
    });
    const seconds = (performance.now() - t0) / 1000;
    const t = result.meta.training;
    process.stderr.write(
      `[pretrain ${family}] ${result.reused ? 'reused' : 'trained'} in ${seconds.toFixed(1)} s: held-out loss ${t.evalLoss.before.toFixed(3)} → ${t.evalLoss.after.toFixed(3)} (ln vocab ${t.evalLoss.lnVocab.toFixed(3)}), ${t.msPerStep.toFixed(0)} ms/step\n`,
    );
    const shipped = values.ship ? exportShipped({ entryDir: result.dir, root: artifactsRoot(values.artifacts) }) : undefined;
    if (shipped !== undefined) {
      const bytes = Object.keys(shipped.provenance.files).reduce((n, f) => n + statSync(join(shipped.dir, f)).size, 0);
      process.stderr.write(
        `[pretrain ${family}] shipped → ${shipped.dir} (${(bytes / 1e6).toFixed(2)} MB; model.safetensors sha256 ${shipped.provenance.files['model.safetensors']?.slice(0, 12)})\n`,
      );
    }
    if (values.json) {
      const { lossCurve, ...training } = t;
      console.log(JSON.stringify({ dir: result.dir, ...(shipped !== undefined ? { shipped: shipped.dir } : {}), reused: result.reused, seconds, corpus: result.meta.corpus.description, training, lossCurveLength: lossCurve.length }, null, 2));
    } else {
      console.log(shipped?.dir ?? result.dir);
    }
    return 0;
  },
};
