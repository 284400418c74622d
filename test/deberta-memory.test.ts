/**
 * bench/deberta-memory.ts (issue 21): the analytic memory of deberta-v2-xxlarge against hand-computed
 * counts, the phase and micro-batch arithmetic, the fit on exact synthetic data and on measured tiny
 * steps, the paper settings read from experiments/table2.yaml, and the committed
 * results/memory/deberta-xxl.json against docs/paper-scale.md and against today's model code.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../src/backend/select.ts';
import { currentBlock, markerBody } from '../src/report/readme-results.ts';
import { FEATURES, featureRow, fitActivations, predictActivations, type StepShape } from '../bench/deberta-memory-fit.ts';
import { measureStep } from '../bench/deberta-memory-measure.ts';
import { DOCS_BLOCK, readReport, renderDocsBlock } from '../bench/deberta-memory-report.ts';
import { GIB, GPU_BYTES, estimate, paperSettings, peakAt, xxlStatic, type StaticBytes } from '../bench/deberta-memory-xxl.ts';
import { buildReport, designGrid, staticMismatch, type GridLevels } from '../bench/deberta-memory.ts';
import { DEBERTA_V2_XXLARGE } from '../src/models/deberta-config.ts';
import { skipBecause } from './helpers/skip.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('DeBERTa XXL memory: analytic part', () => {
  const { params, bytes } = xxlStatic();
  const d = 1536;

  it('counts LoRA r 16 on W_q, W_v as 2·48·2·1536·16 = 4,718,592 and the head as the pooler + a 2-way classifier', () => {
    assert.equal(params.lora.trainable, 2 * 48 * 2 * d * 16);
    assert.equal(params.lora.trainable, 4_718_592);
    assert.equal(params.lora.head, d * d + d + 2 * d + 2);
    assert.equal(params.ft.head, params.lora.head);
    // `lora-repro params --model deberta-v2-xxlarge --method ft`.
    assert.equal(params.ft.trainable, 1_564_549_632);
    assert.equal(params.ft.model, 1_564_549_632 + 2_363_906);
    assert.equal(params.lora.model, params.ft.model);
  });

  it('sizes weights, gradients, Adam moments, the FT copy and LoRA A/B in bytes', () => {
    const model = params.ft.model;
    for (const m of ['ft', 'lora'] as const) {
      const trained = params[m].trainable + params[m].head;
      assert.equal(bytes[m].weights, 4 * model);
      assert.equal(bytes[m].weightsFp16, 2 * model);
      assert.equal(bytes[m].grads, 4 * trained);
      assert.equal(bytes[m].adam, 2 * 4 * trained, 'two float32 moments per trained parameter');
      assert.equal(bytes[m].accumulation, 4 * trained);
    }
    assert.equal(bytes.ft.copy, 4 * 1_564_549_632);
    assert.equal(bytes.ft.added, 0);
    assert.equal(bytes.lora.added, 4 * 4_718_592);
    assert.equal(bytes.lora.copy, 0);
    // FT's largest trained tensor is the word embedding, LoRA's the pooler's dense weight.
    assert.equal(bytes.ft.largestTrainable, 4 * 128_100 * d);
    assert.equal(bytes.lora.largestTrainable, 4 * d * d);
  });

  it('takes the peak as the largest of backward, norm read and update, with the accumulation buffer only for several passes', () => {
    const s: StaticBytes = { weights: 100, weightsFp16: 50, added: 0, copy: 0, grads: 10, adam: 20, accumulation: 10, largestTrainable: 4 };
    const ratios = { normPerGrad: 1, updatePerLargest: 3 };
    assert.deepEqual(peakAt(s, ratios, 50, 1), { peak: 100 + 20 + 10 + 50, phase: 'backward' });
    assert.deepEqual(peakAt(s, ratios, 50, 2), { peak: 100 + 20 + 10 + 10 + 50, phase: 'backward' });
    assert.deepEqual(peakAt(s, ratios, 1, 1), { peak: 100 + 20 + 20 + 12, phase: 'update' });
    assert.deepEqual(peakAt(s, { normPerGrad: 2, updatePerLargest: 0 }, 1, 1), { peak: 100 + 20 + 30, phase: 'norm' });
  });

  it('finds the largest micro-batch within 80 GiB (activations linear in the batch)', () => {
    const coefficients = FEATURES.map((f) => ({ name: f.name, perLayer: f.perLayer, bytes: f.name === 'B·S·d' && f.perLayer ? 4000 : 0 }));
    const c = structuredClone(DEBERTA_V2_XXLARGE);
    const e = estimate('lora', { coefficients }, xxlStatic().bytes.lora, { normPerGrad: 1, updatePerLargest: 0 }, c, 8, 256, 64);
    const perExample = 48 * 4000 * 256 * 1536;
    assert.equal(e.activations, 8 * perExample);
    assert.equal(e.passes, 8);
    assert.ok(e.maxMicroBatch !== null && e.maxMicroBatch >= 1 && e.maxMicroBatch < 8);
    const at = (b: number) => peakAt(xxlStatic().bytes.lora, { normPerGrad: 1, updatePerLargest: 0 }, b * perExample, Math.ceil(64 / b)).peak;
    assert.ok(at(e.maxMicroBatch!) <= GPU_BYTES && at(e.maxMicroBatch! + 1) > GPU_BYTES);
    assert.equal(e.fits, e.peak <= 80 * GIB);
  });

  it('reads the paper settings of the DeBERTa rows from experiments/table2.yaml', () => {
    const s = paperSettings(join(ROOT, 'experiments', 'table2.yaml'));
    const mnli = s.find((x) => x.method === 'lora' && x.tasks.includes('mnli'));
    assert.deepEqual(mnli && { batch: mnli.batch, seq: mnli.seq, devices: mnli.devices, examples: mnli.examplesPerUpdate }, { batch: 8, seq: 256, devices: 8, examples: 64 });
    const qnli = s.find((x) => x.method === 'lora' && x.tasks.includes('qnli'));
    assert.deepEqual(qnli && [qnli.batch, qnli.seq], [6, 512]);
    const ft = s.filter((x) => x.method === 'ft');
    assert.equal(ft.length, 1, 'one FT* setting for all tasks');
    assert.equal(ft[0].tasks.length, 8);
  });
});

describe('DeBERTa XXL memory: the fit', function () {
  // About 3 s of CPU; the margin is for a machine shared with long training runs.
  this.timeout(600_000);
  before(async () => {
    await initBackend('cpu');
  });

  it('lays out a grid that uses every level of every size', () => {
    const levels: GridLevels = { layers: [1, 2], heads: [1, 2], headSize: [4, 8], intermediate: [8, 16], k2: [4, 8], vocab: [16, 32], batch: [1, 2], seq: [4, 8] };
    const g = designGrid(levels, 8, 1);
    assert.equal(g.length, 8);
    for (const k of ['layers', 'heads', 'intermediate', 'k2', 'vocab', 'batch', 'seq'] as const) {
      assert.deepEqual([...new Set(g.map((p) => p[k]))].sort((a, b) => a - b), levels[k], k);
    }
  });

  it('recovers exact synthetic activations (a linear combination of the features) and extrapolates them', () => {
    const truth = FEATURES.map((_, j) => ((j * 7) % 5) * 4);
    const levels: GridLevels = { layers: [1, 2, 3], heads: [1, 2, 4], headSize: [4, 8, 12], intermediate: [16, 32, 48, 64], k2: [4, 8, 16, 32], vocab: [16, 32, 64, 128], batch: [1, 2, 3, 4], seq: [4, 8, 12, 16, 24] };
    const bytes = (s: StepShape) => featureRow(s).reduce((a, v, j) => a + v * truth[j], 0);
    const fit = fitActivations(designGrid(levels, 32, 3).map((shape) => ({ shape, bytes: bytes(shape) })));
    assert.ok(fit.maxRelError < 1e-6, `fit error ${fit.maxRelError}`);
    const xxl: StepShape = { layers: 48, hidden: 1536, intermediate: 6144, heads: 24, k2: 512, vocab: 128100, batch: 8, seq: 256 };
    assert.ok(Math.abs(predictActivations(fit, xxl) / bytes(xxl) - 1) < 1e-4);
  });

  it('reproduces its own measured tiny steps and predicts a larger one; their static bytes equal the analytic ones', async () => {
    const levels: GridLevels = { layers: [1, 2, 3], heads: [1, 2], headSize: [4, 8], intermediate: [8, 16, 24], k2: [4, 8, 16], vocab: [16, 32, 48], batch: [1, 2, 3], seq: [4, 6, 8, 12] };
    const measured = [];
    for (const shape of designGrid(levels, 30, 5)) {
      const { batch, seq, ...size } = shape;
      measured.push({ role: 'fit' as const, step: await measureStep(size, 'lora', batch, seq) });
    }
    for (const m of measured) assert.equal(staticMismatch(m.step), undefined);
    const ft = await measureStep({ layers: 1, hidden: 8, heads: 2, intermediate: 16, k2: 8, vocab: 32 }, 'ft', 2, 8);
    assert.equal(staticMismatch(ft), undefined);
    const fit = fitActivations(measured.map((m) => ({ shape: m.step.shape, bytes: m.step.activationBytes })));
    assert.ok(fit.maxRelError < 0.05, `the fit misses its own points by up to ${(100 * fit.maxRelError).toFixed(1)}%`);
    const bigger = await measureStep({ layers: 2, hidden: 24, heads: 2, intermediate: 48, k2: 16, vocab: 64 }, 'lora', 4, 16);
    const err = Math.abs(predictActivations(fit, bigger.shape) / bigger.activationBytes - 1);
    assert.ok(err < 0.1, `a step larger than every fitted one is predicted ${(100 * err).toFixed(1)}% off`);
  });
});

describe('DeBERTa XXL memory: the committed estimate', function () {
  this.timeout(600_000);
  const json = join(ROOT, 'results', 'memory', 'deberta-xxl.json');
  before(async function () {
    if (!existsSync(json)) {
      skipBecause(this, 'results/memory/deberta-xxl.json not in this checkout (node --import tsx bench/deberta-memory.ts run writes it)');
    }
    await initBackend('cpu');
  });

  it('docs/paper-scale.md holds exactly the block rendered from results/memory/deberta-xxl.json', () => {
    const docs = join(ROOT, 'docs', 'paper-scale.md');
    const now = currentBlock(readFileSync(docs, 'utf8'), DOCS_BLOCK, docs);
    assert.equal(now, markerBody(renderDocsBlock(readReport(json))), 'stale: run node --import tsx bench/deberta-memory.ts docs --write');
  });

  it('has the parameter counts and static bytes the counter gives today, and its fits and estimates follow from its points', () => {
    const r = readReport(json);
    const { params, bytes } = xxlStatic();
    assert.deepEqual(r.params, params);
    assert.deepEqual(r.static, bytes);
    assert.deepEqual(r.staticMismatches, []);
    const again = buildReport(
      r.measured.map(({ role, predictedBytes: _p, relError: _e, ...step }) => ({ role, step })),
      r.backend,
      join(ROOT, 'experiments', 'table2.yaml'),
    );
    assert.deepEqual(again.estimates, r.estimates, 'estimates differ from a refit of the stored points (stale spec or code): run the bench again');
  });

  it("still describes today's model code: re-measuring a committed point gives its bytes (within 2%)", async () => {
    const r = readReport(json);
    const m = r.measured.find((x) => x.role === 'accumulate' && x.method === 'lora') ?? r.measured[0];
    const { batch, seq, ...size } = m.shape;
    const now = await measureStep(size, m.method, batch, seq, m.passes);
    const drift = Math.abs(now.backwardPeakBytes / m.backwardPeakBytes - 1);
    assert.ok(drift < 0.02, `a ${m.method} step of ${JSON.stringify(m.shape)} now peaks at ${now.backwardPeakBytes} bytes, the report says ${m.backwardPeakBytes}: the model's memory changed; run node --import tsx bench/deberta-memory.ts run`);
  });
});
