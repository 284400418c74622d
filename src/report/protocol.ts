/**
 * Which split and which checkpoint each run's numbers come from (RunResult.reported; what the run
 * settings mean: src/train/eval-protocol.ts), for the captions, the per-run lines and a table that
 * mixes protocols. The paper's Table 3 is the E2E test split decoded from each run's final
 * checkpoint (microsoft/LoRA examples/NLG/README.md: gpt2_beam.py on data/e2e/test.jsonl with the
 * last checkpoint, model.26289.pt; Li & Liang's PrefixTuning gpt2/run_generation.py decodes
 * src1_test.txt); GLUE (Table 2) is dev at each run's best epoch.
 *
 * Runs may choose their epoch on held-out training examples instead of dev (`selectOn: heldout`,
 * src/train/eval-protocol.ts): the captions then say so, since the reported number was not itself the one
 * maximised. Results written before runs recorded `reported` were scored at the best dev epoch; their
 * split is read from the E2E data files their provenance records (unknown when none, or when they
 * name both).
 */
import type { Reported, RunResult } from '../train/result-schema.ts';
import { e2eScoredSplits } from './columns.ts';

export interface RunReport {
  /** Undefined: an older result whose provenance does not tell. */
  split?: Reported['split'];
  checkpoint: Reported['checkpoint'];
  epoch: number | null;
  /** A `best` checkpoint chosen on held-out training data (absent: on dev): how much, E2E in MRs. */
  heldout?: { size: number; unit: 'examples' | 'MRs' };
}

/** How the paper's Table 3 numbers were obtained. */
const PAPER_E2E_PROTOCOL: Readonly<Required<Omit<RunReport, 'epoch' | 'heldout'>>> = { split: 'test', checkpoint: 'final' };

/** E2E and its synthetic stand-in hold out MRs (each with all its references), GLUE tasks examples. */
function heldoutOf(task: string, checkpoint: Reported['checkpoint'], selectedOn: unknown, size: unknown): Pick<RunReport, 'heldout'> {
  if (checkpoint !== 'best' || selectedOn !== 'heldout' || typeof size !== 'number') return {};
  return { heldout: { size, unit: /(^|-)e2e$/.test(task) ? 'MRs' : 'examples' } };
}

export function runReport(r: RunResult): RunReport {
  if (r.reported !== undefined) {
    const { split, checkpoint, epoch, selectedOn, heldoutSize } = r.reported;
    return { split, checkpoint, epoch, ...heldoutOf(r.task, checkpoint, selectedOn, heldoutSize) };
  }
  // A run that ended before it kept a checkpoint: what its config asked for (only set by runs that record `reported`).
  if (r.config.selectOn === 'heldout') {
    const c = r.config;
    const checkpoint = c.checkpoint === 'final' ? 'final' : 'best';
    return { split: c.evalSplit === 'test' ? 'test' : 'dev', checkpoint, epoch: r.bestEpoch, ...heldoutOf(r.task, checkpoint, c.selectOn, c.heldoutSize) };
  }
  // Only E2E had a test split to choose; every other task was scored on dev.
  const splits: Reported['split'][] = r.task === 'e2e' ? e2eScoredSplits(r.provenance.datasets).filter((s) => s !== 'train') : ['dev'];
  return { split: splits.length === 1 ? splits[0] : undefined, checkpoint: 'best', epoch: r.bestEpoch };
}

/** "best epoch 3 on dev", "final epoch 5 on test", "best epoch 3 on dev (chosen on 64 held-out)" (the run lines under a table). */
export function describeRunReport(p: RunReport): string {
  return `${p.checkpoint} epoch ${p.epoch ?? '-'}${p.split !== undefined ? ` on ${p.split}` : ''}${p.heldout !== undefined ? ` (chosen on ${p.heldout.size} held-out)` : ''}`;
}

function heldoutText(h: NonNullable<RunReport['heldout']>): string {
  return `${h.size} held-out training ${h.unit}`;
}

function checkpointText(p: Pick<RunReport, 'checkpoint' | 'heldout'>): string {
  if (p.checkpoint === 'final') return 'final checkpoint';
  return p.heldout !== undefined ? `epoch chosen on ${heldoutText(p.heldout)}` : 'best dev epoch';
}

function protocolText(p: { split: string } & Pick<RunReport, 'checkpoint' | 'heldout'>): string {
  return `the ${p.split} split at each run's ${checkpointText(p)}`;
}

type CheckpointKind = 'best' | 'heldout' | 'final';
const KIND_ADJECTIVE: Readonly<Record<CheckpointKind, string>> = { best: 'best-epoch', heldout: 'held-out-chosen-epoch', final: 'final-checkpoint' };

function kindOf(p: RunReport): CheckpointKind {
  return p.checkpoint === 'final' ? 'final' : p.heldout !== undefined ? 'heldout' : 'best';
}

/**
 * The adjective of "each run's … score": one checkpoint kind for every run, else "reported". Every
 * run chosen on held-out data: '' (heldoutSelectionCaption says how the epoch was chosen).
 */
export function checkpointAdjective(runs: readonly RunResult[]): string {
  const kinds = new Set(runs.map((r) => kindOf(runReport(r))));
  if (kinds.size !== 1) {
    const names = (['best', 'heldout', 'final'] as const).filter((k) => kinds.has(k)).map((k) => KIND_ADJECTIVE[k]);
    return `reported (${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}, see the notes)`;
  }
  return kinds.has('heldout') ? '' : KIND_ADJECTIVE[[...kinds][0]];
}

/**
 * When every run chose its epoch on held-out training data: how, for the caption (ends with ', ');
 * '' otherwise (dev-selected runs keep their caption; a mix is told row by row in the notes).
 */
export function heldoutSelectionCaption(runs: readonly RunResult[]): string {
  const reports = runs.map(runReport);
  const held = reports.flatMap((p) => (p.heldout !== undefined && p.checkpoint === 'best' ? [p.heldout] : []));
  if (held.length === 0 || held.length !== reports.length) return '';
  const sizes = [...new Set(held.map((h) => h.size))].sort((a, b) => a - b);
  const units = new Set(held.map((h) => h.unit));
  const unit = units.size === 1 ? [...units][0] : 'examples (E2E: MRs)';
  const splits = [...new Set(reports.map((p) => p.split ?? 'unknown'))].sort();
  return `each run's epoch chosen on ${sizes.join(' or ')} held-out training ${unit} (never the reported ones), scored on ${splits.join(' / ')}, `;
}

/**
 * The caption's account of the real E2E runs' protocol, beside the paper's: '' when no run says.
 * Several protocols: each with its run count (the notes say which rows).
 */
export function e2eProtocolCaption(runs: readonly RunResult[]): string {
  const counts = new Map<string, { split: string; checkpoint: Reported['checkpoint']; heldout?: RunReport['heldout']; n: number }>();
  for (const r of runs.filter((x) => x.task === 'e2e')) {
    const p = runReport(r);
    if (p.split === undefined) continue;
    const k = `${p.split}/${checkpointText(p)}`;
    counts.set(k, { split: p.split, checkpoint: p.checkpoint, ...(p.heldout !== undefined ? { heldout: p.heldout } : {}), n: (counts.get(k)?.n ?? 0) + 1 });
  }
  const list = [...counts.values()].sort((a, b) => a.split.localeCompare(b.split) || checkpointText(a).localeCompare(checkpointText(b)));
  if (list.length === 0) return '';
  const paper = `the paper: ${protocolText(PAPER_E2E_PROTOCOL)}`;
  if (list.length === 1) {
    const [p] = list;
    const same = p.split === PAPER_E2E_PROTOCOL.split && p.checkpoint === PAPER_E2E_PROTOCOL.checkpoint && p.heldout === undefined;
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
    return `${p.split ?? 'unknown'} split, ${checkpointText(p)}`;
  };
  const all = new Set(rows.flatMap((row) => row.runs.map(key)));
  if (all.size <= 1) return [];
  return rows.map((row) => `${row.label}: scored on the ${[...new Set(row.runs.map(key))].sort().join(' / ')}.`);
}
