/**
 * Section 7 from our runs: the new numbers on hand-checkable cases (φ of identical, orthogonal and
 * nested subspaces and of direction ranges; the amplification factor of a ΔW inside and outside W's
 * top directions; the budget-equalising rank of Table 5, GPT-3's 8/4/2 and the spec's ranks), the
 * paper constants against ../shared/reference/paper-other.md, and `analyze section7` end to end on
 * a results folder of tiny LoRA adapters with known scores.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { relationToW } from '../src/analysis/delta-w.ts';
import { dense, type Dense } from '../src/analysis/linalg.ts';
import { blockEnergy, blockPhi, budgetRank, loraCount } from '../src/analysis/section7.ts';
import { phi, phiGrid, phiOfA } from '../src/analysis/subspace.ts';
import { initBackend } from '../src/backend/select.ts';
import { f32, writeSafetensors } from '../src/io/safetensors.ts';
import { configureMethod } from '../src/methods/registry.ts';
import type { AppliedLora } from '../src/methods/lora.ts';
import { parseHfConfig, readHfConfig } from '../src/models/config.ts';
import { createModel } from '../src/models/factory.ts';
import { loadResults } from '../src/report/results.ts';
import { PAPER_TABLE5, PAPER_TABLE6, PAPER_TABLE7, TABLE5_RANKS, TABLE5_SETS, setKey } from '../src/report/section7-paper.ts';
import { writeSection7 } from '../src/report/section7-page.ts';
import { pooledStd } from '../src/report/section7.ts';
import { expandSpec } from '../src/spec/expand.ts';
import { loadSpecFile } from '../src/spec/load.ts';
import { analyzeCommand } from '../src/cli/commands/analyze.ts';
import { UserError } from '../src/util/errors.ts';
import { Rng } from '../src/util/rng.ts';
import * as tf from '@tensorflow/tfjs-core';
import { tempRoot, writeResultsFolder, type FixtureRun } from './helpers/results-fixture.ts';
import { sharedOrSkip } from './helpers/skip.ts';

/** Columns e_k of the n×n identity, as an n×cols matrix. */
function basis(n: number, ks: number[]): Dense {
  const m = dense(n, ks.length);
  ks.forEach((k, c) => (m.data[k * ks.length + c] = 1));
  return m;
}

describe('Section 7 numbers on hand-checkable cases', () => {
  it('φ: identical subspaces 1, orthogonal 0, nested 1, and a reordered nesting by hand', () => {
    const u = basis(6, [0, 1, 2]);
    for (let i = 1; i <= 3; i++) for (let j = 1; j <= 3; j++) assert.ok(Math.abs(phi(u, u, i, j) - 1) < 1e-12);
    assert.equal(phi(basis(6, [0, 1]), basis(6, [2, 3, 4]), 2, 3), 0);
    // span(e1, e2) ⊂ span(e1..e4): φ(2, 4) = 1.
    assert.equal(phi(basis(6, [0, 1]), basis(6, [0, 1, 2, 3]), 2, 4), 1);
    // U1 = [e3, e1], U2 = [e1, e2, e3, e4]: φ(1,1) = (e3·e1)² = 0; φ(1,3) = 1; φ(2,2) = ‖[e3 e1]ᵀ[e1 e2]‖² / 2 = 1/2.
    const g = phiGrid(basis(6, [2, 0]), basis(6, [0, 1, 2, 3]));
    assert.equal(g[0][0], 0);
    assert.equal(g[0][2], 1);
    assert.equal(g[1][1], 0.5);
    // Direction ranges: direction 2 of U1 (e1) against direction 1 of U2 (e1) is 1, against 2..4 is 0.
    assert.equal(blockEnergy(g, 2, 2, 1, 1), 1);
    assert.equal(blockEnergy(g, 2, 2, 2, 4), 0);
    assert.deepEqual(blockPhi(g, 1, 1, 3, 3, 6), { value: 1, random: 1 / 6 });
    // Expectation for random subspaces: #i·#j / (d·min(#i, #j)) = 7·7 / (128·7) for directions 2..8.
    assert.ok(Math.abs(blockPhi(phiGrid(basis(128, [0, 1, 2, 3, 4, 5, 6, 7]), basis(128, [0, 1, 2, 3, 4, 5, 6, 7])), 2, 8, 2, 8, 128).random - 7 / 128) < 1e-15);
  });

  it('φ of two LoRA A with the same row space is 1 at full rank, whatever the scale and mixing', () => {
    // A2 = M·A1 (invertible M): same row space, so φ(A1, A2, r, r) = 1.
    const a1 = dense(2, 5, [1, 2, 0, 0, 1, 0, 1, 3, 1, 0]);
    const a2 = dense(2, 5, [3 * 1 + 1 * 0, 3 * 2 + 1 * 1, 3 * 0 + 1 * 3, 3 * 0 + 1 * 1, 3 * 1 + 0, -1, -2 + 1, 3, 1, -1]);
    assert.ok(Math.abs(phiOfA(a1, a2)[1][1] - 1) < 1e-9);
  });

  it('amplification ‖ΔW‖_F / ‖UᵀWV‖_F: a ΔW along W’s top direction gives 1/σ₁, one along its weakest 1/σ_min', () => {
    const sigma = [10, 5, 2, 1, 0.5, 0.1];
    const w = dense(6, 6);
    sigma.forEach((s, i) => (w.data[i * 6 + i] = s));
    const along = (k: number) => ({ b: basis(6, [k]), a: dense(1, 6, Array.from({ length: 6 }, (_, j) => (j === k ? 1 : 0))) });
    const top = along(0);
    const inside = relationToW(w, top.b, top.a, 1);
    assert.ok(Math.abs(inside.deltaNorm - 1) < 1e-12);
    assert.ok(Math.abs(inside.projDelta - 10) < 1e-9, String(inside.projDelta));
    assert.ok(Math.abs(inside.amplification - 0.1) < 1e-9);
    assert.ok(Math.abs(inside.projW - 10) < 1e-9, 'W’s own top-1 direction gives σ₁');
    const weak = along(5);
    const outside = relationToW(w, weak.b, weak.a, 3);
    assert.ok(Math.abs(outside.deltaNorm - 3) < 1e-12, 'scaling 3: ‖ΔW‖_F = 3');
    assert.ok(Math.abs(outside.projDelta - 0.1) < 1e-9);
    assert.ok(Math.abs(outside.amplification - 30) < 1e-6, String(outside.amplification));
  });

  it('pooled seed std: variances weighted by n − 1 (stds 1 and 3 over two seeds each → √5)', () => {
    const cell = (std: number | undefined, n: number) => ({ mean: 0, std, n, values: [], seeds: [], runIds: [] });
    assert.ok(Math.abs(pooledStd([cell(1, 2), cell(3, 2), cell(undefined, 1)])! - Math.sqrt(5)) < 1e-12);
    assert.equal(pooledStd([cell(undefined, 1)]), undefined);
  });

  it('budget rank: GPT-3 at 18M gets W_q r=8, W_q+W_v r=4, all four r=2 (and the other Table 5 columns)', () => {
    const gpt3 = parseHfConfig({ model_type: 'gpt2', vocab_size: 50257, n_embd: 12288, n_layer: 96, n_head: 96, n_positions: 2048 }, 'gpt3');
    assert.equal(loraCount(gpt3, ['q'], 8), 18_874_368, '2·96·12288·8, the paper’s exact budget');
    for (const set of TABLE5_SETS) assert.equal(budgetRank(gpt3, set.split('+'), 18e6), TABLE5_RANKS[set], set);
    assert.equal(budgetRank(gpt3, ['q', 'v'], 18e6), 4);
    assert.equal(budgetRank(gpt3, ['q', 'k', 'v', 'o'], 18e6), 2);
  });

  it('the section7 spec gives every Table 5 column the budget rank of its model (mini and paper profiles)', () => {
    const mini = readHfConfig('artifacts/stand-ins/mini-roberta/config.json');
    for (const profile of ['mini', 'paper']) {
      const exp = expandSpec(loadSpecFile('experiments/section7.yaml'), { profile });
      for (const task of ['sst2', 'e2e']) {
        for (const set of TABLE5_SETS) {
          const cells = exp.runs.filter((r) => r.config.task === task && setKey((r.config.methodConfig as { targets: string[] }).targets) === set);
          const want = budgetRank(mini, set.split('+'), loraCount(mini, ['q'], 8));
          assert.ok(
            cells.some((r) => (r.config.methodConfig as { r: number }).r === want),
            `${profile} ${task} ${set}: no run at the budget rank ${want}`,
          );
        }
      }
    }
  });

  it('the paper constants are ../shared/reference/paper-other.md’s tables', function () {
    const file = sharedOrSkip(this, 'reference/paper-other.md');
    const md = readFileSync(file, 'utf8');
    const row = (prefix: string) => {
      const line = md.split('\n').find((l) => l.startsWith(prefix));
      assert.ok(line, `no line '${prefix}' in ${file}`);
      return line.split(/(?<!\\)\|/).slice(2, -1).map((c) => Number(c.trim()));
    };
    for (const p of PAPER_TABLE5) assert.deepEqual(row(`| ${p.dataset} (±${p.pm}%)`), TABLE5_SETS.map((s) => p.values[s]));
    for (const p of PAPER_TABLE6) {
      const label = { q: 'W_q', 'q+v': 'W_q,W_v', 'q+k+v+o': 'W_q,W_k,W_v,W_o' }[p.set];
      assert.deepEqual(row(`| ${p.dataset} (±${p.pm}%) | ${label} |`).slice(1), [1, 2, 4, 8, 64].map((r) => p.values[r]));
    }
    const t7 = row('| `\\|U^\\top W_q V^\\top\\|_F` |');
    assert.deepEqual(t7, [PAPER_TABLE7[0].projDelta, PAPER_TABLE7[0].projW, PAPER_TABLE7[0].projRandom, PAPER_TABLE7[1].projDelta, PAPER_TABLE7[1].projW, PAPER_TABLE7[1].projRandom]);
  });
});

describe('analyze section7 on a results folder of tiny adapters', () => {
  let root: string;
  before(async () => {
    await initBackend('wasm');
    root = tempRoot();
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  // d_model 128 so r = 64 fits; 2 layers.
  const CONFIG = { model_type: 'roberta', vocab_size: 50, hidden_size: 128, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64, max_position_embeddings: 20, num_labels: 2 };
  const SCORES: Record<string, number[]> = { 'q+v r=4': [0.7, 0.72], 'q+v r=8': [0.71, 0.69], 'q+v r=64': [0.68, 0.7], 'q r=8': [0.6, 0.62], 'q+v r=1': [0.7, 0.7], 'q+v r=2': [0.69, 0.71] };

  it('writes Tables 5-7, Figures 3/4, the findings and the page from the runs’ adapters and base weights', async function () {
    this.timeout(600_000);
    const base = join(root, 'base');
    mkdirSync(base, { recursive: true });
    writeFileSync(join(base, 'config.json'), JSON.stringify(CONFIG));
    const model = createModel(parseHfConfig(CONFIG, 'tiny'), { seed: 5 });
    writeSafetensors(join(base, 'model.safetensors'), Object.fromEntries([...model.params.vars].map(([n, v]) => [n, f32(v.shape, v.dataSync() as Float32Array)])));
    const sha = createHash('sha256').update(readFileSync(join(base, 'model.safetensors'))).digest('hex');

    const fixtures: FixtureRun[] = Object.entries(SCORES).flatMap(([key, accs]) => {
      const [set, rr] = key.split(' r=');
      return accs.map((a, seed) => ({ model: 'mini-roberta', method: 'lora', methodConfig: { r: Number(rr), alpha: 16, targets: set.split('+') }, task: 'sst2', seed, experiment: 'section7', metrics: { accuracy: a }, formula: 2 * 2 * 128 * Number(rr) * set.split('+').length }));
    });
    const { dir, results } = writeResultsFolder(root, 'tiny', fixtures);
    // Each run: its adapter (B random so ΔW ≠ 0; A1 shared by every seed's r=8 and r=64 to make the top direction shared) and its base weights.
    for (const [k, r] of results.entries()) {
      const mc = r.config.methodConfig as { r: number; targets: string[] };
      const m = createModel(parseHfConfig(CONFIG, 'tiny'), { seed: 5 });
      const lora = configureMethod('lora', mc).apply(m, new Rng(100 + k)) as AppliedLora;
      for (const a of lora.injection.adapters.values()) {
        const rows = a.A.shape[0];
        const shared = tf.tidy(() => (rows === 1 ? tf.ones([1, 128]) : tf.concat([tf.ones([1, 128]), tf.randomNormal([rows - 1, 128], 0, 0.05, 'float32', k)], 0)));
        a.A.assign(shared);
        shared.dispose();
        a.B.assign(tf.randomNormal(a.B.shape, 0, 0.1, 'float32', 7 + k));
      }
      await lora.save(join(dir, 'runs', r.runId, 'adapter'));
      m.dispose();
      const json = JSON.parse(readFileSync(join(dir, 'runs', `${r.runId}.json`), 'utf8'));
      json.provenance.model = `${base} (model.safetensors sha256:${sha})`;
      writeFileSync(join(dir, 'runs', `${r.runId}.json`), JSON.stringify(json));
    }
    model.dispose();

    const out = await writeSection7(loadResults(dir, 'tiny'));
    const m = out.model;
    const t5 = m.table5[0];
    assert.deepEqual(t5.cells.map((c) => c.r), [8, 8, 8, 8, 4, 4, 2], 'the budget ranks of a d×d model');
    const qv = t5.cells.find((c) => c.set === 'q+v')!;
    assert.ok(Math.abs(qv.mean! - 71) < 1e-9, 'W_q+W_v r=4: mean of 70 and 72');
    assert.ok(Math.abs(qv.std! - Math.SQRT2) < 1e-9);
    assert.equal(t5.cells.find((c) => c.set === 'k')!.n, 0, 'no W_k runs: an empty cell');
    assert.deepEqual(m.table6.find((r) => r.set === 'q+v')!.cells.map((c) => Math.round(c.mean! * 1e6) / 1e6), [70, 70, 71, 70, 69]);
    // Figures: r=8 of each seed vs r=64 of the next (seed 1 has no next: seed 0), and seeds 0/1 at
    // r=64; the first row of A, the same in every run, makes φ(1,1) ≈ 1.
    const ranks = m.phi.find((p) => p.comparison === 'ranks' && p.weight === 'q')!;
    assert.deepEqual(ranks.pairs, ['seeds 0/1', 'seeds 1/0']);
    assert.ok(ranks.top.value > 0.9, `top direction shared: ${ranks.top.value}`);
    assert.ok(Math.abs(ranks.top.random - 1 / 128) < 1e-12);
    assert.deepEqual(m.phi.find((p) => p.comparison === 'seeds')!.pairs, ['seeds 0/1']);
    // Table 7 at r = 4 and 64 for W_q and W_v, two seeds each; amplification = ‖ΔW‖_F / ‖UᵀWV‖_F per module.
    assert.deepEqual(m.table7.map((t) => `${t.weight} r=${t.r}`).sort(), ['q r=4', 'q r=64', 'v r=4', 'v r=64']);
    for (const t of m.table7) {
      assert.deepEqual(t.seeds, [0, 1]);
      for (const l of t.perLayer) assert.ok(l.projW >= l.projDelta - 1e-9, 'W’s own directions give the largest ‖UᵀWV‖_F');
    }
    assert.deepEqual(m.findings.map((f) => f.id), ['small-rank', 'qv-beats-q', 'top-direction', 'amplification']);
    assert.equal(m.findings[1].verdict, 'reproduced', 'W_q+W_v 71 > W_q 61');
    for (const f of ['section7.json', 'section7.md', 'section7.tex', 'section7.csv', 'section7.html']) assert.ok(existsSync(join(dir, f)), f);
    for (const c of out.charts) assert.ok(existsSync(join(dir, c.png)) && existsSync(join(dir, c.svg)), c.name);
    assert.deepEqual(out.charts.map((c) => c.name).sort(), ['section7-figure3-sst2', 'section7-figure4-sst2', 'section7-table5', 'section7-table6', 'section7-table7']);
    assert.ok(existsSync(join(dir, 'analysis', 'section7-sst2-ranks-seed0-1', 'subspace.json')));
    const html = readFileSync(join(dir, 'section7.html'), 'utf8');
    assert.match(html, /REPRODUCED: Under a fixed budget/);
    assert.match(readFileSync(join(dir, 'section7.md'), 'utf8'), /profile tiny: mini-roberta on SST-2/);
  });

  it('analyze section7 on a folder without section7 runs is a one-line user error', async () => {
    const { dir } = writeResultsFolder(root, 'other', [{ model: 'roberta-base', method: 'lora', task: 'sst2', seed: 0 }]);
    await assert.rejects(() => analyzeCommand.run(['section7', '--results', root, '--profile', 'other', '--quiet']), (e: Error) => e instanceof UserError && e.message.startsWith(`${dir}: no runs of experiment 'section7'`));
  });
});
