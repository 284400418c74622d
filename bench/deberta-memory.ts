/**
 * Memory of DeBERTa-v2 XXL (1.5B) training in lora-repro, FT against LoRA (issue 21): measured on
 * scaled-down models of the same architecture, fitted, extrapolated to deberta-v2-xxlarge at the paper
 * profile's per-device batches and lengths. docs/paper-scale.md ("Memory for DeBERTa XXL") quotes it.
 *
 *   node --import tsx bench/deberta-memory.ts run [--out results/memory/deberta-xxl.json] [--backend cpu] [--spec experiments/table2.yaml]
 *   node --import tsx bench/deberta-memory.ts show [--in FILE]
 *   node --import tsx bench/deberta-memory.ts docs [--in FILE] (--write | --check) [docs/paper-scale.md]
 *
 * `run` measures (a few minutes on a loaded 2-core machine), fits, writes the JSON and the docs block.
 * `show` prints the per-point check and the block; `docs --check` exits 1 when the block is stale.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../src/backend/select.ts';
import { parseCommandArgs } from '../src/cli/args.ts';
import { describeFsError } from '../src/cli/error-boundary.ts';
import { currentBlock, markerBody, withBlock } from '../src/report/readme-results.ts';
import { DEBERTA_V2_XXLARGE } from '../src/models/deberta-config.ts';
import { writeFileAtomic } from '../src/util/atomic-write.ts';
import { UserError } from '../src/util/errors.ts';
import { lineDiff } from '../src/util/line-diff.ts';
import { Rng } from '../src/util/rng.ts';
import { fitActivations, predictActivations, relError, type StepShape } from './deberta-memory-fit.ts';
import { MEMORY_METHODS, measureStep, methodParams, modelSize, scaledConfig, type MeasuredStep, type MemoryMethod } from './deberta-memory-measure.ts';
import { COMMAND, DEFAULT_DOCS, DEFAULT_JSON, DOCS_BLOCK, gib, readReport, renderDocsBlock, type MeasuredRecord, type MemoryReport } from './deberta-memory-report.ts';
import { DEBERTA_V2_XXLARGE_NAME, estimate, paperSettings, xxlStatic } from './deberta-memory-xxl.ts';

/** Levels of each size; hidden = heads × head size. */
export interface GridLevels {
  layers: number[];
  heads: number[];
  headSize: number[];
  intermediate: number[];
  k2: number[];
  vocab: number[];
  batch: number[];
  seq: number[];
}

/** The fitted points: small enough for the cpu backend, varied enough to tell the 18 features apart. */
export const FIT_LEVELS: GridLevels = {
  layers: [1, 2, 3],
  heads: [1, 2, 4],
  headSize: [8, 16, 24],
  intermediate: [32, 64, 128, 192],
  k2: [8, 16, 32, 64],
  vocab: [64, 128, 256, 512],
  batch: [1, 2, 3, 4],
  seq: [8, 16, 24, 32, 48],
};
export const FIT_POINTS = 32;

/** Larger than every fitted point in d, f, S and the table, with XXL's ratios (f = 4d, 64-wide heads): predicted, not fitted. */
export const VALIDATION_SHAPES: StepShape[] = [
  { layers: 2, hidden: 128, heads: 4, intermediate: 512, k2: 64, vocab: 1000, batch: 4, seq: 64 },
  { layers: 2, hidden: 192, heads: 3, intermediate: 768, k2: 128, vocab: 2000, batch: 2, seq: 96 },
];

/** Two micro-batches: the accumulated gradients must add one gradient's worth, as the estimate assumes. */
export const ACCUMULATE_SHAPE: StepShape = { layers: 2, hidden: 64, heads: 2, intermediate: 128, k2: 32, vocab: 256, batch: 2, seq: 32 };

/**
 * `n` shapes, each size taking its levels about equally often in an order drawn per size (a Latin
 * hypercube over the level lists), so no two sizes move together and the fit can separate them.
 */
export function designGrid(levels: GridLevels, n: number, seed: number): StepShape[] {
  const rng = new Rng(seed);
  const column = (values: number[]) => rng.shuffle(Array.from({ length: n }, (_, i) => values[i % values.length]));
  const c = {
    layers: column(levels.layers),
    heads: column(levels.heads),
    headSize: column(levels.headSize),
    intermediate: column(levels.intermediate),
    k2: column(levels.k2),
    vocab: column(levels.vocab),
    batch: column(levels.batch),
    seq: column(levels.seq),
  };
  return Array.from({ length: n }, (_, i) => ({
    layers: c.layers[i],
    hidden: c.heads[i] * c.headSize[i],
    heads: c.heads[i],
    intermediate: c.intermediate[i],
    k2: c.k2[i],
    vocab: c.vocab[i],
    batch: c.batch[i],
    seq: c.seq[i],
  }));
}

export async function measureShape(shape: StepShape, method: MemoryMethod, passes = 1): Promise<MeasuredStep> {
  const { batch, seq, ...size } = shape;
  return measureStep(size, method, batch, seq, passes);
}

/** Measured minus analytic static bytes of one point, as text; undefined when they agree. */
export function staticMismatch(m: MeasuredStep): string | undefined {
  const { batch: _b, seq: _s, ...size } = m.shape;
  const p = methodParams(scaledConfig(size), m.method);
  const trained = p.trainable + p.head;
  const want = { weightsBytes: 4 * p.model, methodBytes: 4 * (p.added + p.copied), adamBytes: 8 * trained, gradBytes: 4 * trained + 4 /* the loss */ };
  const bad = (Object.keys(want) as (keyof typeof want)[]).filter((k) => m[k] !== want[k]);
  return bad.length === 0 ? undefined : `${m.method} ${JSON.stringify(m.shape)}: ${bad.map((k) => `${k} ${m[k]} ≠ ${want[k]}`).join(', ')}`;
}

/** The report from the measured points: fits, phase ratios, checks, XXL estimates. */
export function buildReport(measured: { role: MeasuredRecord['role']; step: MeasuredStep }[], backend: string, spec: string): MemoryReport {
  const fits = {} as MemoryReport['fits'];
  const ratios = {} as MemoryReport['ratios'];
  const records: MeasuredRecord[] = [];
  for (const method of MEMORY_METHODS) {
    const mine = measured.filter((m) => m.step.method === method);
    const fitPts = mine.filter((m) => m.role === 'fit').map((m) => m.step);
    const fit = fitActivations(fitPts.map((s) => ({ shape: s.shape, bytes: s.activationBytes })));
    const record = (role: MeasuredRecord['role'], s: MeasuredStep): MeasuredRecord => {
      // An accumulate point checks the whole backward peak: the held sum of earlier passes + this pass.
      const predicted = predictActivations(fit, s.shape) + (role === 'accumulate' ? (s.passes > 1 ? 2 : 1) * s.gradBytes : 0);
      const measuredBytes = role === 'accumulate' ? s.backwardPeakBytes : s.activationBytes;
      return { role, ...s, predictedBytes: predicted, relError: relError(predicted, measuredBytes) };
    };
    for (const m of mine) records.push(record(m.role, m.step));
    const val = records.filter((r) => r.method === method && r.role === 'validate');
    fits[method] = { ...fit, validationMaxRelError: val.length === 0 ? 0 : Math.max(...val.map((r) => r.relError)), leaveOneOut: { min: 0, max: 0 } };
    ratios[method] = {
      normPerGrad: Math.max(...fitPts.map((s) => (s.normPeakBytes - s.gradBytes) / s.gradBytes)),
      updatePerLargest: Math.max(0, ...fitPts.map((s) => (s.updatePeakBytes - 2 * s.gradBytes) / s.largestTrainableBytes)),
    };
  }
  const { params, bytes } = xxlStatic();
  const c = structuredClone(DEBERTA_V2_XXLARGE);
  const settings = paperSettings(spec);
  // How much the extrapolation leans on single points: refit without each one, predict every setting.
  for (const method of MEMORY_METHODS) {
    const pts = measured.filter((m) => m.role === 'fit' && m.step.method === method).map((m) => ({ shape: m.step.shape, bytes: m.step.activationBytes }));
    const changes = pts.flatMap((_, i) => {
      const loo = fitActivations(pts.filter((_, j) => j !== i));
      return settings.map((s) => {
        const shape = { ...modelSize(c), batch: s.batch, seq: s.seq };
        return predictActivations(loo, shape) / predictActivations(fits[method], shape) - 1;
      });
    });
    fits[method].leaveOneOut = { min: Math.min(...changes), max: Math.max(...changes) };
  }
  const estimates: MemoryReport['estimates'] = [];
  for (const s of settings) {
    // The LoRA row's settings get FT beside LoRA (same batch and length); the FT* row its own.
    const methods: MemoryMethod[] = s.method === 'lora' ? ['ft', 'lora'] : ['ft'];
    for (const m of methods) {
      estimates.push({ row: s.row, tasks: s.tasks, devices: s.devices, examplesPerUpdate: s.examplesPerUpdate, ...estimate(m, fits[m], bytes[m], ratios[m], c, s.batch, s.seq, s.examplesPerUpdate) });
    }
  }
  return {
    schema: 1,
    command: COMMAND,
    backend,
    model: { name: DEBERTA_V2_XXLARGE_NAME, layers: c.layers, hidden: c.hidden, heads: c.heads, headSize: c.headSize, intermediate: c.intermediate, vocab: c.vocabSize, positionBuckets: c.positionBuckets },
    params,
    static: bytes,
    ratios,
    staticMismatches: measured.map((m) => staticMismatch(m.step)).filter((s): s is string => s !== undefined),
    measured: records,
    fits,
    estimates,
  };
}

const mib = (b: number): string => (b / 2 ** 20).toFixed(2);

/** Every measured point against its prediction, and the fitted coefficients. */
export function pointsTable(r: MemoryReport): string {
  const lines = ['role       method  L    d  H    f   2k     V  B   S   measured MiB  predicted MiB   error'];
  for (const m of r.measured) {
    const s = m.shape;
    const measured = m.role === 'accumulate' ? m.backwardPeakBytes : m.activationBytes;
    const cols = [s.layers, s.hidden, s.heads, s.intermediate, s.k2, s.vocab, s.batch, s.seq].map((v, i) => String(v).padStart([2, 5, 3, 5, 5, 6, 3, 4][i]));
    lines.push(`${(m.role + (m.passes > 1 ? `×${m.passes}` : '')).padEnd(11)}${m.method.padEnd(6)}${cols.join('')} ${mib(measured).padStart(14)} ${mib(m.predictedBytes).padStart(14)} ${(100 * m.relError).toFixed(2).padStart(6)}%`);
  }
  for (const method of MEMORY_METHODS) {
    const f = r.fits[method];
    lines.push(`${method}: fitted on ${f.points} points, max error ${(100 * f.maxRelError).toFixed(2)}%, validation ${(100 * f.validationMaxRelError).toFixed(2)}%; bytes / 4 per unit: ` + f.coefficients.map((c) => `${c.perLayer ? 'L·' : ''}${c.name} ${(c.bytes / 4).toFixed(2)}`).join(', '));
  }
  lines.push(`phase ratios: ${MEMORY_METHODS.map((m) => `${m} norm/grads ${r.ratios[m].normPerGrad.toFixed(3)}, update/largest ${r.ratios[m].updatePerLargest.toFixed(2)}`).join('; ')}`);
  return lines.join('\n');
}

const USAGE = [
  'Usage: node --import tsx bench/deberta-memory.ts <command> [options]',
  '',
  `  run [--out ${DEFAULT_JSON}] [--docs ${DEFAULT_DOCS}] [--backend cpu] [--spec experiments/table2.yaml]`,
  '        measure one update of FT and LoRA on scaled-down DeBERTa-v2 models (tf.profile, phase by phase),',
  '        fit the activation model, extrapolate to deberta-v2-xxlarge at the paper profile\'s batches and lengths,',
  '        write the JSON and the docs block (--docs none: only the JSON); prints every point against the fit',
  `  show [--in ${DEFAULT_JSON}]                 the per-point check and the docs block`,
  `  docs [--in ${DEFAULT_JSON}] --write|--check [${DEFAULT_DOCS}]`,
  '        write the block between <!-- results:deberta-xxl-memory:begin/end --> or check it (exit 1 when stale)',
].join('\n');

function docsCommand(argv: string[]): number {
  const { values, positionals } = parseCommandArgs(argv, { in: { type: 'string' }, write: { type: 'boolean', default: false }, check: { type: 'boolean', default: false } }, true);
  if (values.write === values.check) throw new UserError('docs: give one of --write or --check');
  const file = positionals[0] ?? DEFAULT_DOCS;
  const text = readFileSync(file, 'utf8');
  const block = renderDocsBlock(readReport(values.in ?? DEFAULT_JSON));
  if (values.write) {
    writeFileAtomic(file, withBlock(text, DOCS_BLOCK, block, file));
    console.log(`${file}: memory block written`);
    return 0;
  }
  const now = currentBlock(text, DOCS_BLOCK, file);
  if (now === markerBody(block)) return 0;
  console.error(`${file}: the ${DOCS_BLOCK} block disagrees with ${values.in ?? DEFAULT_JSON}; run: node --import tsx bench/deberta-memory.ts docs --write\n${lineDiff(now, markerBody(block)).lines.join('\n')}`);
  return 1;
}

async function runCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, { out: { type: 'string' }, docs: { type: 'string' }, backend: { type: 'string' }, spec: { type: 'string' } }, false);
  const spec = values.spec ?? 'experiments/table2.yaml';
  if (!existsSync(spec)) throw new UserError(`${spec}: spec not found (run from the repository root or pass --spec)`);
  const info = await initBackend(values.backend ?? 'cpu');
  const plan: { role: MeasuredRecord['role']; shape: StepShape; passes: number }[] = [
    ...designGrid(FIT_LEVELS, FIT_POINTS, 21).map((shape) => ({ role: 'fit' as const, shape, passes: 1 })),
    ...VALIDATION_SHAPES.map((shape) => ({ role: 'validate' as const, shape, passes: 1 })),
    { role: 'accumulate', shape: ACCUMULATE_SHAPE, passes: 2 },
  ];
  const measured: { role: MeasuredRecord['role']; step: MeasuredStep }[] = [];
  const t0 = performance.now();
  for (const method of MEMORY_METHODS) {
    for (const [i, p] of plan.entries()) {
      process.stderr.write(`\r${method} ${i + 1}/${plan.length} (${((performance.now() - t0) / 1000).toFixed(0)} s)   `);
      measured.push({ role: p.role, step: await measureShape(p.shape, method, p.passes) });
    }
  }
  process.stderr.write('\n');
  const report = buildReport(measured, info.name, spec);
  const out = resolve(values.out ?? DEFAULT_JSON);
  mkdirSync(dirname(out), { recursive: true });
  writeFileAtomic(out, `${JSON.stringify(report, null, 1)}\n`);
  console.log(pointsTable(report));
  console.log(`\n${renderDocsBlock(report)}\n`);
  console.log(`${out} (${measured.length} measurements, ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  const docs = values.docs ?? DEFAULT_DOCS;
  if (docs !== 'none') {
    const text = readFileSync(docs, 'utf8');
    writeFileAtomic(docs, withBlock(text, DOCS_BLOCK, renderDocsBlock(readReport(out)), docs));
    console.log(`${docs}: memory block written`);
  }
  const worst = report.estimates.find((e) => e.method === 'lora' && !e.fits);
  if (worst !== undefined) console.log(`e.g. LoRA at ${worst.batch} × ${worst.seq}: ${gib(worst.peak)} GiB on one GPU (over 80 GiB)`);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'run') return await runCommand(rest);
    if (command === 'show') {
      const { values } = parseCommandArgs(rest, { in: { type: 'string' } }, false);
      const r = readReport(values.in ?? DEFAULT_JSON);
      console.log(`${pointsTable(r)}\n\n${renderDocsBlock(r)}`);
      return 0;
    }
    if (command === 'docs') return docsCommand(rest);
    if (command === undefined || command === '--help' || command === '-h') {
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    }
    throw new UserError(`unknown command '${command}': run, show or docs (--help)`);
  } catch (err) {
    const line = err instanceof UserError ? err.message : describeFsError(err);
    if (line === undefined) throw err;
    console.error(`deberta-memory${command === undefined ? '' : ` ${command}`}: ${line.replace(/\s*\n\s*/g, ' ').trim()}`);
    return 2;
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
