/**
 * The experiment spec file format (experiments/*.yaml), as zod schemas; described in ./README.md.
 *
 * A spec describes a results table once: `defaults` for every run, a `grid` of blocks (usually one
 * per table row) that each expand to models × methods × tasks × seeds, per-cell overrides, and
 * `profiles` (`paper`, `mini`, …) that swap the scale fields (model, data limits, epochs, batch,
 * seeds) without touching the hyperparameters that make a row what it is.
 *
 * The field blocks (`defaults`, `set`, per-task settings) accept exactly the fields of
 * TrainRunConfig that a spec may choose, derived from trainRunConfigSchema so a field added there is
 * settable here without a second list to keep in sync. They are validated loosely here (types and
 * ranges, no required fields, `null` = unset) and strictly after merging, per run.
 */
import { z } from 'zod';
import { METHOD_NAMES } from '../methods/registry.ts';
import { taskNames, trainRunConfigSchema } from '../train/run-config.ts';

/** TrainRunConfig fields a spec never sets in a field block: they come from the grid or the CLI. */
const NOT_SETTABLE = ['experiment', 'profile', 'seed', 'model', 'task', 'method', 'variant', 'rehearsal'] as const;

/**
 * The same type without defaults or required-ness, objects made partial and strict, and `null`
 * accepted everywhere (it removes a value set by an earlier layer). Parsing is only for checking:
 * the raw YAML values are what gets merged, so no default sneaks in as an explicit override.
 */
function loosen(t: z.ZodType): z.ZodType {
  let inner: z.ZodType = t;
  for (;;) {
    if (inner instanceof z.ZodDefault) inner = inner.unwrap() as z.ZodType;
    else if (inner instanceof z.ZodOptional) inner = inner.unwrap() as z.ZodType;
    else break;
  }
  if (inner instanceof z.ZodObject) {
    const shape = inner.shape as Record<string, z.ZodType>;
    return z.object(Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, loosen(v).nullable().optional()]))).strict();
  }
  return inner;
}

function isTaskName(t: string): boolean {
  return (taskNames as readonly string[]).includes(t) || /^synthetic-[a-z0-9-]+$/.test(t);
}
const TASK_HINT = `one of ${taskNames.join(', ')} or synthetic-<name>`;
const METHOD_HINT = `one of ${METHOD_NAMES.join(', ')}`;

const taskSchema = z.string().superRefine((t, ctx) => {
  if (!isTaskName(t)) ctx.addIssue({ code: 'custom', message: `unknown task '${t}' (expected ${TASK_HINT})` });
});

/**
 * `initFrom` as a spec writes it: `{ task: mnli }`, the run of the same row, model, method and seed
 * on that task (its trained method weights; resolved to the parent's run id at expansion), or
 * `{ checkpoint: <file> }`, a loralib .safetensors file or an adapter directory, relative to the
 * spec file (identified by its sha256). Resolution: init-from.ts; the resolved form: run-config.ts.
 */
export const specInitFromSchema = z
  .object({ task: taskSchema.optional(), checkpoint: z.string().min(1).optional() })
  .strict()
  .superRefine((v, ctx) => {
    if ((v.task === undefined) === (v.checkpoint === undefined)) {
      ctx.addIssue({ code: 'custom', message: "expected exactly one of 'task' (a cell of this row to start from) or 'checkpoint' (a file)" });
    }
  });
export type SpecInitFrom = z.infer<typeof specInitFromSchema>;

const settableShape = Object.fromEntries(
  Object.entries(trainRunConfigSchema.shape as Record<string, z.ZodType>)
    .filter(([k]) => !(NOT_SETTABLE as readonly string[]).includes(k))
    .map(([k, v]) => [k, (k === 'initFrom' ? specInitFromSchema : loosen(v)).nullable().optional()]),
);

/** A block of TrainRunConfig field values (partial). */
const fieldsSchema = z.object(settableShape).strict();
const SETTABLE_FIELDS: readonly string[] = Object.keys(settableShape);

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const nameSchema = (what: string) =>
  z.string().regex(NAME_RE, `${what} must be letters, digits, '.', '_' or '-' (it names a results directory)`);


const methodNameSchema = z.string().superRefine((m, ctx) => {
  if (!METHOD_NAMES.includes(m)) ctx.addIssue({ code: 'custom', message: `unknown method '${m}' (expected ${METHOD_HINT})` });
});

const oneOrMany = z.union([z.string(), z.array(z.string()).min(1)]);

/** Selects cells by their spec-level names (model before profile mapping). A list means "any of". */
export const whereSchema = z
  .object({ row: oneOrMany, model: oneOrMany, method: oneOrMany, variant: oneOrMany, task: oneOrMany })
  .partial()
  .strict();
export type Where = z.infer<typeof whereSchema>;

const cellOverrideSchema = z.object({ where: whereSchema, set: fieldsSchema }).strict();

/** `lora` or `{ method: lora, variant: "r=8", config: { r: 8 } }`. */
const methodEntrySchema = z.preprocess(
  (v) => (typeof v === 'string' ? { method: v } : v),
  z
    .object({
      method: methodNameSchema,
      /** Tells rows of one (model, method) apart; use the paper CSV's variant to join results with it. */
      variant: z.string().optional(),
      /** The method's options, checked by the method's own schema at expansion. */
      config: z.record(z.string(), z.unknown()).optional(),
    })
    .strict(),
);

const seedsSchema = z
  .array(z.number().int().nonnegative())
  .min(1, 'expected at least one seed')
  .refine((s) => new Set(s).size === s.length, 'seeds must not repeat');

/** A task list, or a map task → settings for that task (the per-task columns of Table 9 etc.). */
const tasksSchema = z
  .union([z.array(z.string()).min(1, 'expected at least one task'), z.record(z.string(), fieldsSchema.nullable())])
  .superRefine((tasks, ctx) => {
    const names = Array.isArray(tasks) ? tasks : Object.keys(tasks);
    if (names.length === 0) ctx.addIssue({ code: 'custom', message: 'expected at least one task' });
    names.forEach((t, i) => {
      const r = taskSchema.safeParse(t);
      if (!r.success) ctx.addIssue({ code: 'custom', path: [Array.isArray(tasks) ? i : t], message: r.error.issues[0].message });
    });
    if (Array.isArray(tasks) && new Set(tasks).size !== tasks.length) ctx.addIssue({ code: 'custom', message: 'tasks must not repeat' });
  });

/** Free-form provenance of a block: which paper row it reproduces, which CSV rows its values cite. */
const metaRecord = z.record(z.string(), z.union([z.string(), z.number()]).transform(String));

export const blockSchema = z
  .object({
    /** Id of the block (a table row); filterable as `row=<id>`. Default: its index. */
    row: nameSchema('row').optional(),
    /** Display label, e.g. the paper's row label. */
    label: z.string().optional(),
    /** The row of paper-table2.csv / paper-table3.csv this block reproduces (model, method, variant). */
    paper: metaRecord.optional(),
    /** Hyperparameter sources, first wins per field: rows of the reference CSVs (file, model, method, variant, source). */
    cite: z.array(metaRecord).optional(),
    models: z.array(z.string().min(1)).min(1, 'expected at least one model'),
    methods: z.array(methodEntrySchema).min(1, 'expected at least one method'),
    tasks: tasksSchema,
    seeds: seedsSchema.optional(),
    set: fieldsSchema.optional(),
    cells: z.array(cellOverrideSchema).optional(),
  })
  .strict();
export type Block = z.infer<typeof blockSchema>;

/** Slurm's time formats: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS. */
export const SLURM_TIME_RE = /^(\d+-\d{1,2}(:\d{2}){0,2}|\d+(:\d{2}){0,2})$/;
/** A memory size as sbatch --mem takes it: a number with an optional K, M, G or T suffix. */
export const SLURM_MEM_RE = /^\d+[KMGT]?$/i;

/** A profile's `slurm:` block: the defaults of the `run --executor slurm` flags (flags win). */
export const slurmSchema = z
  .object({
    partition: z.string().min(1).optional(),
    account: z.string().min(1).optional(),
    gpusPerRun: z.number().int().nonnegative().optional(),
    cpusPerRun: z.number().int().positive().optional(),
    mem: z.string().regex(SLURM_MEM_RE, "expected a size such as '64G' or '16000M'").optional(),
    time: z.string().regex(SLURM_TIME_RE, "expected a Slurm time limit such as '12:00:00' or '1-00:00:00'").optional(),
    maxParallel: z.number().int().positive().optional(),
    requeue: z.boolean().optional(),
    /** Further `#SBATCH` options, verbatim (e.g. `--constraint=a100`, `--qos=long`). */
    sbatchArgs: z.array(z.string().regex(/^--?[A-Za-z]/, "expected an sbatch option such as '--qos=long'")).optional(),
  })
  .strict();
export type SlurmBlock = z.infer<typeof slurmSchema>;

export const profileSchema = z
  .object({
    description: z.string().optional(),
    /** One model for every cell, or a map from spec model → model (unmapped models stay). */
    model: z.union([z.string().min(1), z.record(z.string(), z.string().min(1))]).optional(),
    seeds: seedsSchema.optional(),
    /** Only these tasks (e.g. the ones whose training data is available offline); default: all. */
    tasks: z.array(taskSchema).min(1, 'expected at least one task').optional(),
    /** Only these grid rows (e.g. one row per method for a CPU budget); default: every row. */
    rows: z.array(z.string().min(1)).min(1, 'expected at least one row').optional(),
    /**
     * Runs a spec task on another task's data, keeping the spec task's settings: the synthetic
     * stand-ins of a profile without a data directory (e.g. sst2 → synthetic-sst2).
     */
    taskMap: z.record(z.string(), taskSchema).optional(),
    set: fieldsSchema.optional(),
    cells: z.array(cellOverrideSchema).optional(),
    /** Resources of `lora-repro run --executor slurm` (docs/slurm.md); never part of a run's identity. */
    slurm: slurmSchema.optional(),
  })
  .strict();
export type Profile = z.infer<typeof profileSchema>;

export const specSchema = z
  .object({
    /** Experiment name (results/<profile>/… rows and the MLflow experiment); default: the file name. */
    experiment: nameSchema('experiment').optional(),
    description: z.string().optional(),
    seeds: seedsSchema.optional(),
    defaults: fieldsSchema.optional(),
    grid: z.array(blockSchema).min(1, 'expected at least one grid block (the grid is empty)'),
    overrides: z.array(cellOverrideSchema).optional(),
    profiles: z.record(nameSchema('profile name'), profileSchema).optional(),
    /** Profile used without --profile; default `paper` if defined, else the first one. */
    defaultProfile: z.string().optional(),
    /** Cost model inputs for --dry-run (see src/runner/cost.ts). */
    cost: z.object({ msPerToken: z.record(z.string(), z.number().positive()) }).partial().strict().optional(),
  })
  .strict();
export type Spec = z.infer<typeof specSchema>;

/** Every key the format knows, for "did you mean" hints. */
export const KNOWN_KEYS: readonly string[] = [
  ...new Set([
    ...SETTABLE_FIELDS,
    ...Object.keys(specSchema.shape),
    ...Object.keys(blockSchema.shape),
    ...Object.keys(profileSchema.shape),
    ...Object.keys(slurmSchema.shape),
    ...Object.keys(whereSchema.shape),
    'where',
    'set',
    'method',
    'variant',
    'config',
  ]),
];
