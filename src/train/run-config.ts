/**
 * Everything one training run needs, fully resolved (no defaults left to guess): what the runner
 * expands a spec cell × seed into, what `lora-repro train` builds from its flags, and what the
 * trainer consumes. Its canonical JSON (sorted keys) hashed with the seed is the run id.
 */
import { z } from 'zod';
import { PAPER_DECODING } from '../generate/paper-decoding.ts';

export const taskNames = ['mnli', 'sst2', 'mrpc', 'cola', 'qnli', 'qqp', 'rte', 'stsb', 'e2e'] as const;

/** A run's starting weights: see `initFrom` below (resolved forms; identity: run-identity.ts). */
export const initFromSchema = z.union([
  z
    .object({
      /** The parent: the run id of a cell of the same spec and profile, same seed. */
      run: z.string().min(1),
      /** The parent's cell key: a child's cellKey uses it, so the seeds of a chained cell share one. */
      cell: z.string().min(1),
      /** The parent's task (for records and --filter initFrom.task=…). */
      task: z.string().min(1),
      /** The parent's output directory: set by the runner when it starts the run; not part of the id. */
      dir: z.string().optional(),
    })
    .strict(),
  z
    .object({
      /** A loralib .safetensors file (microsoft/LoRA's released checkpoints) or an adapter directory. */
      checkpoint: z.string().min(1),
      /** Of the file (of adapter_model.safetensors for a directory): the identity, not the path. */
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    })
    .strict(),
]);
export type InitFrom = z.infer<typeof initFromSchema>;

export const trainRunConfigSchema = z.object({
  /** Experiment name (a spec file's name, e.g. table2) and profile (paper, mini). */
  experiment: z.string().default('adhoc'),
  profile: z.string().default('adhoc'),
  /**
   * A built-in config name (roberta-base, mini-gpt2, …; random init) or a directory with
   * config.json + model.safetensors (+ tokenizer.json) of a pretrained model.
   */
  model: z.string().min(1),
  /** Tokenizer file or directory; defaults to the model directory's tokenizer.json. */
  tokenizer: z.string().optional(),
  /**
   * A GLUE task, `e2e`, or a synthetic stand-in (`synthetic-<name>`, used when no data directory
   * exists; never presented as GLUE/E2E).
   */
  task: z.string().min(1),
  method: z.string().min(1),
  /** The method's own options (validated by the method's schema): r, alpha, targets, … */
  methodConfig: z.record(z.string(), z.unknown()).default({}),
  /** A label telling apart rows of one (model, method), e.g. "r=8" or "0.8M". */
  variant: z.string().default(''),
  seed: z.number().int().nonnegative(),
  epochs: z.number().int().positive(),
  /**
   * Examples per device per update: the reference scripts' `--per_device_train_batch_size` and the
   * batch sizes the paper prints (../shared/reference/README.md, "Batch size in the repo scripts").
   * One update sees batchSize × devices × gradAccumulation examples (train/batching.ts).
   */
  batchSize: z.number().int().positive(),
  /**
   * Data-parallel processes of the reference run (`torch.distributed.launch --nproc_per_node`;
   * microsoft/LoRA examples/NLU/*.sh launch 8, roberta_base_cola.sh 2). Simulated here on one device
   * by accumulating their batches into one update. Absent = 1 (both give the same run id).
   */
  devices: z.number().int().positive().optional(),
  gradAccumulation: z.number().int().positive().default(1),
  /**
   * The most examples one forward/backward pass takes on this machine; an update's examples are
   * split into passes of at most this many and their gradients accumulated (train/step.ts,
   * exact for unequal splits). Absent: batchSize, i.e. one pass per simulated device. Where the
   * computation runs, not what it computes: not part of the run id (run-identity.ts).
   */
  microBatchSize: z.number().int().positive().optional(),
  learningRate: z.number().positive(),
  weightDecay: z.number().nonnegative().default(0),
  adamEps: z.number().positive().default(1e-6),
  adamBetas: z.tuple([z.number(), z.number()]).default([0.9, 0.999]),
  /** Linear warm-up: a ratio of all steps, or a number of steps (steps wins when both are set). */
  warmupRatio: z.number().min(0).max(1).default(0),
  warmupSteps: z.number().int().nonnegative().optional(),
  maxGradNorm: z.number().nonnegative().default(1),
  labelSmoothing: z.number().min(0).max(1).default(0),
  /**
   * Replaces every dropout rate of the base model while training (GPT-2 embd/resid/attn_pdrop,
   * RoBERTa hidden/attention dropout); absent: the rates of the model's config.json. Methods' own
   * dropout (LoRA's `dropout`) is not touched. Table 3 needs it: the reference LoRA GPT-2 has no
   * dropout layers, and Li & Liang keep the frozen GPT-2 in eval mode while training a prefix.
   */
  modelDropout: z.number().min(0).lt(1).optional(),
  maxSeqLength: z.number().int().positive(),
  /** Subsample sizes for CPU profiles (absent = the whole split). */
  trainLimit: z.number().int().positive().optional(),
  evalLimit: z.number().int().positive().optional(),
  /**
   * Evaluate on the selection split (`selectOn`: dev, or the held-out slice) after every epoch: the
   * per-epoch curve in result.json's `epochs` and best-epoch selection. Off: the selection split is
   * scored once, after the last epoch, when something needs it (eval-protocol.ts).
   */
  evalEveryEpoch: z.boolean().default(true),
  /**
   * The split the run's reported metrics and saved predictions are scored on (eval-protocol.ts);
   * absent = dev. `test` (E2E only: GLUE's test labels are not public) is how the paper's Table 3
   * is scored. Per-epoch evaluation and best-epoch selection use `selectOn`'s split, never this one.
   */
  evalSplit: z.enum(['dev', 'test']).optional(),
  /**
   * The checkpoint the run reports, saves and decodes: `best` (absent) = the epoch with the best
   * headline metric on the selection split (`selectOn`); `final` = the last epoch, as the reference
   * E2E commands decode it.
   */
  checkpoint: z.enum(['best', 'final']).optional(),
  /**
   * The split of per-epoch evaluation and best-epoch selection: `dev` (absent; the paper's protocol,
   * which then reports the dev score of the epoch it chose on dev) or `heldout`: `heldoutSize`
   * examples of the training split, never trained on and never reported, so the epoch is chosen
   * without looking at the reported split (eval-protocol.ts, which also draws the slice).
   */
  selectOn: z.enum(['dev', 'heldout']).optional(),
  /**
   * With `selectOn: heldout` (and only then): how many training examples are held out, E2E: how many
   * MRs (each with all its references). Drawn from the whole training split by a fixed seed, before
   * `trainLimit`, so every method and seed of a table chooses on the same slice.
   */
  heldoutSize: z.number().int().positive().optional(),
  /** E2E decoding; a field left out is the paper's (../generate/paper-decoding.ts, which cites each value). */
  decoding: z
    .object({
      beam: z.number().int().positive().default(PAPER_DECODING.beam),
      lengthPenalty: z.number().default(PAPER_DECODING.lengthPenalty),
      noRepeatNgramSize: z.number().int().nonnegative().default(PAPER_DECODING.noRepeatNgramSize),
      repetitionPenalty: z.number().positive().default(PAPER_DECODING.repetitionPenalty),
      maxNewTokens: z.number().int().positive().default(PAPER_DECODING.maxNewTokens),
    })
    .optional(),
  dataDir: z.string().optional(),
  /**
   * Start the method's trainable weights (LoRA's A and B, an adapter's matrices, …) from another
   * run's or a file's instead of their fresh initialisation: the paper's MRPC, RTE and STS-B LoRA
   * runs start "from the best MNLI LoRA checkpoint" (App. D.1/D.2; microsoft/LoRA
   * examples/NLU/roberta_base_mrpc.sh `--lora_path`). The task head is never taken over (MNLI's has
   * 3 outputs, MRPC's 2, STS-B's 1) and is initialised as in any run. Specs write `{ task: mnli }`
   * or `{ checkpoint: <file> }`; src/spec/init-from.ts resolves them into these forms.
   */
  initFrom: initFromSchema.optional(),
  /**
   * A rehearsal run (`lora-repro run --rehearse`, src/spec/rehearsal.ts): the profile's paths with
   * capped sizes. Part of the run id, so it never shares one with a real run; the tables say so.
   * Training ignores it (the caps are already in the other fields).
   */
  rehearsal: z.literal(true).optional(),
});

export type TrainRunConfig = z.infer<typeof trainRunConfigSchema>;
