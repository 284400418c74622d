/**
 * Expansion of `initFrom` (schema.ts `specInitFromSchema`) into the resolved form the run config
 * keeps (run-config.ts `initFromSchema`):
 *
 *   { task: mnli }           → { run: <run id of the same row/model/method/variant on mnli, same seed>, cell, task }
 *   { checkpoint: <path> }   → { checkpoint: <absolute path>, sha256: <of the file> }
 *
 * The parent's run id hashes the parent's whole config, so a child's id changes whenever its
 * parent's does (run-identity.ts). Parents are resolved first, recursively; a chain that loops, or a
 * parent the profile leaves out, is a one-line error at the cell.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { checkpointSha256 } from '../train/init-from.ts';
import { runKeys } from '../train/run-identity.ts';
import type { TrainRunConfig } from '../train/run-config.ts';
import type { KeyPath, SpecSource } from './load.ts';
import type { Plain } from './merge.ts';
import type { SpecInitFrom } from './schema.ts';

/** One cell × seed before its initFrom is resolved. */
export interface CellCandidate {
  /** Spec-level names (the model before the profile maps it); `task` is the spec's task. */
  row: string;
  specModel: string;
  method: string;
  variant: string;
  task: string;
  seed: number;
  /** The merged fields and grid values; `initFrom` (if any) still in its spec form. */
  fields: Plain;
  /** `cell <name> seed <n>`, and where the block is, for errors. */
  name: string;
  path: KeyPath;
}

export interface ResolvedCandidate {
  config: TrainRunConfig;
  runId: string;
  cellKey: string;
}

const keyOf = (c: Pick<CellCandidate, 'row' | 'specModel' | 'method' | 'variant' | 'task' | 'seed'>): string =>
  JSON.stringify([c.row, c.specModel, c.method, c.variant, c.task, c.seed]);

/**
 * Parses every candidate (`parse` validates a finished field set) with its initFrom resolved;
 * results in input order.
 */
export function resolveCandidates(
  cands: readonly CellCandidate[],
  parse: (c: CellCandidate, fields: Plain) => TrainRunConfig,
  source: SpecSource,
  profile: string,
): ResolvedCandidate[] {
  const byKey = new Map(cands.map((c) => [keyOf(c), c]));
  const done = new Map<CellCandidate, ResolvedCandidate>();
  const visiting = new Set<CellCandidate>();
  const specDir = dirname(source.file);

  const resolveOne = (c: CellCandidate): ResolvedCandidate => {
    const hit = done.get(c);
    if (hit !== undefined) return hit;
    if (visiting.has(c)) throw source.error(c.path, `${c.name}: initFrom chain loops back to this cell`);
    visiting.add(c);
    const spec = c.fields.initFrom as SpecInitFrom | undefined;
    const fields: Plain = { ...c.fields };
    if (spec?.task !== undefined) {
      const parent = byKey.get(keyOf({ ...c, task: spec.task }));
      if (parent === undefined) {
        throw source.error(c.path, `${c.name}: initFrom.task '${spec.task}' is not a cell of row '${c.row}' under profile '${profile}' (add the task, or set initFrom: null in the profile)`);
      }
      const p = resolveOne(parent);
      fields.initFrom = { run: p.runId, cell: p.cellKey, task: p.config.task };
    } else if (spec?.checkpoint !== undefined) {
      const path = isAbsolute(spec.checkpoint) ? spec.checkpoint : resolve(specDir, spec.checkpoint);
      fields.initFrom = { checkpoint: path, sha256: checkpointSha256(path, `${source.where(c.path)}: ${c.name}: initFrom`) };
    }
    const config = parse(c, fields);
    const r: ResolvedCandidate = { config, ...runKeys(config) };
    visiting.delete(c);
    done.set(c, r);
    return r;
  };
  return cands.map(resolveOne);
}
