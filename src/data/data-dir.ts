/**
 * Where the datasets live, and reading one of their files as text.
 *
 * The data directory has the layout of /work/shared/data (see its MANIFEST.md):
 *   glue/<TASK>/{train,dev}.tsv   (MNLI: train.tsv, dev_matched.tsv, dev_mismatched.tsv)
 *   e2e/{trainset,devset,testset_w_refs}.csv and e2e/{valid,test}.txt (LoRA line format)
 * Precedence: the `--data-dir` flag, then the LORA_REPRO_DATA environment variable, then `shared/data`
 * beside the repository checkout (the layout of a development checkout and of CI). Nothing is ever
 * downloaded: a missing file is a UserError that says how to point the harness at the data.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../util/errors.ts';
import { GLUE_TASKS, type GlueTaskName } from './glue-tasks.ts';

export const DATA_DIR_ENV = 'LORA_REPRO_DATA';

const HOW_TO_SET = `set ${DATA_DIR_ENV}=/path/to/data or pass --data-dir (layout: glue/<TASK>/{train,dev}.tsv, e2e/*.csv, e2e/*.txt)`;

/** Splits that MANIFEST.md lists as not obtainable; named in the error so nobody hunts for a typo. */
const KNOWN_MISSING = new Set([
  'glue/MNLI/train.tsv',
  'glue/MNLI/dev_matched.tsv',
  'glue/MNLI/dev_mismatched.tsv',
  'glue/QNLI/train.tsv',
  'glue/QQP/train.tsv',
  'glue/QQP/dev.tsv',
  'e2e/train.txt',
]);

export interface DataDirOptions {
  /** Value of --data-dir, if given. */
  flag?: string;
  /** Environment to read LORA_REPRO_DATA from (defaults to process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Base for relative paths (defaults to process.cwd()). */
  cwd?: string;
}

export interface ResolvedDataDir {
  dir: string;
  source: 'flag' | 'env' | 'default';
}

/** shared/data next to the repository root (this file is src/data/data-dir.ts). */
export function defaultDataDir(): string {
  return fileURLToPath(new URL('../../../shared/data', import.meta.url));
}

/** The data directory the options name, whether or not it exists. */
function chooseDataDir(options: DataDirOptions): ResolvedDataDir {
  const env = options.env ?? process.env;
  let dir: string;
  let source: ResolvedDataDir['source'];
  if (options.flag !== undefined && options.flag !== '') {
    dir = options.flag;
    source = 'flag';
  } else if (env[DATA_DIR_ENV] !== undefined && env[DATA_DIR_ENV] !== '') {
    dir = env[DATA_DIR_ENV] as string;
    source = 'env';
  } else {
    dir = defaultDataDir();
    source = 'default';
  }
  return { dir: resolve(options.cwd ?? process.cwd(), dir), source };
}

const isDirectory = (path: string): boolean => existsSync(path) && statSync(path).isDirectory();

/**
 * Like resolveDataDir, but undefined when only the default directory was asked for and it is absent
 * (a checkout without shared/data, whose splits may come from the hub cache). A directory named by
 * --data-dir or LORA_REPRO_DATA must exist: a typo there should not silently switch sources.
 */
export function findDataDir(options: DataDirOptions = {}): ResolvedDataDir | undefined {
  const chosen = chooseDataDir(options);
  return chosen.source === 'default' && !isDirectory(chosen.dir) ? undefined : resolveDataDir(options);
}

export function resolveDataDir(options: DataDirOptions = {}): ResolvedDataDir {
  const { dir: abs, source } = chooseDataDir(options);
  if (!isDirectory(abs)) {
    const from = source === 'flag' ? '--data-dir' : source === 'env' ? DATA_DIR_ENV : 'default data directory';
    throw new UserError(`data directory ${abs} (from ${from}) does not exist: ${HOW_TO_SET}`);
  }
  return { dir: abs, source };
}

/** Why a data file may be absent, for the not-found message ('' when nothing is known). */
export function missingFileNote(relative: string): string {
  return KNOWN_MISSING.has(relative)
    ? ' (this split is not in the shared data, see MANIFEST.md "Missing splits"; obtain it from the original release)'
    : '';
}

export const isDataFile = (path: string): boolean => existsSync(path) && statSync(path).isFile();

/** Absolute path of `relative` inside the data directory; throws a UserError if the file is missing. */
export function dataFile(dataDir: string, relative: string): string {
  const path = join(dataDir, relative);
  if (!isDataFile(path)) throw new UserError(`data file ${path} not found${missingFileNote(relative)}: ${HOW_TO_SET}`);
  return path;
}

/** A GLUE split's path inside the data directory: 'train' or an eval split name ('dev', 'dev_matched', ...). */
export function glueSplitRelativePath(task: GlueTaskName, split: string): string {
  const spec = GLUE_TASKS[task];
  if (split === 'train') return spec.trainFile;
  const evalSplit = spec.evalSplits.find((s) => s.name === split);
  if (evalSplit === undefined) {
    const names = ['train', ...spec.evalSplits.map((s) => s.name)].join(', ');
    throw new UserError(`GLUE task ${task} has no split '${split}': use one of ${names}`);
  }
  return evalSplit.file;
}

/** Path of a GLUE split in the data directory; a UserError when the file is missing. */
export function glueSplitFile(dataDir: string, task: GlueTaskName, split: string): string {
  return dataFile(dataDir, glueSplitRelativePath(task, split));
}

/**
 * Reads a data file as UTF-8 text with a leading byte-order mark removed (the GLUE MRPC files start
 * with one, MANIFEST.md). Invalid UTF-8 is a UserError naming the file and the first bad line.
 */
export function readDataText(path: string): string {
  const bytes = readFileSync(path);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    const lossy = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
    const bad = lossy.indexOf('\uFFFD');
    const line = lossy.slice(0, Math.max(bad, 0)).split('\n').length;
    throw new UserError(`${path}:${line}: not valid UTF-8: re-save the file as UTF-8`);
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
