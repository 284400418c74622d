/**
 * The datasets lora-repro fetches from the Hugging Face hub, as laid out there (checked against the
 * hub's file listings, not fetched here). Data's catalog, so hub/ stays a plain client below data/
 * (the models' catalog is src/hub/catalog.ts).
 * - GLUE: `nyu-mll/glue` on `main` holds one parquet file per config and split,
 *   `<config>/<split>-00000-of-00001.parquet` (the repository's "Convert dataset to Parquet" commit;
 *   its README's `configs` point each split at `<config>/<split>-*`). Config names are our task names;
 *   the eval splits are `validation` (`validation_matched` / `validation_mismatched` for MNLI).
 * - E2E: `tuetschek/e2e_nlg` keeps only a loading script on `main`; the hub's parquet conversion is on
 *   the `refs/convert/parquet` branch as `default/<split>/0000.parquet` for train, validation, test.
 */
import { UserError } from '../util/errors.ts';
import { listItems, splitRevision } from '../hub/catalog.ts';
import type { HubRepo } from '../hub/repo.ts';
import type { SnapshotRequest } from '../hub/snapshot.ts';
import { GLUE_TASK_NAMES, GLUE_TASKS, parseGlueTaskName, type GlueTaskName } from './glue-tasks.ts';
import type { E2eSplit } from './e2e.ts';

export const GLUE_REPO: HubRepo = { type: 'dataset', id: 'nyu-mll/glue' };
export const GLUE_REVISION = 'main';
export const E2E_REPO: HubRepo = { type: 'dataset', id: 'tuetschek/e2e_nlg' };
export const E2E_REVISION = 'refs/convert/parquet';

/** Our split names (those of the GLUE TSV files) -> the hub's. */
const GLUE_HUB_SPLITS: Readonly<Record<string, string>> = {
  train: 'train',
  dev: 'validation',
  dev_matched: 'validation_matched',
  dev_mismatched: 'validation_mismatched',
};

const E2E_HUB_SPLITS: Readonly<Record<E2eSplit, string>> = { train: 'train', dev: 'validation', test: 'test' };

/** Path of a GLUE split's parquet file in nyu-mll/glue ('train', 'dev', 'dev_matched', 'dev_mismatched'). */
export function glueHubPath(task: GlueTaskName, split: string): string {
  const spec = GLUE_TASKS[task];
  const ours = ['train', ...spec.evalSplits.map((s) => s.name)];
  const hub = GLUE_HUB_SPLITS[split];
  if (!ours.includes(split) || hub === undefined) {
    throw new UserError(`GLUE task ${task} has no split '${split}': use one of ${ours.join(', ')}`);
  }
  return `${task}/${hub}-00000-of-00001.parquet`;
}

export function e2eHubPath(split: E2eSplit): string {
  return `default/${E2E_HUB_SPLITS[split]}/0000.parquet`;
}

export function glueRequest(task: GlueTaskName, revision = GLUE_REVISION): SnapshotRequest {
  const splits = ['train', ...GLUE_TASKS[task].evalSplits.map((s) => s.name)];
  return { repo: GLUE_REPO, revision, files: splits.map((s) => glueHubPath(task, s)) };
}

function e2eRequest(revision = E2E_REVISION): SnapshotRequest {
  return { repo: E2E_REPO, revision, files: (['train', 'dev', 'test'] as const).map(e2eHubPath) };
}

/**
 * `--datasets glue:rte,glue:mnli,e2e` (`glue` alone: all eight tasks) -> one request per repository,
 * the GLUE files merged so `nyu-mll/glue` resolves to one commit.
 */
export function parseDatasetList(list: string, fallback?: string): SnapshotRequest[] {
  const out: SnapshotRequest[] = [];
  const glue = new Map<string, Set<string>>(); // revision -> files
  for (const item of listItems(list)) {
    const [name, rev] = splitRevision(item);
    const [family, task] = name.split(':', 2) as [string, string | undefined];
    if (family === 'e2e' && task === undefined) {
      out.push(e2eRequest(rev ?? fallback ?? E2E_REVISION));
      continue;
    }
    if (family !== 'glue') {
      throw new UserError(`unknown dataset '${item}': use glue, glue:<task> (${GLUE_TASK_NAMES.join(', ')}) or e2e`);
    }
    const tasks = task === undefined ? [...GLUE_TASK_NAMES] : [parseGlueTaskName(task)];
    if (tasks.includes(undefined)) throw new UserError(`unknown GLUE task '${task}': use one of ${GLUE_TASK_NAMES.join(', ')}`);
    const revision = rev ?? fallback ?? GLUE_REVISION;
    const files = glue.get(revision) ?? new Set<string>();
    for (const t of tasks as GlueTaskName[]) for (const f of glueRequest(t, revision).files) files.add(f);
    glue.set(revision, files);
  }
  for (const [revision, files] of glue) out.unshift({ repo: GLUE_REPO, revision, files: [...files] });
  return out;
}
