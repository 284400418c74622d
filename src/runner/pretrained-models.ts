/**
 * The offline stand-ins for the paper's pretrained models (issue 7, the `mini` profile): a spec that
 * names `mini-roberta` or `mini-gpt2` gets a small RoBERTa / GPT-2 pretrained here, from scratch, on
 * the data directory's training text (or the synthetic corpus without one), with its own BPE
 * tokenizer. Pretraining runs once in the parent process before any worker starts; the result is
 * cached under LORA_REPRO_CACHE keyed by corpus, settings and seed, so later runs reuse it.
 */
import { locateDataDir } from '../data/corpus.ts';
import { ensurePretrained } from '../pretrain/cache.ts';
import { MINI_PRETRAIN, type PretrainFamily, type PretrainSettings } from '../pretrain/pretrain-config.ts';
import { UserError } from '../util/errors.ts';
import { initBackend } from '../backend/select.ts';

export const PRETRAINED_STAND_INS: Readonly<Record<string, PretrainFamily>> = {
  'mini-roberta': 'roberta',
  'mini-gpt2': 'gpt2',
};

export interface PrepareOptions {
  /** --data-dir, else LORA_REPRO_DATA (`none`: synthetic corpus), else ../shared/data when present. */
  dataDir?: string;
  seed?: number;
  log?: (line: string) => void;
}

/**
 * LORA_REPRO_PRETRAIN_STEPS shortens pretraining (e.g. `make smoke` in CI): the step count, with the
 * warm-up and short-sequence phases scaled in proportion. A different step count is a different
 * cache entry, so it never replaces the full model.
 */
export function pretrainOverrides(family: PretrainFamily, env: NodeJS.ProcessEnv = process.env): Partial<PretrainSettings> | undefined {
  const raw = env.LORA_REPRO_PRETRAIN_STEPS;
  if (raw === undefined || raw === '') return undefined;
  const steps = Number(raw);
  if (!Number.isInteger(steps) || steps < 1) throw new UserError(`LORA_REPRO_PRETRAIN_STEPS: expected a positive integer, got '${raw}'`);
  const base = MINI_PRETRAIN[family];
  const scale = steps / base.steps;
  return { steps, warmupSteps: Math.max(1, Math.round(base.warmupSteps * scale)), shortSeqSteps: Math.round(base.shortSeqSteps * scale) };
}

/** Model name → pretrained directory, for every stand-in among `names` (others are left alone). */
export async function preparePretrainedModels(names: Iterable<string>, opts: PrepareOptions = {}): Promise<Map<string, string>> {
  const dirs = new Map<string, string>();
  const wanted = [...new Set(names)].filter((n) => PRETRAINED_STAND_INS[n] !== undefined);
  if (wanted.length === 0) return dirs;
  await initBackend();
  const dataDir = locateDataDir({ flag: opts.dataDir });
  for (const name of wanted) {
    const t0 = performance.now();
    const family = PRETRAINED_STAND_INS[name];
    const got = await ensurePretrained({ family, dataDir, seed: opts.seed ?? 0, settings: pretrainOverrides(family), log: opts.log });
    opts.log?.(
      `${name}: ${got.reused ? 'reusing' : 'pretrained'} ${got.dir} (${dataDir === undefined ? 'synthetic corpus' : `corpus from ${dataDir}`}, ` +
        `${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
    dirs.set(name, got.dir);
  }
  return dirs;
}
