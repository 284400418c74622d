/**
 * The paper's Tables 2 and 3 (Hu et al. 2021, arXiv 2106.09685 v2) from the project's copies in
 * datasets/paper/ (see its README for the source and conventions), validated with zod.
 * Values keep their printed text (`2.40`, `±.3`) beside the parsed number, so tables show them
 * exactly as the paper prints them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parseCsv } from '../util/csv.ts';
import { UserError } from '../util/errors.ts';

export const PAPER_TABLE_FILES: Readonly<Record<2 | 3, string>> = {
  2: fileURLToPath(new URL('../../datasets/paper/table2.csv', import.meta.url)),
  3: fileURLToPath(new URL('../../datasets/paper/table3.csv', import.meta.url)),
};

/** The metric columns of each table, in the paper's order. */
const PAPER_COLUMNS: Readonly<Record<2 | 3, readonly string[]>> = {
  2: ['MNLI', 'SST-2', 'MRPC', 'CoLA', 'QNLI', 'QQP', 'RTE', 'STS-B'],
  3: ['BLEU', 'NIST', 'MET', 'ROUGE-L', 'CIDEr'],
};

export interface PaperValue {
  value: number;
  /** As printed, e.g. "2.40". */
  text: string;
  std?: number;
  /** As printed after "±", e.g. ".3". */
  stdText?: string;
}

export interface PaperTableRow {
  model: string;
  method: string;
  variant: string;
  /** Printed "# Trainable Parameters" in millions, e.g. "0.3". */
  params: string;
  values: Record<string, PaperValue>;
  avg?: PaperValue;
  marker: '' | '*' | '†';
}

const numberText = z.string().regex(/^-?\d+(\.\d+)?$/, 'expected a number as printed');
const optionalNumberText = z.union([z.literal(''), numberText]);

/** "0.3" → ".3" as the paper prints a ± below one. */
function stdAsPrinted(s: string): string {
  return s.startsWith('0.') ? s.slice(1) : s;
}

function parsePaperTable(id: 2 | 3, text: string, file: string): PaperTableRow[] {
  const records = parseCsv(text, file).filter((r) => !(r.fields.length === 1 && r.fields[0] === ''));
  if (records.length === 0) throw new UserError(`${file}: empty; restore it from ../shared/reference/paper-table${id}.csv`);
  const header = records[0].fields;
  const cols = PAPER_COLUMNS[id];
  const need = ['model', 'method', 'variant', 'trainable_params_m', ...cols.flatMap((c) => [c, `${c}_std`]), ...(id === 2 ? ['avg'] : []), 'source_marker'];
  const missing = need.filter((c) => !header.includes(c));
  if (missing.length > 0) throw new UserError(`${file}: missing column(s) ${missing.join(', ')}; restore it from ../shared/reference/paper-table${id}.csv`);
  const rowSchema = z.object({
    model: z.string().min(1),
    method: z.string().min(1),
    variant: z.string(),
    trainable_params_m: numberText,
    source_marker: z.enum(['', '*', '†']),
    ...(id === 2 ? { avg: numberText } : {}),
    ...Object.fromEntries(cols.flatMap((c) => [
      [c, numberText],
      [`${c}_std`, optionalNumberText],
    ])),
  });
  return records.slice(1).map((rec) => {
    if (rec.fields.length !== header.length) throw new UserError(`${file}:${rec.line}: ${rec.fields.length} fields, the header has ${header.length}`);
    const obj = Object.fromEntries(header.map((h, i) => [h, rec.fields[i]]));
    const parsed = rowSchema.safeParse(obj);
    if (!parsed.success) {
      throw new UserError(`${file}:${rec.line}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    const values: Record<string, PaperValue> = {};
    for (const c of cols) {
      const v = obj[c];
      const s = obj[`${c}_std`];
      values[c] = { value: Number(v), text: v, ...(s !== '' ? { std: Number(s), stdText: stdAsPrinted(s) } : {}) };
    }
    return {
      model: obj.model,
      method: obj.method,
      variant: obj.variant,
      params: obj.trainable_params_m,
      values,
      avg: id === 2 ? { value: Number(obj.avg), text: obj.avg } : undefined,
      marker: obj.source_marker as PaperTableRow['marker'],
    };
  });
}

export function loadPaperTable(id: 2 | 3, file = PAPER_TABLE_FILES[id]): PaperTableRow[] {
  if (!existsSync(file)) throw new UserError(`${file}: not found; restore datasets/paper/ from git (copies of ../shared/reference/paper-table*.csv)`);
  return parsePaperTable(id, readFileSync(file, 'utf8'), file);
}

export function findPaperRow(rows: readonly PaperTableRow[], key: { model: string; method: string; variant: string }): PaperTableRow | undefined {
  return rows.find((r) => r.model === key.model && r.method === key.method && r.variant === key.variant);
}
