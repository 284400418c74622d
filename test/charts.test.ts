/**
 * Every chart kind rendered headless (vega-lite → vega SVG → resvg PNG): the PNG decodes to the SVG
 * size × scale, and pixels are drawn exactly where vega placed the text (titles, axis labels) and
 * the marks (points, rules, lines, heatmap cells). The same title rendered without our font files
 * has no ink: the text check would catch a missing font.
 */
import { strict as assert } from 'node:assert';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Resvg } from '@resvg/resvg-js';
import { PNG } from 'pngjs';
import type { SubspaceAnalysis } from '../src/analysis/analysis-schema.ts';
import { gaussian, matmul } from '../src/analysis/linalg.ts';
import type { LoraCheckpoint } from '../src/analysis/lora-weights.ts';
import { readLoraCheckpoint } from '../src/analysis/lora-weights.ts';
import { openBaseWeights } from '../src/analysis/base-weights.ts';
import { analyzeSubspace } from '../src/analysis/run-analysis.ts';
import { buildCharts, readAnalysis } from '../src/report/charts/build.ts';
import { renderChart, type Region, type RenderedChart } from '../src/report/charts/render.ts';
import { crossLayerSpec, pairHeatmapSpec, spectrumSpec, table7Spec } from '../src/report/charts/subspace-specs.ts';
import { curvesSpec, paramsSpec, scoresSpec } from '../src/report/charts/table-specs.ts';
import { loadResults } from '../src/report/results.ts';
import { buildTable, type TableModel } from '../src/report/table-model.ts';
import { Rng } from '../src/util/rng.ts';
import { standardRuns, tempRoot, writeResultsFolder } from './helpers/results-fixture.ts';
import { sharedOrSkip } from './helpers/skip.ts';

const PARITY = fileURLToPath(new URL('../../shared/fixtures/parity/roberta-tiny/', import.meta.url));
const REAL = fileURLToPath(new URL('../../shared/fixtures/real-lora/roberta-base-mnli-lora.safetensors', import.meta.url));

interface Pixels {
  width: number;
  height: number;
  data: Buffer;
}

function decode(png: Buffer): Pixels {
  return PNG.sync.read(png);
}

/** Pixels in a region (SVG units, scaled) that are ink (dark) or any non-white colour. */
function count(p: Pixels, r: Region, scale: number, test: (rgb: [number, number, number]) => boolean): number {
  let n = 0;
  const x1 = Math.max(0, Math.floor(r.x1 * scale));
  const x2 = Math.min(p.width, Math.ceil(r.x2 * scale));
  const y1 = Math.max(0, Math.floor(r.y1 * scale));
  const y2 = Math.min(p.height, Math.ceil(r.y2 * scale));
  for (let y = y1; y < y2; y++) {
    for (let x = x1; x < x2; x++) {
      const i = (y * p.width + x) * 4;
      if (test([p.data[i], p.data[i + 1], p.data[i + 2]])) n++;
    }
  }
  return n;
}

const ink = ([r, g, b]: [number, number, number]) => 0.299 * r + 0.587 * g + 0.114 * b < 160;
const coloured = ([r, g, b]: [number, number, number]) => r < 240 || g < 240 || b < 240;

const timings: string[] = [];

function checkRendered(name: string, c: RenderedChart, expect: { marks: string[] }): void {
  timings.push(`${name}: ${c.width}×${c.height}, ${c.ms.toFixed(0)} ms`);
  const p = decode(c.png);
  assert.equal(p.width, Math.round(c.width * c.scale), `${name}: PNG width`);
  assert.equal(p.height, Math.round(c.height * c.scale), `${name}: PNG height`);
  assert.ok(c.width > 100 && c.height > 100, `${name}: size ${c.width}×${c.height}`);
  const texts = c.regions.filter((r) => r.marktype === 'text' && r.text !== undefined && r.text.trim() !== '' && /title|axis-label|legend-label/.test(r.role));
  assert.ok(texts.some((r) => r.role === 'title-text'), `${name}: has a title`);
  const blank = texts.filter((r) => count(p, r, c.scale, ink) === 0);
  assert.deepEqual(blank.map((r) => `${r.role} "${r.text}"`), [], `${name}: text drawn in every text region`);
  for (const mt of expect.marks) {
    const marks = c.regions.filter((r) => r.marktype === mt && r.role === 'mark');
    assert.ok(marks.length > 0, `${name}: has ${mt} marks`);
    const empty = marks.filter((r) => count(p, { ...r, x1: r.x1 - 0.5, x2: r.x2 + 0.5, y1: r.y1 - 0.5, y2: r.y2 + 0.5 }, c.scale, coloured) === 0);
    assert.equal(empty.length, 0, `${name}: ${empty.length} of ${marks.length} ${mt} marks have no pixels`);
  }
}

/** A checkpoint built from matrices, for the pair heatmap (r = 4 vs r = 16 on one layer, q and v). */
function ckpt(r: number, seed: number, shared?: LoraCheckpoint): LoraCheckpoint {
  const rng = new Rng(seed);
  const modules = (['q', 'v'] as const).map((w, k) => {
    // The second checkpoint contains the first's row space (Figure 3: r=8 inside r=64).
    const a = shared ? matmul(gaussian(r, shared.modules[k].r, rng), shared.modules[k].a) : gaussian(r, 48, rng);
    if (shared) for (let i = shared.modules[k].r * 48; i < a.data.length; i++) a.data[i] += gaussian(1, 1, rng).data[0];
    return { module: `roberta.encoder.layer.0.attention.self.${w === 'q' ? 'query' : 'value'}`, layer: 0, weight: w, a, b: gaussian(48, r, rng), r };
  });
  return { source: `constructed r=${r}`, format: 'peft', modelType: 'roberta', modules, alpha: r, alphaSource: 'test', other: [] };
}

describe('charts (vega-lite → SVG → PNG)', () => {
  let root: string;
  let t2: TableModel;
  let t3: TableModel;
  before(() => {
    root = tempRoot();
    writeResultsFolder(root, 'fx', standardRuns());
    const folder = loadResults(join(root, 'fx'), 'fx');
    t2 = buildTable(2, folder);
    t3 = buildTable(3, folder);
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
    console.log(`      render times: ${timings.join('; ')}`);
  });

  it('scores vs the paper (Table 2 and 3): points, error-bar rules, labels', async () => {
    checkRendered('scores-table2', await renderChart(scoresSpec(t2)), { marks: ['symbol', 'rule'] });
    checkRendered('scores-table3', await renderChart(scoresSpec(t3)), { marks: ['symbol', 'rule'] });
  });

  it('score vs trainable parameters (log x)', async () => {
    checkRendered('params-table2', await renderChart(paramsSpec(t2)), { marks: ['symbol'] });
  });

  it('training curves of one cell', async () => {
    const folder = loadResults(join(root, 'fx'), 'fx');
    const runs = folder.runs.filter((r) => r.result.task === 'sst2' && r.result.method === 'lora').map((r) => r.result);
    checkRendered('curves', await renderChart(curvesSpec('RoB-base LoRA / SST-2', runs)), { marks: ['line', 'symbol'] });
  });

  it('subspace heatmaps: a Figure 3-style pair (r = 4 inside r = 16) and the random panel', async () => {
    const small = ckpt(4, 1);
    const a = analyzeSubspace({ name: 'pair', checkpoints: [{ label: 'r4', ckpt: small }, { label: 'r16', ckpt: ckpt(16, 2, small) }] });
    const mq = a.pair!.modules.find((m) => m.weight === 'q')!;
    assert.ok(Math.abs(mq.phiFull - 1) < 1e-9, 'the r=4 row space lies inside the r=16 one');
    checkRendered('phi-pair', await renderChart(pairHeatmapSpec(a.pair!, 0)), { marks: ['rect'] });
  });

  it('cross-layer φ and ΔW spectra of the real checkpoint; Table 7 with the tiny fixture base weights', async function () {
    sharedOrSkip(this, 'fixtures/real-lora/roberta-base-mnli-lora.safetensors');
    sharedOrSkip(this, 'fixtures/parity/roberta-tiny');
    const real = analyzeSubspace({ name: 'real', checkpoints: [{ label: 'real', ckpt: readLoraCheckpoint(REAL, { alpha: 16 }) }] });
    checkRendered('phi-layers', await renderChart(crossLayerSpec(real.checkpoints[0])), { marks: ['rect'] });
    checkRendered('spectrum', await renderChart(spectrumSpec(real.checkpoints[0])), { marks: ['line'] });
    const tiny = analyzeSubspace({
      name: 'tiny',
      checkpoints: [{ label: 'tiny', ckpt: readLoraCheckpoint(join(PARITY, 'lora.safetensors'), { alpha: 16 }) }],
      base: openBaseWeights(join(PARITY, 'model.safetensors')),
    });
    checkRendered('table7', await renderChart(table7Spec(tiny.checkpoints[0])!), { marks: ['line'] });
  });

  it('the text check can fail: the same SVG rendered without font files has no ink in the title', async () => {
    const c = await renderChart(scoresSpec(t3));
    const title = c.regions.find((r) => r.role === 'title-text')!;
    const bare = new Resvg(c.svg, { font: { fontFiles: [], loadSystemFonts: false }, background: 'white', fitTo: { mode: 'zoom', value: c.scale } }).render().asPng();
    assert.equal(count(decode(bare), title, c.scale, ink), 0);
    assert.ok(count(decode(c.png), title, c.scale, ink) > 50);
  });

  it('lora-repro charts writes SVG + PNG for every chart and a manifest; subspace charts go next to their analysis', async () => {
    const folder = loadResults(join(root, 'fx'), 'fx');
    const out = join(root, 'fx', 'analysis', 'pair');
    const small = ckpt(4, 1);
    const a: SubspaceAnalysis = analyzeSubspace({ name: 'pair', checkpoints: [{ label: 'r4', ckpt: small }, { label: 'r16', ckpt: ckpt(16, 2, small) }] });
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'subspace.json'), JSON.stringify(a));
    assert.equal(readAnalysis(join(out, 'subspace.json')).name, 'pair');
    const { charts } = await buildCharts(folder, [t2, t3]);
    const names = charts.map((c) => c.name);
    for (const n of ['scores-table2', 'params-table2', 'scores-table3', 'params-table3', 'phi-pair-layer0']) assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
    assert.ok(names.filter((n) => n.startsWith('curves-')).length >= 6, 'one curves chart per table cell with runs');
    for (const c of charts) {
      const png = decode(readFileSync(join(root, 'fx', c.png)));
      assert.equal(png.width, Math.round(c.width * 2));
      assert.match(readFileSync(join(root, 'fx', c.svg), 'utf8'), /^<svg /);
    }
    assert.ok(charts.find((c) => c.name === 'phi-pair-layer0')!.svg.startsWith('analysis/pair/'));
    const manifest = JSON.parse(readFileSync(join(root, 'fx', 'charts', 'charts.json'), 'utf8')) as { charts: unknown[] };
    assert.equal(manifest.charts.length, charts.length);
  });
});
