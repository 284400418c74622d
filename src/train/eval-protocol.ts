/**
 * What a training run evaluates and which checkpoint it reports (run-config.ts `evalSplit`,
 * `checkpoint`, `evalEveryEpoch`). Two questions kept apart:
 *
 * - Selection: per-epoch evaluation (the curve in result.json's `epochs`) and best-epoch selection
 *   always score dev, so choosing a checkpoint never looks at the split that is reported.
 * - Reporting: the run's `metrics`, saved weights and predictions come from one checkpoint, scored
 *   on `evalSplit`. `best` = the best dev epoch (the paper's GLUE protocol, Section 5.2); `final` =
 *   the last epoch, the checkpoint the reference E2E commands decode on the test set
 *   (microsoft/LoRA examples/NLG/README.md: gpt2_beam.py --data ./data/e2e/test.jsonl with the last
 *   checkpoint model.26289.pt; PrefixTuning gpt2/run_generation.py reads src1_test.txt).
 *
 * Absent fields are the protocol every run had before they existed (dev, best), so those runs keep
 * their ids and numbers.
 */
import type { Reported } from '../runner/result-schema.ts';
import type { TrainRunConfig } from './run-config.ts';

export type EvalSplitName = Reported['split'];
export type CheckpointChoice = Reported['checkpoint'];

/** The split of per-epoch evaluation and best-epoch selection. */
export const SELECTION_SPLIT: EvalSplitName = 'dev';

export interface EvalProtocol {
  /** The split the reported metrics and predictions are scored on. */
  split: EvalSplitName;
  checkpoint: CheckpointChoice;
  /** Dev is evaluated after every epoch. */
  everyEpoch: boolean;
}

export function evalProtocol(config: Pick<TrainRunConfig, 'evalSplit' | 'checkpoint' | 'evalEveryEpoch'>): EvalProtocol {
  return { split: config.evalSplit ?? SELECTION_SPLIT, checkpoint: config.checkpoint ?? 'best', everyEpoch: config.evalEveryEpoch };
}

/** The eval splits a training run loads: the selection split first, then the reported one if another. */
export function trainingEvalSplits(p: EvalProtocol): EvalSplitName[] {
  return p.split === SELECTION_SPLIT ? [SELECTION_SPLIT] : [SELECTION_SPLIT, p.split];
}

/**
 * Whether dev is evaluated after `epoch` (1-based) of `epochs`: every epoch when asked; otherwise at
 * the last epoch when something needs it (a `best` run selects among what was evaluated; a dev run
 * reports it). A `final` test run without per-epoch evaluation decodes test only, as the reference.
 */
export function evaluatesSelection(p: EvalProtocol, epoch: number, epochs: number): boolean {
  return p.everyEpoch || (epoch === epochs && (p.checkpoint === 'best' || p.split === SELECTION_SPLIT));
}

/**
 * Whether the weights after this epoch become the reported checkpoint (replacing an earlier one).
 * `best`: each new best dev epoch, and the last epoch when no epoch had a finite headline (its
 * weights are still saved; the run then reports no metrics, as before).
 */
export function keepsCheckpoint(p: EvalProtocol, at: { isBest: boolean; last: boolean; hasBest: boolean }): boolean {
  return p.checkpoint === 'final' ? at.last : at.isBest || (at.last && !at.hasBest);
}

/** Evaluations a run makes at most (the --dry-run cost estimate): dev ones, plus the reported split's. */
export function maxEvaluations(p: EvalProtocol, epochs: number): number {
  let n = 0;
  for (let e = 1; e <= epochs; e++) if (evaluatesSelection(p, e, epochs)) n++;
  // `best` on another split decodes it at every new best dev epoch: at most once per dev evaluation.
  if (p.split !== SELECTION_SPLIT) n += p.checkpoint === 'final' ? 1 : Math.max(1, n);
  return n;
}
