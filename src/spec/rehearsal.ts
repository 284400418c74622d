/**
 * Rehearsal of a profile (`lora-repro run <spec> --profile paper --rehearse`): the profile's runs with
 * everything that decides *what is run and from where* kept — model names and their resolution
 * (hub snapshots), data sources (data directory, else the hub's parquet), methods and their configs,
 * batch per device, devices and accumulation, evaluation protocol, initFrom chains — and only the
 * sizes capped, so a paper-scale setup can be checked end to end in minutes, on any backend, before
 * days of GPU time are spent on it.
 *
 * Why these caps: one seed (the first; chains pair parent and child by seed, so they stay intact),
 * one epoch, a few training examples, in passes of at most REHEARSAL_CAPS.microBatchSize examples so
 * every update of a multi-device row still accumulates over several passes (the accumulation path is
 * exercised, and memory stays small on a CPU), a handful of evaluation examples, a short input and
 * few decoded tokens (E2E beam search still runs with the row's beam). Caps only lower a value: a
 * profile that is already smaller keeps its own.
 *
 * The runs are recorded as a profile of their own, `<profile>-rehearsal` (results/paper-rehearsal/),
 * with `rehearsal: true` in each config, so their run ids never equal a real run's and every table
 * built from them can say that they are a rehearsal (src/report/table-model.ts).
 *
 * Rows whose model cannot run anywhere (a name with no architecture here and no hub catalog entry) are
 * left out of the rehearsal, said in one line, instead of failing it: a rehearsal that is red because
 * of a known gap could not tell the user about any other problem. (Today none of the paper's: the
 * DeBERTa-v2 XXL rows run from microsoft/deberta-v2-xxlarge like the others.)
 */
import { existsSync } from 'node:fs';
import { HUB_MODELS, splitRevision } from '../hub/catalog.ts';
import { BUILTIN_CONFIGS } from '../models/config.ts';
import { isPlainObject, type Plain } from './merge.ts';

const REHEARSAL_SUFFIX = '-rehearsal';

const REHEARSAL_CAPS = {
  epochs: 1,
  trainLimit: 16,
  evalLimit: 8,
  maxSeqLength: 64,
  /** Most examples per forward/backward pass; below every paper batch, so updates accumulate. */
  microBatchSize: 4,
  maxNewTokens: 8,
} as const;

/** The results profile of a rehearsal of `profile`. */
export function rehearsalProfileName(profile: string): string {
  return `${profile}${REHEARSAL_SUFFIX}`;
}

/** The rehearsed profile of a results profile name (`paper-rehearsal` → `paper`), if it is one. */
export function rehearsedProfile(name: string): string | undefined {
  return name.endsWith(REHEARSAL_SUFFIX) && name.length > REHEARSAL_SUFFIX.length ? name.slice(0, -REHEARSAL_SUFFIX.length) : undefined;
}

/** One line: what a rehearsal caps (for --dry-run, the log and the docs). */
export function describeCaps(): string {
  const c = REHEARSAL_CAPS;
  return (
    `first seed only, ${c.epochs} epoch, ≤ ${c.trainLimit} training examples in passes of ≤ ${c.microBatchSize}, ≤ ${c.evalLimit} evaluation ` +
    `examples, inputs ≤ ${c.maxSeqLength} tokens, ≤ ${c.maxNewTokens} decoded tokens; models, data sources, methods, batch, devices and initFrom chains as the profile has them`
  );
}

const capped = (v: unknown, cap: number): number => (typeof v === 'number' && v < cap ? v : cap);

/**
 * The layer a rehearsal puts over a cell's merged fields (the last layer of expand.ts): every cap
 * applied, and `rehearsal: true`, which is part of the run id.
 */
export function rehearsalLayer(fields: Plain): Plain {
  const c = REHEARSAL_CAPS;
  const batch = typeof fields.batchSize === 'number' ? fields.batchSize : c.microBatchSize;
  const layer: Plain = {
    rehearsal: true,
    epochs: capped(fields.epochs, c.epochs),
    trainLimit: capped(fields.trainLimit, c.trainLimit),
    evalLimit: capped(fields.evalLimit, c.evalLimit),
    maxSeqLength: capped(fields.maxSeqLength, c.maxSeqLength),
    microBatchSize: capped(fields.microBatchSize, Math.min(batch, c.microBatchSize)),
  };
  // The held-out slice (selectOn: heldout) is evaluation examples too; absent stays absent.
  if (typeof fields.heldoutSize === 'number') layer.heldoutSize = capped(fields.heldoutSize, c.evalLimit);
  if (isPlainObject(fields.decoding)) layer.decoding = { maxNewTokens: capped(fields.decoding.maxNewTokens, c.maxNewTokens) };
  return layer;
}

/**
 * Why `model` (after the profile's mapping) cannot be rehearsed, or undefined when it can: it must
 * be a model of the hub catalog (src/hub/catalog.ts: its architecture is one lora-repro builds), a
 * built-in config, or something else the model resolver passes on (a directory, a hub id `owner/name`)
 * whose loading the run itself checks.
 */
export function notRehearsable(model: string): string | undefined {
  const [name] = splitRevision(model);
  if (HUB_MODELS[name] !== undefined || BUILTIN_CONFIGS[name] !== undefined || name.includes('/') || existsSync(name)) return undefined;
  return `model '${name}' has no architecture in lora-repro and no entry in the hub catalog (src/hub/catalog.ts)`;
}
