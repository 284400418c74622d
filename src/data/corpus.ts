/**
 * The pretraining corpus of the offline `mini` profile (issue 7): the text the small tokenizer and
 * the small RoBERTa / GPT-2 are trained on from scratch.
 *
 * With a data directory: the sentences of the GLUE *train* splits of CoLA, SST-2, MRPC, STS-B and RTE
 * (both sentences of pair tasks) and the references of E2E trainset.csv. Dev and test splits are never
 * read: they are what the fine-tuned models are evaluated on. Without one: unlabelled text from the
 * synthetic stand-in generators (./synthetic.ts).
 *
 * Linked documents (`linkRelated`, the GPT-2 corpus): texts that belong together stay together as the
 * segments of one document, in order: the two sentences of a GLUE pair example, the references of
 * one E2E MR. Packing puts `<|endoftext|>` between segments as between documents, so the causal LM
 * sees, as E2E fine-tuning will ("MR <|endoftext|> reference"), text after the separator that
 * repeats names and facts from before it. With unrelated sentences on both sides of every separator
 * the stand-in learned to ignore everything before it: its loss on 64 E2E dev references was 2.739
 * after their own MR and 2.739 after another MR, and LoRA never named the MR's venue (0 of 50 dev
 * outputs). Linked and pretrained for 4000 steps: 2.253 vs 2.463, and LoRA names it in 36-44 of
 * 50 (mini profile, seeds 0-2); for 6000, the setting in ../pretrain/pretrain-config.ts: 2.141 vs
 * 2.415 and 45-47 of 50. MRs themselves are never in the corpus.
 *
 * Subsampling to a byte budget is deterministic: each source is de-duplicated (also against the
 * sources before it), shuffled with a fixed seed and cut; the budget is split equally between
 * sources, and what a small source cannot use goes to the others (water-filling), so the ~4 MB of E2E
 * references do not crowd out CoLA's 0.3 MB. The chosen documents are then shuffled together, so
 * packed pretraining sequences mix sources.
 *
 * Extra sources (`extraSources`, e.g. WordNet's glosses and examples: ../pretrain/wordnet-text.ts) are
 * text beyond the data directory's. They never displace it: the data-directory (or synthetic) sources
 * are de-duplicated and taken first exactly as without extras, and the extras share what those leave
 * of the budget, water-filled the same way and de-duplicated against everything before them. (With the
 * 16 MiB budget and the 10.6 MB data directory, ~6.2 MB of WordNet's 11.3 MB, a random subsample.)
 *
 * `hash` is the SHA-256 of the documents (JSON array), the corpus part of pretraining cache keys.
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { Rng } from '../util/rng.ts';
import { UserError } from '../util/errors.ts';
import { DATA_DIR_ENV, defaultDataDir, resolveDataDir } from './data-dir.ts';
import { readGlueSplit } from './glue-tsv.ts';
import { GLUE_TASKS, type GlueTaskName } from './glue-tasks.ts';
import { E2E_FILES, readE2eSplit } from './e2e.ts';
import { syntheticCorpusDocuments } from './synthetic.ts';

/**
 * 4 MiB (about a million tokens of the mini tokenizer): enough for an 8000-token BPE and for the mini
 * pretraining to see most text only once or twice (at 2 MiB held-out loss rose after a few epochs),
 * still seconds to tokenize.
 */
export const DEFAULT_CORPUS_BYTES = 4 * 1024 * 1024;

export const CORPUS_GLUE_TASKS: readonly GlueTaskName[] = ['cola', 'sst2', 'mrpc', 'stsb', 'rte'];

export interface CorpusSourceInfo {
  /** 'glue/CoLA/train.tsv', 'e2e/trainset.csv (refs)' or 'synthetic generators'. */
  name: string;
  /** Distinct documents and their UTF-8 bytes available in the source. */
  availableDocuments: number;
  availableBytes: number;
  usedDocuments: number;
  usedBytes: number;
}

export interface Corpus {
  kind: 'data' | 'synthetic';
  /** The data directory the text came from (kind 'data'). */
  dataDir?: string;
  /** One line for logs and captions, e.g. "GLUE train (CoLA, SST-2, …) + E2E train refs, 2.0 MB". */
  description: string;
  /** One sentence or reference per document; a linked document's segments are joined by SEGMENT_SEPARATOR. */
  documents: string[];
  bytes: number;
  sources: CorpusSourceInfo[];
  /** SHA-256 hex of JSON.stringify(documents). */
  hash: string;
}

export interface CorpusOptions {
  /** A data directory, or undefined for the synthetic corpus (see locateDataDir). */
  dataDir?: string;
  budgetBytes?: number;
  /** Subsampling seed (fixed by default: the corpus is not a per-run choice). */
  seed?: number;
  /** Keep related texts together as the segments of one document (see the file comment). */
  linkRelated?: boolean;
  /** Text beyond the data directory's, filling what it leaves of the budget (see the file comment). */
  extraSources?: readonly CorpusExtraSource[];
}

/** An extra corpus source: one document per string, named in `sources` and in the description. */
export interface CorpusExtraSource {
  /** For `sources[].name`, e.g. 'WordNet 3.0 glosses + examples'. */
  name: string;
  documents: readonly string[];
}

/** Between the segments of a linked document; no segment contains one (they are made one line). */
export const SEGMENT_SEPARATOR = '\n';

/** The texts of a document: one, or the segments of a linked document in order. */
export function documentSegments(document: string): string[] {
  return document.split(SEGMENT_SEPARATOR);
}

/** `--data-dir none` / LORA_REPRO_DATA=none: use the synthetic stand-ins even where data exists. */
const NO_DATA = 'none';

/**
 * The data directory the mini profile uses, or undefined for synthetic data. An explicit --data-dir
 * or LORA_REPRO_DATA must exist (a typo must not silently switch to synthetic data) unless it is
 * `none`; the default ../shared/data is used only when present.
 */
export function locateDataDir(opts: { flag?: string; env?: Readonly<Record<string, string | undefined>> } = {}): string | undefined {
  const env = opts.env ?? process.env;
  const chosen = opts.flag !== undefined && opts.flag !== '' ? opts.flag : env[DATA_DIR_ENV];
  if (chosen === NO_DATA) return undefined;
  const explicit = (opts.flag !== undefined && opts.flag !== '') || (env[DATA_DIR_ENV] !== undefined && env[DATA_DIR_ENV] !== '');
  if (explicit) return resolveDataDir({ flag: opts.flag, env }).dir;
  const dflt = defaultDataDir();
  return existsSync(dflt) && statSync(dflt).isDirectory() ? dflt : undefined;
}

const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Collapses line breaks (two E2E references contain one) so a document is one line. */
const oneLine = (s: string): string => s.replace(/\s*[\r\n]+\s*/g, ' ').trim();

/** Distinct documents, each given as its segments (one for an unlinked document); empty ones dropped. */
function distinct(groups: Iterable<readonly string[]>): string[] {
  const seen = new Set<string>();
  for (const g of groups) {
    const doc = g.map(oneLine).filter((t) => t !== '').join(SEGMENT_SEPARATOR);
    if (doc !== '') seen.add(doc);
  }
  return [...seen];
}

/** The references of each MR, in file order of first appearance. */
function referencesByMr(pairs: readonly { mr: string; ref: string }[]): string[][] {
  const byMr = new Map<string, string[]>();
  for (const p of pairs) {
    const refs = byMr.get(p.mr);
    if (refs === undefined) byMr.set(p.mr, [p.ref]);
    else refs.push(p.ref);
  }
  return [...byMr.values()];
}

interface Source {
  name: string;
  documents: string[];
}

function dataSources(dataDir: string, linkRelated: boolean): Source[] {
  const sources: Source[] = CORPUS_GLUE_TASKS.map((task) => {
    const examples = readGlueSplit(dataDir, task, 'train');
    const texts = (e: (typeof examples)[number]): string[] => (e.text_b === undefined ? [e.text_a] : [e.text_a, e.text_b]);
    return {
      name: GLUE_TASKS[task].trainFile,
      documents: distinct(linkRelated ? examples.map(texts) : examples.flatMap(texts).map((t) => [t])),
    };
  });
  const e2e = readE2eSplit(dataDir, 'train', 'csv');
  sources.push({
    name: `${E2E_FILES.csv.train} (refs${linkRelated ? ', linked by MR' : ''})`,
    documents: distinct(linkRelated ? referencesByMr(e2e.pairs) : e2e.pairs.map((p) => [p.ref])),
  });
  return sources;
}

/** Budget per source: equal shares, leftovers of small sources redistributed to the rest. */
export function waterFill(available: readonly number[], budget: number): number[] {
  const out = new Array<number>(available.length).fill(0);
  let left = budget;
  const order = available.map((_, i) => i).sort((x, y) => (available[x] as number) - (available[y] as number) || x - y);
  order.forEach((i, k) => {
    const share = left / (order.length - k);
    out[i] = Math.min(available[i] as number, share);
    left -= out[i] as number;
  });
  return out;
}

function take(documents: string[], budget: number, rng: Rng): string[] {
  const shuffled = rng.shuffle(documents.slice());
  const out: string[] = [];
  let used = 0;
  for (const d of shuffled) {
    const b = utf8Bytes(d) + 1;
    if (used + b > budget) break;
    out.push(d);
    used += b;
  }
  return out;
}

/** Builds the corpus (see the file comment). */
export function buildCorpus(opts: CorpusOptions = {}): Corpus {
  const budget = opts.budgetBytes ?? DEFAULT_CORPUS_BYTES;
  if (!(budget > 0)) throw new UserError(`corpus budget must be a positive number of bytes, got ${budget}`);
  const rng = new Rng(opts.seed ?? 0);
  const linkRelated = opts.linkRelated ?? false;
  const sources: Source[] =
    opts.dataDir === undefined
      ? [{ name: 'synthetic generators', documents: distinct(syntheticCorpusDocuments(budget, (opts.seed ?? 0) + 7, linkRelated)) }]
      : dataSources(opts.dataDir, linkRelated);
  const extras: Source[] = (opts.extraSources ?? []).map((e) => ({ name: e.name, documents: distinct(e.documents.map((d) => [d])) }));
  // A document in two sources (STS-B reuses MRPC's news sentences) is kept in the first only.
  const seen = new Set<string>();
  for (const s of [...sources, ...extras]) {
    s.documents = s.documents.filter((d) => !seen.has(d));
    for (const d of s.documents) seen.add(d);
  }
  const info: CorpusSourceInfo[] = [];
  const chosen: string[] = [];
  // Each document counts its bytes plus one separator.
  const fill = (group: Source[], groupBudget: number): void => {
    const sizes = group.map((s) => s.documents.reduce((n, d) => n + utf8Bytes(d) + 1, 0));
    const shares = waterFill(sizes, groupBudget);
    group.forEach((s, i) => {
      const docs = take(s.documents, shares[i] as number, rng);
      chosen.push(...docs);
      info.push({
        name: s.name,
        availableDocuments: s.documents.length,
        availableBytes: sizes[i] as number,
        usedDocuments: docs.length,
        usedBytes: docs.reduce((n, d) => n + utf8Bytes(d) + 1, 0),
      });
    });
  };
  fill(sources, budget);
  // Extras after the main sources, in what they left: without extras the corpus is the same as before.
  if (extras.length > 0) fill(extras, budget - info.reduce((n, s) => n + s.usedBytes, 0));
  const documents = rng.shuffle(chosen);
  const bytes = info.reduce((n, s) => n + s.usedBytes, 0);
  const mb = (bytes / 1e6).toFixed(2);
  const linked = linkRelated ? ', related texts linked' : '';
  const extra = extras.map((e) => ` + ${e.name}`).join('');
  const description =
    opts.dataDir === undefined
      ? `SYNTHETIC generated text (no data directory${extra}${linked}), ${mb} MB`
      : `GLUE train sentences (CoLA, SST-2, MRPC, STS-B, RTE) + E2E train references${extra}${linked}, ${mb} MB subsample`;
  const hash = createHash('sha256').update(JSON.stringify(documents)).digest('hex');
  const where = opts.dataDir === undefined ? {} : { dataDir: opts.dataDir };
  return { kind: opts.dataDir === undefined ? 'synthetic' : 'data', ...where, description, documents, bytes, sources: info, hash };
}
