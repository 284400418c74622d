/**
 * Builds Table 2 or 3 for a results folder and writes every format to results/<profile>/
 * (table<N>.md, .tex, .csv, .json). Shared by `lora-repro table` and `lora-repro report`.
 */
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveDataDir } from '../data/data-dir.ts';
import type { Agg } from './aggregate.ts';
import { toTex } from './format-tex.ts';
import { toCsv, toJson, toMarkdown } from './format-text.ts';
import { defaultSpecFile, profileTasks } from './profile-tasks.ts';
import type { ResultsFolder } from './results.ts';
import { buildTable, type TableModel } from './table-model.ts';

export const TABLE_FORMATS = ['md', 'tex', 'csv', 'json'] as const;
export type TableFormat = (typeof TABLE_FORMATS)[number];

export function renderTable(t: TableModel, format: TableFormat): string {
  switch (format) {
    case 'md':
      return toMarkdown(t);
    case 'tex':
      return toTex(t);
    case 'csv':
      return toCsv(t);
    case 'json':
      return toJson(t);
  }
}

/** The data directory if one can be found (to tell "task data missing" from "no runs"), else undefined. */
export function optionalDataDir(flag: string | undefined): string | undefined {
  if (flag !== undefined) return resolveDataDir({ flag }).dir;
  try {
    const d = resolveDataDir().dir;
    return existsSync(d) && statSync(d).isDirectory() ? d : undefined;
  } catch {
    return undefined;
  }
}

export interface WriteTablesOptions {
  agg?: Agg;
  withRuns?: boolean;
  dataDir?: string;
  /** The spec whose profile says which task columns Table 2 shows (default: experiments/table<N>.yaml if present). */
  spec?: string;
}

/**
 * Builds Table `table` from the folder's runs and writes it in every format. A folder without runs of
 * that table keeps the files it has (`kept`): `make table2` in a fresh clone must not replace the
 * committed Table 3 with an empty one.
 */
export function writeTables(folder: ResultsFolder, table: 2 | 3, opts: WriteTablesOptions): { model: TableModel; files: Record<TableFormat, string>; kept: boolean } {
  const lookup = profileTasks(opts.spec ?? defaultSpecFile(table), folder.profile, opts.spec !== undefined);
  // Only Table 2's columns are tasks (Table 3's are metrics of whatever task each row ran); both say
  // which rows a rehearsal left out.
  const model = buildTable(table, table === 2 && lookup.note !== undefined ? { ...folder, notes: [...folder.notes, lookup.note] } : folder, {
    ...opts,
    profileTasks: table === 2 ? lookup.found : undefined,
    rehearsal: lookup.found?.rehearsal,
  });
  const files = {} as Record<TableFormat, string>;
  for (const f of TABLE_FORMATS) files[f] = join(folder.dir, `table${table}.${f}`);
  const kept = model.rows.length === 0 && Object.values(files).some((path) => existsSync(path));
  if (!kept) for (const f of TABLE_FORMATS) writeFileSync(files[f], renderTable(model, f));
  return { model, files, kept };
}
