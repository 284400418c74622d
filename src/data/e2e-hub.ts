/**
 * The E2E NLG Challenge data from the Hugging Face hub (`tuetschek/e2e_nlg`, the hub's parquet
 * conversion on `refs/convert/parquet`) into the shapes of e2e.ts: pairs {mr, ref, line} and instances
 * {mr, refs[]} grouped by consecutive MR exactly as the CSV reader groups them.
 *
 * The rows are the challenge CSVs read by the `datasets` script (csv.DictReader, one row per
 * MR-reference pair, file order kept), columns `meaning_representation` and `human_reference`; the MRs
 * keep the CSV spelling (`name[The Eagle], eatType[coffee shop]`). `line` is the 1-based row number in
 * the parquet file, not a CSV line. One known difference from our CSV reader, from how that script
 * opened the files (text mode, universal newlines): a line break inside a quoted reference is "\n" in
 * the parquet where trainset.csv has "\r\n" (two train references, MANIFEST.md).
 */
import { E2E_REPO, E2E_REVISION, e2eHubPath } from './hub-datasets.ts';
import { openParquet, readStringColumn } from '../hub/parquet.ts';
import type { HubOptions } from '../hub/session.ts';
import { ensureSnapshot } from '../hub/snapshot.ts';
import { groupConsecutive, mrToLoraContext, type E2eData, type E2ePair, type E2eSplit } from './e2e.ts';

export const E2E_HUB_COLUMNS = { mr: 'meaning_representation', ref: 'human_reference' } as const;

/** Reads one E2E parquet file. */
export async function readE2eParquet(path: string): Promise<E2eData> {
  const table = await openParquet(path);
  const mrs = await readStringColumn(table, E2E_HUB_COLUMNS.mr);
  const refs = await readStringColumn(table, E2E_HUB_COLUMNS.ref);
  const pairs: E2ePair[] = mrs.map((mr, i) => {
    if (mr !== mrs[i - 1]) mrToLoraContext(mr, `${path}: row ${i + 1}: ${E2E_HUB_COLUMNS.mr}`);
    return { mr, ref: refs[i] as string, line: i + 1 };
  });
  return { file: path, pairs, instances: groupConsecutive(pairs) };
}

export interface E2eHubOptions extends HubOptions {
  /** tuetschek/e2e_nlg revision (default refs/convert/parquet). */
  revision?: string;
}

/** Path of a split's parquet file in the cache, downloading it first when missing. */
async function e2eHubFile(split: E2eSplit, opts: E2eHubOptions = {}): Promise<string> {
  const repoPath = e2eHubPath(split);
  const snapshot = await ensureSnapshot({ repo: E2E_REPO, revision: opts.revision ?? E2E_REVISION, files: [repoPath] }, opts);
  return snapshot.files[0]?.path as string;
}

/** A split ('train', 'dev', 'test') from the hub, cached after the first call. */
export async function readE2eHubSplit(split: E2eSplit, opts: E2eHubOptions = {}): Promise<E2eData> {
  return readE2eParquet(await e2eHubFile(split, opts));
}
