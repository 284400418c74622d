/**
 * The held-out slice of a training split (run-config.ts `selectOn: heldout`, `heldoutSize`): the
 * examples a run chooses its epoch on instead of dev, so the reported dev (or test) score was never
 * looked at to pick the checkpoint.
 *
 * The slice is drawn from the task's whole training split, before `trainLimit`, with a FIXED seed of
 * its own (as the subsets of seeds.ts): every method and seed of a table is selected on the same
 * examples, and changing trainLimit does not move them. The rest of the split is what `trainLimit`
 * subsamples; the slice is never trained on. A larger heldoutSize extends a smaller one's slice (the
 * same shuffle, a longer prefix).
 *
 * E2E holds out whole MRs: a training MR has several references, scored together as one instance
 * (as dev's and test's are), and no reference of a held-out MR may be trained on. trainset.csv is not
 * sorted by MR (data/e2e.ts), so its pairs are grouped by MR text, not by consecutive runs.
 */
import { UserError } from '../util/errors.ts';
import { subsampleIndices } from './seeds.ts';

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
