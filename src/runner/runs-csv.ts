/**
 * results/<profile>/runs.csv: one row per result JSON, columns RUNS_CSV_COLUMNS, written and read
 * with papaparse.
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
import Papa from 'papaparse';
import { z } from 'zod';
import { appendLineDurable, writeFileAtomic } from '../util/atomic-write.ts';
import { crashNow, failpointHit } from './failpoints.ts';
import { RUNS_CSV_COLUMNS, runStatusSchema, type RunResult } from './result-schema.ts';

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
  if (rows.length === 0) return header ? `${RUNS_CSV_COLUMNS.join(',')}\n` : '';
  const text = Papa.unparse({ fields: [...RUNS_CSV_COLUMNS], data: rows.map((r) => RUNS_CSV_COLUMNS.map((c) => r[c])) }, { header, newline: '\n' });
  return `${text}\n`;
}

export interface ParsedCsv {
  rows: CsvRow[];
  /** Problems that need a rewrite: torn tail, bad header, invalid rows. */
  problems: string[];
}

/** Reads runs.csv, dropping a torn last line and rows that do not validate. */
export function parseRunsCsv(text: string): ParsedCsv {
  const problems: string[] = [];
  let body = text;
  if (body !== '' && !body.endsWith('\n')) {
    body = body.slice(0, body.lastIndexOf('\n') + 1);
    problems.push('torn last line');
  }
  const parsed = Papa.parse<string[]>(body, { header: false, skipEmptyLines: true });
  const [head, ...data] = parsed.data;
  if (head === undefined) return { rows: [], problems: body === '' ? problems : [...problems, 'no header'] };
  if (head.join(',') !== RUNS_CSV_COLUMNS.join(',')) return { rows: [], problems: [...problems, 'header does not match RUNS_CSV_COLUMNS'] };
  const rows: CsvRow[] = [];
  data.forEach((fields, i) => {
    if (fields.length !== RUNS_CSV_COLUMNS.length) {
      problems.push(`line ${i + 2}: ${fields.length} fields instead of ${RUNS_CSV_COLUMNS.length}`);
      return;
    }
    const row = Object.fromEntries(RUNS_CSV_COLUMNS.map((c, j) => [c, fields[j]])) as CsvRow;
    const ok = csvRowSchema.safeParse(row);
    if (!ok.success) problems.push(`line ${i + 2}: ${ok.error.issues[0].path.join('.')}: ${ok.error.issues[0].message}`);
    else rows.push(row);
  });
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
