/**
 * `lora-repro analyze subspace`: the subspace analysis of paper Section 7 on LoRA checkpoints
 * (loralib or PEFT names) or on the adapters of our own runs: ΔW spectra and stable ranks,
 * φ between layers, and with a second checkpoint the φ(A1, A2, i, j) heatmaps of Figures 3/4;
 * with --base, Table 7's ΔW-vs-W quantities.
 */
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { openBaseWeights } from '../../analysis/base-weights.ts';
import { readLoraCheckpoint, type WeightType } from '../../analysis/lora-weights.ts';
import { analyzeSubspace } from '../../analysis/run-analysis.ts';
import { summaryText } from '../../analysis/summary-text.ts';
import { slug, subspaceCharts, type ChartEntry } from '../../report/charts/build.ts';
import { resolveProfile } from '../../report/results.ts';
import { UserError } from '../../util/errors.ts';
import { numberFlag, parseCommandArgs } from '../args.ts';
import type { Command } from '../command.ts';
import { runStudy, STUDIES, STUDY_USAGE } from './analyze-studies.ts';

/** The first directory at or below `dir` (depth ≤ 3) holding adapter_model.safetensors. */
function adapterDirIn(dir: string, depth = 0): string | undefined {
  if (existsSync(join(dir, 'adapter_model.safetensors'))) return dir;
  if (depth >= 3) return undefined;
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) {
      const found = adapterDirIn(p, depth + 1);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** A run id → its adapter: results/<profile>/runs/<runId>/ (src/runner/paths.ts) or below. */
function findRunAdapter(profileDir: string, runId: string): string | undefined {
  const dir = join(profileDir, 'runs', runId);
  return existsSync(dir) && statSync(dir).isDirectory() ? adapterDirIn(dir) : undefined;
}

function resolveCheckpoint(arg: string, results: string, profile: string | undefined): string {
  if (existsSync(arg)) return arg;
  if (/^[0-9a-f]{6,64}$/i.test(arg)) {
    const { dir } = resolveProfile(results, profile);
    const found = findRunAdapter(dir, arg);
    if (found !== undefined) return found;
    throw new UserError(`run ${arg}: no adapter_model.safetensors in ${join(dir, 'runs', arg)}; was the run saved with its adapter?`);
  }
  throw new UserError(`${arg}: not found (give a LoRA .safetensors file, an adapter directory, or a run id)`);
}

function rankLabel(name: string, ranks: number[]): string {
  const rs = [...new Set(ranks)];
  return rs.length === 1 ? `${name} r=${rs[0]}` : name;
}

export const analyzeCommand: Command = {
  name: 'analyze',
  summary: 'subspace analysis of LoRA updates, paper Section 7 (analyze subspace --a CKPT [--b CKPT]; analyze section7 | intrinsic)',
  usage: [
    'Usage: lora-repro analyze subspace --a <ckpt> [--b <ckpt>] [--alpha N] [--alpha-b N] [--base <model.safetensors>]',
    '                                   [--name NAME] [--profile P] [--results DIR] [--out DIR] [--layers 0,6,11] [--json] [--no-charts]',
    '',
    'Paper Section 7 on LoRA checkpoints. <ckpt>: a .safetensors file with loralib names (<module>.lora_A/B),',
    'a PEFT adapter directory (adapter_model.safetensors + adapter_config.json), or a run id of --profile.',
    '  - ΔW = (alpha/r)·B·A per module: singular values, Frobenius norm, stable rank ‖ΔW‖²_F/‖ΔW‖²_2;',
    '  - φ(A_l, A_m, i, j) between layers of one checkpoint, and between weight types of one layer;',
    '  - with --b: φ(A_a, A_b, i, j) per layer and weight type (Figure 3: an r=8 vs an r=64 run;',
    '    Figure 4: two seeds), heatmaps for --layers (default first, middle, last) and a random baseline;',
    "  - with --base (the pre-trained model.safetensors): Table 7's ‖UᵀWV‖_F for the top-r directions of",
    "    ΔW, of W and of random matrices, and the amplification factor ‖ΔW‖_F/‖UᵀWV‖_F.",
    '  --alpha      lora_alpha of --a when the checkpoint does not record it (scaling = alpha/r)',
    '  --alpha-b    the same for --b (default: --alpha)',
    '  --c-attn-targets  GPT-2 loralib c_attn slices, e.g. q,v (default q,v for two slices)',
    '  --out        output folder (default <results>/<profile>/analysis/<name>; profile default "reference")',
    'Writes subspace.json and the charts (SVG + PNG) to the output folder and prints a summary.',
    '',
    STUDY_USAGE,
  ].join('\n'),
  async run(argv) {
    const study = STUDIES.find((s) => s === argv[0]);
    if (study !== undefined) return runStudy(study, argv.slice(1));
    const { values, positionals } = parseCommandArgs(argv, {
      a: { type: 'string' },
      b: { type: 'string' },
      alpha: { type: 'string' },
      'alpha-b': { type: 'string' },
      base: { type: 'string' },
      name: { type: 'string' },
      profile: { type: 'string' },
      results: { type: 'string', default: 'results' },
      out: { type: 'string' },
      layers: { type: 'string' },
      'c-attn-targets': { type: 'string' },
      json: { type: 'boolean', default: false },
      'no-charts': { type: 'boolean', default: false },
      seed: { type: 'string' },
    });
    if (positionals[0] !== 'subspace' || positionals.length !== 1) throw new UserError("analyze subspace, analyze section7 or analyze intrinsic (see --help)");
    if (values.a === undefined) throw new UserError('analyze subspace needs --a <checkpoint> (and optionally --b <checkpoint>)');
    const results = values.results as string;
    const alpha = values.alpha !== undefined ? numberFlag('alpha', values.alpha, 0) : undefined;
    const alphaB = values['alpha-b'] !== undefined ? numberFlag('alpha-b', values['alpha-b'], 0) : alpha;
    if ((alpha !== undefined && alpha <= 0) || (alphaB !== undefined && alphaB <= 0)) throw new UserError('--alpha must be positive');
    const cAttn = values['c-attn-targets']?.split(',').map((s) => s.trim()) as WeightType[] | undefined;
    if (cAttn?.some((t) => !['q', 'k', 'v'].includes(t))) throw new UserError(`--c-attn-targets: use q, k and/or v, got '${values['c-attn-targets']}'`);
    const layers = values.layers?.split(',').map((s) => {
      const n = Number(s.trim());
      if (!Number.isInteger(n) || n < 0) throw new UserError(`--layers expects comma-separated layer indices, got '${values.layers}'`);
      return n;
    });

    const pathA = resolveCheckpoint(values.a, results, values.profile);
    const ckA = readLoraCheckpoint(pathA, { alpha, cAttnTargets: cAttn });
    const checkpoints = [{ label: rankLabel(values.b !== undefined ? 'A' : basename(pathA).replace(/\.safetensors$/, ''), ckA.modules.map((m) => m.r)), ckpt: ckA }];
    if (values.b !== undefined) {
      const pathB = resolveCheckpoint(values.b, results, values.profile);
      const ckB = readLoraCheckpoint(pathB, { alpha: alphaB, cAttnTargets: cAttn });
      checkpoints.push({ label: rankLabel('B', ckB.modules.map((m) => m.r)), ckpt: ckB });
    }
    const base = values.base !== undefined ? openBaseWeights(values.base) : undefined;
    const name = slug(values.name ?? (values.b !== undefined ? `${basename(pathA)}-vs-${basename(values.b)}` : basename(pathA).replace(/\.safetensors$/, '')));
    const out = values.out ?? join(results, values.profile ?? 'reference', 'analysis', name);
    const seed = values.seed !== undefined ? numberFlag('seed', values.seed, 0) : 0;

    const analysis = analyzeSubspace({ name, checkpoints, base, heatmapLayers: layers, seed, log: (l) => console.error(l) });
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'subspace.json'), JSON.stringify(analysis, null, 1) + '\n');
    const charts: ChartEntry[] = [];
    if (!values['no-charts']) await subspaceCharts(analysis, out, out, charts);
    if (values.json) console.log(JSON.stringify(analysis));
    else {
      console.log(summaryText(analysis));
      for (const c of charts) console.log(`chart ${c.svg} / ${c.png} (${c.width}×${c.height}, ${c.ms.toFixed(0)} ms)`);
    }
    console.error(`wrote ${join(out, 'subspace.json')}${charts.length > 0 ? ` and ${charts.length} chart(s)` : ''}`);
    return 0;
  },
};
