/**
 * The static HTML report (lora-repro report): built from a results folder with runs, a subspace
 * analysis and MLflow records, then loaded in headless Chromium: every image loads
 * (naturalWidth > 0), Tables 2 and 3 are there with their rows, the MLflow links point at the
 * recorded runs, and the page requests nothing outside its folder.
 *
 * Needs Chromium at /usr/bin/chromium (CI: `apt-get install -y chromium`); skipped without it.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { gaussian } from '../src/analysis/linalg.ts';
import type { LoraCheckpoint } from '../src/analysis/lora-weights.ts';
import { analyzeSubspace } from '../src/analysis/run-analysis.ts';
import { reportCommand } from '../src/cli/commands/report.ts';
import { Rng } from '../src/util/rng.ts';
import { standardRuns, tempRoot, writeResultsFolder } from './helpers/results-fixture.ts';
import { skipBecause } from './helpers/skip.ts';

const CHROMIUM = '/usr/bin/chromium';

function ckpt(r: number, seed: number): LoraCheckpoint {
  const rng = new Rng(seed);
  const modules = (['q', 'v'] as const).map((w) => ({ module: `roberta.encoder.layer.0.attention.self.${w}`, layer: 0, weight: w, a: gaussian(r, 32, rng), b: gaussian(32, r, rng), r }));
  return { source: `constructed r=${r}`, format: 'peft', modelType: 'roberta', modules, alpha: r, alphaSource: 'test', other: [] };
}

describe('HTML report (headless Chromium)', function () {
  let root: string;
  let html: string;
  let sstRunIds: string[];
  before(async () => {
    root = tempRoot();
    const { dir, results } = writeResultsFolder(root, 'fx', standardRuns());
    sstRunIds = results.filter((r) => r.task === 'sst2' && r.method === 'lora').map((r) => r.runId);
    // The runner's record of what went to MLflow (src/runner/mlflow-projection.ts).
    writeFileSync(join(dir, 'mlflow-logged.json'), JSON.stringify({ v: 1, servers: { 'http://127.0.0.1:5555': { runs: Object.fromEntries(sstRunIds.map((id) => [id, 'finished@x'])), cells: {} } } }));
    const analysis = analyzeSubspace({ name: 'seeds', checkpoints: [{ label: 'seed0', ckpt: ckpt(4, 1) }, { label: 'seed1', ckpt: ckpt(4, 2) }] });
    mkdirSync(join(dir, 'analysis', 'seeds'), { recursive: true });
    writeFileSync(join(dir, 'analysis', 'seeds', 'subspace.json'), JSON.stringify(analysis));
    const [log, err] = [console.log, console.error];
    console.log = console.error = () => {};
    try {
      assert.equal(await reportCommand.run(['--results', root, '--profile', 'fx']), 0);
    } finally {
      [console.log, console.error] = [log, err];
    }
    html = join(dir, 'report.html');
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('is one static file with both tables, image links relative to it, and the MLflow links', () => {
    const text = readFileSync(html, 'utf8');
    assert.match(text, /<table class="results" id="table2">/);
    assert.match(text, /<table class="results" id="table3">/);
    assert.ok(!/<script/i.test(text), 'no scripts');
    const srcs = [...text.matchAll(/<img src="([^"]+)"/g)].map((m) => m[1]);
    assert.ok(srcs.length >= 10, `${srcs.length} images`);
    for (const s of srcs) assert.ok(!s.startsWith('/') && !/^[a-z]+:/.test(s), `relative: ${s}`);
    assert.match(text, /href="http:\/\/127\.0\.0\.1:5000\/#\/experiments\/3\/runs\/mlrun0"/);
    assert.match(text, new RegExp(`find it by tag lora_repro.run_id = ${sstRunIds[0]}`));
  });

  it('in Chromium: every image loads, the tables have their rows, nothing outside the folder is requested', async function () {
    if (!existsSync(CHROMIUM)) {
      skipBecause(this, 'no /usr/bin/chromium (install: apt-get install -y chromium)');
    }
    this.timeout(120_000);
    const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
    const ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await ctx.newPage();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });
      const imgs = await page.$$eval('img', (els) => els.map((e) => ({ src: e.getAttribute('src'), complete: e.complete, w: e.naturalWidth, h: e.naturalHeight })));
      assert.ok(imgs.length >= 10);
      const broken = imgs.filter((i) => !i.complete || i.w === 0 || i.h === 0);
      assert.deepEqual(broken, [], 'every image loads');
      const rows2 = await page.$$eval('#table2 tbody tr', (trs) => trs.map((tr) => tr.querySelector('th')?.textContent ?? ''));
      // The method rows, then the baseline row (its own tbody; the fixture's runs record no baseline).
      assert.deepEqual(rows2, ['RoB-base FT*', 'RoB-base LoRA', 'mini-roberta LoRA', 'Baseline (majority class / train mean)']);
      const head2 = await page.$$eval('#table2 thead th', (ths) => ths.map((t) => t.textContent));
      assert.deepEqual(head2.slice(0, 3), ['Model & Method', '# Trainable Parameters', 'MNLI']);
      assert.equal(head2[head2.length - 1], 'Avg.');
      const rows3 = await page.$$eval('#table3 tbody tr', (trs) => trs.length);
      assert.equal(rows3, 2);
      const sst = await page.$eval('#table2 tbody tr:nth-child(2) td:nth-child(4)', (td) => ({ text: td.textContent, cls: td.className }));
      assert.match(sst.text ?? '', /^95\.0 ± 1\.2paper 95\.1 ± \.2, Δ −0\.1$/);
      assert.equal(sst.cls, 'agree');
      const captions = await page.$$eval('caption', (cs) => cs.map((c) => c.textContent ?? ''));
      assert.match(captions[0], /^Table 2, profile "fx"/);
      const outside = requests.filter((u) => !u.startsWith(pathToFileURL(join(root, 'fx')).href));
      assert.deepEqual(outside, [], 'only files of the results folder are loaded');
    } finally {
      await ctx.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });
});
