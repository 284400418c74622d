/**
 * Where one split of GLUE or E2E is read from, so a run can say exactly what it trained on.
 *
 * Order: the data directory's text file (glue/<TASK>/<split>.tsv, e2e/*.csv: the original releases,
 * data-dir.ts), else the parquet file `lora-repro download --datasets …` put in the hub cache
 * (nyu-mll/glue, tuetschek/e2e_nlg; the newest snapshot holding it, hub/cached-snapshots.ts), else a
 * UserError naming the download command. Both sources give the same records (glue-hub.ts, e2e-hub.ts),
 * so the choice changes provenance, never the training code.
 *
 * A source's `key` is what provenance records next to the file's checksum: the path relative to the
 * data directory (as before hub data existed), or the file's `hf://` address with the commit
 * (huggingface_hub's HfFileSystem spelling), which names the bytes on any machine.
 */
import { join } from 'node:path';
import { findCachedSnapshot } from '../hub/cached-snapshots.ts';
import { E2E_REPO, e2eHubPath, GLUE_REPO, glueHubPath } from './hub-datasets.ts';
import type { HubRepo } from '../hub/repo.ts';
import { UserError } from '../util/errors.ts';
import { DATA_DIR_ENV, glueSplitRelativePath, isDataFile, missingFileNote } from './data-dir.ts';
import { E2E_FILES, readE2eFile, type E2eData, type E2eSplit } from './e2e.ts';
import { readE2eParquet } from './e2e-hub.ts';
import { readGlueParquet } from './glue-hub.ts';
import type { GlueTaskName } from './glue-tasks.ts';
import { readGlueTsv, type GlueExample } from './glue-tsv.ts';

export interface SplitSource {
  kind: 'data-dir' | 'hub-cache';
  /** The file read. */
  path: string;
  /** Provenance key: relative path in the data directory, or `hf://datasets/<repo>@<commit>/<path>`. */
  key: string;
}

export interface SplitSourceOptions {
  /** The data directory; undefined when there is none (data-dir.ts findDataDir). */
  dataDir: string | undefined;
  /** `<cache root>/hub` (hub/cache.ts hubCacheDir). */
  hubDir: string;
}

interface HubFile {
  repo: HubRepo;
  path: string;
  /** The `--datasets` item that downloads it. */
  item: string;
}

function locate(relative: string, hub: HubFile, opts: SplitSourceOptions): SplitSource {
  if (opts.dataDir !== undefined) {
    const path = join(opts.dataDir, relative);
    if (isDataFile(path)) return { kind: 'data-dir', path, key: relative };
  }
  const snapshot = findCachedSnapshot(opts.hubDir, hub.repo, [hub.path]);
  const file = snapshot?.files[0];
  if (snapshot !== undefined && file !== undefined) {
    return { kind: 'hub-cache', path: file.path, key: `hf://datasets/${hub.repo.id}@${snapshot.commit}/${hub.path}` };
  }
  const where = opts.dataDir === undefined ? `no data directory (${DATA_DIR_ENV} / --data-dir) for ${relative}` : `data file ${join(opts.dataDir, relative)} not found${missingFileNote(relative)}`;
  throw new UserError(
    `${where} and ${hub.repo.id} ${hub.path} is not in the hub cache ${opts.hubDir}: run 'lora-repro download --datasets ${hub.item}', ` +
      `or point ${DATA_DIR_ENV} / --data-dir at a directory with ${relative}`,
  );
}

/** Source of a GLUE split ('train', 'dev', 'dev_matched', 'dev_mismatched'). */
export function glueSplitSource(task: GlueTaskName, split: string, opts: SplitSourceOptions): SplitSource {
  return locate(glueSplitRelativePath(task, split), { repo: GLUE_REPO, path: glueHubPath(task, split), item: `glue:${task}` }, opts);
}

/** Source of an E2E split: the challenge CSV (trainset / devset / testset_w_refs) or its parquet. */
export function e2eSplitSource(split: E2eSplit, opts: SplitSourceOptions): SplitSource {
  return locate(E2E_FILES.csv[split], { repo: E2E_REPO, path: e2eHubPath(split), item: 'e2e' }, opts);
}

export async function readGlueSource(source: SplitSource, task: GlueTaskName): Promise<GlueExample[]> {
  return source.kind === 'hub-cache' ? readGlueParquet(source.path, task) : readGlueTsv(source.path, task);
}

export async function readE2eSource(source: SplitSource): Promise<E2eData> {
  return source.kind === 'hub-cache' ? readE2eParquet(source.path) : readE2eFile(source.path, 'csv');
}
