/**
 * The columns of Tables 2 and 3 and how a run's metrics become a cell value on the paper's scale.
 *
 * Table 2 (paper Section 5.2–5.3): one column per GLUE task in the paper's order, each the task's
 * headline metric (the run records which: MNLI matched accuracy, CoLA Matthews, STS-B Pearson,
 * accuracy elsewhere), ×100. A synthetic stand-in task (`synthetic-<task>`, run-config.ts) gets its
 * own column, labelled as synthetic and never compared with the paper's GLUE value.
 * Table 3 (Section 5.4): BLEU, NIST, METEOR, ROUGE-L, CIDEr of the E2E runs; BLEU, METEOR and
 * ROUGE-L ×100, NIST and CIDEr raw, as the paper prints them (runs store the official scorer's
 * scales: BLEU/METEOR/ROUGE-L in 0–1).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { GLUE_TASK_NAMES, GLUE_TASKS, type GlueTaskName } from '../data/glue-tasks.ts';
import { E2E_FILES, type E2eSplit } from '../data/e2e.ts';
import type { RunResult } from '../train/result-schema.ts';
import { UserError } from '../util/errors.ts';

export interface ColumnDef {
  key: string;
  header: string;
  /** The paper's column, or undefined for synthetic stand-ins (not comparable). */
  paperColumn: string | undefined;
  /** The task whose runs fill the column (Table 3: every column reads the row's task). */
  task: string | undefined;
  /** Table 3: which metric; Table 2: the run's headline metric. */
  metric: string | undefined;
  scale: number;
  decimals: number;
  synthetic: boolean;
}

const SYNTHETIC_PREFIX = 'synthetic-';

export function isSynthetic(task: string): boolean {
  return task.startsWith(SYNTHETIC_PREFIX);
}

function squash(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** The GLUE task a task name is or stands in for ('synthetic-sst2', 'synthetic-SST-2' → sst2). */
export function glueTaskOf(task: string): GlueTaskName | undefined {
  const s = squash(isSynthetic(task) ? task.slice(SYNTHETIC_PREFIX.length) : task);
  return GLUE_TASK_NAMES.find((t) => s === t || s.startsWith(t));
}

export function isE2eTask(task: string): boolean {
  return task === 'e2e' || (isSynthetic(task) && squash(task).includes('e2e'));
}

/** Which table a run belongs to: its task decides; a synthetic task with no recognisable name goes by its experiment. */
export function tableOf(run: RunResult): 2 | 3 | undefined {
  if (isE2eTask(run.task)) return 3;
  if (glueTaskOf(run.task) !== undefined) return 2;
  if (run.experiment === 'table2') return 2;
  if (run.experiment === 'table3') return 3;
  return undefined;
}

/** Table 2's columns for the tasks present: a real column unless only a synthetic stand-in ran. */
export function table2Columns(tasks: readonly string[]): ColumnDef[] {
  const out: ColumnDef[] = [];
  const present = new Set(tasks);
  for (const t of GLUE_TASK_NAMES) {
    const spec = GLUE_TASKS[t];
    const synth = [...present].filter((x) => isSynthetic(x) && glueTaskOf(x) === t).sort();
    if (present.has(t) || synth.length === 0) {
      out.push({ key: t, header: spec.tableColumn, paperColumn: spec.tableColumn, task: t, metric: undefined, scale: 100, decimals: 1, synthetic: false });
    }
    for (const s of synth) out.push({ key: s, header: `${spec.tableColumn} (synthetic)`, paperColumn: undefined, task: s, metric: undefined, scale: 100, decimals: 1, synthetic: true });
  }
  const rest = [...present].filter((x) => glueTaskOf(x) === undefined && !isE2eTask(x)).sort();
  for (const s of rest) out.push({ key: s, header: s, paperColumn: undefined, task: s, metric: undefined, scale: 100, decimals: 1, synthetic: isSynthetic(s) });
  return out;
}

/** Table 3's metric columns: [paper column, metric names a run may use (squashed), scale, decimals]. */
const E2E_METRICS: readonly [string, string[], number, number][] = [
  ['BLEU', ['bleu'], 100, 1],
  ['NIST', ['nist'], 1, 2],
  ['MET', ['meteor', 'met'], 100, 1],
  ['ROUGE-L', ['rougel'], 100, 1],
  ['CIDEr', ['cider'], 1, 2],
];

export function table3Columns(): ColumnDef[] {
  return E2E_METRICS.map(([c, names, scale, decimals]) => ({ key: c, header: c, paperColumn: c, task: undefined, metric: names[0], scale, decimals, synthetic: false }));
}

/** A metric of the run by a loose name ('BLEU' finds 'BLEU', 'bleu', 'test/BLEU'). */
function findMetric(metrics: Record<string, number>, names: string[]): string | undefined {
  const keys = Object.keys(metrics);
  for (const n of names) {
    const exact = keys.find((k) => squash(k) === n);
    if (exact !== undefined) return exact;
  }
  for (const n of names) {
    const suffix = keys.find((k) => squash(k).endsWith(n));
    if (suffix !== undefined) return suffix;
  }
  return undefined;
}

/**
 * The run's value for a column on the paper's scale, or a reason it has none. A 0–1 metric outside
 * [−1, 1] means the run stored percentages, against the result schema: that is an error, not a
 * value to rescale silently.
 */
export function cellValue(run: RunResult, col: ColumnDef, file: string): { value: number } | { missing: string } {
  let key: string | undefined;
  if (col.metric === undefined) key = run.headlineMetric in run.metrics ? run.headlineMetric : undefined;
  else key = findMetric(run.metrics, E2E_METRICS.find((m) => m[0] === col.key)?.[1] ?? [col.metric]);
  if (key === undefined) return { missing: `metric ${col.metric ?? run.headlineMetric} not recorded` };
  const raw = run.metrics[key];
  if (!Number.isFinite(raw)) return { missing: `metric ${key} is ${raw}` };
  if (col.scale === 100 && Math.abs(raw) > 1 + 1e-9) {
    throw new UserError(`${file}: metric ${key} = ${raw} is not on the 0–1 scale the result schema asks for; fix the runner's output`);
  }
  return { value: raw * col.scale };
}

/**
 * The E2E splits a run read, from the data files its provenance records (train excluded): how
 * protocol.ts tells the split of results written before runs recorded `reported`.
 */
export function e2eScoredSplits(datasets: Readonly<Record<string, string>>): E2eSplit[] {
  const files = Object.keys(datasets);
  return (['dev', 'test'] as const).filter((split) => {
    const names = [E2E_FILES.csv[split], E2E_FILES.lora[split]];
    return files.some((f) => names.some((n) => f === n || f.endsWith(`/${n}`)));
  });
}

/** Why a task has no runs when its data is absent (../shared/data/MANIFEST.md lists what is missing). */
export function missingTaskData(task: string, dataDir: string | undefined): string | undefined {
  if (dataDir === undefined || isSynthetic(task)) return undefined;
  let files: string[] = [];
  const glue = glueTaskOf(task);
  if (task === 'e2e') files = [E2E_FILES.csv.train, E2E_FILES.csv.dev];
  else if (glue !== undefined) files = [GLUE_TASKS[glue].trainFile, ...GLUE_TASKS[glue].evalSplits.map((s) => s.file)];
  const missing = files.filter((f) => !existsSync(join(dataDir, f)));
  return missing.length > 0 ? `task data missing: ${missing[0]}${missing.length > 1 ? ` (+${missing.length - 1} more)` : ''}` : undefined;
}
