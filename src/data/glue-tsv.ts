/**
 * Reader for the original GLUE TSV files.
 *
 * Behaviour follows how the reference loaders read them: the HF `datasets` glue builder and the
 * transformers GLUE processors use `csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)`, i.e. fields are
 * split on TAB only and quote characters are ordinary text. Many MRPC/RTE/STS-B/QNLI rows start with `"`
 * (MANIFEST.md counts them); a CSV-quoting reader would merge those rows. Also handled, per MANIFEST.md:
 * the UTF-8 BOM before the MRPC header, the header-less 4-column CoLA files, CoLA dev.tsv's missing final
 * newline, and CRLF line ends. Every row must have exactly the header's field count; anything else is a
 * UserError `file:line: expected N fields, got M`.
 */
import { UserError } from '../util/errors.ts';
import { glueSplitFile, readDataText } from './data-dir.ts';
import { GLUE_TASKS, badScore, type GlueTaskName, type GlueTaskSpec } from './glue-tasks.ts';

export interface GlueExample {
  text_a: string;
  /** Second sentence for pair tasks; absent for SST-2 and CoLA. */
  text_b?: string;
  /** Class index into the task's label list, or the float score for STS-B. */
  label: number;
}

interface ColumnIndex {
  numFields: number;
  textA: number;
  textB: number | undefined;
  label: number;
  firstDataLine: number;
}

/** Physical lines of the file: LF or CRLF ends, a missing final newline tolerated. */
function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

function columnIndex(spec: GlueTaskSpec, lines: string[], file: string): ColumnIndex {
  const cols = spec.columns;
  if (cols.kind === 'headerless') {
    return { numFields: cols.numFields, textA: cols.textA, textB: undefined, label: cols.label, firstDataLine: 0 };
  }
  const header = (lines[0] ?? '').split('\t');
  const find = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) {
      throw new UserError(
        `${file}:1: header has no column "${name}" (found: ${header.join(', ')}): pass the ${spec.dir} file of the original GLUE release`,
      );
    }
    return i;
  };
  return {
    numFields: header.length,
    textA: find(cols.textA),
    textB: cols.textB === undefined ? undefined : find(cols.textB),
    label: find(cols.label),
    firstDataLine: 1,
  };
}

const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function parseLabel(spec: GlueTaskSpec, raw: string, file: string, line: number): number {
  if (spec.isRegression) {
    if (!FLOAT.test(raw)) {
      throw new UserError(`${file}:${line}: label "${raw}" is not a number: ${spec.dir} scores must be floats such as 3.800`);
    }
    const score = Number(raw);
    const bad = badScore(spec, score);
    if (bad !== undefined) throw new UserError(`${file}:${line}: label "${raw}": ${bad}: fix the score or use the original ${spec.dir} files`);
    return score;
  }
  const index = spec.labels.findIndex((l) => l.raw === raw);
  if (index < 0) {
    const allowed = spec.labels.map((l) => l.raw).join(', ');
    throw new UserError(`${file}:${line}: unknown label "${raw}" for ${spec.dir}: expected one of ${allowed}`);
  }
  return index;
}

/** Parses the text of a GLUE TSV file; `file` is only used in error messages. */
export function parseGlueTsv(text: string, task: GlueTaskName, file: string): GlueExample[] {
  const spec = GLUE_TASKS[task];
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = splitLines(body);
  if (lines.length === 0) throw new UserError(`${file}:1: file is empty: expected a ${spec.dir} TSV file`);
  const idx = columnIndex(spec, lines, file);
  const out: GlueExample[] = [];
  for (let i = idx.firstDataLine; i < lines.length; i++) {
    const lineNo = i + 1;
    const fields = (lines[i] as string).split('\t');
    if (fields.length !== idx.numFields) {
      throw new UserError(
        `${file}:${lineNo}: expected ${idx.numFields} fields, got ${fields.length}: fields are TAB-separated with no quoting; fix or remove this row`,
      );
    }
    const example: GlueExample = {
      text_a: fields[idx.textA] as string,
      label: parseLabel(spec, fields[idx.label] as string, file, lineNo),
    };
    if (idx.textB !== undefined) example.text_b = fields[idx.textB] as string;
    out.push(example);
  }
  return out;
}

/** Reads and parses one GLUE TSV file. */
export function readGlueTsv(path: string, task: GlueTaskName): GlueExample[] {
  return parseGlueTsv(readDataText(path), task, path);
}

/** Reads a split ('train', 'dev', 'dev_matched', 'dev_mismatched') of a task from the data directory. */
export function readGlueSplit(dataDir: string, task: GlueTaskName, split: string): GlueExample[] {
  return readGlueTsv(glueSplitFile(dataDir, task, split), task);
}
