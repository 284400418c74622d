/**
 * The corpus, objective and tokenizer axes of the stand-in study (issue 18, docs/stand-ins.md) as
 * pretraining options: `lora-repro pretrain --corpus-extra wordnet|synthetic`, `--objective mlm|mlm-nsp|mlm-nsp-bow`
 * and `--vocab N`. architecture.ts is the width / depth axis, built the same way.
 *
 * All three turn into PretrainSettings overrides, which the cache key hashes and pretrain.json /
 * snapshot.json record (where the study's collect step reads them back: `nonDefaultOptions`).
 * A flag that asks for the default gives no override at all, so the settings, the cache key and the
 * shipped stand-ins' match (shipped.ts shippedMismatch) are exactly the default's.
 *
 * The objectives are names for what objectives.ts trains on (masked-LM families only; GPT-2 is causal LM):
 * - `mlm-nsp-bow` (the default): block steps masked LM + bag of words of each document's `<s>`,
 *   every other step a sentence pair with masked LM + next-sentence + bag of words (settings nspEvery 2,
 *   bagOfWords true; pretrain-config.ts says why);
 * - `mlm-nsp`: the same steps without the bag of words (bagOfWords false, pairBagOfWords false);
 * - `mlm`: masked LM on packed blocks only, no sentence pairs, no next-sentence head (nspEvery 0,
 *   bagOfWords false) — RoBERTa's own recipe (Liu et al. 2019 §4.2 dropped next-sentence prediction).
 */
import { UserError } from '../util/errors.ts';
import { wordNetDocuments } from './wordnet-text.ts';
import type { CorpusExtraSource } from '../data/corpus.ts';
import { syntheticCorpusDocuments } from '../data/synthetic.ts';
import { CORPUS_EXTRAS, PRETRAIN_FAMILIES, pretrainDefaults, type CorpusExtra, type PretrainFamily, type PretrainSettings } from './pretrain-config.ts';

export const OBJECTIVES = ['mlm', 'mlm-nsp', 'mlm-nsp-bow'] as const;
export type Objective = (typeof OBJECTIVES)[number];

type ObjectiveFields = Pick<PretrainSettings, 'nspEvery' | 'bagOfWords' | 'pairBagOfWords'>;

/** Settings of each objective, given the family's default pair-step rhythm (nspEvery). */
function objectiveFields(objective: Objective, nspEvery: number): ObjectiveFields {
  if (objective === 'mlm') return { nspEvery: 0, bagOfWords: false };
  if (objective === 'mlm-nsp') return { nspEvery, bagOfWords: false, pairBagOfWords: false };
  return { nspEvery, bagOfWords: true };
}

/**
 * The settings overrides of `--objective`, or undefined when the flag is absent or names the
 * family's default objective (then nothing is overridden). A UserError for an unknown name or GPT-2.
 */
export function resolveObjective(family: PretrainFamily, dataDir: string | undefined, flag: string | undefined): Partial<ObjectiveFields> | undefined {
  if (flag === undefined) return undefined;
  if (!(OBJECTIVES as readonly string[]).includes(flag)) throw new UserError(`--objective must be one of ${OBJECTIVES.join(', ')}, got '${flag}'`);
  if (family === 'gpt2') throw new UserError(`--objective is for the masked-LM stand-ins (roberta, deberta); gpt2 pretrains with causal LM: drop --objective`);
  const d = pretrainDefaults(family, dataDir);
  const defaultNspEvery = d.nspEvery > 0 ? d.nspEvery : 2;
  const want = objectiveFields(flag as Objective, defaultNspEvery);
  const same = want.nspEvery === d.nspEvery && want.bagOfWords === d.bagOfWords && (want.pairBagOfWords ?? true) === (d.pairBagOfWords ?? true);
  return same ? undefined : want;
}

/**
 * The objective a settings record trained with: 'mlm', 'mlm-nsp', 'mlm-nsp-bow'; 'clm' for GPT-2;
 * a settings mix no flag gives (bag of words on one step kind only) is named by what it trains.
 */
export function objectiveOf(s: Pick<PretrainSettings, 'family' | 'nspEvery' | 'bagOfWords' | 'pairBagOfWords'>): string {
  if (s.family === 'gpt2') return 'clm';
  // Without pair steps bagOfWords does nothing (pretrain.ts trains it only beside next-sentence).
  if (s.nspEvery <= 0) return 'mlm';
  const pairBow = s.pairBagOfWords ?? true;
  if (s.bagOfWords && pairBow) return 'mlm-nsp-bow';
  if (!s.bagOfWords && !pairBow) return 'mlm-nsp';
  return `mlm-nsp-bow(${pairBow ? 'pairs' : 'blocks'} only)`;
}

/** 256 byte tokens and the family's special tokens come first; fewer than 512 would leave almost no merges. */
const MIN_VOCAB = 512;

/**
 * `--vocab N`: the byte-level BPE tokenizer's target size (the default 8000, STAND_IN_SIZE). The
 * tokenizer is trained on the same corpus at that size and the model's embedding table (and MLM head)
 * follow it. Undefined without the flag or for the default size (then nothing is overridden).
 */
export function resolveVocab(family: PretrainFamily, dataDir: string | undefined, flag: number | undefined): Pick<PretrainSettings, 'vocabSize'> | undefined {
  if (flag === undefined) return undefined;
  if (!Number.isInteger(flag) || flag < MIN_VOCAB) throw new UserError(`--vocab must be an integer of at least ${MIN_VOCAB} (256 byte tokens, the special tokens and the merges), got ${flag}`);
  return flag === pretrainDefaults(family, dataDir).vocabSize ? undefined : { vocabSize: flag };
}

/** A settings record's objective, corpus extra and tokenizer size as the study records them (bench/stand-in-study-data.ts). */
export interface StudyOptions {
  objective?: string;
  corpusExtra?: string;
  /** The tokenizer's target size, only where not the family's default. */
  vocabSize?: number;
}

/**
 * The objective, corpus extra and tokenizer size of a settings record (pretrain.json, snapshot.json)
 * where they are not the family's default; nothing for the default, an unknown family, or a record
 * without the fields.
 */
export function nonDefaultOptions(family: string, s: Partial<Pick<PretrainSettings, 'nspEvery' | 'bagOfWords' | 'pairBagOfWords' | 'corpusExtra' | 'vocabSize'>>): StudyOptions {
  const extra = corpusExtraOf(s);
  const out: StudyOptions = extra === '' ? {} : { corpusExtra: extra };
  if (!(PRETRAIN_FAMILIES as readonly string[]).includes(family)) return out;
  const f = family as PretrainFamily;
  if (s.vocabSize !== undefined && s.vocabSize !== pretrainDefaults(f, '').vocabSize) out.vocabSize = s.vocabSize;
  if (s.nspEvery === undefined || s.bagOfWords === undefined) return out;
  const objective = objectiveOf({ family: f, nspEvery: s.nspEvery, bagOfWords: s.bagOfWords, pairBagOfWords: s.pairBagOfWords });
  return objective === objectiveOf(pretrainDefaults(f, '')) ? out : { objective, ...out };
}

/** `wordnet`, `mlm`, `wordnet-mlm`, `v16000`: the non-default corpus, objective and tokenizer size in one word, '' for the default's (run-folder names, chart labels). */
export function optionsLabel(v: StudyOptions): string {
  return [v.corpusExtra, v.objective, v.vocabSize === undefined ? undefined : `v${v.vocabSize}`].filter((x) => x !== undefined && x !== '').join('-');
}

/** The `corpusExtra` setting of `--corpus-extra NAME[,NAME…]` (sorted, de-duplicated), or undefined without the flag. */
export function resolveCorpusExtra(flag: string | undefined, dataDir: string | undefined): CorpusExtra[] | undefined {
  if (flag === undefined) return undefined;
  const names = [...new Set(flag.split(',').map((n) => n.trim()))].sort();
  for (const n of names) {
    if (!(CORPUS_EXTRAS as readonly string[]).includes(n)) throw new UserError(`--corpus-extra must be one of ${CORPUS_EXTRAS.join(', ')}, got '${n}'`);
  }
  if (dataDir === undefined) {
    throw new UserError('--corpus-extra adds text to the data directory\'s corpus, and there is none (--synthetic, --data-dir none or no ../shared/data): give --data-dir DIR or drop --corpus-extra');
  }
  return names as CorpusExtra[];
}

/** The corpus-extra names of a settings record, '' when none (the default corpus). */
function corpusExtraOf(s: Pick<PretrainSettings, 'corpusExtra'>): string {
  return (s.corpusExtra ?? []).join('+');
}

/**
 * Generated text for `--corpus-extra synthetic`: the stand-in tasks' generators (../data/synthetic.ts,
 * the corpus of the no-data profile) under their corpus seed, one sentence per document. 8 MiB, more
 * than the ~6.2 MB the data directory leaves of the 16 MiB budget, so the budget, not the generator,
 * decides how much is used (../data/corpus.ts de-duplicates and subsamples it as any source).
 */
const SYNTHETIC_EXTRA_BYTES = 8 * 1024 * 1024;

const EXTRA_SOURCES: Readonly<Record<CorpusExtra, { name: string; documents: () => string[] }>> = {
  synthetic: { name: 'synthetic generators', documents: () => syntheticCorpusDocuments(SYNTHETIC_EXTRA_BYTES).flat() },
  wordnet: { name: 'WordNet 3.0 glosses + examples', documents: () => wordNetDocuments() },
};

/** The extra corpus sources of a settings record (none when corpusExtra is absent), for ../data/corpus.ts buildCorpus. */
export function corpusExtraSources(s: Pick<PretrainSettings, 'corpusExtra'>): CorpusExtraSource[] {
  return (s.corpusExtra ?? []).map((n) => ({ name: EXTRA_SOURCES[n].name, documents: EXTRA_SOURCES[n].documents() }));
}
