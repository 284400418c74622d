/**
 * The pretrained stand-ins as they ship with the repository (issue 18): `artifacts/stand-ins/<name>/`
 * (mini-roberta, mini-gpt2, mini-deberta), exported from a pretraining cache entry (cache.ts) so that `make table2`
 * / `make table3` need not pretrain for the better part of an hour first.
 *
 *   config.json            the cache entry's, byte for byte
 *   model.safetensors      the cache entry's weights in float16 (round to nearest even); loading
 *                          converts them back to float32 exactly (../io/safetensors.ts toFloat32)
 *   mlm_head.safetensors   RoBERTa and DeBERTa, float16 too: ~50 KB next to the ~4 MB body, and it keeps
 *                          loadPretrainedMlm working on the shipped model (held-out MLM loss)
 *   tokenizer.json         the cache entry's
 *   provenance.json        the entry's pretrain.json (machine paths dropped), the command that
 *                          pretrains the float32 model again, its files' sha256, and the sha256 of
 *                          every shipped file, which the runner checks before use
 *
 * Exporting is deterministic: the same cache entry gives byte-identical files (the only times in
 * provenance.json are the entry's own). The root is LORA_REPRO_ARTIFACTS, else artifacts/stand-ins in
 * the repository.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { f16, readSafetensors, toFloat32, writeSafetensors, type TensorEntry } from '../io/safetensors.ts';
import { standInName } from '../models/stand-ins.ts';
import { UserError } from '../util/errors.ts';
import { PRETRAIN_FILES } from './artifacts.ts';
import { PRETRAIN_FORMAT, fileSha256, verifyEntry, type PretrainMeta, type PretrainedLocation } from './cache.ts';
import { PRETRAIN_FAMILIES, pretrainDefaults, type PretrainFamily } from './pretrain-config.ts';

const ARTIFACTS_ENV = 'LORA_REPRO_ARTIFACTS';
/** Bump when the layout or provenance.json changes meaning; the runner ignores other formats. */
export const SHIPPED_FORMAT = 1;
export const PROVENANCE_FILE = 'provenance.json';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));


/** `--artifacts`, else LORA_REPRO_ARTIFACTS, else `artifacts/stand-ins` in the repository. */
export function artifactsRoot(flag?: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (flag !== undefined && flag !== '') return resolve(flag);
  const fromEnv = env[ARTIFACTS_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv);
  return join(REPO_ROOT, 'artifacts', 'stand-ins');
}

/** What provenance.json holds; `pretrain` is the cache entry's pretrain.json less machine paths and its file sums. */
export interface ShippedProvenance {
  format: number;
  name: string;
  family: PretrainFamily;
  /** How the weights are stored; the float32 originals are `recreate.fp32Sha256`. */
  dtype: 'F16';
  recreate: {
    /** Pretrains the float32 model into the cache (run from the repository root). */
    command: string;
    /** Pretrains (or reuses the cache) and exports this folder again. */
    export: string;
    /** Settings of the entry that no flag sets ("key value ≠ default"); absent for a CLI-made entry. */
    unflaggedSettings?: string[];
    /** sha256 of the cache entry's files the export read (model.safetensors: the float32 weights). */
    fp32Sha256: Record<string, string>;
  };
  /** sha256 of every shipped file but this one. */
  files: Record<string, string>;
  pretrain: Omit<PretrainMeta, 'files' | 'tokenizer' | 'corpus'> & {
    tokenizer: Omit<PretrainMeta['tokenizer'], 'file'>;
    corpus: Omit<PretrainMeta['corpus'], 'dataDir'>;
  };
}

/** The part of provenance.json the runner relies on (zod: it is a file anyone can edit). */
const provenanceSchema = z.object({
  format: z.number().int(),
  name: z.string(),
  family: z.enum(PRETRAIN_FAMILIES),
  files: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/)),
  recreate: z.object({ command: z.string(), export: z.string() }),
  pretrain: z.object({
    format: z.number().int(),
    seed: z.number().int(),
    settings: z.record(z.string(), z.unknown()),
    corpus: z.object({ hash: z.string(), description: z.string() }),
  }),
});
export type ShippedHeader = z.infer<typeof provenanceSchema>;

/** The folder as a path to give `git checkout`: relative to the repository when inside it. */
function gitPath(dir: string): string {
  const rel = relative(REPO_ROOT, dir);
  return rel !== '' && !rel.startsWith('..') ? rel : dir;
}

/**
 * The pretrain command line that rebuilds `meta` (run from the repository root), and the settings
 * no flag can set (an entry made through the API, e.g. by a test), as "key value ≠ default".
 */
function recreateCommand(meta: PretrainMeta): { command: string; unflagged: string[] } {
  const defaults = pretrainDefaults(meta.family, meta.corpus.dataDir);
  const flags = [`lora-repro pretrain --model ${meta.family} --seed ${meta.seed}`];
  flags.push(meta.corpus.dataDir === undefined ? '--synthetic' : `--data-dir ${relative(REPO_ROOT, meta.corpus.dataDir) || '.'}`);
  if (meta.settings.steps !== defaults.steps) flags.push(`--steps ${meta.settings.steps}`);
  return { command: flags.join(' '), unflagged: settingsDiff(meta.settings, { ...defaults, steps: meta.settings.steps }) };
}

/** "key a ≠ b" for every field that differs between two settings objects. */
function settingsDiff(a: object, b: object): string[] {
  const av = a as Record<string, unknown>;
  const bv = b as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(av), ...Object.keys(bv)])].sort();
  return keys.filter((k) => JSON.stringify(av[k]) !== JSON.stringify(bv[k])).map((k) => `${k} ${JSON.stringify(av[k])} ≠ ${JSON.stringify(bv[k])}`);
}

/** The entry's float32 safetensors file as float16, refusing values beyond the half range. */
function writeHalf(src: string, dst: string): void {
  const file = readSafetensors(src);
  const out = new Map<string, TensorEntry>();
  for (const [name, t] of file.tensors) {
    if (t.dtype !== 'F32') throw new Error(`${src}: tensor ${name} is ${t.dtype}, expected F32`);
    const data = toFloat32(t);
    const half = f16(t.shape, data);
    const bits = half.data as Uint16Array;
    for (let i = 0; i < bits.length; i++) {
      if (((bits[i] as number) & 0x7c00) === 0x7c00 && Number.isFinite(data[i])) {
        throw new Error(`${src}: tensor ${name} value ${data[i]} is outside the float16 range; this model cannot ship in float16`);
      }
    }
    out.set(name, half);
  }
  writeSafetensors(dst, out, file.metadata);
}

/** Indented JSON with each array of numbers on one line (the loss curves: thousands of values). */
function provenanceJson(p: ShippedProvenance): string {
  const text = JSON.stringify(p, null, 2).replace(/\[\s*((?:-?[\d.eE+-]+,\s*)*-?[\d.eE+-]+)\s*\]/g, (_m, inner: string) => `[${inner.split(/,\s*/).join(', ')}]`);
  return `${text}\n`;
}

export interface ExportOptions {
  /** A complete pretraining cache entry (ensurePretrained's `dir`). */
  entryDir: string;
  /** The artifacts root; the folder written is `<root>/<standInName(family)>`. */
  root: string;
}

/** Writes (or replaces) the shipped folder of the cache entry; returns its folder and provenance. */
export function exportShipped(opts: ExportOptions): { dir: string; provenance: ShippedProvenance } {
  const problem = verifyEntry(opts.entryDir);
  if (problem !== undefined) throw new UserError(`${opts.entryDir}: ${problem}: delete the entry and pretrain again`);
  const meta = JSON.parse(readFileSync(join(opts.entryDir, PRETRAIN_FILES.meta), 'utf8')) as PretrainMeta;
  const name = standInName(meta.family);
  const target = join(opts.root, name);
  const sources = [PRETRAIN_FILES.config, PRETRAIN_FILES.weights, PRETRAIN_FILES.mlmHead, PRETRAIN_FILES.tokenizer].filter((f) =>
    existsSync(join(opts.entryDir, f)),
  );
  const fp32Sha256 = Object.fromEntries(sources.map((f) => [f, fileSha256(join(opts.entryDir, f))]));
  // pretrain.json in its own key order, less its file sums (recreate.fp32Sha256 has them) and the
  // machine's paths (the cache's tokenizer file, the data directory: recreate.command names it).
  const { files: _sums, ...kept } = meta;
  const { file: _tokenizerPath, ...tokenizerInfo } = meta.tokenizer;
  const { dataDir: _dataDir, ...corpusInfo } = meta.corpus;
  const pretrain = { ...kept, tokenizer: tokenizerInfo, corpus: corpusInfo };
  const { command, unflagged } = recreateCommand(meta);
  mkdirSync(opts.root, { recursive: true });
  const tmp = `${target}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  try {
    for (const f of sources) {
      if (f.endsWith('.safetensors')) writeHalf(join(opts.entryDir, f), join(tmp, f));
      else copyFileSync(join(opts.entryDir, f), join(tmp, f));
    }
    const provenance: ShippedProvenance = {
      format: SHIPPED_FORMAT,
      name,
      family: meta.family,
      dtype: 'F16',
      recreate: { command, export: `${command} --ship`, ...(unflagged.length > 0 ? { unflaggedSettings: unflagged } : {}), fp32Sha256 },
      files: Object.fromEntries(sources.map((f) => [f, fileSha256(join(tmp, f))])),
      pretrain,
    };
    writeFileSync(join(tmp, PROVENANCE_FILE), provenanceJson(provenance));
    // Swap the folder in whole, so files of an earlier export never linger.
    const old = `${target}.old-${process.pid}`;
    if (existsSync(target)) renameSync(target, old);
    renameSync(tmp, target);
    rmSync(old, { recursive: true, force: true });
    return { dir: target, provenance };
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** How to put a shipped folder right, for error messages. */
function fixHint(dir: string, family: string): string {
  return `restore it with 'git checkout -- ${gitPath(dir)}' or export it again with 'lora-repro pretrain --model ${family} --ship'`;
}

/** The folder's provenance.json, or undefined when the folder has none; a UserError when it is unreadable. */
export function readShipped(dir: string, family: PretrainFamily): ShippedHeader | undefined {
  const file = join(dir, PROVENANCE_FILE);
  if (!existsSync(file)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserError(`${file}: not valid JSON (${(err as Error).message.split('\n')[0]}): ${fixHint(dir, family)}`);
  }
  const parsed = provenanceSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(`${file}: ${issue?.path.join('.') || 'file'}: ${issue?.message ?? 'invalid'}: ${fixHint(dir, family)}`);
  }
  if (parsed.data.family !== family) throw new UserError(`${file}: family '${parsed.data.family}', expected '${family}': ${fixHint(dir, family)}`);
  return parsed.data;
}

/**
 * Checks every shipped file against the sha256 in provenance.json; a UserError names the first that
 * is missing or differs (a corrupt or edited artifact) and how to restore it.
 */
export function verifyShipped(dir: string, header: ShippedHeader): void {
  const listed = Object.keys(header.files);
  for (const needed of [PRETRAIN_FILES.config, PRETRAIN_FILES.weights, PRETRAIN_FILES.tokenizer]) {
    if (!listed.includes(needed)) throw new UserError(`${join(dir, PROVENANCE_FILE)}: lists no sha256 for ${needed}: ${fixHint(dir, header.family)}`);
  }
  for (const [name, sum] of Object.entries(header.files)) {
    const path = join(dir, name);
    if (dirname(resolve(path)) !== resolve(dir)) throw new UserError(`${join(dir, PROVENANCE_FILE)}: file name '${name}' is not in the folder: ${fixHint(dir, header.family)}`);
    if (!existsSync(path)) throw new UserError(`${path}: missing from the shipped stand-in: ${fixHint(dir, header.family)}`);
    if (fileSha256(path) !== sum) {
      throw new UserError(`${path}: sha256 differs from the one in ${PROVENANCE_FILE} (corrupt or edited): ${fixHint(dir, header.family)}`);
    }
  }
}

/**
 * Why the shipped folder is not the model pretraining would produce now, or undefined when it is:
 * same corpus (sha256 of its documents), settings, seed and pretraining format (what the cache key
 * hashes, cache.ts locatePretrained).
 */
export function shippedMismatch(header: ShippedHeader, want: Pick<PretrainedLocation, 'corpus' | 'settings'> & { seed: number }): string | undefined {
  if (header.format !== SHIPPED_FORMAT) return `its format is ${header.format}, this code reads ${SHIPPED_FORMAT}`;
  const p = header.pretrain;
  if (p.corpus.hash !== want.corpus.hash) {
    return (
      `it was pretrained on another corpus (sha256 ${p.corpus.hash.slice(0, 12)}: ${p.corpus.description}) ` +
      `than the one pretraining would use now (sha256 ${want.corpus.hash.slice(0, 12)}: ${want.corpus.description})`
    );
  }
  if (p.format !== PRETRAIN_FORMAT) return `it was pretrained by pretraining format ${p.format}, this code is at ${PRETRAIN_FORMAT}`;
  if (p.seed !== want.seed) return `it was pretrained with seed ${p.seed}, not ${want.seed}`;
  const diff = settingsDiff(p.settings, want.settings);
  if (diff.length > 0) return `it was pretrained with other settings (shipped ≠ now: ${diff.join(', ')})`;
  return undefined;
}
