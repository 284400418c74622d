/**
 * CSV, read and written in one place (papaparse underneath): the E2E challenge files (data/e2e.ts),
 * runs.csv (runner/runs-csv.ts), the paper's tables and the tables we write (report/).
 *
 * Reading (RFC 4180, as Python's csv module): `,` separates fields; LF or CRLF ends a record (a missing
 * final line end is fine); a field that starts with `"` is quoted, may contain `,`, `"` written as `""`,
 * and line breaks (kept as they are); a quote inside an unquoted field is text. A leading UTF-8 BOM is
 * dropped. Each record carries the 1-based line it starts on; malformed quoting is a UserError naming
 * `file:line` (papaparse tolerates only spaces between a closing quote and the next `,` or line end).
 */
import Papa from 'papaparse';
import { UserError } from './errors.ts';

export interface CsvRecord {
  fields: string[];
  /** 1-based line where the record starts. */
  line: number;
}

/** Records of `text` (a blank line is the record `['']`); `file` names it in errors. */
export function parseCsv(text: string, file: string): CsvRecord[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  let start = 0;
  let line = 1;
  const lineAt = (offset: number): number => {
    let n = line;
    for (let i = start; i < offset && i < body.length; i++) if (body[i] === '\n') n++;
    return n;
  };
  Papa.parse<string[]>(body, {
    delimiter: ',',
    // LF, not papaparse's guess: a file may mix LF and CRLF; the CR of a CRLF is dropped below.
    newline: '\n',
    quoteChar: '"',
    escapeChar: '"',
    header: false,
    skipEmptyLines: false,
    step: (row) => {
      const end = row.meta.cursor;
      const codes = row.errors.map((e) => e.code);
      if (codes.length > 0) {
        const at = lineAt(row.errors[0]?.index ?? start);
        if (codes.includes('InvalidQuotes')) throw new UserError(`${file}:${at}: text after a closing quote: write quotes inside a quoted field as ""`);
        throw new UserError(`${file}:${at}: quoted field is never closed: add the closing " or write inner quotes as ""`);
      }
      // papaparse ends the input with an empty record after a final line end; that is no record.
      if (start >= body.length) return;
      const fields = row.data;
      const raw = body.slice(start, end);
      if (raw.endsWith('\r\n')) dropLineEndCr(fields, raw.slice(0, -1));
      records.push({ fields, line });
      line = lineAt(end);
      start = end;
    },
  });
  return records;
}

/**
 * The CR of a CRLF line end stays on the last field when that field is unquoted (papaparse splits at
 * LF only); a quoted field's content is already exact. Unquoted fields are verbatim, so the last one
 * is unquoted when the raw line ends with it right after a `,` or the record's start.
 */
function dropLineEndCr(fields: string[], rawLine: string): void {
  const last = fields[fields.length - 1];
  if (last === undefined || !last.endsWith('\r') || !rawLine.endsWith(last)) return;
  const before = rawLine.length - last.length - 1;
  if (before < 0 || rawLine[before] === ',') fields[fields.length - 1] = last.slice(0, -1);
}

/** One field as written: quoted (inner `"` doubled) only when it holds `,`, `"`, CR or LF. */
export function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** One record as a line of text, without the line end. */
export function csvLine(fields: readonly string[]): string {
  return fields.map(csvField).join(',');
}
