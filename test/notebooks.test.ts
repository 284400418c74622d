/**
 * notebooks/*.ipynb: committed without outputs, and executed top to bottom headlessly on Deno's
 * Jupyter kernel (`jupyter nbconvert --to notebook --execute`, the kernel spec that the pinned
 * `deno` devDependency installs), on the committed mini results and on folders made here (a
 * subspace analysis and Section 7 charts; an in-process MLflow server fed by the runner's own
 * projection). Each executed notebook is checked for what it must show: the row counts it prints
 * against the table files read here, a vega-lite output (plus its PNG) in every chart cell, no
 * error outputs. Skips without Jupyter (Debian's jupyter-nbconvert, which .ci/run installs) or
 * without the deno binary (npm ci).
 */
import { strict as assert } from 'node:assert';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { readAnalysis, subspaceChartSpecs } from '../src/report/charts/build.ts';
import { writeChart } from '../src/report/charts/render.ts';
import { SAMPLES_FILE } from '../src/report/notebook-samples.ts';
import { VEGALITE_MIME } from '../src/report/notebook.ts';
import { skipBecause } from './helpers/skip.ts';

const run = promisify(execFile);
const NOTEBOOKS = ['table2', 'table3', 'subspace', 'mlflow'];
const DENO = resolve('node_modules/.bin/deno');

interface Output {
  output_type: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}
interface NbCell {
  cell_type: string;
  source: string | string[];
  metadata: { tags?: string[] };
  outputs?: Output[];
  execution_count?: number | null;
}
interface Notebook {
  cells: NbCell[];
  metadata: { kernelspec?: { name: string } };
}

const joined = (t: string | string[] | undefined): string => (Array.isArray(t) ? t.join('') : (t ?? ''));
const code = (nb: Notebook): NbCell[] => nb.cells.filter((c) => c.cell_type === 'code');
const tagged = (nb: Notebook, tag: string): NbCell[] => code(nb).filter((c) => c.metadata.tags?.includes(tag));
const text = (c: NbCell): string => (c.outputs ?? []).filter((o) => o.output_type === 'stream').map((o) => joined(o.text)).join('');
const displays = (c: NbCell, mime: string): string[] =>
  (c.outputs ?? []).filter((o) => o.data?.[mime] !== undefined).map((o) => (typeof o.data![mime] === 'string' ? (o.data![mime] as string) : joined(o.data![mime] as string[])));
const vegaLite = (c: NbCell): number => (c.outputs ?? []).filter((o) => o.data?.[VEGALITE_MIME] !== undefined && o.data['image/png'] !== undefined).length;

function readNotebook(file: string): Notebook {
  return JSON.parse(readFileSync(file, 'utf8')) as Notebook;
}

function noErrors(nb: Notebook, name: string): void {
  for (const c of code(nb)) {
    for (const o of c.outputs ?? []) assert.notEqual(o.output_type, 'error', `${name}: ${o.ename}: ${o.evalue}`);
  }
}

function everyChartCellCharts(nb: Notebook, name: string): void {
  const charts = tagged(nb, 'chart');
  assert.ok(charts.length > 0, `${name} has chart cells`);
  charts.forEach((c, i) => assert.ok(vegaLite(c) >= 1, `${name}: chart cell ${i + 1} shows a vega-lite chart with its PNG`));
}

interface TableFile {
  rows: { label: string; cells: { runs: { runId: string }[] }[] }[];
  baselines: unknown[];
  columns: unknown[];
}

describe('notebooks (notebooks/*.ipynb)', function () {
  it('are stored with outputs cleared, on the Deno kernel, with the parameters cell first', () => {
    for (const name of NOTEBOOKS) {
      const nb = readNotebook(join('notebooks', `${name}.ipynb`));
      assert.equal(nb.metadata.kernelspec?.name, 'deno', `${name}: kernel`);
      for (const c of code(nb)) {
        assert.deepEqual(c.outputs, [], `${name}: a code cell with outputs; clear them before committing (Jupyter: Edit > Clear Outputs of All Cells)`);
        assert.equal(c.execution_count, null, `${name}: a code cell with an execution count; clear the outputs before committing`);
      }
      assert.deepEqual(code(nb)[0].metadata.tags, ['parameters'], `${name}: the first code cell holds the parameters`);
      assert.match(joined(code(nb)[0].source), /const PROFILE = Deno\.env\.get\('LORA_REPRO_PROFILE'\) \?\? 'mini'/);
    }
  });

  describe('executed headlessly (jupyter nbconvert --execute, Deno kernel)', function () {
    // Kernel start and the first import of the project's modules take seconds, more on a loaded machine.
    this.timeout(900_000);
    let dir: string;
    let jupyterPath: string;

    before(function () {
      const nbconvert = spawnSync('jupyter', ['nbconvert', '--version'], { encoding: 'utf8' });
      if (nbconvert.status !== 0) skipBecause(this, 'no jupyter nbconvert on this machine (apt-get install jupyter-nbconvert python3-nbclient; .ci/run does)');
      if (!existsSync(DENO)) skipBecause(this, `no ${DENO} (npm ci installs the pinned deno devDependency)`);
      dir = mkdtempSync(join(tmpdir(), 'notebooks-'));
      // The kernel spec goes to a folder of this test, not the user's Jupyter folder: XDG_DATA_HOME is where deno writes it.
      const xdg = join(dir, 'xdg');
      const install = spawnSync(DENO, ['jupyter', '--install', '--force'], { env: { ...process.env, XDG_DATA_HOME: xdg }, encoding: 'utf8' });
      assert.equal(install.status, 0, `deno jupyter --install: ${install.stderr}`);
      jupyterPath = join(xdg, 'jupyter');
      assert.ok(existsSync(join(jupyterPath, 'kernels', 'deno', 'kernel.json')), 'the deno kernel spec');
    });
    after(() => {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    async function execute(name: string, env: Record<string, string>): Promise<Notebook> {
      const out = join(dir, 'out', `${name}-${Object.values(env).join('-').replace(/[^A-Za-z0-9]+/g, '_').slice(-40)}`);
      mkdirSync(out, { recursive: true });
      await run(
        'jupyter',
        ['nbconvert', '--to', 'notebook', '--execute', '--ExecutePreprocessor.kernel_name=deno', '--ExecutePreprocessor.startup_timeout=300', '--output-dir', out, join('notebooks', `${name}.ipynb`)],
        { env: { ...process.env, JUPYTER_PATH: jupyterPath, MLFLOW_TRACKING_URI: '', ...env }, maxBuffer: 64 << 20 },
      );
      const nb = readNotebook(join(out, `${name}.ipynb`));
      noErrors(nb, name);
      return nb;
    }

    it('table2.ipynb on the committed mini results: the counts of table2.json, a chart in every chart cell', async () => {
      const t = JSON.parse(readFileSync('results/mini/table2.json', 'utf8')) as TableFile;
      const nb = await execute('table2', {});
      const summary = text(tagged(nb, 'summary')[0]);
      const m = /^Table 2 \(profile mini\): (\d+) method rows \+ (\d+) baseline rows? × (\d+) task columns \(\+ Avg\.\), (\d+) runs/.exec(summary);
      assert.ok(m, summary);
      const runIds = new Set(t.rows.flatMap((r) => r.cells.flatMap((c) => c.runs.map((x) => x.runId))));
      assert.deepEqual(m.slice(1).map(Number), [t.rows.length, t.baselines.length, t.columns.length, runIds.size]);
      everyChartCellCharts(nb, 'table2');
      const records = t.rows.reduce((n, r) => n + r.cells.reduce((k, c) => k + c.runs.length, 0), 0);
      assert.match(text(tagged(nb, 'records')[0]), new RegExp(`^${records} run records`));
      const baseline = tagged(nb, 'baseline')[0];
      assert.match(text(baseline), /Above the baseline by more than 2 standard deviations/);
      assert.equal(displays(baseline, 'text/markdown')[0].split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Baseline |')).length, t.baselines.length);
      // The table as `lora-repro table 2` writes it: one line per method row and baseline row.
      const md = displays(code(nb)[2], 'text/markdown')[0];
      for (const r of t.rows) assert.ok(md.includes(`| ${r.label.replace(/\|/g, '\\|')} |`), r.label);
    });

    it('table3.ipynb on the committed mini results: counts, charts, and the generated texts beside each MR', async () => {
      const t = JSON.parse(readFileSync('results/mini/table3.json', 'utf8')) as TableFile;
      const s = JSON.parse(readFileSync(join('results/mini', SAMPLES_FILE), 'utf8')) as { evalSize: number; samples: { index: number; mr: string; references: string[]; rows: { row: string; outputs: { text: string }[] }[] }[] };
      const nb = await execute('table3', {});
      const m = /^Table 3 \(profile mini\): (\d+) method rows \+ (\d+) baseline rows? × (\d+) metric columns, (\d+) runs/.exec(text(tagged(nb, 'summary')[0]));
      assert.ok(m);
      assert.deepEqual(m.slice(1, 4).map(Number), [t.rows.length, t.baselines.length, t.columns.length]);
      everyChartCellCharts(nb, 'table3');
      const samples = tagged(nb, 'samples')[0];
      assert.match(text(samples), new RegExp(`^Samples: ${s.samples.length} of the ${s.evalSize} e2e test MRs`));
      const shown = displays(samples, 'text/markdown');
      assert.equal(shown.length, Math.min(3, s.samples.length));
      shown.forEach((md, i) => {
        const x = s.samples[i];
        assert.ok(md.includes(x.mr), `MR ${x.index}`);
        for (const ref of x.references) assert.ok(md.includes(ref.replace(/\|/g, '\\|')), ref);
        for (const r of x.rows) for (const o of r.outputs) assert.ok(md.includes(o.text.replace(/\|/g, '\\|')), `${r.row}: ${o.text}`);
      });
      // The pick cell: 'The Vaults' (by text) and 50 (by index).
      const want = s.samples.filter((x) => x.index === 50 || [x.mr, ...x.references].some((v) => v.toLowerCase().includes('the vaults')));
      const picked = tagged(nb, 'pick')[0];
      assert.match(text(picked), new RegExp(`^${want.length} MR\\(s\\) match`));
      assert.equal(displays(picked, 'text/markdown').length, want.length);
    });

    it('subspace.ipynb on a profile without Section 7 results: one line, the other cells skip', async () => {
      const root = join(dir, 'results-empty');
      mkdirSync(join(root, 'p'), { recursive: true });
      const nb = await execute('subspace', { LORA_REPRO_RESULTS: root, LORA_REPRO_PROFILE: 'p' });
      const [inventory, ...rest] = code(nb).slice(1);
      assert.match(text(inventory), /^No Section 7 results in .*: `lora-repro analyze subspace .*; the cells below skip\.\n$/);
      assert.equal(inventory.outputs!.length, 1);
      for (const c of rest) assert.deepEqual(c.outputs, []);
    });

    it('subspace.ipynb on the committed mini results: lists the Section 7 files they hold', async function () {
      const files = readdirSync(join('results', 'mini')).filter((f) => /^(section7|intrinsic)/.test(f));
      if (files.length === 0) skipBecause(this, 'results/mini/ holds no Section 7 output in this checkout (make section7 writes it)');
      const nb = await execute('subspace', {});
      const inventory = code(nb)[1];
      assert.match(text(inventory), /^Section 7 in .*: \d+ subspace analys[ie]s .*, \d+ section7\*\/intrinsic\* files/);
      for (const f of files) assert.ok(text(inventory).includes(f), f);
    });

    it('subspace.ipynb on a profile with a subspace analysis and Section 7 charts: each shown', async () => {
      const root = join(dir, 'results-s7');
      const p = join(root, 'p');
      await writeSubspaceAnalysis(root);
      // Stand-ins for what the Section 7 commands write (a table and charts through writeChart).
      writeFileSync(join(p, 'section7.md'), '| r | score |\n|---|---|\n| 1 | 0.5 |\n');
      const spec = { data: { values: [{ r: 1, v: 0.5 }, { r: 2, v: 0.6 }] }, mark: 'line', encoding: { x: { field: 'r', type: 'quantitative' }, y: { field: 'v', type: 'quantitative' } } } as const;
      for (const name of ['section7-table5', 'section7-table6', 'intrinsic-dimension']) await writeChart(join(p, 'charts'), name, spec);
      const nb = await execute('subspace', { LORA_REPRO_RESULTS: root, LORA_REPRO_PROFILE: 'p' });
      assert.match(text(tagged(nb, 'inventory')[0]), /^Section 7 in .*: 1 subspace analysis \(tiny\), .* charts: 1 Section 7, 1 rank sweep, 1 intrinsic dimension\./);
      const [analyses, study, sweep] = tagged(nb, 'chart');
      assert.equal(vegaLite(analyses), subspaceChartSpecs(readAnalysis(join(p, 'analysis', 'tiny', 'subspace.json'))).length);
      assert.ok(vegaLite(analyses) >= 1);
      assert.equal(vegaLite(study), 1);
      assert.ok(displays(study, 'text/markdown')[0].includes('| 1 | 0.5 |'));
      assert.equal(vegaLite(sweep), 2);
    });

    it('mlflow.ipynb without a server: one line says how to start one, the other cells skip', async () => {
      const nb = await execute('mlflow', {});
      const [summary, ...rest] = code(nb).slice(1);
      assert.match(text(summary), /^No MLflow server \(MLFLOW_TRACKING_URI is not set\): make mlflow-ui .*; the cells below skip\.\n$/);
      for (const c of rest) assert.deepEqual(c.outputs, []);
    });

    it("mlflow.ipynb against an MLflow server: the runner's seed runs, compared and matched to the table", async () => {
      const { FakeMlflowServer } = await import('./helpers/fake-mlflow-server.ts');
      const server = await FakeMlflowServer.start();
      try {
        const root = join(dir, 'results-mlflow');
        const { cells, seeds } = await projectToMlflow(server.url, root, 'nbtest');
        const nb = await execute('mlflow', { LORA_REPRO_RESULTS: root, LORA_REPRO_PROFILE: 'nbtest', MLFLOW_TRACKING_URI: server.url, LORA_REPRO_EXPERIMENT: 'table2' });
        assert.match(text(tagged(nb, 'summary')[0]), new RegExp(`^MLflow experiment lora-repro/table2/nbtest \\(id \\w+\\): ${cells} cell runs, ${seeds} seed runs \\(${seeds} FINISHED\\)`));
        everyChartCellCharts(nb, 'mlflow');
        assert.match(text(tagged(nb, 'compare')[0]), new RegExp(`^Against table2\\.json: ${seeds} seed runs compared, ${seeds} the same, 0 not in the table`));
      } finally {
        await server.dispose();
      }
    });
  });
});

/** A LoRA adapter of a tiny RoBERTa, analysed by `lora-repro analyze subspace` into <root>/p/analysis/tiny/. */
async function writeSubspaceAnalysis(root: string): Promise<void> {
  const { initBackend } = await import('../src/backend/select.ts');
  const { configureMethod } = await import('../src/methods/registry.ts');
  const { analyzeCommand } = await import('../src/cli/commands/analyze.ts');
  const { Rng } = await import('../src/util/rng.ts');
  const { ROBERTA_TINY, build } = await import('./helpers/methods.ts');
  await initBackend('wasm');
  const model = build(ROBERTA_TINY);
  const lora = configureMethod('lora', { r: 4, alpha: 8, targets: ['q', 'v'] }).apply(model, new Rng(1));
  const adapter = join(root, 'adapter');
  await lora.save(adapter);
  lora.remove();
  model.dispose();
  const [log, err] = [console.log, console.error];
  console.log = console.error = () => {};
  try {
    assert.equal(await analyzeCommand.run(['subspace', '--a', adapter, '--results', root, '--profile', 'p', '--name', 'tiny', '--no-charts']), 0);
  } finally {
    [console.log, console.error] = [log, err];
  }
}

/**
 * Two Table 2 cells of every seed, logged by the runner's MLflow projection (fake results), and
 * the table `lora-repro table 2` builds from the same result files in <root>/<profile>/.
 */
async function projectToMlflow(uri: string, root: string, profile: string): Promise<{ cells: number; seeds: number }> {
  const { expandSpec } = await import('../src/spec/expand.ts');
  const { loadSpecFile } = await import('../src/spec/load.ts');
  const { createTracker } = await import('../src/tracking/index.ts');
  const { fakeResult, projectionRig } = await import('./helpers/mlflow-results.ts');
  const { tableCommand } = await import('../src/cli/commands/table.ts');
  const exp = expandSpec(loadSpecFile(join('experiments', 'table2.yaml')), { profile: 'mini' });
  const keys = [...new Set(exp.runs.filter((r) => r.config.task === 'sst2' || r.config.task === 'rte').map((r) => r.cellKey))].slice(0, 2);
  const plan = exp.runs.filter((r) => keys.includes(r.cellKey));
  const tracker = createTracker({ trackingUri: uri, spoolDir: join(root, 'spool'), warn: () => {} });
  const rig = projectionRig(tracker, uri, plan, join(root, profile), exp.experiment, profile);
  for (const r of plan) rig.put({ ...fakeResult(r), profile });
  rig.projection.backfill();
  await rig.projection.flush();
  await tracker.close();
  assert.deepEqual(rig.warnings, []);
  const [log, err, write] = [console.log, console.error, process.stdout.write.bind(process.stdout)];
  console.log = console.error = () => {};
  process.stdout.write = () => true;
  try {
    assert.equal(await tableCommand.run(['2', '--results', root, '--profile', profile]), 0);
  } finally {
    [console.log, console.error] = [log, err];
    process.stdout.write = write;
  }
  return { cells: keys.length, seeds: plan.length };
}
