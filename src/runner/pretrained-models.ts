/**
 * The offline stand-ins for the paper's pretrained models (issue 7, the `mini` profile): a spec that
 * names `mini-roberta`, `mini-gpt2` or `mini-deberta` gets a small RoBERTa / GPT-2 / DeBERTa-v2 pretrained from scratch on the
 * data directory's training text (or the synthetic corpus without one), with its own BPE tokenizer.
 * The repository ships them (artifacts/stand-ins/, ../pretrain/shipped.ts; issue 18), and they are
 * used as they are when they are what pretraining would produce now; otherwise (another data
 * directory, the synthetic corpus, LORA_REPRO_PRETRAIN_STEPS) pretraining runs once in the parent
 * process before any worker starts, cached under LORA_REPRO_CACHE keyed by corpus, settings and seed.
 */
import { locateDataDir } from '../data/corpus.ts';
import { ensurePretrained, locatePretrained } from '../pretrain/cache.ts';
import { PRETRAIN_FAMILIES, pretrainDefaults, type PretrainFamily, type PretrainSettings } from '../pretrain/pretrain-config.ts';
import { standInName } from '../models/stand-ins.ts';
import { artifactsRoot, readShipped, shippedMismatch, verifyShipped } from '../pretrain/shipped.ts';
import { UserError } from '../util/errors.ts';
import { initBackend } from '../backend/select.ts';
import { join } from 'node:path';

export const PRETRAINED_STAND_INS: Readonly<Record<string, PretrainFamily>> = Object.fromEntries(PRETRAIN_FAMILIES.map((f) => [standInName(f), f]));

/** Set to 1 (as `make smoke` does): a shipped stand-in that cannot be used is an error, not a pretraining run. */
const REQUIRE_SHIPPED_ENV = 'LORA_REPRO_REQUIRE_SHIPPED';

export interface PrepareOptions {
  /** --data-dir, else LORA_REPRO_DATA (`none`: synthetic corpus), else ../shared/data when present. */
  dataDir?: string;
  seed?: number;
  log?: (line: string) => void;
  /** Where the shipped stand-ins are (default: LORA_REPRO_ARTIFACTS, else artifacts/stand-ins). */
  artifactsDir?: string;
  /** The pretraining cache root (default: LORA_REPRO_CACHE, else .cache/lora-repro). */
  cacheDir?: string;
  /** Where LORA_REPRO_PRETRAIN_STEPS, LORA_REPRO_REQUIRE_SHIPPED and LORA_REPRO_ARTIFACTS are read (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/**
 * LORA_REPRO_PRETRAIN_STEPS shortens pretraining (e.g. `make smoke` without a data directory): the
 * step count, with the warm-up and short-sequence phases scaled in proportion. A different step count
 * is a different cache entry, so it never replaces the full model; the shipped stand-ins are not used.
 */
export function pretrainOverrides(family: PretrainFamily, dataDir: string | undefined, env: NodeJS.ProcessEnv = process.env): Partial<PretrainSettings> | undefined {
  const raw = env.LORA_REPRO_PRETRAIN_STEPS;
  if (raw === undefined || raw === '') return undefined;
  const steps = Number(raw);
  if (!Number.isInteger(steps) || steps < 1) throw new UserError(`LORA_REPRO_PRETRAIN_STEPS: expected a positive integer, got '${raw}'`);
  const base = pretrainDefaults(family, dataDir);
  const scale = steps / base.steps;
  return { steps, warmupSteps: Math.max(1, Math.round(base.warmupSteps * scale)), shortSeqSteps: Math.round(base.shortSeqSteps * scale) };
}

export type ShippedChoice = { dir: string; weightsSha256: string } | { reason: string };

/**
 * The shipped stand-in of `family` when it is the model pretraining would produce now (same corpus,
 * settings and seed; no LORA_REPRO_PRETRAIN_STEPS), its files verified first (a UserError when one
 * differs from its recorded sha256); else why not.
 */
export function shippedStandIn(
  family: PretrainFamily,
  opts: { dataDir: string | undefined; seed: number; root: string; overrides: Partial<PretrainSettings> | undefined },
): ShippedChoice {
  const dir = join(opts.root, standInName(family));
  const header = readShipped(dir, family);
  if (header === undefined) return { reason: `no shipped stand-in at ${dir}` };
  if (opts.overrides !== undefined) return { reason: `LORA_REPRO_PRETRAIN_STEPS=${opts.overrides.steps} is set (the shipped ${dir} has ${String(header.pretrain.settings.steps)} steps)` };
  const want = locatePretrained({ family, dataDir: opts.dataDir, seed: opts.seed });
  const why = shippedMismatch(header, { corpus: want.corpus, settings: want.settings, seed: opts.seed });
  if (why !== undefined) return { reason: `the shipped ${dir} does not fit: ${why}` };
  verifyShipped(dir, header);
  return { dir, weightsSha256: header.files['model.safetensors'] as string };
}

/**
 * Model name → model directory, for every stand-in among `names` (others are left alone): the
 * shipped stand-in where it fits (shippedStandIn), else pretrained into the cache (or reused from it).
 */
export async function preparePretrainedModels(names: Iterable<string>, opts: PrepareOptions = {}): Promise<Map<string, string>> {
  const dirs = new Map<string, string>();
  const wanted = [...new Set(names)].filter((n) => PRETRAINED_STAND_INS[n] !== undefined);
  if (wanted.length === 0) return dirs;
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => {});
  const dataDir = locateDataDir({ flag: opts.dataDir, env });
  const root = artifactsRoot(opts.artifactsDir, env);
  const seed = opts.seed ?? 0;
  for (const name of wanted) {
    const t0 = performance.now();
    const family = PRETRAINED_STAND_INS[name] as PretrainFamily;
    const overrides = pretrainOverrides(family, dataDir, env);
    const shipped = shippedStandIn(family, { dataDir, seed, root, overrides });
    if ('dir' in shipped) {
      log(`${name}: using the shipped stand-in ${shipped.dir} (model.safetensors sha256 ${shipped.weightsSha256.slice(0, 12)}, files verified)`);
      dirs.set(name, shipped.dir);
      continue;
    }
    if (env[REQUIRE_SHIPPED_ENV] === '1') {
      throw new UserError(`${name}: ${shipped.reason}; ${REQUIRE_SHIPPED_ENV}=1 asks for the shipped stand-in: export it with 'lora-repro pretrain --model ${family} --ship'`);
    }
    log(`${name}: not using a shipped stand-in: ${shipped.reason}; pretraining into the cache instead (or reusing it)`);
    await initBackend();
    const got = await ensurePretrained({ family, dataDir, seed, settings: overrides, cacheDir: opts.cacheDir, log });
    log(
      `${name}: ${got.reused ? 'reusing' : 'pretrained'} ${got.dir} (${dataDir === undefined ? 'synthetic corpus' : `corpus from ${dataDir}`}, ` +
        `${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
    dirs.set(name, got.dir);
  }
  return dirs;
}
