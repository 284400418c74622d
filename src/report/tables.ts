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

export function writeTables(folder: ResultsFolder, table: 2 | 3, opts: { agg?: Agg; withRuns?: boolean; dataDir?: string }): { model: TableModel; files: Record<TableFormat, string> } {
  const model = buildTable(table, folder, opts);
  const files = {} as Record<TableFormat, string>;
  for (const f of TABLE_FORMATS) {
    const path = join(folder.dir, `table${table}.${f}`);
    writeFileSync(path, renderTable(model, f));
    files[f] = path;
  }
  return { model, files };
}
