/**
 * results/<profile>/table3-samples.json: the texts behind Table 3 for a few MRs, small enough to
 * commit beside table3.json (the run folders with every prediction are not committed), so the
 * table3 notebook can put each method's output next to the MR and its references.
 *
 * Written by `lora-repro table 3` (--samples N, default 10) from what the runs saved:
 * runs/<runId>/predictions/<split>.hyp.txt (one output per MR, every seed of every row) and
 * <split>.ref.txt (the references, grouped per MR). The MR itself is not in those files: it is
 * re-derived from the data directory's E2E CSV exactly as the loader chose the run's eval subset
 * (data/e2e.ts groupConsecutive, train/run-identity.ts subsampleIndices with the run's evalLimit), and
 * kept only if that subset's references equal the run's own ref.txt MR for MR — otherwise the file
 * says why the MRs are missing rather than pairing outputs with the wrong input.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { E2E_FILES, readE2eFile, type E2eSplit } from '../data/e2e.ts';
import { parseHypotheses, parseReferences } from '../eval/e2e/references.ts';
import { resultsPaths } from '../runner/paths.ts';
import { reportedOf } from '../train/result-schema.ts';
import { RUN_FILES } from '../train/run-dir.ts';
import { subsampleIndices } from '../train/run-identity.ts';
import { UserError } from '../util/errors.ts';
import { mdEscape } from './format-text.ts';
import type { ResultsFolder } from './results.ts';
import type { TableModel } from './table-model.ts';

export const SAMPLES_FILE = 'table3-samples.json';
export const DEFAULT_SAMPLES = 8;

const sampleSchema = z.object({
  /** Position of the MR in the runs' eval subset (0-based): the line of <split>.hyp.txt. */
  index: z.number().int().nonnegative(),
  mr: z.string().optional(),
  references: z.array(z.string()),
  rows: z.array(z.object({ row: z.string(), method: z.string(), outputs: z.array(z.object({ seed: z.number().int(), runId: z.string(), text: z.string() })) })),
});

export const samplesFileSchema = z.object({
  table: z.literal(3),
  profile: z.string(),
  task: z.string(),
  split: z.string(),
  /** MRs in the runs' eval subset; `samples` holds a few of them, evenly spaced. */
  evalSize: z.number().int().nonnegative(),
  /** Why `mr` is absent, when it is. */
  mrNote: z.string().optional(),
  notes: z.array(z.string()),
  command: z.string(),
  samples: z.array(sampleSchema),
});
export type SamplesFile = z.infer<typeof samplesFileSchema>;
export type Sample = SamplesFile['samples'][number];

function readLines(file: string, parse: (text: string) => string[]): string[] | undefined {
  return existsSync(file) ? parse(readFileSync(file, 'utf8')) : undefined;
}

/** `count` indices spread evenly over [0, n). */
export function spreadIndices(n: number, count: number): number[] {
  const k = Math.min(n, count);
  return [...new Set(Array.from({ length: k }, (_, i) => Math.floor((i * n) / k)))];
}

/** The MRs of a run's eval subset, if the data directory's CSV reproduces its references; else why not. */
function mrsOf(dataDir: string | undefined, split: E2eSplit, evalLimit: number | undefined, refs: string[][]): { mrs?: string[]; note?: string } {
  const rel = E2E_FILES.csv[split];
  if (dataDir === undefined || !existsSync(join(dataDir, rel))) return { note: `MRs left out: no data directory with ${rel} (pass --data-dir); references and outputs are the runs' own files` };
  const instances = readE2eFile(join(dataDir, rel), 'csv').instances;
  const chosen = subsampleIndices(instances.length, evalLimit).map((i) => instances[i]);
  // ref.txt holds each reference on one line, stripped (evaluate-e2e.ts oneLine); compare with whitespace runs collapsed.
  const flat = (s: string): string => s.replace(/\s+/g, ' ').trim();
  const same = chosen.length === refs.length && chosen.every((c, i) => c.refs.length === refs[i].length && c.refs.every((r, j) => flat(r) === flat(refs[i][j])));
  if (!same) return { note: `MRs left out: ${join(dataDir, rel)} does not give the runs' references (another data version?)` };
  return { mrs: chosen.map((c) => c.mr) };
}

/** The samples of Table 3's runs, or undefined when no run saved its predictions. */
export function buildSamples(folder: ResultsFolder, t: TableModel, opts: { count: number; dataDir?: string; command: string }): SamplesFile | undefined {
  const paths = resultsPaths(folder.dir);
  const byId = new Map(folder.runs.map((r) => [r.result.runId, r.result]));
  const notes: string[] = [];
  type Got = { row: string; method: string; seed: number; runId: string; hyps: string[]; refFile: string; task: string; split: string; evalLimit?: number };
  const got: Got[] = [];
  for (const row of t.rows) {
    for (const cr of row.cells[0]?.runs ?? []) {
      const r = byId.get(cr.runId);
      if (r === undefined || r.status !== 'finished') continue;
      const split = reportedOf(r).split;
      const dir = join(paths.outDir(r.runId), RUN_FILES.predictions);
      const hyps = readLines(join(dir, `${split}.hyp.txt`), parseHypotheses);
      if (hyps === undefined) continue;
      got.push({ row: row.label, method: row.method, seed: r.seed, runId: r.runId, hyps, refFile: join(dir, `${split}.ref.txt`), task: r.task, split, evalLimit: typeof r.config.evalLimit === 'number' ? r.config.evalLimit : undefined });
    }
  }
  if (got.length === 0) return undefined;
  const first = got[0];
  const same = got.filter((g) => g.task === first.task && g.split === first.split && g.hyps.length === first.hyps.length);
  if (same.length < got.length) notes.push(`${got.length - same.length} run(s) of another task, split or eval size left out (the samples are ${first.task} ${first.split}, ${first.hyps.length} MRs)`);
  if (!existsSync(first.refFile)) throw new UserError(`${first.refFile}: missing beside ${first.split}.hyp.txt; rerun run ${first.runId} to write its predictions again`);
  const references = parseReferences(readFileSync(first.refFile, 'utf8'), first.refFile);
  if (references.length !== first.hyps.length) throw new UserError(`${first.refFile}: ${references.length} MRs, but ${first.split}.hyp.txt has ${first.hyps.length}; rerun run ${first.runId}`);
  const split = first.split as E2eSplit;
  const { mrs, note } = first.task === 'e2e' && E2E_FILES.csv[split] !== undefined ? mrsOf(opts.dataDir, split, first.evalLimit, references) : { note: `MRs left out: task ${first.task} has no E2E CSV` };
  const rowLabels = [...new Set(same.map((g) => g.row))];
  const samples = spreadIndices(first.hyps.length, opts.count).map((index) => ({
    index,
    ...(mrs !== undefined ? { mr: mrs[index] } : {}),
    references: references[index],
    rows: rowLabels.map((label) => {
      const runs = same.filter((g) => g.row === label).sort((a, b) => a.seed - b.seed);
      return { row: label, method: runs[0].method, outputs: runs.map((g) => ({ seed: g.seed, runId: g.runId, text: g.hyps[index] })) };
    }),
  }));
  return { table: 3, profile: t.profile, task: first.task, split: first.split, evalSize: first.hyps.length, ...(note !== undefined ? { mrNote: note } : {}), notes, command: opts.command, samples };
}

export function writeSamples(dir: string, s: SamplesFile): string {
  const file = join(dir, SAMPLES_FILE);
  writeFileSync(file, JSON.stringify(s, null, 1) + '\n');
  return file;
}

/** results/<profile>/table3-samples.json, or undefined when it is absent. */
export function readSamples(dir: string, profile: string): SamplesFile | undefined {
  const file = join(dir, SAMPLES_FILE);
  if (!existsSync(file)) return undefined;
  const fix = `rewrite it with lora-repro table 3 --profile ${profile}`;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserError(`${file}: not valid JSON (${(err as Error).message}); ${fix}`);
  }
  const p = samplesFileSchema.safeParse(raw);
  if (!p.success) throw new UserError(`${file}: not a samples file (${p.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}); ${fix}`);
  return p.data;
}

/** Samples by position in the eval subset (a number) or by text in the MR or a reference (a string, case-insensitive). */
export function pickSamples(s: SamplesFile, picks: readonly (number | string)[]): Sample[] {
  const out: Sample[] = [];
  for (const p of picks) {
    const found = typeof p === 'number' ? s.samples.filter((x) => x.index === p) : s.samples.filter((x) => [x.mr ?? '', ...x.references].some((t) => t.toLowerCase().includes(p.toLowerCase())));
    for (const f of found) if (!out.includes(f)) out.push(f);
  }
  return out;
}

/** One MR as Markdown: the MR, its references, then each row's output per seed side by side. */
export function sampleMarkdown(s: SamplesFile, x: Sample): string {
  const seeds = [...new Set(x.rows.flatMap((r) => r.outputs.map((o) => o.seed)))].sort((a, b) => a - b);
  const lines = [
    `**MR ${x.index} of ${s.evalSize}** (${s.task} ${s.split}): ${x.mr !== undefined ? `\`${x.mr}\`` : `— (${s.mrNote ?? 'not recorded'})`}`,
    '',
    `References (${x.references.length}):`,
    '',
    ...x.references.map((r) => `- ${mdEscape(r)}`),
    '',
    `| Method | ${seeds.map((k) => `seed ${k}`).join(' | ')} |`,
    `|---|${seeds.map(() => '---').join('|')}|`,
    ...x.rows.map((r) => `| ${mdEscape(r.row)} | ${seeds.map((k) => mdEscape(r.outputs.find((o) => o.seed === k)?.text ?? '—') || '(empty)').join(' | ')} |`),
  ];
  return lines.join('\n');
}

/** "10 of the 100 test MRs; 6 rows × 3 seeds; MRs from the data directory". */
export function samplesSummaryLine(s: SamplesFile): string {
  const rows = s.samples[0]?.rows ?? [];
  const seeds = Math.max(0, ...rows.map((r) => r.outputs.length));
  return `Samples: ${s.samples.length} of the ${s.evalSize} ${s.task} ${s.split} MRs (evenly spaced), ${rows.length} rows × ${seeds} seeds${s.mrNote !== undefined ? `; ${s.mrNote}` : ''}`;
}
