/**
 * Builds results folders (results/<profile>/runs/<runId>.json + runs.csv) in the shape the runner
 * writes (src/train/result-schema.ts), for the report tests. Run ids and cell keys come from the
 * real run identity (src/train/run-identity.ts), so seeds of one config share a cell key.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runResultSchema, type RunBaseline, type RunResult } from '../../src/train/result-schema.ts';
import { RUNS_CSV_COLUMNS } from '../../src/runner/runs-csv.ts';
import { trainRunConfigSchema } from '../../src/train/run-config.ts';
import { runKeys } from '../../src/train/run-identity.ts';

export interface FixtureRun {
  model: string;
  method: string;
  methodConfig?: Record<string, unknown>;
  variant?: string;
  task: string;
  seed: number;
  experiment?: string;
  status?: 'finished' | 'failed';
  error?: string;
  /** Best-epoch metrics (0–1 scales; NIST/CIDEr raw). */
  metrics?: Record<string, number>;
  headlineMetric?: string;
  counted?: number;
  formula?: number;
  /** Learning rate: a different value makes a different cell key (another config of the same cell). */
  lr?: number;
  epochs?: number;
  trainLimit?: number;
  evalLimit?: number;
  /** The untrained baseline the run recorded (absent: an older result without one). */
  baseline?: RunBaseline;
  mlflow?: Record<string, string>;
  finishedAt?: string;
  /** provenance.model (default `model`): a pretrained run records "<weights dir> (model.safetensors sha256:…)". */
  provenanceModel?: string;
  /** The architecture the run recorded as built (HF config.json form); absent: an older result without one. */
  modelConfig?: Record<string, unknown>;
  /** provenance.datasets: data file → hash (default none). */
  datasets?: Record<string, string>;
  /** The evaluation protocol (train/eval-protocol.ts); either set: the result records `reported`. */
  evalSplit?: 'dev' | 'test';
  checkpoint?: 'best' | 'final';
  /** Epoch chosen on this many held-out training examples (selectOn: heldout); the result records `reported`. */
  heldoutSize?: number;
}

/** A finished or failed RunResult; a finished run's epochs climb linearly to its best-epoch metrics at the last epoch. */
function makeRun(f: FixtureRun, profile: string): RunResult & { mlflow?: Record<string, string> } {
  const config = trainRunConfigSchema.parse({
    experiment: f.experiment ?? (f.task === 'e2e' || f.task.includes('e2e') ? 'table3' : 'table2'),
    profile,
    model: f.model,
    task: f.task,
    method: f.method,
    methodConfig: f.methodConfig ?? {},
    variant: f.variant ?? '',
    seed: f.seed,
    epochs: f.epochs ?? 3,
    batchSize: 16,
    learningRate: f.lr ?? 5e-4,
    maxSeqLength: 128,
    ...(f.trainLimit !== undefined ? { trainLimit: f.trainLimit } : {}),
    ...(f.evalLimit !== undefined ? { evalLimit: f.evalLimit } : {}),
    ...(f.evalSplit !== undefined ? { evalSplit: f.evalSplit } : {}),
    ...(f.checkpoint !== undefined ? { checkpoint: f.checkpoint } : {}),
    ...(f.heldoutSize !== undefined ? { selectOn: 'heldout', heldoutSize: f.heldoutSize } : {}),
  });
  const { runId, cellKey } = runKeys(config);
  const status = f.status ?? 'finished';
  const metrics = status === 'finished' ? (f.metrics ?? { accuracy: 0.5 }) : {};
  // As src/runner/failure.ts records a failed run: no epochs, no metrics, no counts.
  const nEpochs = status === 'finished' ? config.epochs : 0;
  const epochs = Array.from({ length: nEpochs }, (_, e) => ({
    epoch: e,
    step: (e + 1) * 100,
    trainLoss: 1 / (e + 1) + f.seed * 0.01,
    metrics: Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, v * (0.8 + (0.2 * (e + 1)) / nEpochs)])),
    seconds: 10,
  }));
  const result = {
    schema: 1 as const,
    runId,
    cellKey,
    experiment: config.experiment,
    profile,
    model: f.model,
    method: f.method,
    variant: f.variant ?? '',
    task: f.task,
    seed: f.seed,
    config: config as unknown as Record<string, unknown>,
    ...(f.modelConfig !== undefined ? { modelConfig: f.modelConfig } : {}),
    status,
    ...(status === 'failed' ? { error: f.error ?? 'NaN loss at step 12' } : {}),
    epochs,
    bestEpoch: status === 'finished' ? nEpochs - 1 : null,
    metrics,
    ...(status === 'finished' && (f.evalSplit !== undefined || f.checkpoint !== undefined || f.heldoutSize !== undefined)
      ? {
          reported: {
            split: f.evalSplit ?? 'dev',
            checkpoint: f.checkpoint ?? 'best',
            epoch: f.checkpoint === 'final' ? nEpochs : nEpochs - 1,
            ...(f.heldoutSize !== undefined && f.checkpoint !== 'final' ? { selectedOn: 'heldout' as const, heldoutSize: f.heldoutSize } : {}),
          },
        }
      : {}),
    headlineMetric: status === 'failed' ? '' : (f.headlineMetric ?? Object.keys(metrics)[0] ?? 'accuracy'),
    ...(f.baseline !== undefined ? { baseline: f.baseline } : {}),
    trainableParams: status === 'failed' ? { counted: 0, formula: 0, head: 0 } : { counted: f.counted ?? 1000, formula: f.formula ?? f.counted ?? 1000, head: 10 },
    wallSeconds: 30,
    tokensPerSecond: 1000,
    peakRssMiB: 500,
    provenance: { gitCommit: 'abc', gitDirty: false, packages: {}, backend: 'wasm', cpu: 'test', node: 'v20', model: f.provenanceModel ?? f.model, datasets: f.datasets ?? {} },
    startedAt: '2025-01-01T00:00:00Z',
    finishedAt: f.finishedAt ?? `2025-01-01T00:0${f.seed % 10}:00Z`,
  };
  const parsed = runResultSchema.parse(result);
  return f.mlflow ? { ...parsed, mlflow: f.mlflow } : parsed;
}

function csvField(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvRow(r: RunResult): string {
  const values: Record<(typeof RUNS_CSV_COLUMNS)[number], unknown> = {
    runId: r.runId,
    cellKey: r.cellKey,
    experiment: r.experiment,
    profile: r.profile,
    model: r.model,
    method: r.method,
    variant: r.variant,
    task: r.task,
    seed: r.seed,
    status: r.status,
    bestEpoch: r.bestEpoch,
    headlineMetric: r.headlineMetric,
    headlineValue: r.metrics[r.headlineMetric],
    metrics: r.metrics,
    trainableCounted: r.trainableParams.counted,
    trainableFormula: r.trainableParams.formula,
    wallSeconds: r.wallSeconds,
    tokensPerSecond: r.tokensPerSecond,
    peakRssMiB: r.peakRssMiB,
    gitCommit: r.provenance.gitCommit,
    finishedAt: r.finishedAt,
  };
  return RUNS_CSV_COLUMNS.map((c) => csvField(values[c])).join(',');
}

/** Writes runs/<runId>.json and runs.csv under <root>/<profile>; returns the profile folder. */
export function writeResultsFolder(root: string, profile: string, runs: FixtureRun[], opts: { extraCsvIds?: string[] } = {}): { dir: string; results: RunResult[] } {
  const dir = join(root, profile);
  mkdirSync(join(dir, 'runs'), { recursive: true });
  const results = runs.map((f) => makeRun(f, profile));
  const ids = new Set<string>();
  for (const r of results) {
    if (ids.has(r.runId)) throw new Error(`fixture: duplicate run ${r.runId}`);
    ids.add(r.runId);
    writeFileSync(join(dir, 'runs', `${r.runId}.json`), JSON.stringify(r, null, 1));
  }
  const lines = [RUNS_CSV_COLUMNS.join(','), ...results.map(csvRow)];
  for (const id of opts.extraCsvIds ?? []) lines.push([id, ...RUNS_CSV_COLUMNS.slice(1).map(() => '')].join(','));
  writeFileSync(join(dir, 'runs.csv'), lines.join('\n') + '\n');
  return { dir, results };
}

export function tempRoot(): string {
  return mkdtempSync(join(tmpdir(), 'lora-repro-report-'));
}

const LORA8 = { r: 8, alpha: 16, targets: ['q', 'v'] };
const e2e = (bleu: number, nist: number, met: number, rouge: number, cider: number) => ({ BLEU: bleu, NIST: nist, METEOR: met, ROUGE_L: rouge, CIDEr: cider });

/**
 * The standard fixture (values chosen so the aggregates are easy to compute by hand):
 * - RoB-base LoRA: SST-2 five seeds (accuracy .95 .94 .96 .93 .955 → median 95.0, mean 94.7,
 *   sample std 1.2042); MRPC seeds 0–2 with seed 1 failed (.90 .88 → median 89.0); CoLA two failed
 *   runs; STS-B three seeds (Pearson .91 .92 .915 → 91.5); MNLI, QNLI, QQP, RTE without runs.
 * - RoB-base FT: SST-2 three seeds (.948 .95 .946 → median 94.8); an older config (another lr)
 *   with one run, which the table leaves out.
 * - mini-roberta LoRA on synthetic-sst2: two seeds (.8 .9).
 * - GPT-2 M LoRA r=4 on E2E: three seeds (BLEU .700 .705 .710 → mean 70.5, NIST 8.80 8.85 8.90 →
 *   8.85, METEOR .460 .465 .470 → 46.5, ROUGE-L .710 .720 .730 → 72.0, CIDEr 2.50 2.53 2.56 → 2.53).
 */
export function standardRuns(): FixtureRun[] {
  const rb = { model: 'roberta-base', method: 'lora', methodConfig: LORA8, counted: 294912, formula: 294912 };
  const ft = { model: 'roberta-base', method: 'ft', counted: 124055040, formula: 124055040 };
  const runs: FixtureRun[] = [
    ...[0.95, 0.94, 0.96, 0.93, 0.955].map((a, seed) => ({ ...rb, task: 'sst2', seed, metrics: { accuracy: a } })),
    { ...rb, task: 'mrpc', seed: 0, metrics: { accuracy: 0.9, f1: 0.93 } },
    { ...rb, task: 'mrpc', seed: 1, status: 'failed' as const, error: 'out of memory' },
    { ...rb, task: 'mrpc', seed: 2, metrics: { accuracy: 0.88, f1: 0.91 } },
    { ...rb, task: 'cola', seed: 0, status: 'failed' as const },
    { ...rb, task: 'cola', seed: 1, status: 'failed' as const },
    ...[0.91, 0.92, 0.915].map((p, seed) => ({ ...rb, task: 'stsb', seed, metrics: { pearson: p, spearman: p - 0.01 }, headlineMetric: 'pearson' })),
    ...[0.948, 0.95, 0.946].map((a, seed) => ({ ...ft, task: 'sst2', seed, metrics: { accuracy: a }, finishedAt: '2025-02-01T00:00:00Z' })),
    { ...ft, task: 'sst2', seed: 0, lr: 1e-5, metrics: { accuracy: 0.5 }, finishedAt: '2024-12-01T00:00:00Z' },
    ...[0.8, 0.9].map((a, seed) => ({ model: 'mini-roberta', method: 'lora', methodConfig: LORA8, task: 'synthetic-sst2', seed, metrics: { accuracy: a }, counted: 16384, formula: 16384 })),
    ...[e2e(0.7, 8.8, 0.46, 0.71, 2.5), e2e(0.705, 8.85, 0.465, 0.72, 2.53), e2e(0.71, 8.9, 0.47, 0.73, 2.56)].map((m, seed) => ({
      model: 'gpt2-medium',
      method: 'lora',
      methodConfig: { r: 4, alpha: 32, targets: ['q', 'v'] },
      task: 'e2e',
      seed,
      metrics: m,
      headlineMetric: 'BLEU',
      counted: 393216,
      formula: 393216,
      mlflow: { trackingUri: 'http://127.0.0.1:5000', experimentId: '3', runId: `mlrun${seed}` },
    })),
  ];
  return runs;
}
