/**
 * Response shapes of the MLflow REST endpoints we call, validated at the boundary.
 *
 * Field names and types follow mlflow/protos/service.proto. Two JSON-mapping details matter:
 * - ids are proto `string`s, but we accept numbers too (see json-exact.ts) and keep them as
 *   exact strings; int64 fields (timestamps, steps) arrive as JSON numbers from MLflow's
 *   message_to_json (_mark_int64_fields) but proto3 JSON also allows decimal strings;
 * - empty repeated fields are omitted entirely, so every array is optional.
 */
import { z } from 'zod';
import { decodeMetricValue } from './limits.ts';

const Id = z.union([z.string(), z.number()]).transform((v) => String(v));
const Int64 = z.union([z.number(), z.string().regex(/^-?\d+$/)]).transform((v) => Number(v));
const KV = z.object({ key: z.string(), value: z.string().optional().default('') });

const MetricValueSchema = z
  .union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])])
  .transform((v) => decodeMetricValue(v));

export const MetricSchema = z.object({
  key: z.string(),
  value: MetricValueSchema,
  timestamp: Int64.optional().default(0),
  step: Int64.optional().default(0),
});
export type Metric = z.output<typeof MetricSchema>;

export const ExperimentSchema = z.object({
  experiment_id: Id,
  name: z.string(),
  artifact_location: z.string().optional(),
  lifecycle_stage: z.string().optional(),
  tags: z.array(KV).optional(),
});
export type Experiment = z.output<typeof ExperimentSchema>;

// run_uuid is the pre-1.0 name of run_id; servers still send both.
export const RunInfoSchema = z
  .object({
    run_id: Id.optional(),
    run_uuid: Id.optional(),
    experiment_id: Id,
    run_name: z.string().optional(),
    status: z.string().optional(),
    start_time: Int64.optional(),
    end_time: Int64.optional(),
    artifact_uri: z.string().optional(),
    lifecycle_stage: z.string().optional(),
  })
  .refine((r) => r.run_id !== undefined || r.run_uuid !== undefined, { message: 'run_info has no run_id' })
  .transform((r) => ({ ...r, run_id: (r.run_id ?? r.run_uuid) as string }));
export type RunInfo = z.output<typeof RunInfoSchema>;

export const RunSchema = z.object({
  info: RunInfoSchema,
  data: z
    .object({
      metrics: z.array(MetricSchema).optional(),
      params: z.array(KV).optional(),
      tags: z.array(KV).optional(),
    })
    .optional(),
});
export type Run = z.output<typeof RunSchema>;

export const GetExperimentResponse = z.object({ experiment: ExperimentSchema });
export const CreateExperimentResponse = z.object({ experiment_id: Id });
export const RunResponse = z.object({ run: RunSchema });
export const UpdateRunResponse = z.object({ run_info: RunInfoSchema.optional() });
export const SearchRunsResponse = z.object({
  runs: z.array(RunSchema).optional(),
  next_page_token: z.string().optional(),
});
export const MetricHistoryResponse = z.object({
  metrics: z.array(MetricSchema).optional(),
  next_page_token: z.string().optional(),
});
/** mlflow-artifacts ListArtifacts: FileInfo { path, is_dir, file_size (int64) }. */
export const ListArtifactsResponse = z.object({
  files: z
    .array(z.object({ path: z.string(), is_dir: z.boolean().optional(), file_size: Int64.optional() }))
    .optional(),
});
export const EmptyResponse = z.object({});

/** MLflow's error body (mlflow/exceptions.py MlflowException.serialize_as_json). */
export const ErrorBody = z.object({ error_code: z.string().optional(), message: z.string().optional() });

/** One line naming the first few schema problems, for MlflowApiError messages. */
export function describeIssues(err: z.ZodError): string {
  return err.issues
    .slice(0, 3)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}
