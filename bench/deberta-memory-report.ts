/**
 * results/memory/deberta-xxl.json (written by bench/deberta-memory.ts run) and the Markdown that
 * docs/paper-scale.md quotes from it, between `<!-- results:deberta-xxl-memory:begin/end -->` (the
 * README results block's markers and splicing, src/report/readme-results.ts): the numbers a reader
 * sees are rendered from the file, and test/deberta-memory.test.ts fails when the two disagree.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { fmt } from '../src/methods/method.ts';
import { UserError } from '../src/util/errors.ts';
import { FEATURES, type StepShape } from './deberta-memory-fit.ts';
import { GIB, GPU_BYTES } from './deberta-memory-xxl.ts';

export const DOCS_BLOCK = 'deberta-xxl-memory';
export const DEFAULT_JSON = 'results/memory/deberta-xxl.json';
export const DEFAULT_DOCS = 'docs/paper-scale.md';
export const COMMAND = 'node --import tsx bench/deberta-memory.ts run';

const method = z.enum(['ft', 'lora']);
const perMethod = <T extends z.ZodType>(s: T) => z.object({ ft: s, lora: s });
const num = z.number().finite();

const shapeSchema = z.object({ layers: num, hidden: num, intermediate: num, heads: num, k2: num, vocab: num, batch: num, seq: num });
const measuredSchema = z.object({
  role: z.enum(['fit', 'validate', 'accumulate']),
  method,
  shape: shapeSchema,
  passes: num,
  weightsBytes: num,
  methodBytes: num,
  adamBytes: num,
  gradBytes: num,
  backwardPeakBytes: num,
  normPeakBytes: num,
  updatePeakBytes: num,
  activationBytes: num,
  largestTrainableBytes: num,
  kernels: num,
  /** The fit's (or, for accumulate points, the phase model's) prediction of what it checks. */
  predictedBytes: num,
  relError: num,
});
export type MeasuredRecord = z.infer<typeof measuredSchema>;

const fitSchema = z.object({
  coefficients: z.array(z.object({ name: z.string(), perLayer: z.boolean(), bytes: num })),
  points: num,
  maxRelError: num,
  /** Largest error on the validation models (larger than every fitted one), not fitted. */
  validationMaxRelError: num,
  /** Relative change of the XXL activation estimates (every setting) when one fitted point is left out. */
  leaveOneOut: z.object({ min: num, max: num }),
});

const staticSchema = z.object({ weights: num, weightsFp16: num, added: num, copy: num, grads: num, adam: num, accumulation: num, largestTrainable: num });
const paramsSchema = z.object({ trainable: num, head: num, model: num, added: num, copied: num });
const estimateSchema = z.object({
  row: z.string(),
  tasks: z.array(z.string()),
  devices: num,
  examplesPerUpdate: num,
  method,
  batch: num,
  seq: num,
  passes: num,
  activations: num,
  peak: num,
  phase: z.enum(['backward', 'norm', 'update']),
  fits: z.boolean(),
  maxMicroBatch: num.nullable(),
  checkpointedPeak: num,
});
export type EstimateRecord = z.infer<typeof estimateSchema>;

export const reportSchema = z.object({
  schema: z.literal(1),
  command: z.string(),
  backend: z.string(),
  model: z.object({ name: z.string(), layers: num, hidden: num, heads: num, headSize: num, intermediate: num, vocab: num, positionBuckets: num }),
  params: perMethod(paramsSchema),
  static: perMethod(staticSchema),
  ratios: perMethod(z.object({ normPerGrad: num, updatePerLargest: num })),
  /** Points whose measured weights, method, moment and gradient bytes differ from the analytic ones. */
  staticMismatches: z.array(z.string()),
  measured: z.array(measuredSchema),
  fits: perMethod(fitSchema),
  estimates: z.array(estimateSchema),
});
export type MemoryReport = z.infer<typeof reportSchema>;

export function readReport(path: string): MemoryReport {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UserError(`${path}: cannot read the memory report (${(err as Error).message}); write it with ${COMMAND}`);
  }
  const r = reportSchema.safeParse(raw);
  if (!r.success) throw new UserError(`${path}: not a memory report (${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message}); write it again with ${COMMAND}`);
  return r.data;
}

export const gib = (b: number): string => (b / GIB >= 10 ? (b / GIB).toFixed(1) : (b / GIB).toFixed(2));
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const signed = (x: number): string => (x < 0 ? `−${pct(-x)}` : `+${pct(x)}`);
const range = (xs: number[]): string => (Math.min(...xs) === Math.max(...xs) ? `${xs[0]}` : `${Math.min(...xs)}–${Math.max(...xs)}`);

function staticTable(r: MemoryReport): string[] {
  const { ft, lora } = r.static;
  const sum = (s: MemoryReport['static']['ft']) => s.weights + s.added + s.copy + s.grads + s.adam + s.accumulation;
  const p = r.params;
  return [
    '| GiB (float32, as lora-repro trains) | FT | LoRA (r 16, α 32, W_q and W_v) |',
    '|---|---:|---:|',
    `| trainable parameters (+ classifier head) | ${fmt(p.ft.trainable)} (+ ${fmt(p.ft.head)}) | ${fmt(p.lora.trainable)} (+ ${fmt(p.lora.head)}) |`,
    `| weights (in fp16 they would be) | ${gib(ft.weights)} (${gib(ft.weightsFp16)}) | ${gib(lora.weights)} (${gib(lora.weightsFp16)}) |`,
    `| LoRA's A and B | — | ${gib(lora.added)} |`,
    `| FT's copy of the pretrained weights (kept for \`disable()\`) | ${gib(ft.copy)} | — |`,
    `| gradients | ${gib(ft.grads)} | ${gib(lora.grads)} |`,
    `| Adam moments (2 × float32) | ${gib(ft.adam)} | ${gib(lora.adam)} |`,
    `| accumulated gradients (one GPU running the 8 devices' batches in turn) | ${gib(ft.accumulation)} | ${gib(lora.accumulation)} |`,
    `| **before activations** | **${gib(sum(ft))}** | **${gib(sum(lora))}** |`,
  ];
}

const TASK_NAMES: Record<string, string> = { mnli: 'MNLI', sst2: 'SST-2', mrpc: 'MRPC', cola: 'CoLA', qnli: 'QNLI', qqp: 'QQP', rte: 'RTE', stsb: 'STS-B' };
const taskList = (ts: string[]): string => (ts.length >= 8 ? 'all tasks' : ts.map((t) => TASK_NAMES[t] ?? t).join(', '));

function estimateTable(r: MemoryReport): string[] {
  const out = [
    '| row: tasks | per-device batch × length (examples per update) | activations FT / LoRA | peak FT | peak LoRA | largest micro-batch within 80 GiB, FT / LoRA | LoRA peak with checkpointing (est.) |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  const settings = new Map<string, EstimateRecord[]>();
  for (const e of r.estimates) {
    const key = `${e.row}|${e.tasks.join(',')}|${e.batch}|${e.seq}`;
    settings.set(key, [...(settings.get(key) ?? []), e]);
  }
  const mark = (e: EstimateRecord | undefined): string => (e === undefined ? '—' : `${gib(e.peak)}${e.fits ? '' : ' ✗'}${e.phase === 'backward' ? '' : ` (${e.phase})`}`);
  for (const es of settings.values()) {
    const ft = es.find((e) => e.method === 'ft');
    const lora = es.find((e) => e.method === 'lora');
    const e = es[0];
    const acts = [ft, lora].map((x) => (x === undefined ? '—' : gib(x.activations))).join(' / ');
    const micro = [ft, lora].map((x) => (x === undefined ? '—' : x.maxMicroBatch === null ? 'none' : String(x.maxMicroBatch))).join(' / ');
    out.push(`| ${e.row}: ${taskList(e.tasks)} | ${e.batch} × ${e.seq} (${e.examplesPerUpdate}) | ${acts} | ${mark(ft)} | ${mark(lora)} | ${micro} | ${lora === undefined ? '—' : gib(lora.checkpointedPeak)} |`);
  }
  return out;
}

/** Which settings fit 80 GiB as they are, with a smaller micro-batch, or not at all, per method. */
function verdict(r: MemoryReport): string {
  const line = (label: string, es: EstimateRecord[]) => {
    const asIs = es.filter((e) => e.fits).map((e) => taskList(e.tasks));
    const smaller = es.filter((e) => !e.fits && e.maxMicroBatch !== null).map((e) => `${taskList(e.tasks)} (${e.maxMicroBatch})`);
    const none = es.filter((e) => e.maxMicroBatch === null).map((e) => taskList(e.tasks));
    const parts = [
      `at the paper's per-device batch for ${asIs.length > 0 ? asIs.join(', ') : 'no task'}`,
      ...(smaller.length > 0 ? [`with a smaller micro-batch for ${smaller.join(', ')}`] : []),
      ...(none.length > 0 ? [`not even one example at a time for ${none.join(', ')}`] : []),
    ];
    return `${label} fits 80 GiB ${parts.join('; ')}.`;
  };
  const own = (e: EstimateRecord) =>
    `FT at the FT* row's own ${e.batch} × ${e.seq} on ${e.devices} device${e.devices === 1 ? '' : 's'} ${e.fits ? 'fits' : e.maxMicroBatch !== null ? `fits only with micro-batch ${e.maxMicroBatch}` : 'does not fit, not even one example at a time'}.`;
  const lora = r.estimates.filter((e) => e.method === 'lora');
  const ftSame = r.estimates.filter((e) => e.method === 'ft' && e.row.endsWith('-lora'));
  const ftOwn = r.estimates.filter((e) => e.method === 'ft' && !e.row.endsWith('-lora'));
  const ckpt = Math.max(...lora.map((e) => e.checkpointedPeak));
  return [
    line('LoRA', lora),
    line('FT at the same settings', ftSame),
    ...ftOwn.map(own),
    `With per-layer checkpointing every LoRA setting would peak at ${gib(ckpt)} GiB or less (estimate).`,
  ].join(' ');
}

/**
 * What one XXL layer holds at the first LoRA setting (MNLI's), by term: the monomials that carry at
 * least 5% of it, so a reader sees which shapes the memory goes to.
 */
function layerBreakdown(r: MemoryReport): string {
  const e = r.estimates.find((x) => x.method === 'lora') ?? r.estimates[0];
  const m = r.model;
  const shape: StepShape = { layers: m.layers, hidden: m.hidden, intermediate: m.intermediate, heads: m.heads, k2: 2 * m.positionBuckets, vocab: m.vocab, batch: e.batch, seq: e.seq };
  const parts = (method: 'ft' | 'lora') => {
    const terms = FEATURES.map((f, j) => ({ name: f.name, bytes: f.perLayer ? r.fits[method].coefficients[j].bytes * f.value(shape) : 0 }));
    const total = terms.reduce((a, t) => a + t.bytes, 0);
    const big = terms.filter((t) => t.bytes >= 0.05 * total).sort((a, b) => b.bytes - a.bytes);
    return `${gib(total)} GiB (${method === 'ft' ? 'FT' : 'LoRA'}; ${big.map((t) => `${t.name} ${pct(t.bytes / total)}`).join(', ')})`;
  };
  return `One XXL layer at ${e.batch} × ${e.seq} holds ${parts('ft')} / ${parts('lora')} of activations.`;
}

/** The measurement and fit in words: points, ranges, errors, the static check. */
function measurementLines(r: MemoryReport): string[] {
  const fitPts = r.measured.filter((m) => m.role === 'fit');
  const val = r.measured.filter((m) => m.role === 'validate');
  const acc = r.measured.filter((m) => m.role === 'accumulate');
  const dim = (f: (m: MeasuredRecord) => number, pts: MeasuredRecord[]) => range(pts.map(f));
  const desc = (pts: MeasuredRecord[]) =>
    `layers ${dim((m) => m.shape.layers, pts)}, d ${dim((m) => m.shape.hidden, pts)}, heads ${dim((m) => m.shape.heads, pts)}, FFN ${dim((m) => m.shape.intermediate, pts)}, ` +
    `table rows 2k ${dim((m) => m.shape.k2, pts)}, vocabulary ${dim((m) => m.shape.vocab, pts)}, batch ${dim((m) => m.shape.batch, pts)}, length ${dim((m) => m.shape.seq, pts)}`;
  const perMethod = (pts: MeasuredRecord[]) => pts.length / 2;
  const ftFit = r.fits.ft;
  const loraFit = r.fits.lora;
  return [
    `Measured (\`${r.command}\`, tfjs \`${r.backend}\` backend: the ops a GPU backend runs, no fused native kernels): one update, phase by phase with \`tf.profile\`, ` +
      `on ${perMethod(fitPts)} scaled-down DeBERTa-v2 models per method (${desc(fitPts)}; deberta-v2-xxlarge's architecture otherwise). ` +
      `The activation model (\`bench/deberta-memory-fit.ts\`: per layer ${FEATURES.filter((f) => f.perLayer).map((f) => f.name).join(', ')}; per step ${FEATURES.filter((f) => !f.perLayer).map((f) => f.name).join(', ')}) ` +
      `reproduces its points within ${pct(ftFit.maxRelError)} (FT) / ${pct(loraFit.maxRelError)} (LoRA), and predicts ${perMethod(val)} larger models it was not fitted on (${desc(val)}) within ` +
      `${pct(ftFit.validationMaxRelError)} / ${pct(loraFit.validationMaxRelError)}; leaving any one fitted point out moves the XXL activations above by ` +
      `${signed(ftFit.leaveOneOut.min)} to ${signed(ftFit.leaveOneOut.max)} (FT) / ${signed(loraFit.leaveOneOut.min)} to ${signed(loraFit.leaveOneOut.max)} (LoRA); ${acc.length > 0 ? `two-pass updates (the accumulation buffer) within ${pct(Math.max(...acc.map((m) => m.relError)))}; ` : ''}` +
      `${r.staticMismatches.length === 0 ? 'the analytic weights, LoRA, copy, moment and gradient bytes equal the measured ones on every point' : `static bytes differ from the analytic ones at: ${r.staticMismatches.join('; ')}`}. ` +
      layerBreakdown(r),
  ];
}

/** The docs block: every number from the report. */
export function renderDocsBlock(r: MemoryReport): string {
  const m = r.model;
  return [
    `<!-- Generated by \`${COMMAND}\` (or \`… docs --write\`) from ${DEFAULT_JSON}: edit that, not this block; test/deberta-memory.test.ts fails when they disagree. -->`,
    '',
    `${m.name}: ${m.layers} layers, d ${m.hidden}, ${m.heads} heads of ${m.headSize}, FFN ${m.intermediate}, vocabulary ${fmt(m.vocab)}, ${m.positionBuckets} position buckets.`,
    '',
    ...staticTable(r),
    '',
    `One update on one ${GPU_BYTES / GIB} GiB GPU at the paper profile's per-device batch × length (experiments/table2.yaml; the LoRA row's settings for FT too, and the FT* row's own). ` +
      'Peak = the largest of the update\'s phases (backward unless named); ✗: over 80 GiB; micro-batch: `microBatchSize`, the same update in more passes; ' +
      'checkpointing: each layer\'s input kept and the layer recomputed in the backward (lora-repro has none), at the full per-device batch:',
    '',
    ...estimateTable(r),
    '',
    verdict(r),
    '',
    ...measurementLines(r),
  ].join('\n');
}
