/**
 * The stand-in study (issue 18, item 1): what pretraining compute buys in fine-tuned score, for the
 * offline `mini` profile's models pretrained here. docs/stand-ins.md ("The study") gives the steps.
 *
 *   node --import tsx bench/stand-in-study.ts run --models DIR,DIR… --out DIR [--tasks …] [--methods …] [--seeds …] [--extra="ARGS"] [--dry-run]
 *   node --import tsx bench/stand-in-study.ts collect --runs DIR [--runs DIR…] [--cache DIR…] [--out FILE]
 *   node --import tsx bench/stand-in-study.ts chart [--in FILE] [--out DIR]
 *
 * `run` fine-tunes each model folder (snapshots of `lora-repro pretrain --snapshots`, or a finished
 * cache entry) with the study's fixed settings (STUDY_DEFAULTS, the one place they live) through
 * bin/lora-repro.mjs, skipping runs already finished. `collect` turns the run folders into one JSON
 * (stand-in-study-data.ts), `chart` draws it and prints the same numbers as a table.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandArgs } from '../src/cli/args.ts';
import { describeFsError } from '../src/cli/error-boundary.ts';
import { writeFileAtomic } from '../src/util/atomic-write.ts';
import { UserError } from '../src/util/errors.ts';
import { dataSizeTable, studyTable, writeStudyChart } from './stand-in-study-chart.ts';
import { collectStudy, readStudy, describeModel } from './stand-in-study-data.ts';

/**
 * The study's fine-tuning settings: every point gets the same fine-tuning, so only pretraining
 * varies. Learning rates: the mini stand-in needs larger steps than the paper's (experiments/table2.yaml).
 * No --eval-limit: the whole dev split is scored.
 */
export const STUDY_DEFAULTS = {
  tasks: ['sst2', 'stsb', 'mrpc'],
  methods: ['lora', 'ft'],
  seeds: [0],
  lr: { lora: 2.5e-3, ft: 3e-4 } as Record<string, number>,
  /** Method options (lora-repro train flags) by method. */
  methodFlags: { lora: ['--r', '8', '--alpha', '16', '--targets', 'q,v'] } as Record<string, string[]>,
  common: ['--epochs', '4', '--limit', '2000', '--batch', '16', '--max-seq', '128', '--warmup-ratio', '0.06', '--weight-decay', '0.1'],
};

const DEFAULT_JSON = 'results/mini/stand-in-study.json';
const DEFAULT_CHARTS = 'results/mini/charts/';
const BIN = fileURLToPath(new URL('../bin/lora-repro.mjs', import.meta.url));

const USAGE = [
  'Usage: node --import tsx bench/stand-in-study.ts <command> [options]',
  '',
  '  run --models DIR,DIR… --out DIR [--tasks sst2,stsb,mrpc] [--methods lora,ft] [--seeds 0] [--extra="ARGS"] [--dry-run]',
  '        fine-tune every model folder (a pretraining snapshot step-<N>/ or a cache entry) with the study settings',
  '        into DIR/<family>[-<arch>]-<key>-step<N>-<task>-<method>-lr<lr>-seed<S>[-<extra>]/ (arch, e.g. d256-l4, only',
  '        when not the default stand-in\'s); finished runs are skipped;',
  '        --extra: more lora-repro train flags for every run (they override the study settings, e.g. --extra="--eval-limit 300")',
  `  collect --runs DIR [--runs DIR…] [--cache DIR…] [--profile mini] [--out ${DEFAULT_JSON}]`,
  '        read every result.json under the --runs folders into one JSON; --cache: where the finished',
  "        pretraining runs' pretrain.json live (cache roots or entries), for their ms/step",
  `  chart [--in ${DEFAULT_JSON}] [--out ${DEFAULT_CHARTS}]`,
  '        write stand-in-study.svg/.png/.vl.json and print the numbers as a table',
].join('\n');

function list(name: string, value: string | undefined, fallback: readonly string[]): string[] {
  const items = value === undefined ? [...fallback] : value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new UserError(`--${name} expects a comma-separated list`);
  return items;
}

function printDefaults(seeds: readonly number[]): void {
  console.log('study fine-tuning settings (bench/stand-in-study.ts STUDY_DEFAULTS):');
  for (const [m, lr] of Object.entries(STUDY_DEFAULTS.lr)) console.log(`  ${m}: --lr ${lr} ${(STUDY_DEFAULTS.methodFlags[m] ?? []).join(' ')}`.trimEnd());
  console.log(`  all: ${STUDY_DEFAULTS.common.join(' ')} --seed ${seeds.join('|')} (dev split: all of it)`);
}

/** True when `dir` holds a finished run (its result.json says so). */
function finished(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as { status?: unknown }).status === 'finished';
  } catch {
    return false;
  }
}

function runCommand(argv: string[]): number {
  const { values } = parseCommandArgs(argv, { models: { type: 'string' }, tasks: { type: 'string' }, methods: { type: 'string' }, seeds: { type: 'string' }, out: { type: 'string' }, extra: { type: 'string' }, 'dry-run': { type: 'boolean', default: false } }, false);
  if (values.models === undefined) throw new UserError('run needs --models DIR,DIR… (pretraining snapshot folders step-<N>/ or cache entries)');
  if (values.out === undefined) throw new UserError('run needs --out DIR (where the run folders go)');
  const tasks = list('tasks', values.tasks, STUDY_DEFAULTS.tasks);
  const methods = list('methods', values.methods, STUDY_DEFAULTS.methods);
  for (const m of methods) if (STUDY_DEFAULTS.lr[m] === undefined) throw new UserError(`--methods: '${m}' has no study learning rate (choose from ${Object.keys(STUDY_DEFAULTS.lr).join(', ')})`);
  const seeds = list('seeds', values.seeds, STUDY_DEFAULTS.seeds.map(String)).map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0) throw new UserError(`--seeds expects non-negative integers, got '${s}'`);
    return n;
  });
  // Appended to every train command, so they override the study settings (later flags win); named in the folders.
  const extra = (values.extra ?? '').split(/\s+/).filter((a) => a !== '');
  const suffix = extra.length > 0 ? `-${extra.map((a) => a.replace(/^-+/, '')).join('_').replace(/[^A-Za-z0-9._=-]/g, '-')}` : '';
  const models = list('models', values.models, []).map((m) => ({ dir: resolve(m), tag: describeModel(resolve(m)).tag }));
  printDefaults(seeds);
  const jobs = models.flatMap((m) => tasks.flatMap((task) => methods.flatMap((method) => seeds.map((seed) => ({ m, task, method, seed })))));
  let failed = 0;
  let done = 0;
  for (const [i, { m, task, method, seed }] of jobs.entries()) {
    const lr = STUDY_DEFAULTS.lr[method] as number;
    const out = resolve(values.out, `${m.tag}-${task}-${method}-lr${lr}-seed${seed}${suffix}`);
    const args = ['train', '--model', m.dir, '--task', task, '--method', method, ...(STUDY_DEFAULTS.methodFlags[method] ?? []), '--lr', String(lr), ...STUDY_DEFAULTS.common, '--seed', String(seed), ...extra, '--out', out];
    const head = `[${i + 1}/${jobs.length}]`;
    if (finished(out)) {
      console.log(`${head} skip (finished): ${out}`);
      done++;
      continue;
    }
    console.log(`${head} lora-repro ${args.join(' ')}`);
    if (values['dry-run']) continue;
    const r = spawnSync(process.execPath, [BIN, ...args], { stdio: 'inherit' });
    if (r.status === 0) done++;
    else {
      failed++;
      console.log(`${head} FAILED (exit ${r.status ?? r.signal}): ${out}`);
    }
  }
  console.log(`${done} of ${jobs.length} runs finished${failed > 0 ? `, ${failed} failed (run again to retry them)` : ''}${values['dry-run'] ? ' (dry run: nothing started)' : ''}`);
  return failed > 0 ? 1 : 0;
}

function collectCommand(argv: string[]): number {
  const { values } = parseCommandArgs(argv, { runs: { type: 'string', multiple: true }, cache: { type: 'string', multiple: true }, profile: { type: 'string' }, out: { type: 'string' } }, false);
  const study = collectStudy({ runs: values.runs ?? [], caches: values.cache ?? [], profile: values.profile });
  const out = resolve(values.out ?? DEFAULT_JSON);
  mkdirSync(dirname(out), { recursive: true });
  writeFileAtomic(out, `${JSON.stringify(study, null, 1)}\n`);
  const runs = study.points.reduce((a, p) => a + p.runs.length, 0);
  console.log(`${study.points.length} model points, ${runs} runs → ${out}`);
  for (const s of study.skipped) console.log(`  left out ${s.run}: ${s.reason}`);
  return 0;
}

async function chartCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, { in: { type: 'string' }, out: { type: 'string' } }, false);
  const study = readStudy(resolve(values.in ?? DEFAULT_JSON));
  if (study.points.length === 0) throw new UserError(`${values.in ?? DEFAULT_JSON}: no model points to chart: collect finished runs first`);
  const written = await writeStudyChart(study, resolve(values.out ?? DEFAULT_CHARTS));
  console.log(studyTable(study));
  const sizes = dataSizeTable(study);
  if (sizes !== '') console.log(`\n${sizes}`);
  for (const w of written) console.log(`\nchart: ${w.svgPath} (${w.width}×${w.height}), ${w.pngPath}, ${w.specPath}`);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'run') return runCommand(rest);
    if (command === 'collect') return collectCommand(rest);
    if (command === 'chart') return await chartCommand(rest);
    if (command === undefined || command === '--help' || command === '-h') {
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    }
    throw new UserError(`unknown command '${command}': run, collect or chart (--help)`);
  } catch (err) {
    const line = err instanceof UserError ? err.message : describeFsError(err);
    if (line === undefined) throw err;
    console.error(`stand-in-study${command === undefined ? '' : ` ${command}`}: ${line.replace(/\s*\n\s*/g, ' ').trim()}`);
    return 2;
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
