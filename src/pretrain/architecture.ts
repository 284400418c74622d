/**
 * The stand-in's architecture as a pretraining option (issue 18: the width / depth axis of the
 * stand-in study, docs/stand-ins.md). `lora-repro pretrain --hidden N --layers N --heads N
 * --intermediate N` overrides the four size settings of pretrain-config.ts; everything else
 * (vocabulary, schedule, batch, corpus) stays the family's default, so a study point differs from
 * the default stand-in in its shape alone.
 *
 * The four fields already are PretrainSettings, which the cache key hashes whole (cache.ts
 * locatePretrained) and pretrain.json / snapshot.json record whole: no flag, or flags equal to the
 * defaults, give exactly the default settings object, hence the default cache key and a shipped
 * stand-in that still matches (shipped.ts shippedMismatch); other values give another key and are
 * recorded in the metadata, where the study's collect step reads them.
 */
import { UserError } from '../util/errors.ts';
import { PRETRAIN_FAMILIES, pretrainDefaults, type PretrainFamily, type PretrainSettings } from './pretrain-config.ts';

export const ARCH_FIELDS = ['hidden', 'layers', 'heads', 'intermediate'] as const;
export type Architecture = Pick<PretrainSettings, (typeof ARCH_FIELDS)[number]>;

/** The default stand-ins' head size (d 128 / 4 heads) and FFN ratio (512 / 128): what `--hidden` alone keeps. */
const HEAD_SIZE = 32;
const FFN_RATIO = 4;

/**
 * The architecture the flags ask for, or undefined when none is given (the caller then passes no
 * override at all, as before the flags existed). Absent fields: `layers` the family's default;
 * `heads` and `intermediate` follow the width at the default head size and FFN ratio (so
 * `--hidden 256` is 8 heads of 32 and FFN 1024, and `--layers 8` alone keeps d 128, 4 heads, FFN 512).
 */
export function resolveArchitecture(family: PretrainFamily, dataDir: string | undefined, flags: Partial<Architecture>): Architecture | undefined {
  if (ARCH_FIELDS.every((f) => flags[f] === undefined)) return undefined;
  for (const f of ARCH_FIELDS) {
    const v = flags[f];
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new UserError(`--${f} must be a positive integer, got ${v}`);
  }
  const d = pretrainDefaults(family, dataDir);
  const hidden = flags.hidden ?? d.hidden;
  const derived = derivedShape(hidden);
  if (flags.heads === undefined && hidden % HEAD_SIZE !== 0) {
    throw new UserError(`--hidden ${hidden}: the default head size ${HEAD_SIZE} does not divide it: also give --heads N (a divisor of ${hidden})`);
  }
  const arch: Architecture = {
    hidden,
    layers: flags.layers ?? d.layers,
    heads: flags.heads ?? derived.heads,
    intermediate: flags.intermediate ?? derived.intermediate,
  };
  if (arch.hidden % arch.heads !== 0) throw new UserError(`--heads ${arch.heads} must divide --hidden ${arch.hidden}: give a divisor of ${arch.hidden}`);
  return arch;
}

/** Heads and FFN width of a model `hidden` wide at the default head size and FFN ratio. */
function derivedShape(hidden: number): Pick<Architecture, 'heads' | 'intermediate'> {
  return { heads: Math.max(1, Math.round(hidden / HEAD_SIZE)), intermediate: FFN_RATIO * hidden };
}

/** A record's architecture (width and depth, perhaps heads and FFN): missing heads / FFN are the ones the width implies. */
export type PartialArchitecture = Pick<Architecture, 'hidden' | 'layers'> & Partial<Architecture>;

export function completeArchitecture(a: PartialArchitecture): Architecture {
  const derived = derivedShape(a.hidden);
  return { hidden: a.hidden, layers: a.layers, heads: a.heads ?? derived.heads, intermediate: a.intermediate ?? derived.intermediate };
}

/**
 * A short name of an architecture, `d256-l4`, with `-h<heads>` / `-ff<intermediate>` only where
 * they are not the ones the width implies (resolveArchitecture).
 */
export function archLabel(partial: PartialArchitecture): string {
  const a = completeArchitecture(partial);
  const derived = derivedShape(a.hidden);
  return `d${a.hidden}-l${a.layers}${a.heads !== derived.heads ? `-h${a.heads}` : ''}${a.intermediate !== derived.intermediate ? `-ff${a.intermediate}` : ''}`;
}

/** True when `a` is the shipped stand-ins' shape for `family` (false for a family this code does not know). */
export function isDefaultArchitecture(family: string, partial: PartialArchitecture): boolean {
  if (!(PRETRAIN_FAMILIES as readonly string[]).includes(family)) return false;
  const d = pretrainDefaults(family as PretrainFamily, undefined);
  const a = completeArchitecture(partial);
  return ARCH_FIELDS.every((f) => a[f] === d[f]);
}
