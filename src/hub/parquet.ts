/**
 * Reading the flat parquet tables the hub's datasets come in, column by column, through hyparquet
 * (pure JavaScript, MIT, no native code; SNAPPY — what `datasets` / pyarrow write by default — is
 * built in; other codecs are reported as such).
 *
 * Values are checked as they come out, since the file is external input: a string column must hold
 * strings, a number column numbers, and neither may have nulls. Two conversions keep the values equal
 * to what the original text files say:
 * - INT64 columns (how `datasets` stores ClassLabel ids) arrive as BigInt and become numbers.
 * - FLOAT (float32) columns become the shortest decimal that rounds to the same float32, i.e. what
 *   numpy prints and what the source text held: STS-B's score "3.800" is stored as the float32
 *   3.7999999523162842 and read back as 3.8, the number our TSV reader gives.
 */
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead, parquetSchema, type AsyncBuffer, type FileMetaData } from 'hyparquet';
import { UserError } from '../util/errors.ts';

export interface ParquetTable {
  path: string;
  file: AsyncBuffer;
  metadata: FileMetaData;
  numRows: number;
  /** Top-level column name -> parquet physical type. */
  columns: Map<string, string | undefined>;
}

const REDOWNLOAD = 'delete it and rerun lora-repro download';

export async function openParquet(path: string): Promise<ParquetTable> {
  const file = await asyncBufferFromFile(path);
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (err) {
    throw new UserError(`${path}: not a readable parquet file (${(err as Error).message}): ${REDOWNLOAD}`);
  }
  const columns = new Map<string, string | undefined>();
  for (const child of parquetSchema(metadata).children) columns.set(child.element.name, child.element.type);
  return { path, file, metadata, numRows: Number(metadata.num_rows), columns };
}

/** The key-value metadata entry `key` (e.g. `huggingface`, where `datasets` stores its features). */
export function kvMetadata(table: ParquetTable, key: string): string | undefined {
  return table.metadata.key_value_metadata?.find((kv) => kv.key === key)?.value;
}

function requireColumn(table: ParquetTable, name: string): void {
  if (!table.columns.has(name)) {
    throw new UserError(`${table.path}: no column "${name}" (found: ${[...table.columns.keys()].join(', ')}): ${REDOWNLOAD}`);
  }
}

async function readColumn(table: ParquetTable, name: string): Promise<ArrayLike<unknown>> {
  requireColumn(table, name);
  let values: ArrayLike<unknown>;
  try {
    let rows: unknown[][] = [];
    await parquetRead({ file: table.file, metadata: table.metadata, columns: [name], onComplete: (r) => (rows = r) });
    values = rows.map((r) => r[0]);
  } catch (err) {
    throw new UserError(`${table.path}: cannot read column "${name}" (${(err as Error).message}): ${REDOWNLOAD}`);
  }
  if (values.length !== table.numRows) {
    throw new UserError(`${table.path}: column "${name}" has ${values.length} values for ${table.numRows} rows: ${REDOWNLOAD}`);
  }
  return values;
}

function bad(table: ParquetTable, name: string, row: number, want: string, got: unknown): never {
  const shown = got === null || got === undefined ? 'null' : typeof got;
  throw new UserError(`${table.path}: column "${name}" row ${row + 1}: expected ${want}, got ${shown}`);
}

export async function readStringColumn(table: ParquetTable, name: string): Promise<string[]> {
  const values = await readColumn(table, name);
  const out = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'string') bad(table, name, i, 'a string', v);
    out[i] = v;
  }
  return out;
}

/** Shortest decimal (as a number) that rounds to the same float32 as `x`. */
export function shortestFloat32(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.fround(x);
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(f.toPrecision(digits));
    if (Math.fround(candidate) === f) return candidate;
  }
  return f;
}

export async function readNumberColumn(table: ParquetTable, name: string): Promise<number[]> {
  const values = await readColumn(table, name);
  const float32 = table.columns.get(name) === 'FLOAT';
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'bigint') {
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) bad(table, name, i, 'a safe integer', v);
      out[i] = Number(v);
    } else if (typeof v === 'number') {
      out[i] = float32 ? shortestFloat32(v) : v;
    } else {
      bad(table, name, i, 'a number', v);
    }
  }
  return out;
}
