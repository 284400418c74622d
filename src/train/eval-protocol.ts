/**
 * What a training run evaluates and which checkpoint it reports (run-config.ts `evalSplit`,
 * `checkpoint`, `evalEveryEpoch`, `selectOn`, `heldoutSize`). Two questions kept apart:
 *
 * - Selection: per-epoch evaluation (the curve in result.json's `epochs`) and best-epoch selection
 *   score the selection split: dev (the paper's GLUE protocol, Section 5.2), or with `selectOn:
 *   heldout` a slice of the training split that is never trained on (below). On dev the
 *   reported dev number is the maximum over epochs of the very examples it reports; on the held-out
 *   slice the choice never looks at the reported split.
 * - Reporting: the run's `metrics`, saved weights and predictions come from one checkpoint, scored
 *   on `evalSplit`. `best` = the best epoch on the selection split; `final` = the last epoch, the
 *   checkpoint the reference E2E commands decode on the test set (microsoft/LoRA
 *   examples/NLG/README.md: gpt2_beam.py --data ./data/e2e/test.jsonl with the last checkpoint
 *   model.26289.pt; PrefixTuning gpt2/run_generation.py reads src1_test.txt).
 *
 * Absent fields are the protocol every run had before they existed (dev, best, selected on dev), so
 * those runs keep their ids and numbers. The held-out slice itself is drawn at the end of this file.
 */
import type { Reported } from './result-schema.ts';
import { UserError } from '../util/errors.ts';
import type { TrainRunConfig } from './run-config.ts';
import { subsampleIndices } from './run-identity.ts';

export type EvalSplitName = Reported['split'];
export type CheckpointChoice = Reported['checkpoint'];
/** Where the epoch is chosen: dev, or the held-out slice of the training split. */
export type SelectionSplit = NonNullable<TrainRunConfig['selectOn']>;

/** The name of the held-out slice among a task's eval sets (TaskData.evalSets) and in epoch records. */
export const HELDOUT_SPLIT = 'heldout' satisfies SelectionSplit;

export interface EvalProtocol {
  /** The split the reported metrics and predictions are scored on. */
  split: EvalSplitName;
  checkpoint: CheckpointChoice;
  /** The selection split is evaluated after every epoch. */
  everyEpoch: boolean;
  /** The split of per-epoch evaluation and best-epoch selection. */
  selectOn: SelectionSplit;
  /** Training examples (E2E: MRs) held out for selection; set exactly when selectOn is heldout. */
  heldoutSize?: number;
}

type ProtocolFields = Pick<TrainRunConfig, 'evalSplit' | 'checkpoint' | 'evalEveryEpoch' | 'selectOn' | 'heldoutSize'>;

/** What is wrong with a config's selection fields (they only make sense together), or undefined. */
export function selectionProblem(config: Pick<TrainRunConfig, 'selectOn' | 'heldoutSize'>): string | undefined {
  if (config.selectOn === 'heldout' && config.heldoutSize === undefined) {
    return 'selectOn heldout needs heldoutSize: how many training examples (E2E: MRs) to hold out for choosing the epoch';
  }
  if (config.selectOn !== 'heldout' && config.heldoutSize !== undefined) {
    return `heldoutSize ${config.heldoutSize} is only used with selectOn heldout: add selectOn: heldout, or remove heldoutSize`;
  }
  return undefined;
}

/** The run's protocol; a UserError for selection fields that do not go together. */
export function evalProtocol(config: ProtocolFields): EvalProtocol {
  const problem = selectionProblem(config);
  if (problem !== undefined) throw new UserError(`run config: ${problem}`);
  const selectOn = config.selectOn ?? 'dev';
  return {
    split: config.evalSplit ?? 'dev',
    checkpoint: config.checkpoint ?? 'best',
    everyEpoch: config.evalEveryEpoch,
    selectOn,
    ...(selectOn === HELDOUT_SPLIT ? { heldoutSize: config.heldoutSize } : {}),
  };
}

/**
 * The split files a training run loads, in TaskData.evalSets order: dev first when it selects, then
 * the reported split if another. The held-out slice is no file: it comes out of the training split.
 */
export function trainingEvalSplits(p: EvalProtocol): EvalSplitName[] {
  if (p.selectOn === HELDOUT_SPLIT) return [p.split];
  return p.split === 'dev' ? ['dev'] : ['dev', p.split];
}

/**
 * Whether the selection split is evaluated after `epoch` (1-based) of `epochs`: every epoch when
 * asked; otherwise at the last epoch when something needs it (a `best` run selects among what was
 * evaluated; a run that reports dev while selecting on dev reports it). A `final` test run without
 * per-epoch evaluation decodes test only, as the reference.
 */
export function evaluatesSelection(p: EvalProtocol, epoch: number, epochs: number): boolean {
  return p.everyEpoch || (epoch === epochs && (p.checkpoint === 'best' || p.split === p.selectOn));
}

/**
 * Whether the weights after this epoch become the reported checkpoint (replacing an earlier one).
 * `best`: each new best epoch on the selection split, and the last epoch when no epoch had a finite
 * headline (its weights are still saved; the run then reports no metrics, as before).
 */
export function keepsCheckpoint(p: EvalProtocol, at: { isBest: boolean; last: boolean; hasBest: boolean }): boolean {
  return p.checkpoint === 'final' ? at.last : at.isBest || (at.last && !at.hasBest);
}

/**
 * Whether the kept checkpoint waits until training ends to be scored on the reported split (held
 * in memory meanwhile): a `best` run selecting on held-out data scores the reported split once, for
 * the epoch it chose, instead of at every new best epoch.
 */
export function defersReport(p: EvalProtocol): boolean {
  return p.selectOn === HELDOUT_SPLIT && p.checkpoint === 'best';
}

/** Evaluations a run makes at most: of the selection split, and of the reported split besides. */
export function evaluationCounts(p: EvalProtocol, epochs: number): { selection: number; reported: number } {
  let selection = 0;
  for (let e = 1; e <= epochs; e++) if (evaluatesSelection(p, e, epochs)) selection++;
  // Reporting the selection split reuses its evaluations. `best` on another split decodes it at
  // every new best selection epoch (at most once per selection evaluation), or once when deferred.
  const reported = p.split === p.selectOn ? 0 : p.checkpoint === 'final' || defersReport(p) ? 1 : Math.max(1, selection);
  return { selection, reported };
}

/** Evaluations a run makes at most, of either split (the --dry-run cost estimate sizes each: runner/cost.ts). */
export function maxEvaluations(p: EvalProtocol, epochs: number): number {
  const n = evaluationCounts(p, epochs);
  return n.selection + n.reported;
}

/*
 * The held-out slice of a training split (run-config.ts `selectOn: heldout`, `heldoutSize`): the
 * examples a run chooses its epoch on instead of dev, so the reported dev (or test) score was never
 * looked at to pick the checkpoint.
 *
 * The slice is drawn from the task's whole training split, before `trainLimit`, with a FIXED seed of
 * its own (as the subsets of run-identity.ts): every method and seed of a table is selected on the same
 * examples, and changing trainLimit does not move them. The rest of the split is what `trainLimit`
 * subsamples; the slice is never trained on. A larger heldoutSize extends a smaller one's slice (the
 * same shuffle, a longer prefix).
 *
 * E2E holds out whole MRs: a training MR has several references, scored together as one instance
 * (as dev's and test's are), and no reference of a held-out MR may be trained on. trainset.csv is not
 * sorted by MR (data/e2e.ts), so its pairs are grouped by MR text, not by consecutive runs.
 */
/** The held-out slice's seed, shared by every run; not SUBSET_SEED, so slice and subsample are drawn apart. */
const HELDOUT_SEED = 20210618;

/** Indices into a training split: the held-out slice and the training subset (trainLimit applied to the rest), both ascending. */
export interface HeldoutSplit {
  heldout: number[];
  train: number[];
}

function trainFromRest(n: number, out: ReadonlySet<number>, trainLimit: number | undefined): number[] {
  const rest: number[] = [];
  for (let i = 0; i < n; i++) if (!out.has(i)) rest.push(i);
  return subsampleIndices(rest.length, trainLimit).map((i) => rest[i]);
}

/**
 * Examples `0..n−1` of a training split: `size` held out (none when undefined: then the training subset
 * is exactly trainLimit's subsample of the whole split, as without the slice), the rest subsampled.
 */
export function holdOutExamples(n: number, size: number | undefined, trainLimit: number | undefined, task: string): HeldoutSplit {
  if (size === undefined) return { heldout: [], train: subsampleIndices(n, trainLimit) };
  if (size >= n) throw new UserError(`${task}: heldoutSize ${size} leaves no training examples (the training split has ${n}); hold out fewer`);
  const heldout = subsampleIndices(n, size, HELDOUT_SEED);
  return { heldout, train: trainFromRest(n, new Set(heldout), trainLimit) };
}

/** A held-out MR: its text and the indices of all its pairs (references) in the training split. */
export interface HeldoutMr {
  mr: string;
  pairs: number[];
}

/**
 * Pairs of an E2E-shaped training split: `size` distinct MRs held out with every pair of theirs, the
 * remaining pairs subsampled by trainLimit. Held-out MRs come in order of first appearance.
 */
export function holdOutMrs(pairs: readonly { mr: string }[], size: number | undefined, trainLimit: number | undefined, task: string): { heldout: HeldoutMr[]; train: number[] } {
  if (size === undefined) return { heldout: [], train: subsampleIndices(pairs.length, trainLimit) };
  const groups = new Map<string, number[]>();
  pairs.forEach((p, i) => {
    const g = groups.get(p.mr);
    if (g === undefined) groups.set(p.mr, [i]);
    else g.push(i);
  });
  const mrs = [...groups.keys()];
  if (size >= mrs.length) throw new UserError(`${task}: heldoutSize ${size} (MRs) leaves no training MRs (the training split has ${mrs.length}); hold out fewer`);
  const heldout = subsampleIndices(mrs.length, size, HELDOUT_SEED).map((i) => ({ mr: mrs[i], pairs: groups.get(mrs[i]) as number[] }));
  return { heldout, train: trainFromRest(pairs.length, new Set(heldout.flatMap((h) => h.pairs)), trainLimit) };
}
