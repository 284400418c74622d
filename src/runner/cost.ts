/**
 * The `--dry-run` cost estimate: a per-token time model, deliberately simple and printed with the
 * plan so nobody mistakes it for a measurement.
 *
 * Tokens are real tokens (padding not counted), the kind a run's `tokensPerSecond` counts (the
 * trainer sums each batch's attention mask), so measured rates and estimates agree:
 *
 *   train tokens = min(trainLimit, train split size − held-out examples) × tokens per example × epochs
 *   eval tokens  = per evaluation, its examples × tokens per example ÷ 3   (forward only): min(evalLimit,
 *                  eval size) for dev/test, heldoutSize for the held-out slice (selectOn: heldout)
 *                  E2E: MRs × beam × maxNewTokens ÷ 3 (one cached decoding step per token and beam)
 *   tokens per example = min(maxSeqLength, the split's mean, MEAN_TOKENS below); maxSeqLength where
 *                  unmeasured (an upper bound: MNLI, QQP, synthetic tasks)
 *   ms = (train + eval tokens) × ms/token
 *
 * ms/token, first available of: `--ms-per-token`; measured, 1000 / median tokensPerSecond of this
 * profile's finished runs with the same model and method class; the spec's `cost.msPerToken[model]`;
 * the built-in reference scaled by model size. The reference is `lora-repro bench train` on
 * bench-roberta (d_model 256, 4 layers; every token of its batches is real) on a 2-core machine:
 * BASE_MS_PER_TOKEN below; other models scale by non-embedding parameters (≈ 12·L·d², i.e. FLOPs
 * per token). Methods that train every weight (ft, ft-top2) use the full-fine-tuning rate, the
 * others the LoRA rate.
 */
import { namedConfig } from '../models/config.ts';
import type { PlannedRun } from '../spec/expand.ts';
import type { RunResult } from '../train/result-schema.ts';
import { evalProtocol, evaluationCounts } from '../train/eval-protocol.ts';
import { median } from '../util/stats.ts';

/** Official split sizes (GLUE; E2E MR-reference pairs for train, unique dev MRs for eval). */
const TRAIN_SIZE: Record<string, number> = {
  mnli: 392702, sst2: 67349, mrpc: 3668, cola: 8551, qnli: 104743, qqp: 363846, rte: 2490, stsb: 5749, e2e: 42061,
};
const EVAL_SIZE: Record<string, number> = {
  mnli: 9815 + 9832, sst2: 872, mrpc: 408, cola: 1043, qnli: 5463, qqp: 40430, rte: 277, stsb: 1500, e2e: 547,
};
/** Synthetic tasks and unknown ones: assume this many examples when no limit is set. */
const UNKNOWN_SIZE = 1000;
/** Distinct MRs of E2E's training split: a held-out MR takes TRAIN_SIZE.e2e / E2E_TRAIN_MRS pairs on average. */
const E2E_TRAIN_MRS = 4862;

/**
 * Mean tokens per example (special tokens included, before truncation) of each split in
 * ../shared/data, with the GPT-2 BPE of roberta-base and gpt2 (the mini stand-ins' 8000-token BPE
 * gives 7-27% more): GLUE as encodeRobertaExample builds inputs, E2E as a training pair (MR, end of
 * text, reference, end of text). QNLI has only its dev split there; MNLI and QQP none.
 */
const MEAN_TOKENS: Record<string, { train: number; eval: number }> = {
  sst2: { train: 14.4, eval: 26.0 },
  mrpc: { train: 53.3, eval: 53.4 },
  cola: { train: 11.4, eval: 11.6 },
  rte: { train: 71.2, eval: 69.5 },
  stsb: { train: 29.1, eval: 32.3 },
  qnli: { train: 52.1, eval: 52.1 },
  e2e: { train: 53.5, eval: 53.5 },
};

/** Real tokens of one example of the task's `split`: its mean, at most maxSeqLength (the padded length where unmeasured). */
function tokensPerExample(task: string, split: 'train' | 'eval', maxSeqLength: number): number {
  const mean = task.startsWith('synthetic-') ? undefined : MEAN_TOKENS[task]?.[split];
  return Math.min(maxSeqLength, mean ?? maxSeqLength);
}

/**
 * ms per training token of the benchmark model bench-roberta, batch 16 × seq 128 (no padding) on a
 * 2-core machine with tfjs-wasm: LoRA ≈ 2300 ms/step, full fine-tuning ≈ 3200 ms/step (shared/notes
 * CPU measurements; `lora-repro bench train --model bench-roberta` gave 3684 / 5320 ms/step on the
 * development machine while it was shared with other jobs). Re-measure with `make bench` elsewhere
 * and pass `--ms-per-token`, or let finished runs measure it.
 */
const BASE_MS_PER_TOKEN = { lora: 2300 / 2048, ft: 3200 / 2048 } as const;
const BASE_MODEL = 'bench-roberta';

const FULL_GRADIENT = new Set(['ft', 'ft-top2']);
export type MethodClass = 'ft' | 'lora';
const methodClass = (method: string): MethodClass => (FULL_GRADIENT.has(method) ? 'ft' : 'lora');

/** Known shapes, including DeBERTa-XXL which has no architecture here (d 1536, 48 layers). */
const EXTRA_SHAPES: Record<string, { hidden: number; layers: number }> = {
  'deberta-v2-xxlarge': { hidden: 1536, layers: 48 },
};

function nonEmbeddingParams(model: string): number | undefined {
  const c = namedConfig(model) ?? EXTRA_SHAPES[model];
  if (c === undefined) return undefined;
  return 12 * c.layers * c.hidden * c.hidden;
}

/** Training examples of one epoch of a run: its trainLimit, else the official split size less the held-out slice. */
export function trainExamples(c: Pick<PlannedRun['config'], 'task' | 'trainLimit' | 'heldoutSize'>): number {
  const task = c.task.replace(/^synthetic-/, '');
  const size = c.task.startsWith('synthetic-') ? UNKNOWN_SIZE : (TRAIN_SIZE[task] ?? UNKNOWN_SIZE);
  // heldoutSize counts MRs for E2E (every reference of a held-out MR leaves the training split).
  const heldout = (c.heldoutSize ?? 0) * (task === 'e2e' ? TRAIN_SIZE.e2e / E2E_TRAIN_MRS : 1);
  return Math.max(0, Math.min(c.trainLimit ?? Infinity, Math.round(size - heldout)));
}

export interface Rate {
  msPerToken: number;
  source: string;
}

export interface CostOptions {
  msPerTokenFlag?: number;
  specMsPerToken?: Record<string, number>;
  /** Finished results of this profile (for measured rates). */
  finished: readonly RunResult[];
}

export class CostModel {
  private readonly measured = new Map<string, number[]>();

  constructor(private readonly opts: CostOptions) {
    for (const r of opts.finished) {
      if (r.status !== 'finished' || !(r.tokensPerSecond > 0)) continue;
      const key = `${r.model}\u0000${methodClass(r.method)}`;
      this.measured.set(key, [...(this.measured.get(key) ?? []), 1000 / r.tokensPerSecond]);
    }
  }

  rate(model: string, method: string): Rate {
    const cls = methodClass(method);
    if (this.opts.msPerTokenFlag !== undefined) return { msPerToken: this.opts.msPerTokenFlag, source: '--ms-per-token' };
    const m = this.measured.get(`${model}\u0000${cls}`);
    if (m !== undefined && m.length > 0) return { msPerToken: median(m), source: `measured (${m.length} finished run${m.length > 1 ? 's' : ''})` };
    const fromSpec = this.opts.specMsPerToken?.[model];
    if (fromSpec !== undefined) return { msPerToken: fromSpec, source: 'spec cost.msPerToken' };
    const base = BASE_MS_PER_TOKEN[cls];
    const size = nonEmbeddingParams(model);
    const ref = nonEmbeddingParams(BASE_MODEL) as number;
    if (size === undefined) return { msPerToken: base, source: `unknown model: ${BASE_MODEL} ${cls} rate` };
    const scale = size / ref;
    return { msPerToken: base * scale, source: scale === 1 ? `${BASE_MODEL} bench (${cls})` : `${BASE_MODEL} bench (${cls}) × ${scale.toFixed(1)} (size)` };
  }

  /** Estimated milliseconds of one run, and the tokens it was computed from. */
  estimate(run: PlannedRun): { ms: number; trainTokens: number; evalTokens: number; rate: Rate } {
    const c = run.config;
    const task = c.task.replace(/^synthetic-/, '');
    const isSynthetic = c.task.startsWith('synthetic-');
    const trainN = trainExamples(c);
    const evalN = Math.min(c.evalLimit ?? Infinity, isSynthetic ? UNKNOWN_SIZE : (EVAL_SIZE[task] ?? UNKNOWN_SIZE));
    const trainTokens = trainN * tokensPerExample(c.task, 'train', c.maxSeqLength) * c.epochs;
    const p = evalProtocol(c);
    const evals = evaluationCounts(p, c.epochs);
    // The selection split is dev or the held-out slice (heldoutSize examples; E2E: MRs).
    const examples = evals.selection * (p.heldoutSize ?? evalN) + evals.reported * evalN;
    const perExample = task === 'e2e' ? (c.decoding?.beam ?? 10) * (c.decoding?.maxNewTokens ?? 64) : tokensPerExample(c.task, 'eval', c.maxSeqLength);
    const evalTokens = (examples * perExample) / 3;
    const rate = this.rate(c.model, c.method);
    return { ms: (trainTokens + evalTokens) * rate.msPerToken, trainTokens, evalTokens, rate };
  }
}
