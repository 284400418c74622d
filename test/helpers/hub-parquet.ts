/**
 * Parquet files in the hub's dataset layouts, written with hyparquet-writer: the columns and the
 * `huggingface` feature metadata that `datasets` writes for nyu-mll/glue and tuetschek/e2e_nlg.
 */
import { parquetWriteBuffer } from 'hyparquet-writer';
import { GLUE_TASKS, type GlueTaskName } from '../../src/data/glue-tasks.ts';
import { GLUE_HUB_COLUMNS } from '../../src/data/glue-hub.ts';
import { E2E_HUB_COLUMNS } from '../../src/data/e2e-hub.ts';
import type { GlueExample } from '../../src/data/glue-tsv.ts';
import type { E2ePair } from '../../src/data/e2e.ts';

export type Column = { name: string; data: unknown[]; type: 'STRING' | 'INT64' | 'INT32' | 'FLOAT' };

export function parquet(columns: Column[], features?: Record<string, unknown>): Uint8Array {
  const kvMetadata = features === undefined ? undefined : [{ key: 'huggingface', value: JSON.stringify({ info: { features } }) }];
  return new Uint8Array(parquetWriteBuffer({ columnData: columns as never, kvMetadata }));
}

/** A GLUE parquet file as nyu-mll/glue has it: text columns, ClassLabel `label` (int64), `idx`. */
export function glueParquet(task: GlueTaskName, rows: GlueExample[], labelNames?: string[]): Uint8Array {
  const spec = GLUE_TASKS[task];
  const cols = GLUE_HUB_COLUMNS[task];
  const columns: Column[] = [{ name: cols.textA, data: rows.map((r) => r.text_a), type: 'STRING' }];
  if (cols.textB !== undefined) columns.push({ name: cols.textB, data: rows.map((r) => r.text_b), type: 'STRING' });
  columns.push(
    spec.isRegression
      ? { name: 'label', data: rows.map((r) => r.label), type: 'FLOAT' }
      : { name: 'label', data: rows.map((r) => BigInt(r.label)), type: 'INT64' },
  );
  columns.push({ name: 'idx', data: rows.map((_, i) => i), type: 'INT32' });
  const features: Record<string, unknown> = { [cols.textA]: { dtype: 'string', _type: 'Value' } };
  if (cols.textB !== undefined) features[cols.textB] = { dtype: 'string', _type: 'Value' };
  features.label = spec.isRegression
    ? { dtype: 'float32', _type: 'Value' }
    : { names: labelNames ?? spec.labels.map((l) => l.name), _type: 'ClassLabel' };
  features.idx = { dtype: 'int32', _type: 'Value' };
  return parquet(columns, features);
}

/** An E2E parquet file as the hub's conversion of tuetschek/e2e_nlg has it (one row per MR-reference pair). */
export function e2eParquet(pairs: readonly Pick<E2ePair, 'mr' | 'ref'>[]): Uint8Array {
  return parquet(
    [
      { name: E2E_HUB_COLUMNS.mr, data: pairs.map((p) => p.mr), type: 'STRING' },
      { name: E2E_HUB_COLUMNS.ref, data: pairs.map((p) => p.ref), type: 'STRING' },
    ],
    { meaning_representation: { dtype: 'string', _type: 'Value' }, human_reference: { dtype: 'string', _type: 'Value' } },
  );
}
