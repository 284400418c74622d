/**
 * GLUE from the Hugging Face hub (`nyu-mll/glue` parquet files) into the records the TSV reader
 * returns ({text_a, text_b?, label}, glue-tsv.ts), so training code cannot tell the sources apart.
 *
 * Columns are the `datasets` GLUE builder's feature names (premise/hypothesis for MNLI, question/
 * sentence for QNLI, question1/question2 for QQP, sentence1/sentence2 for MRPC, RTE, STS-B, sentence
 * for CoLA and SST-2). `label` is a ClassLabel id in the builder's order, which glue-tasks.ts already
 * uses as our class order, so ids pass through unchanged; the file's own `huggingface` metadata (the
 * features `datasets` wrote) is checked against that order when present, so a relabelled upload fails
 * loudly instead of silently swapping classes. STS-B's score is float32 on the hub and comes back as
 * the TSV's decimal (3.800 -> 3.8, parquet.ts), except the rare score with more digits than float32
 * keeps (2.33333333333333 -> 2.3333333): that is the value the hub holds and HF training uses.
 * Unlabelled rows (test splits store -1) are an error: only train and validation splits are read.
 */
import { z } from 'zod';
import { UserError } from '../util/errors.ts';
import { GLUE_REPO, GLUE_REVISION, glueHubPath } from './hub-datasets.ts';
import { kvMetadata, openParquet, readNumberColumn, readStringColumn, type ParquetTable } from '../hub/parquet.ts';
import type { HubOptions } from '../hub/session.ts';
import { ensureSnapshot } from '../hub/snapshot.ts';
import { GLUE_TASKS, badScore, type GlueTaskName } from './glue-tasks.ts';
import type { GlueExample } from './glue-tsv.ts';

/** Text columns of each task in the hub's parquet files. */
export const GLUE_HUB_COLUMNS: Readonly<Record<GlueTaskName, { textA: string; textB?: string }>> = {
  mnli: { textA: 'premise', textB: 'hypothesis' },
  sst2: { textA: 'sentence' },
  mrpc: { textA: 'sentence1', textB: 'sentence2' },
  cola: { textA: 'sentence' },
  qnli: { textA: 'question', textB: 'sentence' },
  qqp: { textA: 'question1', textB: 'question2' },
  rte: { textA: 'sentence1', textB: 'sentence2' },
  stsb: { textA: 'sentence1', textB: 'sentence2' },
};

const hfMetadata = z.object({
  info: z.object({
    features: z.record(z.string(), z.object({ names: z.array(z.string()).optional() }).passthrough()),
  }),
});

/** Fails when the file declares ClassLabel names in an order other than ours. */
function checkLabelNames(table: ParquetTable, task: GlueTaskName): void {
  const raw = kvMetadata(table, 'huggingface');
  if (raw === undefined) return; // not written by `datasets`: nothing to compare with
  let parsed: z.infer<typeof hfMetadata> | undefined;
  try {
    const r = hfMetadata.safeParse(JSON.parse(raw));
    parsed = r.success ? r.data : undefined;
  } catch {
    parsed = undefined;
  }
  const names = parsed?.info.features.label?.names;
  if (names === undefined) return;
  const ours = GLUE_TASKS[task].labels.map((l) => l.name);
  if (names.length !== ours.length || names.some((n, i) => n !== ours[i])) {
    throw new UserError(
      `${table.path}: label names [${names.join(', ')}] are not the ${task} order lora-repro uses [${ours.join(', ')}]: use the nyu-mll/glue files`,
    );
  }
}

/** Reads one GLUE parquet file of `task`. */
export async function readGlueParquet(path: string, task: GlueTaskName): Promise<GlueExample[]> {
  const spec = GLUE_TASKS[task];
  const cols = GLUE_HUB_COLUMNS[task];
  const table = await openParquet(path);
  checkLabelNames(table, task);
  const textA = await readStringColumn(table, cols.textA);
  const textB = cols.textB === undefined ? undefined : await readStringColumn(table, cols.textB);
  const labels = await readNumberColumn(table, 'label');
  const out: GlueExample[] = new Array(table.numRows);
  for (let i = 0; i < table.numRows; i++) {
    const label = labels[i] as number;
    const ok = spec.isRegression ? badScore(spec, label) === undefined : Number.isInteger(label) && label >= 0 && label < spec.numLabels;
    if (!ok) {
      const want = spec.isRegression ? `a finite score${spec.scoreRange ? ` in ${spec.scoreRange[0]}–${spec.scoreRange[1]}` : ''}` : `a class id 0..${spec.numLabels - 1} (-1 marks an unlabelled test row)`;
      throw new UserError(`${path}: row ${i + 1}: label ${label} is not ${want}: read the train or validation split`);
    }
    const example: GlueExample = { text_a: textA[i] as string, label };
    if (textB !== undefined) example.text_b = textB[i] as string;
    out[i] = example;
  }
  return out;
}

export interface GlueHubOptions extends HubOptions {
  /** nyu-mll/glue revision (default main). */
  revision?: string;
}

/** Path of a split's parquet file in the cache, downloading it first when missing. */
async function glueHubFile(task: GlueTaskName, split: string, opts: GlueHubOptions = {}): Promise<string> {
  const repoPath = glueHubPath(task, split);
  const snapshot = await ensureSnapshot({ repo: GLUE_REPO, revision: opts.revision ?? GLUE_REVISION, files: [repoPath] }, opts);
  return snapshot.files[0]?.path as string;
}

/** A split ('train', 'dev', 'dev_matched', 'dev_mismatched') from the hub, cached after the first call. */
export async function readGlueHubSplit(task: GlueTaskName, split: string, opts: GlueHubOptions = {}): Promise<GlueExample[]> {
  return readGlueParquet(await glueHubFile(task, split, opts), task);
}
