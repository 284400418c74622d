/**
 * results/<profile>/runs.csv: one row per result JSON, columns RUNS_CSV_COLUMNS, written and read
 * with the one CSV reader and writer (util/csv.ts, papaparse underneath).
 *
 * Invariant (after `reconcile`, and after every `commit`): the rows are exactly the result JSONs,
 * one row per runId, each equal to the row derived from its JSON. The JSONs are the source of
 * truth; the CSV is a derived index that is appended to in completion order. Because a run's JSON
 * is renamed into place before its row is appended, a crash can only leave the CSV
 *   - missing the rows of the last runs (JSON present, no row)   → reconcile appends them;
 *   - with a torn last line (killed inside the append)             → dropped, the row re-derived;
 * and a row can only be stale when a failed run was retried (its row is replaced, by an atomic
 * rewrite, never appended twice). Rows without a JSON (someone deleted it to force a rerun),
 * duplicates and rows that do not validate are dropped by the same rewrite. Only one runner
 * writes a profile directory at a time (lock.ts), so there is no concurrent appender.
 */
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { appendLineDurable, writeFileAtomic } from '../util/atomic-write.ts';
import { csvLine, parseCsv, type CsvRecord } from '../util/csv.ts';
import { UserError } from '../util/errors.ts';
import { crashNow, failpointHit } from './failpoints.ts';
import { runStatusSchema, type RunResult } from '../train/result-schema.ts';

/** Columns of runs.csv, in order. `metrics` is the JSON of the reported metrics (RunResult.metrics). */
export const RUNS_CSV_COLUMNS = [
  'runId',
  'cellKey',
  'experiment',
  'profile',
  'model',
  'method',
  'variant',
  'task',
  'seed',
  'status',
  'bestEpoch',
  'headlineMetric',
  'headlineValue',
  'metrics',
  'trainableCounted',
  'trainableFormula',
  'wallSeconds',
  'tokensPerSecond',
  'peakRssMiB',
  'gitCommit',
  'finishedAt',
] as const;

export type CsvRow = Record<(typeof RUNS_CSV_COLUMNS)[number], string>;

const num = z.string().refine((s) => s === '' || Number.isFinite(Number(s)), 'expected a number');
const csvRowSchema = z.object({
  runId: z.string().regex(/^[A-Za-z0-9._-]+$/),
  cellKey: z.string().min(1),
  status: runStatusSchema,
  seed: z.string().regex(/^\d+$/),
  bestEpoch: z.string().regex(/^\d*$/),
  headlineValue: num,
  trainableCounted: num,
  trainableFormula: num,
  wallSeconds: num,
  tokensPerSecond: num,
  peakRssMiB: num,
  metrics: z.string().refine((s) => {
    try {
      return typeof JSON.parse(s) === 'object';
    } catch {
      return false;
    }
  }, 'expected JSON'),
});

/** One line, so a row can never span lines (a torn line is then always the last one). */
const oneLine = (s: string): string => s.replace(/[\r\n]+/g, ' ');
const numStr = (n: number | null | undefined): string => (n === null || n === undefined || !Number.isFinite(n) ? '' : String(n));

export function csvRow(r: RunResult): CsvRow {
  const headline = r.metrics[r.headlineMetric];
  return {
    runId: r.runId,
    cellKey: r.cellKey,
    experiment: oneLine(r.experiment),
    profile: oneLine(r.profile),
    model: oneLine(r.model),
    method: oneLine(r.method),
    variant: oneLine(r.variant),
    task: oneLine(r.task),
    seed: String(r.seed),
    status: r.status,
    bestEpoch: r.bestEpoch === null ? '' : String(r.bestEpoch),
    headlineMetric: oneLine(r.headlineMetric),
    headlineValue: numStr(headline),
    metrics: JSON.stringify(r.metrics),
    trainableCounted: numStr(r.trainableParams.counted),
    trainableFormula: numStr(r.trainableParams.formula),
    wallSeconds: numStr(r.wallSeconds),
    tokensPerSecond: numStr(r.tokensPerSecond),
    peakRssMiB: numStr(r.peakRssMiB),
    gitCommit: oneLine(r.provenance.gitCommit),
    finishedAt: oneLine(r.finishedAt),
  };
}

export function formatCsv(rows: CsvRow[], header: boolean): string {
  const lines = rows.map((r) => csvLine(RUNS_CSV_COLUMNS.map((c) => r[c])));
  if (header) lines.unshift(csvLine(RUNS_CSV_COLUMNS));
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

export interface ParsedCsv {
  rows: CsvRow[];
  /** Problems that need a rewrite: torn tail, bad header, invalid rows. */
  problems: string[];
}

/** Reads runs.csv, dropping a torn last line and rows that do not validate. */
function parseRunsCsv(text: string): ParsedCsv {
  const problems: string[] = [];
  let body = text;
  if (body !== '' && !body.endsWith('\n')) {
    body = body.slice(0, body.lastIndexOf('\n') + 1);
    problems.push('torn last line');
  }
  let records: CsvRecord[];
  try {
    records = parseCsv(body, 'runs.csv').filter((r) => !(r.fields.length === 1 && r.fields[0] === ''));
  } catch (e) {
    // Unreadable quoting: every row is derived again from the result JSONs (the source of truth).
    if (e instanceof UserError) return { rows: [], problems: [...problems, e.message] };
    throw e;
  }
  const [head, ...data] = records;
  if (head === undefined) return { rows: [], problems: body === '' ? problems : [...problems, 'no header'] };
  if (head.fields.join(',') !== RUNS_CSV_COLUMNS.join(',')) return { rows: [], problems: [...problems, 'header does not match RUNS_CSV_COLUMNS'] };
  const rows: CsvRow[] = [];
  for (const { fields, line } of data) {
    if (fields.length !== RUNS_CSV_COLUMNS.length) {
      problems.push(`line ${line}: ${fields.length} fields instead of ${RUNS_CSV_COLUMNS.length}`);
      continue;
    }
    const row = Object.fromEntries(RUNS_CSV_COLUMNS.map((c, j) => [c, fields[j]])) as CsvRow;
    const ok = csvRowSchema.safeParse(row);
    if (!ok.success) problems.push(`line ${line}: ${ok.error.issues[0].path.join('.')}: ${ok.error.issues[0].message}`);
    else rows.push(row);
  }
  return { rows, problems };
}

export function readRunsCsv(path: string): ParsedCsv {
  if (!existsSync(path)) return { rows: [], problems: [] };
  return parseRunsCsv(readFileSync(path, 'utf8'));
}

const sameRow = (a: CsvRow, b: CsvRow): boolean => RUNS_CSV_COLUMNS.every((c) => a[c] === b[c]);

export interface ReconcileReport {
  kept: number;
  appended: number;
  dropped: number;
  rewritten: boolean;
  problems: string[];
}

/** The writer of one profile's runs.csv (hold the runner lock while using it). */
export class RunsCsv {
  /** runId → row, in file order. */
  private rows = new Map<string, CsvRow>();

  constructor(readonly path: string) {}

  /** Brings the CSV in line with the result JSONs (see the invariant at the top). */
  reconcile(results: ReadonlyMap<string, RunResult>): ReconcileReport {
    const fileExists = existsSync(this.path);
    const { rows: existing, problems } = readRunsCsv(this.path);
    const kept = new Map<string, CsvRow>();
    let dropped = 0;
    for (const row of existing) {
      const truth = results.get(row.runId);
      if (truth !== undefined && !kept.has(row.runId) && sameRow(row, csvRow(truth))) kept.set(row.runId, row);
      else dropped++;
    }
    const missing = [...results.values()]
      .filter((r) => !kept.has(r.runId))
      .sort((a, b) => a.finishedAt.localeCompare(b.finishedAt) || a.runId.localeCompare(b.runId))
      .map(csvRow);
    this.rows = kept;
    for (const row of missing) this.rows.set(row.runId, row);
    const rewrite = !fileExists || problems.length > 0 || dropped > 0;
    if (rewrite) this.rewrite();
    else if (missing.length > 0) appendLineDurable(this.path, formatCsv(missing, false));
    return { kept: kept.size, appended: missing.length, dropped, rewritten: rewrite, problems };
  }

  /** Records a result whose JSON was just written: append, or replace its old row by a rewrite. */
  commit(result: RunResult): void {
    const row = csvRow(result);
    const old = this.rows.get(row.runId);
    if (old !== undefined && sameRow(old, row)) return;
    if (old !== undefined) {
      this.rows.delete(row.runId);
      this.rows.set(row.runId, row);
      this.rewrite();
      return;
    }
    this.rows.set(row.runId, row);
    if (!existsSync(this.path)) this.rewrite();
    else {
      const line = formatCsv([row], false);
      if (failpointHit('torn-csv')) {
        appendLineDurable(this.path, line.slice(0, Math.floor(line.length / 2)));
        crashNow();
      }
      appendLineDurable(this.path, line);
    }
  }

  get size(): number {
    return this.rows.size;
  }

  private rewrite(): void {
    writeFileAtomic(this.path, formatCsv([...this.rows.values()], true));
  }
}
