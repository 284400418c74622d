/**
 * Runs that start from another run's weights (`initFrom: { run }`, src/spec/init-from.ts): the
 * paper's MRPC, RTE and STS-B LoRA cells start from the MNLI run (App. D.1). A child needs its
 * parent's saved adapter, so:
 *  - a selection (`--filter`) that takes a child whose parent is not finished also takes the parent
 *    (and its unfinished ancestors), named in the log and the --dry-run plan, rather than failing;
 *  - parents are dispatched before their children, and a child waits until its parent has finished;
 *  - a child whose parent failed (or is blocked) is not run but recorded `blocked` with the reason;
 *    it is retried by the next `run` like a failed run, after its parent.
 */
import type { PlannedRun } from '../spec/expand.ts';
import type { RunResult } from '../train/result-schema.ts';

/** The run id `run` starts from, if it starts from another run. */
export function parentRunId(run: PlannedRun): string | undefined {
  const init = run.config.initFrom;
  return init !== undefined && 'run' in init ? init.run : undefined;
}

/**
 * `runs` reordered so that every parent comes before its children; otherwise the given order.
 * A parent outside `runs` imposes nothing.
 */
function parentsFirst(runs: readonly PlannedRun[]): PlannedRun[] {
  const byId = new Map(runs.map((r) => [r.runId, r]));
  const out: PlannedRun[] = [];
  const placed = new Set<string>();
  const place = (r: PlannedRun): void => {
    if (placed.has(r.runId)) return;
    placed.add(r.runId); // before the parent: a (malformed) loop cannot recurse forever
    const p = parentRunId(r);
    const parent = p === undefined ? undefined : byId.get(p);
    if (parent !== undefined) place(parent);
    out.push(r);
  };
  runs.forEach(place);
  return out;
}

/**
 * The unfinished runs of `selected` plus the unfinished ancestors they need that the selection
 * left out (`added`), parents first.
 */
export function withUnfinishedParents(
  all: readonly PlannedRun[],
  selected: readonly PlannedRun[],
  isFinished: (runId: string) => boolean,
): { todo: PlannedRun[]; added: PlannedRun[] } {
  const byId = new Map(all.map((r) => [r.runId, r]));
  const chosen = new Set(selected.map((r) => r.runId));
  const added: PlannedRun[] = [];
  const addAncestors = (r: PlannedRun): void => {
    const p = parentRunId(r);
    const parent = p === undefined ? undefined : byId.get(p);
    if (parent === undefined || isFinished(parent.runId) || chosen.has(parent.runId)) return;
    chosen.add(parent.runId);
    added.push(parent);
    addAncestors(parent);
  };
  const todo = selected.filter((r) => !isFinished(r.runId));
  todo.forEach(addAncestors);
  return { todo: parentsFirst([...todo, ...added]), added };
}

/** What a child may do now: run, wait for its parent (still to run or running), or not run at all. */
export type Readiness = { kind: 'run' } | { kind: 'wait' } | { kind: 'blocked'; reason: string };

/**
 * `unsettled`: runs of this session without a result yet (queued or in flight). `results`: every
 * result known now, this session's included.
 */
export function readiness(run: PlannedRun, unsettled: ReadonlySet<string>, results: ReadonlyMap<string, RunResult>): Readiness {
  const p = parentRunId(run);
  if (p === undefined) return { kind: 'run' };
  if (unsettled.has(p)) return { kind: 'wait' };
  const parent = results.get(p);
  if (parent?.status === 'finished') return { kind: 'run' };
  const what = `parent run ${p} (${run.config.initFrom !== undefined && 'task' in run.config.initFrom ? run.config.initFrom.task : '?'} seed ${run.config.seed})`;
  if (parent === undefined) return { kind: 'blocked', reason: `${what} has no result (run it: it is not in this spec's plan)` };
  return { kind: 'blocked', reason: `${what} ${parent.status}: ${parent.error ?? 'no error recorded'}` };
}
