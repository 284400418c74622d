/**
 * Reads a table that `lora-repro table 2|3` wrote as results/<profile>/table<N>.json (format-text.ts
 * toJson: the whole TableModel of table-model.ts). Only the parts a summary of the table reads are
 * validated (zod strips the rest); those are the model's own fields, so the summary shows the
 * values, display strings and decimals the table computed instead of recomputing any of them.
 * A file that does not validate stops with one line naming it and the command that rewrites it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { reportedSchema, runStatusSchema } from '../train/result-schema.ts';
import { UserError } from '../util/errors.ts';
import type { Agg } from './aggregate.ts';

const columnSchema = z.object({
  key: z.string(),
  header: z.string(),
  /** The cells are already on this scale (×100 or raw); decimals: the digits the tables print. */
  scale: z.number(),
  decimals: z.number().int().nonnegative(),
});

const cellRunSchema = z.object({
  runId: z.string(),
  seed: z.number().int(),
  status: runStatusSchema,
  value: z.number().optional(),
  bestEpoch: z.number().int().nullable(),
  // The table's RunReport (protocol.ts), not the result file's `reported`: it carries the held-out slice.
  reported: z.object({
    split: reportedSchema.shape.split.optional(),
    checkpoint: reportedSchema.shape.checkpoint,
    epoch: reportedSchema.shape.epoch,
    heldout: z.object({ size: z.number().int().positive(), unit: z.enum(['examples', 'MRs']) }).optional(),
  }),
  problem: z.string().optional(),
});

const cellSchema = z.object({
  column: z.string(),
  value: z.number().optional(),
  std: z.number().optional(),
  n: z.number().int().nonnegative(),
  nFailed: z.number().int().nonnegative(),
  runs: z.array(cellRunSchema),
  reason: z.string().optional(),
  vsBaseline: z.enum(['above', 'equal', 'below']).optional(),
});

const rowSchema = z.object({
  label: z.string(),
  /** The method's registry name (ft, lora, …): the evidence lines compare rows by it. */
  method: z.string(),
  /** The model's name: LoRA is compared with full fine-tuning of the same model. */
  model: z.string(),
  modelDescription: z.string(),
  task: z.string().optional(),
  params: z.object({ display: z.string() }),
  cells: z.array(cellSchema),
  avg: cellSchema.optional(),
});

const baselineCellSchema = z.object({
  column: z.string(),
  value: z.number().optional(),
  reason: z.string().optional(),
  distinct: z.array(z.number()),
});

const baselineRowSchema = z.object({
  label: z.string(),
  task: z.string().optional(),
  cells: z.array(baselineCellSchema),
  avg: baselineCellSchema.optional(),
});

export const tableJsonSchema = z.object({
  table: z.union([z.literal(2), z.literal(3)]),
  profile: z.string(),
  agg: z.enum(['mean', 'median'] satisfies Agg[]),
  columns: z.array(columnSchema),
  hasAverage: z.boolean(),
  rows: z.array(rowSchema),
  baselines: z.array(baselineRowSchema),
  droppedColumns: z.array(z.string()),
  caption: z.string(),
  footnotes: z.array(z.string()),
  notes: z.array(z.string()),
});

export type TableJson = z.infer<typeof tableJsonSchema>;
export type TableJsonRow = TableJson['rows'][number];
export type TableJsonCell = TableJsonRow['cells'][number];

/** Table `table` of `profile` from `file`, or a UserError naming the file and the command that writes it. */
export function readTableJson(file: string, table: 2 | 3, profile: string): TableJson {
  const rewrite = `lora-repro table ${table} --profile ${profile} (make table${table} PROFILE=${profile} runs it)`;
  if (!existsSync(file)) throw new UserError(`${file}: not found; write it with ${rewrite}`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserError(`${file}: not valid JSON (${(err as Error).message}); rewrite it with ${rewrite}`);
  }
  const p = tableJsonSchema.safeParse(raw);
  if (!p.success) {
    const issues = p.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new UserError(`${file}: not a table written by lora-repro table (${issues}); rewrite it with ${rewrite}`);
  }
  if (p.data.table !== table || p.data.profile !== profile) {
    throw new UserError(`${file}: holds Table ${p.data.table} of profile "${p.data.profile}", expected Table ${table} of "${profile}"; rewrite it with ${rewrite}`);
  }
  return p.data;
}
