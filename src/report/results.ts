/**
 * Reads a results folder: `results/<profile>/runs/<runId>.json` (one RunResult each, validated with
 * the shared zod schema, src/train/result-schema.ts) and cross-checks `runs.csv` (RUNS_CSV_COLUMNS)
 * against them. A file that does not validate stops the report with one line naming it: a table
 * that silently drops a run would misstate the seeds behind its numbers.
 *
 * MLflow: the runner records in `mlflow-logged.json` which server each finished run was logged to
 * (src/runner/mlflow-projection.ts; MLflow runs carry the tag `lora_repro.run_id` and the run key
 * `run-<runId>`). A RunResult may also carry an optional `mlflow` object (`trackingUri`,
 * `experimentId`, `runId`, `runKey`) — with the two ids the report links the run directly. Both are
 * optional; the `mlflow` field is read from the raw JSON (the shared schema strips unknown keys).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { runResultSchema, type RunResult } from '../train/result-schema.ts';
import { parseCsv } from '../util/csv.ts';
import { RUNS_CSV_COLUMNS } from '../runner/runs-csv.ts';
import { UserError } from '../util/errors.ts';

export const mlflowRefSchema = z.object({
  trackingUri: z.string().regex(/^https?:\/\//, 'an http(s) URL'),
  experimentId: z.string().optional(),
  runId: z.string().optional(),
  runKey: z.string().optional(),
});
export type MlflowRef = z.infer<typeof mlflowRefSchema>;

export interface LoadedRun {
  result: RunResult;
  file: string;
  mlflow?: MlflowRef;
}

export interface ResultsFolder {
  /** results/<profile> */
  dir: string;
  profile: string;
  runs: LoadedRun[];
  /** Integrity notes (runs.csv vs JSON files), shown under the tables. */
  notes: string[];
}

/** The profiles under a results root: sub-directories that hold runs/ or runs.csv. */
function listProfiles(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((d) => statSync(join(root, d)).isDirectory())
    .filter((d) => existsSync(join(root, d, 'runs')) || existsSync(join(root, d, 'runs.csv')))
    .sort();
}

/** --results (default `results`) and --profile (default: the only profile there is). */
export function resolveProfile(root: string, profile: string | undefined): { dir: string; profile: string } {
  if (profile !== undefined) {
    if (!/^[A-Za-z0-9._-]+$/.test(profile)) throw new UserError(`--profile '${profile}': use letters, digits, '.', '_' or '-'`);
    return { dir: join(root, profile), profile };
  }
  const found = listProfiles(root);
  if (found.length === 1) return { dir: join(root, found[0]), profile: found[0] };
  if (found.length === 0) throw new UserError(`${root}: no results (no <profile>/runs/ folder); run the experiments first or pass --results DIR`);
  throw new UserError(`${root}: several profiles (${found.join(', ')}); choose one with --profile`);
}

function formatIssues(err: z.ZodError): string {
  return err.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

export function readRunFile(file: string): LoadedRun {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserError(`${file}: not valid JSON (${(err as Error).message}); rerun the run or delete the file`);
  }
  const parsed = runResultSchema.safeParse(raw);
  if (!parsed.success) throw new UserError(`${file}: not a valid run result (${formatIssues(parsed.error)}); rerun the run or delete the file`);
  const ml = (raw as { mlflow?: unknown }).mlflow;
  let mlflow: MlflowRef | undefined;
  if (ml !== undefined && ml !== null) {
    const m = mlflowRefSchema.safeParse(ml);
    if (!m.success) throw new UserError(`${file}: field 'mlflow' is invalid (${formatIssues(m.error)}); fix or remove it`);
    mlflow = m.data;
  }
  const base = file.split(/[\\/]/).pop()!.replace(/\.json$/, '');
  if (base !== parsed.data.runId) throw new UserError(`${file}: holds runId ${parsed.data.runId}; the file must be named <runId>.json`);
  return { result: parsed.data, file, mlflow };
}

function readRunsCsv(file: string, notes: string[]): Set<string> | undefined {
  if (!existsSync(file)) return undefined;
  const records = parseCsv(readFileSync(file, 'utf8'), file).filter((r) => !(r.fields.length === 1 && r.fields[0] === ''));
  if (records.length === 0) return new Set();
  const header = records[0].fields;
  const expected = [...RUNS_CSV_COLUMNS];
  if (header.join(',') !== expected.join(',')) {
    notes.push(`${file}: header differs from RUNS_CSV_COLUMNS (src/runner/runs-csv.ts); not cross-checked`);
    return undefined;
  }
  return new Set(records.slice(1).map((r) => r.fields[0]));
}

const mlflowStateSchema = z.object({
  v: z.literal(1),
  servers: z.record(z.string(), z.object({ runs: z.record(z.string(), z.string()) }).passthrough()),
});

/** runId → tracking URI, from the runner's mlflow-logged.json (absent or unreadable: none). */
function loggedServers(file: string, notes: string[]): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(file)) return out;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    notes.push(`${file}: not valid JSON; no MLflow links`);
    return out;
  }
  const p = mlflowStateSchema.safeParse(raw);
  if (!p.success) {
    notes.push(`${file}: not in the runner's format; no MLflow links`);
    return out;
  }
  for (const [uri, s] of Object.entries(p.data.servers)) {
    if (!/^https?:\/\//.test(uri)) continue;
    for (const runId of Object.keys(s.runs)) out.set(runId, uri);
  }
  return out;
}

export function loadResults(dir: string, profile: string): ResultsFolder {
  const runsDir = join(dir, 'runs');
  if (!existsSync(runsDir) && !existsSync(join(dir, 'runs.csv'))) {
    throw new UserError(`${dir}: no runs/ folder and no runs.csv; run the experiments for profile '${profile}' first`);
  }
  const notes: string[] = [];
  const files = existsSync(runsDir) ? readdirSync(runsDir).filter((f) => f.endsWith('.json')).sort() : [];
  const runs = files.map((f) => readRunFile(join(runsDir, f)));
  const servers = loggedServers(join(dir, 'mlflow-logged.json'), notes);
  for (const r of runs) {
    const uri = servers.get(r.result.runId);
    if (r.mlflow === undefined && uri !== undefined) r.mlflow = { trackingUri: uri, runKey: `run-${r.result.runId}` };
  }
  const csvIds = readRunsCsv(join(dir, 'runs.csv'), notes);
  if (csvIds !== undefined) {
    const jsonIds = new Set(runs.map((r) => r.result.runId));
    const noJson = [...csvIds].filter((id) => !jsonIds.has(id));
    const noRow = [...jsonIds].filter((id) => !csvIds.has(id));
    if (noJson.length > 0) notes.push(`runs.csv lists ${noJson.length} run(s) without a runs/<runId>.json (not in the tables): ${noJson.slice(0, 10).join(', ')}`);
    if (noRow.length > 0) notes.push(`${noRow.length} run file(s) missing from runs.csv (included): ${noRow.slice(0, 10).join(', ')}`);
  }
  const other = runs.filter((r) => r.result.profile !== profile);
  if (other.length > 0) notes.push(`${other.length} run(s) in ${dir} record another profile (${[...new Set(other.map((r) => r.result.profile))].join(', ')}); included`);
  return { dir, profile, runs, notes };
}
