/**
 * Pretrained mini models, built once and reused: `ensurePretrained` returns the directory of a
 * tokenizer + model pretrained on the mini corpus, training them only when the cache lacks them.
 *
 * Layout under the cache root (LORA_REPRO_CACHE, default `.cache/lora-repro/` in the repository,
 * which .gitignore excludes):
 *   tokenizers/<family>-<key>.json   keyed by corpus hash, family, vocab size (shared by every seed)
 *   pretrained/<family>-<key>/       keyed by corpus hash, settings and seed (artifacts.ts)
 * Entries are built in a temporary sibling and renamed into place, so an interrupted run never leaves
 * a half-written entry, and of two processes racing on one key the second simply uses the first's.
 * Bump PRETRAIN_FORMAT when the pretraining code changes what a key produces.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withBlasThreads } from '../backend/native.ts';
import { initBackend } from '../backend/select.ts';
import { buildCorpus, documentSegments, type Corpus } from '../data/corpus.ts';
import type { TransformerModel } from '../models/model.ts';
import { loadTokenizer } from '../tokenizers/hf-tokenizer.ts';
import { debertaPretrainTokens, gpt2SpecialTokens, robertaSpecialTokens } from '../tokenizers/special-tokens.ts';
import { trainByteLevelBpe, writeTokenizerJson } from '../tokenizers/bpe-trainer.ts';
import { PRETRAIN_FILES, writeModelFiles } from './artifacts.ts';
import { pairableDocuments, type PairLayoutIds } from './next-sentence.ts';
import { packDocuments } from './packing.ts';
import { pretrainModel, type PretrainInput } from './pretrain.ts';
import { corpusExtraSources } from './pretrain-options.ts';
import { pretrainDefaults, pretrainModelConfig, type PretrainFamily, type PretrainSettings, type SpecialIds } from './pretrain-config.ts';
import { canonicalJson } from '../util/canonical-json.ts';

const CACHE_ENV = 'LORA_REPRO_CACHE';
export const PRETRAIN_FORMAT = 3;

/** `--cache`, else LORA_REPRO_CACHE, else `.cache/lora-repro` at the repository root. */
export function cacheRoot(flag?: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (flag !== undefined && flag !== '') return resolve(flag);
  const fromEnv = env[CACHE_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv);
  return fileURLToPath(new URL('../../.cache/lora-repro', import.meta.url));
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export interface PretrainMeta {
  format: number;
  key: string;
  family: PretrainFamily;
  seed: number;
  settings: PretrainSettings;
  corpus: Omit<Corpus, 'documents'>;
  tokenizer: { file: string; vocabSize: number; trainSeconds: number; reused: boolean };
  /** Model config vocab size equals the tokenizer's. */
  training: {
    tokens: number;
    trainBlocks: number;
    evalBlocks: number;
    msPerStep: number;
    trainSeconds: number;
    /** Held-out loss before/after, and ln(vocab) for scale. */
    evalLoss: { before: number; after: number; lnVocab: number };
    /** Held-out next-sentence accuracy (RoBERTa / DeBERTa with nspEvery > 0; chance 0.5). */
    nspAccuracy?: { before: number; after: number; pairs: number };
    lossCurve: number[];
    pairLossCurve?: number[];
  };
  totalSeconds: number;
  createdAt: string;
  /**
   * The tensor backend and kernels that computed it: pretraining is bit-for-bit repeatable only on the
   * same ones (native OpenBLAS and plain wasm differ in the last bits). Absent in entries written
   * before it was recorded.
   */
  backend?: { name: string; kernels: string; kernelsDetail: string };
  /** sha256 of every other file of the entry, as written: reuse verifies them (verifyEntry). */
  files?: Record<string, string>;
}

export interface EnsurePretrainedOptions {
  family: PretrainFamily;
  /** A data directory (see ../data/corpus.ts locateDataDir), or undefined for the synthetic corpus. */
  dataDir?: string;
  seed: number;
  /** Overrides of pretrainDefaults (e.g. steps); every field enters the cache key. */
  settings?: Partial<Omit<PretrainSettings, 'family'>>;
  cacheDir?: string;
  log?: (line: string) => void;
  /** Also write the model after these steps to `<snapshotDir>/step-<N>/` (pretrain.ts `snapshotSteps`). */
  snapshots?: { steps: readonly number[]; dir: string };
}

export interface PretrainedModelDir {
  dir: string;
  reused: boolean;
  meta: PretrainMeta;
}

export const fileSha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/**
 * Why a cached entry cannot be reused (unreadable pretrain.json, a file missing or changed since it
 * was written — a truncated copy, a disk error), or undefined when it checks out. Entries written
 * before checksums were recorded are checked for their files only.
 */
export function verifyEntry(dir: string): string | undefined {
  let meta: PretrainMeta;
  try {
    meta = JSON.parse(readFileSync(join(dir, PRETRAIN_FILES.meta), 'utf8')) as PretrainMeta;
  } catch (err) {
    return `${PRETRAIN_FILES.meta} is unreadable (${(err as Error).message.split('\n')[0]})`;
  }
  const expected = meta.files ?? Object.fromEntries([PRETRAIN_FILES.config, PRETRAIN_FILES.weights, PRETRAIN_FILES.tokenizer].map((f) => [f, '']));
  for (const [name, sum] of Object.entries(expected)) {
    const path = join(dir, name);
    if (!existsSync(path)) return `${name} is missing`;
    if (sum !== '' && fileSha256(path) !== sum) return `${name} does not match the checksum recorded when it was written`;
  }
  return undefined;
}

/** Checksums of the entry's files but pretrain.json. */
function entryChecksums(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir)
      .filter((n) => n !== PRETRAIN_FILES.meta)
      .sort()
      .map((n) => [n, fileSha256(join(dir, n))]),
  );
}

/** Builds `target` through a temporary sibling; returns false when another process created it first. */
async function publish(target: string, build: (tmp: string) => Promise<void>): Promise<boolean> {
  const tmp = `${target}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(tmp, { recursive: true });
  try {
    await build(tmp);
    renameSync(tmp, target);
    return true;
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (existsSync(join(target, PRETRAIN_FILES.meta))) return false;
    throw err;
  }
}

function ensureTokenizer(root: string, family: PretrainFamily, vocabSize: number, corpus: Corpus, log: (l: string) => void) {
  const key = sha256(canonicalJson({ format: PRETRAIN_FORMAT, family, vocabSize, corpus: corpus.hash })).slice(0, 16);
  const dir = join(root, 'tokenizers');
  const file = join(dir, `${family}-${key}.json`);
  if (existsSync(file)) {
    try {
      JSON.parse(readFileSync(file, 'utf8'));
      return { file, trainSeconds: 0, reused: true };
    } catch {
      // A truncated tokenizer this cache wrote: trained again below (the rename replaces it).
      log(`${file}: corrupt cached tokenizer (not valid JSON); training it again`);
    }
  }
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  const trained = trainByteLevelBpe(corpus.documents.flatMap(documentSegments), { vocabSize, family, allowSmaller: true });
  const trainSeconds = (performance.now() - t0) / 1000;
  const tmp = `${file}.tmp-${process.pid}`;
  writeTokenizerJson(tmp, trained);
  renameSync(tmp, file);
  log(`tokenizer: ${trained.vocab.size} tokens trained in ${trainSeconds.toFixed(2)} s → ${file}`);
  return { file, trainSeconds, reused: false };
}

export interface PretrainedLocation {
  /** Where the model directory is or will be. */
  dir: string;
  /** True when a complete directory is already cached there. */
  cached: boolean;
  key: string;
  settings: PretrainSettings;
  corpus: Corpus;
  root: string;
}

/**
 * Where the model for these options lives in the cache, without training anything (synchronous, for
 * callers that only look). Building the corpus is part of it: the key hashes its content.
 */
export function locatePretrained(opts: Omit<EnsurePretrainedOptions, 'log'>): PretrainedLocation {
  const settings: PretrainSettings = { ...pretrainDefaults(opts.family, opts.dataDir), ...(opts.settings ?? {}), family: opts.family };
  const extras = corpusExtraSources(settings);
  const corpus = buildCorpus({ dataDir: opts.dataDir, budgetBytes: settings.corpusBytes, linkRelated: settings.linkRelated, ...(extras.length > 0 ? { extraSources: extras } : {}) });
  const key = sha256(canonicalJson({ format: PRETRAIN_FORMAT, settings, corpus: corpus.hash, seed: opts.seed })).slice(0, 16);
  const root = cacheRoot(opts.cacheDir);
  const dir = join(root, 'pretrained', `${opts.family}-${key}`);
  return { dir, cached: existsSync(join(dir, PRETRAIN_FILES.meta)), key, settings, corpus, root };
}

/** The pretrained model directory for these options, trained now if the cache lacks it. */
export async function ensurePretrained(opts: EnsurePretrainedOptions): Promise<PretrainedModelDir> {
  const log = opts.log ?? (() => {});
  const t0 = performance.now();
  const { dir, cached, key, settings, corpus, root } = locatePretrained(opts);
  const metaFile = join(dir, PRETRAIN_FILES.meta);
  if (cached) {
    const problem = verifyEntry(dir);
    if (problem === undefined) return { dir, reused: true, meta: JSON.parse(readFileSync(metaFile, 'utf8')) as PretrainMeta };
    // Only this cache wrote the entry, so it is moved aside (kept for inspection) and built again.
    const aside = `${dir}.corrupt-${Date.now()}`;
    renameSync(dir, aside);
    log(`${dir}: corrupt cache entry (${problem}); moved to ${aside} and pretraining again`);
  }
  log(`corpus: ${corpus.description} (sha256 ${corpus.hash.slice(0, 12)})`);
  const tok = ensureTokenizer(root, opts.family, settings.vocabSize, corpus, log);
  const tokenizer = loadTokenizer(tok.file);
  let ids: SpecialIds;
  let packing: { before?: number; after: number };
  let masking: PretrainInput['masking'];
  let pairIds: PairLayoutIds | undefined;
  if (opts.family === 'roberta') {
    const sp = robertaSpecialTokens(tokenizer);
    ids = { pad: sp.pad, bos: sp.bos, eos: sp.eos };
    packing = { before: sp.bos, after: sp.eos };
    masking = { maskTokenId: sp.mask, vocabSize: tokenizer.vocabSize, specialIds: new Set([sp.bos, sp.pad, sp.eos, sp.unk, sp.mask]) };
    pairIds = { bos: sp.bos, eos: sp.eos, pad: sp.pad };
  } else if (opts.family === 'deberta') {
    // RoBERTa's layout with DeBERTa's tokens: documents packed as `[CLS] … [SEP]` (what run_mlm gets
    // from DebertaV2Tokenizer), pairs as `[CLS] A [SEP] B [SEP]`, [CLS] the bag-of-words anchor.
    const sp = debertaPretrainTokens(tokenizer);
    ids = { pad: sp.pad, bos: sp.cls, eos: sp.sep };
    packing = { before: sp.cls, after: sp.sep };
    masking = { maskTokenId: sp.mask, vocabSize: tokenizer.vocabSize, specialIds: new Set([sp.cls, sp.pad, sp.sep, sp.unk, sp.mask]) };
    pairIds = { bos: sp.cls, eos: sp.sep, pad: sp.pad, separators: 1 };
  } else {
    const eot = gpt2SpecialTokens(tokenizer).endOfText;
    ids = { pad: eot, bos: eot, eos: eot };
    packing = { after: eot };
  }
  // The segments of a linked document stay consecutive, so packing separates them like documents.
  const documents = corpus.documents.flatMap(documentSegments).map((d) => tokenizer.encode(d));
  const blocks = packDocuments(documents, { blockSize: settings.seqLen, ...packing });
  log(`${blocks.length} blocks of ${settings.seqLen} tokens`);
  const pairs = pairIds !== undefined && settings.nspEvery > 0 ? { documents: pairableDocuments(documents), ids: pairIds } : undefined;

  const backend = await initBackend();
  const config = pretrainModelConfig(settings, tokenizer.vocabSize, ids);
  const snapshot = opts.snapshots;
  const onSnapshot =
    snapshot === undefined
      ? undefined
      : async (step: number, model: TransformerModel, heldOutLoss: number, trainSeconds: number): Promise<void> => {
          const target = join(snapshot.dir, `step-${step}`);
          mkdirSync(target, { recursive: true });
          await writeModelFiles(target, model, tok.file);
          const info = { key, family: opts.family, seed: opts.seed, step, of: settings.steps, heldOutLoss, trainSeconds, settings, corpus: corpus.hash };
          writeFileSync(join(target, 'snapshot.json'), `${JSON.stringify(info, null, 2)}\n`);
        };
  const out = await withBlasThreads(settings.blasThreads, () =>
    pretrainModel({ settings, config, blocks, masking, pairs, seed: opts.seed, log, snapshotSteps: snapshot?.steps, onSnapshot }),
  );
  const corpusInfo: Omit<Corpus, 'documents'> = { ...corpus };
  delete (corpusInfo as Partial<Corpus>).documents;
  const meta: PretrainMeta = {
    format: PRETRAIN_FORMAT,
    key,
    family: opts.family,
    seed: opts.seed,
    settings,
    corpus: corpusInfo,
    tokenizer: { file: tok.file, vocabSize: tokenizer.vocabSize, trainSeconds: tok.trainSeconds, reused: tok.reused },
    training: {
      tokens: settings.steps * settings.batchSize * settings.seqLen,
      trainBlocks: out.trainBlocks,
      evalBlocks: out.evalBlocks,
      msPerStep: out.msPerStep,
      trainSeconds: out.trainSeconds,
      evalLoss: { ...out.evalLoss, lnVocab: Math.log(tokenizer.vocabSize) },
      ...(out.nspAccuracy !== undefined ? { nspAccuracy: out.nspAccuracy } : {}),
      lossCurve: out.lossCurve,
      ...(out.pairLossCurve !== undefined ? { pairLossCurve: out.pairLossCurve } : {}),
    },
    totalSeconds: (performance.now() - t0) / 1000,
    createdAt: new Date().toISOString(),
    backend: { name: backend.name, kernels: backend.kernels, kernelsDetail: backend.kernelsDetail },
  };
  try {
    mkdirSync(join(root, 'pretrained'), { recursive: true });
    const created = await publish(dir, async (tmp) => {
      await writeModelFiles(tmp, out.model, tok.file);
      meta.files = entryChecksums(tmp);
      writeFileSync(join(tmp, PRETRAIN_FILES.meta), `${JSON.stringify(meta, null, 2)}\n`);
    });
    if (!created) return { dir, reused: true, meta: JSON.parse(readFileSync(metaFile, 'utf8')) as PretrainMeta };
  } finally {
    out.model.dispose();
  }
  return { dir, reused: false, meta };
}
