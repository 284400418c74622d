/**
 * Which split and which checkpoint each run's numbers come from (RunResult.reported; what the run
 * settings mean: src/train/eval-protocol.ts), for the captions, the per-run lines and a table that
 * mixes protocols. The paper's Table 3 is the E2E test split decoded from each run's final
 * checkpoint (microsoft/LoRA examples/NLG/README.md: gpt2_beam.py on data/e2e/test.jsonl with the
 * last checkpoint, model.26289.pt; Li & Liang's PrefixTuning gpt2/run_generation.py decodes
 * src1_test.txt); GLUE (Table 2) is dev at each run's best epoch.
 *
 * Results written before runs recorded `reported` were scored at the best epoch; their split is read
 * from the E2E data files their provenance records (unknown when none, or when they name both).
 */
import type { Reported, RunResult } from '../runner/result-schema.ts';
import { e2eScoredSplits } from './columns.ts';

export interface RunReport {
  /** Undefined: an older result whose provenance does not tell. */
  split?: Reported['split'];
  checkpoint: Reported['checkpoint'];
  epoch: number | null;
}

/** How the paper's Table 3 numbers were obtained. */
export const PAPER_E2E_PROTOCOL: Readonly<Required<Omit<RunReport, 'epoch'>>> = { split: 'test', checkpoint: 'final' };

export function runReport(r: RunResult): RunReport {
  if (r.reported !== undefined) return r.reported;
  // Only E2E had a test split to choose; every other task was scored on dev.
  const splits: Reported['split'][] = r.task === 'e2e' ? e2eScoredSplits(r.provenance.datasets).filter((s) => s !== 'train') : ['dev'];
  return { split: splits.length === 1 ? splits[0] : undefined, checkpoint: 'best', epoch: r.bestEpoch };
}

/** "best epoch 3 on dev", "final epoch 5 on test" (the run lines under a table). */
export function describeRunReport(p: RunReport): string {
  return `${p.checkpoint} epoch ${p.epoch ?? '-'}${p.split !== undefined ? ` on ${p.split}` : ''}`;
}

function checkpointText(c: Reported['checkpoint']): string {
  return c === 'final' ? 'final checkpoint' : 'best dev epoch';
}

function protocolText(p: { split: string; checkpoint: Reported['checkpoint'] }): string {
  return `the ${p.split} split at each run's ${checkpointText(p.checkpoint)}`;
}

/** The adjective of "each run's … score": one checkpoint kind for every run, else "reported". */
export function checkpointAdjective(runs: readonly RunResult[]): string {
  const kinds = new Set(runs.map((r) => runReport(r).checkpoint));
  if (kinds.size !== 1) return 'reported (best-epoch or final-checkpoint, see the notes)';
  return kinds.has('final') ? 'final-checkpoint' : 'best-epoch';
}

/**
 * The caption's account of the real E2E runs' protocol, beside the paper's: '' when no run says.
 * Several protocols: each with its run count (the notes say which rows).
 */
export function e2eProtocolCaption(runs: readonly RunResult[]): string {
  const counts = new Map<string, { split: string; checkpoint: Reported['checkpoint']; n: number }>();
  for (const r of runs.filter((x) => x.task === 'e2e')) {
    const p = runReport(r);
    if (p.split === undefined) continue;
    const k = `${p.split}/${p.checkpoint}`;
    counts.set(k, { split: p.split, checkpoint: p.checkpoint, n: (counts.get(k)?.n ?? 0) + 1 });
  }
  const list = [...counts.values()].sort((a, b) => a.split.localeCompare(b.split) || a.checkpoint.localeCompare(b.checkpoint));
  if (list.length === 0) return '';
  const paper = `the paper: ${protocolText(PAPER_E2E_PROTOCOL)}`;
  if (list.length === 1) {
    const [p] = list;
    const same = p.split === PAPER_E2E_PROTOCOL.split && p.checkpoint === PAPER_E2E_PROTOCOL.checkpoint;
    return `, scored on ${protocolText(p)}${same ? ', as the paper' : ` (${paper})`}`;
  }
  return `, scored with MIXED protocols: ${list.map((p) => `${p.n} run(s) on ${protocolText(p)}`).join('; ')} (${paper}; the notes name each row's)`;
}

/**
 * One note per row when the runs behind a table do not all share one protocol: which split and
 * checkpoint the row's runs used. Empty when they all agree (the caption then says it once).
 */
export function protocolNotes(rows: readonly { label: string; runs: readonly RunResult[] }[]): string[] {
  const key = (r: RunResult): string => {
    const p = runReport(r);
    return `${p.split ?? 'unknown'} split, ${checkpointText(p.checkpoint)}`;
  };
  const all = new Set(rows.flatMap((row) => row.runs.map(key)));
  if (all.size <= 1) return [];
  return rows.map((row) => `${row.label}: scored on the ${[...new Set(row.runs.map(key))].sort().join(' / ')}.`);
}
