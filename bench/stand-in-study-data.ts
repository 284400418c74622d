/**
 * The data of the stand-in study (issue 18, item 1): what fine-tuning a pretrained stand-in scores
 * against how much pretraining it had. `collectStudy` reads the result.json of every fine-tuning run
 * under some folders, finds the pretrained model each started from (its `config.model` folder: a
 * mid-run snapshot with snapshot.json, or a finished cache entry with pretrain.json) and groups the
 * runs by that model. bench/stand-in-study.ts is the command line; docs/stand-ins.md the how-to.
 *
 * Only the fields read here are validated (zod), so any RunResult version and hand-written test
 * files pass. The JSON written holds no absolute paths: a model point is named by its cache key and
 * step, a run by its folder relative to the folder given in --runs (that folder's name first).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { readSafetensors } from '../src/io/safetensors.ts';
import { archLabel, completeArchitecture, isDefaultArchitecture } from '../src/pretrain/architecture.ts';
import { CORPUS_EXTRAS } from '../src/pretrain/pretrain-config.ts';
import { nonDefaultOptions, optionsLabel } from '../src/pretrain/pretrain-options.ts';
import { TEMP_PREFIX } from '../src/util/atomic-write.ts';
import { runResultSchema } from '../src/train/result-schema.ts';
import { UserError } from '../src/util/errors.ts';

const settingsSchema = z.object({
  family: z.string(),
  steps: z.number().int().positive(),
  batchSize: z.number().int().positive(),
  seqLen: z.number().int().positive(),
  hidden: z.number().int().positive(),
  layers: z.number().int().positive(),
  /** Always written by src/pretrain; optional for hand-made records (then the width's, src/pretrain/architecture.ts). */
  heads: z.number().int().positive().optional(),
  intermediate: z.number().int().positive().optional(),
  warmupSteps: z.number().int().nonnegative(),
  shortSeqSteps: z.number().int().nonnegative(),
  shortSeqLen: z.number().int().positive(),
  corpusBytes: z.number().int().positive(),
  blasThreads: z.number().int().positive(),
  /** The tokenizer's target size: always written by src/pretrain; optional for hand-made records. */
  vocabSize: z.number().int().positive().optional(),
  /** The objective and corpus (src/pretrain/pretrain-options.ts): always written by src/pretrain but the last two, which only a non-default run has. */
  nspEvery: z.number().int().nonnegative().optional(),
  bagOfWords: z.boolean().optional(),
  pairBagOfWords: z.boolean().optional(),
  corpusExtra: z.array(z.enum(CORPUS_EXTRAS)).optional(),
});

/** snapshot.json of `lora-repro pretrain --snapshots` (src/pretrain/cache.ts onSnapshot). */
const snapshotSchema = z.object({
  key: z.string().min(1),
  family: z.string(),
  seed: z.number().int(),
  step: z.number().int().positive(),
  of: z.number().int().positive(),
  heldOutLoss: z.number(),
  trainSeconds: z.number().nonnegative(),
  settings: settingsSchema,
  corpus: z.string(),
});

/** pretrain.json of a cache entry (src/pretrain/cache.ts PretrainMeta), the fields used here. */
const pretrainMetaSchema = z.object({
  key: z.string().min(1),
  family: z.string(),
  seed: z.number().int(),
  settings: settingsSchema,
  corpus: z.object({ hash: z.string() }),
  training: z.object({
    msPerStep: z.number().positive(),
    trainSeconds: z.number().nonnegative(),
    evalLoss: z.object({ after: z.number() }),
  }),
});
type PretrainMetaFields = z.infer<typeof pretrainMetaSchema>;

/**
 * The RunResult fields read: the trainer's own schema (src/train/result-schema.ts) for the record, and
 * a view of the `config` fields used (the schema keeps `config` an open record). Status, best epoch,
 * wall time and finish time may be missing in hand-made or older results.
 */
const runFieldsSchema = runResultSchema
  .pick({ task: true, method: true, seed: true, status: true, headlineMetric: true, metrics: true, bestEpoch: true, wallSeconds: true, finishedAt: true, schedule: true, baseline: true })
  .partial({ status: true, bestEpoch: true, wallSeconds: true, finishedAt: true })
  .extend({
    config: z.object({
      model: z.string(),
      learningRate: z.number(),
      epochs: z.number().int(),
      trainLimit: z.number().int().optional(),
      evalLimit: z.number().int().optional(),
      selectOn: z.enum(['dev', 'heldout']).optional(),
      heldoutSize: z.number().int().optional(),
    }),
  });

export const studyRunSchema = z.object({
  /** The run folder: the --runs folder's name, then the path below it. */
  run: z.string(),
  task: z.string(),
  method: z.string(),
  lr: z.number(),
  seed: z.number().int(),
  /** The run's headline metric and its reported value (RunResult.metrics[headlineMetric]). */
  metric: z.string(),
  value: z.number(),
  /** Training / evaluation subset sizes; null = the whole split. */
  trainLimit: z.number().int().nullable(),
  evalLimit: z.number().int().nullable(),
  /** Where the reported epoch was chosen: `heldout` = on `heldoutSize` examples held out of the training split (lora-repro train --select-on); absent = on dev. */
  heldoutSize: z.number().int().optional(),
  /** The run's untrained baseline (majority class, train mean) on the same examples, in its headline metric; absent where not recorded. */
  baseline: z.number().optional(),
  /** Training examples the run trained on (RunResult.schedule.trainExamples); absent in runs that did not record it. */
  trainExamples: z.number().int().optional(),
  /** Configured fine-tuning epochs, and the one reported (best on dev by default). */
  epochs: z.number().int(),
  bestEpoch: z.number().int().nullable(),
  wallSeconds: z.number().nullable(),
});
export type StudyRun = z.infer<typeof studyRunSchema>;

export const CPU_SECONDS_FROM = ['final-msPerStep', 'snapshot-trainSeconds'] as const;

export const studyPointSchema = z.object({
  /** `<family>-<key>@<step>`: the pretraining run (its cache key) and how far along it the model is. */
  id: z.string(),
  family: z.string(),
  key: z.string(),
  /** Pretraining seed. */
  seed: z.number().int(),
  /** First 12 hex digits of the corpus sha256, and its size setting. */
  corpus: z.string(),
  corpusBytes: z.number().int(),
  step: z.number().int(),
  /** Steps of the pretraining run this point comes from (its schedule decays to 0 there). */
  totalSteps: z.number().int(),
  /** step == totalSteps: the learning rate had decayed to 0; a snapshot is a point on the way. */
  annealed: z.boolean(),
  source: z.enum(['snapshot', 'final']),
  /** Nominal tokens seen: step × batchSize × seqLen (pretrain.json's `training.tokens` formula). */
  tokens: z.number(),
  batchSize: z.number().int(),
  seqLen: z.number().int(),
  /** The architecture (src/pretrain/architecture.ts; `lora-repro pretrain --hidden/--layers/--heads/--intermediate`). */
  hidden: z.number().int(),
  layers: z.number().int(),
  /** Optional only so that a study JSON written before the width / depth axis still reads. */
  heads: z.number().int().optional(),
  intermediate: z.number().int().optional(),
  /**
   * The pretraining objective (`mlm`, `mlm-nsp`, …: src/pretrain/pretrain-options.ts) and the extra
   * corpus text (`wordnet`), and the tokenizer's size, each only where it is not the family's default
   * (`lora-repro pretrain --objective / --corpus-extra / --vocab`), so the points of the other axes read as they did.
   */
  objective: z.string().optional(),
  corpusExtra: z.string().optional(),
  vocabSize: z.number().int().positive().optional(),
  /**
   * Parameters of the body fine-tuning starts from (the model folder's model.safetensors: no MLM
   * or next-sentence head), all and less the token / position / token-type embedding tables;
   * null when the folder has no weights file to count.
   */
  params: z.number().int().nullable().optional(),
  nonEmbeddingParams: z.number().int().nullable().optional(),
  warmupSteps: z.number().int(),
  /** Steps before this one trained on shortSeqLen-token pieces of the blocks (pretrain-config.ts). */
  shortSeqSteps: z.number().int(),
  shortSeqLen: z.number().int(),
  blasThreads: z.number().int(),
  /**
   * Pretraining compute in seconds of one process (blasThreads BLAS threads): step × the median
   * ms/step of the finished run when its pretrain.json is known (`final-msPerStep`, comparable
   * along the run), else the snapshot's measured training-loop seconds (`snapshot-trainSeconds`).
   * Each run's own ms/step: the one measure of compute that points of different width and depth
   * share (the chart's x axis).
   */
  cpuSeconds: z.number(),
  cpuSecondsFrom: z.enum(CPU_SECONDS_FROM),
  msPerStep: z.number().nullable(),
  /** Training-loop seconds measured up to this point (snapshot.json / pretrain.json). */
  measuredSeconds: z.number(),
  /** Held-out masked-LM (or causal-LM) loss at this point; comparable only within one corpus. */
  heldOutLoss: z.number(),
  runs: z.array(studyRunSchema),
});
export type StudyPoint = z.infer<typeof studyPointSchema>;

export const studySchema = z.object({
  schema: z.literal(1),
  profile: z.string(),
  points: z.array(studyPointSchema),
  /** Runs left out, with why (failed, no pretrained-stand-in model, a same-seed duplicate). */
  skipped: z.array(z.object({ run: z.string(), reason: z.string() })),
});
export type Study = z.infer<typeof studySchema>;

export interface CollectOptions {
  /** Folders searched (recursively) for result.json. */
  runs: readonly string[];
  /** Extra places to look for the finished run of a snapshot: cache roots (`<dir>/pretrained/*`) or entry folders. */
  caches?: readonly string[];
  profile?: string;
  /** Resolves a relative config.model (default: the current directory). */
  cwd?: string;
}

const issues = (e: z.ZodError): string =>
  e.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`)
    .join('; ');

function readJson<T>(file: string, schema: z.ZodType<T>, what: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserError(`${file}: not valid JSON (${(err as Error).message.split('\n')[0]}): ${what}`);
  }
  const p = schema.safeParse(raw);
  if (!p.success) throw new UserError(`${file}: not ${what} (${issues(p.error)})`);
  return p.data;
}

/** Every result.json under `root`, sorted; staging folders of running trains are left out. */
export function findResults(root: string): string[] {
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new UserError(`--runs ${root}: not a folder: name a folder holding run folders with result.json`);
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith(TEMP_PREFIX) || name === 'adapter' || name === 'predictions') continue;
      const path = join(dir, name);
      if (name === 'result.json') out.push(path);
      else if (statSync(path).isDirectory()) walk(path);
    }
  };
  walk(root);
  return out;
}

interface ModelInfo {
  source: 'snapshot' | 'final';
  key: string;
  family: string;
  seed: number;
  step: number;
  of: number;
  heldOutLoss: number;
  measuredSeconds: number;
  corpus: string;
  settings: z.infer<typeof settingsSchema>;
  /** The finished run's meta when this is one. */
  meta?: PretrainMetaFields;
  params: { all: number; nonEmbedding: number } | null;
}

/** Embedding tables looked up by index (RoBERTa / DeBERTa `*_embeddings`, GPT-2 `wte` / `wpe`): not in the non-embedding count. */
const EMBEDDING_TABLE = /(?:^|\.)(?:word_embeddings|position_embeddings|token_type_embeddings|wte|wpe)\.weight$/;

/** Parameters of the model folder's weights (model.safetensors), or null when it has none. */
function countParams(dir: string): ModelInfo['params'] {
  const file = join(dir, 'model.safetensors');
  if (!existsSync(file)) return null;
  let all = 0;
  let embedding = 0;
  for (const [name, t] of readSafetensors(file).tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    all += n;
    if (EMBEDDING_TABLE.test(name)) embedding += n;
  }
  return { all, nonEmbedding: all - embedding };
}

/** What a model folder is, or a reason it is not a pretrained stand-in. */
function readModel(dir: string): ModelInfo | string {
  const snap = join(dir, 'snapshot.json');
  if (existsSync(snap)) {
    const s = readJson(snap, snapshotSchema, 'a pretraining snapshot.json (lora-repro pretrain --snapshots)');
    return { source: 'snapshot', key: s.key, family: s.family, seed: s.seed, step: s.step, of: s.of, heldOutLoss: s.heldOutLoss, measuredSeconds: s.trainSeconds, corpus: s.corpus, settings: s.settings, params: countParams(dir) };
  }
  const metaFile = join(dir, 'pretrain.json');
  // A shipped stand-in (artifacts/stand-ins/<name>/, src/pretrain/shipped.ts) carries its cache entry's pretrain.json as provenance.json's `pretrain`.
  const shipped = join(dir, 'provenance.json');
  if (existsSync(metaFile) || existsSync(shipped)) {
    const m = existsSync(metaFile)
      ? readJson(metaFile, pretrainMetaSchema, 'a pretraining cache entry pretrain.json (src/pretrain/cache.ts)')
      : readJson(shipped, z.object({ pretrain: pretrainMetaSchema }), 'a shipped stand-in provenance.json (src/pretrain/shipped.ts)').pretrain;
    const steps = m.settings.steps;
    return { source: 'final', key: m.key, family: m.family, seed: m.seed, step: steps, of: steps, heldOutLoss: m.training.evalLoss.after, measuredSeconds: m.training.trainSeconds, corpus: m.corpus.hash, settings: m.settings, meta: m, params: countParams(dir) };
  }
  return existsSync(dir) ? 'its model folder has no snapshot.json, pretrain.json or provenance.json (not a stand-in pretrained here)' : 'its model folder no longer exists';
}

/**
 * A model folder's name for run folders, `<family>-<key>-step<N>`, with the architecture, corpus extra
 * and objective after the family when they are not the default stand-in's (`roberta-d256-l4-<key>-step<N>`,
 * `roberta-wordnet-<key>-step<N>`; the default's names stay as they were, so finished runs are still
 * found), and its architecture label; a UserError when it is no stand-in.
 */
export function describeModel(dir: string): { tag: string; arch: string } {
  const m = readModel(dir);
  if (typeof m === 'string') throw new UserError(`--models ${dir}: ${m}: name a snapshot folder (lora-repro pretrain --snapshots … --snapshot-dir DIR: DIR/step-<N>/) or a pretraining cache entry (<cache>/pretrained/<family>-<key>/)`);
  const arch = archLabel(m.settings);
  const variant = optionsLabel(nonDefaultOptions(m.family, m.settings));
  return { tag: `${m.family}-${isDefaultArchitecture(m.family, m.settings) ? '' : `${arch}-`}${variant === '' ? '' : `${variant}-`}${m.key}-step${m.step}`, arch };
}

/** pretrain.json of the cache entries under the --cache folders, by key. */
function cacheMetas(caches: readonly string[]): Map<string, PretrainMetaFields> {
  const out = new Map<string, PretrainMetaFields>();
  for (const c of caches) {
    const candidates = [c, ...[c, join(c, 'pretrained')].filter((d) => existsSync(d) && statSync(d).isDirectory()).flatMap((d) => readdirSync(d).sort().map((n) => join(d, n)))];
    for (const dir of candidates) {
      const file = join(dir, 'pretrain.json');
      if (!existsSync(file)) continue;
      const m = readJson(file, pretrainMetaSchema, 'a pretraining cache entry pretrain.json (src/pretrain/cache.ts)');
      out.set(m.key, m);
    }
  }
  return out;
}

const cmp = (a: string | number, b: string | number): number => (a < b ? -1 : a > b ? 1 : 0);

/** The identity of a run within a point: two runs equal in all of it are one run done twice. */
const runIdentity = (r: StudyRun): string => JSON.stringify([r.task, r.method, r.lr, r.seed, r.trainLimit, r.evalLimit, r.heldoutSize ?? null, r.epochs, r.metric]);

export function compareRuns(a: StudyRun, b: StudyRun): number {
  return cmp(a.task, b.task) || cmp(a.method, b.method) || a.lr - b.lr || (a.trainLimit ?? Infinity) - (b.trainLimit ?? Infinity) || (a.evalLimit ?? Infinity) - (b.evalLimit ?? Infinity) || (a.heldoutSize ?? 0) - (b.heldoutSize ?? 0) || a.epochs - b.epochs || a.seed - b.seed || cmp(a.run, b.run);
}

export function collectStudy(opts: CollectOptions): Study {
  if (opts.runs.length === 0) throw new UserError('collect needs at least one --runs DIR (a folder of lora-repro train run folders)');
  const cwd = opts.cwd ?? process.cwd();
  const finals = cacheMetas(opts.caches ?? []);
  const models = new Map<string, ModelInfo | string>();
  const found: { model: ModelInfo; run: StudyRun; finishedAt: string }[] = [];
  const skipped: Study['skipped'] = [];
  for (const root of opts.runs.map((r) => resolve(cwd, r))) {
    for (const file of findResults(root)) {
      const runName = join(basename(root), relative(root, dirname(file))).split('\\').join('/');
      const r = readJson(file, runFieldsSchema, 'a fine-tuning result.json (lora-repro train)');
      if (r.status !== undefined && r.status !== 'finished') {
        skipped.push({ run: runName, reason: `status ${r.status}` });
        continue;
      }
      const value = r.metrics[r.headlineMetric];
      if (value === undefined) {
        skipped.push({ run: runName, reason: `no value of its headline metric ${r.headlineMetric}` });
        continue;
      }
      const modelDir = resolve(cwd, r.config.model);
      if (!models.has(modelDir)) models.set(modelDir, readModel(modelDir));
      const model = models.get(modelDir) as ModelInfo | string;
      if (typeof model === 'string') {
        skipped.push({ run: runName, reason: model });
        continue;
      }
      if (model.meta !== undefined) finals.set(model.key, model.meta);
      found.push({
        model,
        finishedAt: r.finishedAt ?? '',
        run: {
          run: runName, task: r.task, method: r.method, lr: r.config.learningRate, seed: r.seed, metric: r.headlineMetric, value,
          trainLimit: r.config.trainLimit ?? null, evalLimit: r.config.evalLimit ?? null, epochs: r.config.epochs,
          bestEpoch: r.bestEpoch ?? null, wallSeconds: r.wallSeconds ?? null,
          ...(r.schedule === undefined ? {} : { trainExamples: r.schedule.trainExamples }),
          ...(r.baseline?.metrics[r.headlineMetric] === undefined ? {} : { baseline: r.baseline.metrics[r.headlineMetric] }),
          ...(r.config.selectOn === 'heldout' && r.config.heldoutSize !== undefined ? { heldoutSize: r.config.heldoutSize } : {}),
        },
      });
    }
  }
  const points = new Map<string, { point: StudyPoint; seen: Map<string, { run: StudyRun; finishedAt: string }> }>();
  for (const { model: m, run, finishedAt } of found) {
    const id = `${m.family}-${m.key}@${m.step}`;
    let entry = points.get(id);
    if (entry === undefined) {
      const final = finals.get(m.key);
      const s = m.settings;
      entry = {
        seen: new Map(),
        point: {
          id, family: m.family, key: m.key, seed: m.seed, corpus: m.corpus.slice(0, 12), corpusBytes: s.corpusBytes,
          step: m.step, totalSteps: m.of, annealed: m.step === m.of, source: m.source,
          tokens: m.step * s.batchSize * s.seqLen, batchSize: s.batchSize, seqLen: s.seqLen, hidden: s.hidden, layers: s.layers,
          heads: completeArchitecture(s).heads, intermediate: completeArchitecture(s).intermediate, ...nonDefaultOptions(m.family, s), params: m.params?.all ?? null, nonEmbeddingParams: m.params?.nonEmbedding ?? null,
          warmupSteps: s.warmupSteps, shortSeqSteps: s.shortSeqSteps, shortSeqLen: s.shortSeqLen, blasThreads: s.blasThreads,
          // One ms/step for every point of a run, so the points are comparable: a snapshot's own
          // seconds include its held-out evaluations and whatever load the machine had then.
          cpuSeconds: final !== undefined ? (m.step * final.training.msPerStep) / 1000 : m.measuredSeconds,
          cpuSecondsFrom: final !== undefined ? 'final-msPerStep' : 'snapshot-trainSeconds',
          msPerStep: final?.training.msPerStep ?? null,
          measuredSeconds: m.measuredSeconds,
          heldOutLoss: m.heldOutLoss,
          runs: [],
        },
      };
      points.set(id, entry);
    }
    // The same run twice (e.g. a rerun into another folder): the later one counts, once.
    const ident = runIdentity(run);
    const prev = entry.seen.get(ident);
    if (prev === undefined) entry.seen.set(ident, { run, finishedAt });
    else {
      const [keep, drop] = cmp(finishedAt, prev.finishedAt) > 0 || (finishedAt === prev.finishedAt && cmp(run.run, prev.run.run) > 0) ? [{ run, finishedAt }, prev] : [prev, { run, finishedAt }];
      entry.seen.set(ident, keep);
      skipped.push({ run: drop.run.run, reason: `same model, settings and seed as ${keep.run.run} (kept, finished later)` });
    }
  }
  const out = [...points.values()].map(({ point, seen }) => ({ ...point, runs: [...seen.values()].map((v) => v.run).sort(compareRuns) }));
  out.sort((a, b) => cmp(a.family, b.family) || cmp(a.key, b.key) || a.step - b.step);
  skipped.sort((a, b) => cmp(a.run, b.run) || cmp(a.reason, b.reason));
  return studySchema.parse({ schema: 1, profile: opts.profile ?? 'mini', points: out, skipped });
}

export function readStudy(file: string): Study {
  if (!existsSync(file)) throw new UserError(`${file}: no such file: write it first with \`node --import tsx bench/stand-in-study.ts collect --runs DIR --out ${file}\``);
  return readJson(file, studySchema, 'a stand-in study (bench/stand-in-study.ts collect)');
}
