/**
 * Reads a parity fixture directory (format: ../shared/fixtures/parity/README.md): the model,
 * the LoRA tensors as loralib names them, the inputs, and the reference outputs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { readSafetensors, type SafetensorsFile } from '../io/safetensors.ts';
import { readHfConfig, type ModelConfig } from '../models/config.ts';
import { UserError } from '../util/errors.ts';

const intMatrix = z.array(z.array(z.number().int()));

const inputsSchema = z.object({
  input_ids: intMatrix,
  attention_mask: intMatrix,
  /** RoBERTa: class ids or regression targets; GPT-2: already-shifted LM targets. */
  labels: z.union([z.array(z.number()), z.array(z.array(z.number().int()))]).optional(),
  loss_mask: z.array(z.array(z.number())).optional(),
  label_smoothing: z.number().min(0).max(1).optional(),
  /** DeBERTa-v2: the bucketed relative positions [query, key] the reference derives (checked exactly). */
  relative_positions: intMatrix.optional(),
  /** Segment ids as a tokenizer makes them; our batches carry none (every model here reads type 0). */
  token_type_ids: intMatrix.optional(),
});

const loraSchema = z.object({
  r: z.number().int().positive(),
  alpha: z.number().positive(),
  dropout: z.number().min(0).max(1).default(0),
  enable_lora: z.tuple([z.boolean(), z.boolean(), z.boolean()]).optional(),
});

const beamCaseSchema = z.object({ context: z.array(z.number().int()), tokens: z.array(z.number().int()).optional() });

const expectedJsonSchema = z.object({
  beam_search: z
    .object({
      settings: z.object({
        beam: z.number().int().positive(),
        length_penalty: z.number(),
        no_repeat_ngram_size: z.number().int().nonnegative(),
        repetition_penalty: z.number().positive(),
        min_length: z.number().int().nonnegative(),
        eval_len: z.number().int().positive(),
        seq_len: z.number().int().positive().optional(),
        eos_token_id: z.array(z.number().int()),
      }),
      cases: z.array(beamCaseSchema),
    })
    .optional(),
});

export type FixtureInputs = z.infer<typeof inputsSchema>;
export type FixtureLora = z.infer<typeof loraSchema>;
export type FixtureBeam = NonNullable<z.infer<typeof expectedJsonSchema>['beam_search']>;

export interface ParityFixture {
  dir: string;
  config: ModelConfig;
  model: SafetensorsFile;
  lora?: { config: FixtureLora; tensors: SafetensorsFile };
  inputs: FixtureInputs;
  expected: SafetensorsFile;
  beam?: FixtureBeam;
}

function readJson<T>(path: string, schema: z.ZodType<T>): T {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UserError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new UserError(`${path}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return r.data;
}

export function readParityFixture(dir: string): ParityFixture {
  for (const f of ['config.json', 'model.safetensors', 'inputs.json', 'expected.safetensors']) {
    if (!existsSync(join(dir, f))) throw new UserError(`${join(dir, f)}: not found (a parity fixture needs config.json, model.safetensors, inputs.json, expected.safetensors)`);
  }
  const hasLora = existsSync(join(dir, 'lora.safetensors'));
  if (hasLora && !existsSync(join(dir, 'lora.json'))) throw new UserError(`${join(dir, 'lora.json')}: not found (needed next to lora.safetensors for r and alpha)`);
  const expectedJsonPath = join(dir, 'expected.json');
  const inputs = readJson(join(dir, 'inputs.json'), inputsSchema);
  const rows = inputs.input_ids.length;
  if (inputs.attention_mask.length !== rows || inputs.input_ids.some((r, i) => r.length !== inputs.attention_mask[i].length)) {
    throw new UserError(`${join(dir, 'inputs.json')}: input_ids and attention_mask must have the same shape`);
  }
  return {
    dir,
    config: readHfConfig(join(dir, 'config.json')),
    model: readSafetensors(join(dir, 'model.safetensors')),
    lora: hasLora ? { config: readJson(join(dir, 'lora.json'), loraSchema), tensors: readSafetensors(join(dir, 'lora.safetensors')) } : undefined,
    inputs,
    expected: readSafetensors(join(dir, 'expected.safetensors')),
    beam: existsSync(expectedJsonPath) ? readJson(expectedJsonPath, expectedJsonSchema).beam_search : undefined,
  };
}
