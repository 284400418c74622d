/**
 * Method artifacts on disk, in the two-file shape of Hugging Face PEFT's `save_pretrained`:
 * `adapter_config.json` and `adapter_model.safetensors`, whose keys are
 * `base_model.model.<module path>.<param>` (PEFT's PeftModel → LoraModel → HF model nesting).
 *
 * Loading is strict, as PEFT's is not (it calls load_state_dict(strict=False)): every expected key
 * present with the expected shape and no unexpected key, else one UserError lists every problem;
 * nothing is written into the model unless everything matches.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { f32, nonFiniteIndex, readSafetensors, toFloat32, writeSafetensors, type TensorEntry } from '../io/safetensors.ts';
import { UserError } from '../util/errors.ts';

const CONFIG_FILE = 'adapter_config.json';
export const WEIGHTS_FILE = 'adapter_model.safetensors';
/** PEFT's prefix for keys of the wrapped model's modules. */
export const PEFT_PREFIX = 'base_model.model.';

/** One tensor of an artifact: where it lives in the file and how to read/write it in the model. */
export interface ArtifactTensor {
  key: string;
  shape: number[];
  /** The current value, a host copy (awaited: a device backend reads asynchronously). */
  read(): Promise<Float32Array>;
  /** Writes a value of `shape` into the model. */
  write(data: Float32Array): void;
  /** Extra check before anything is written (e.g. blocks that must be zero); returns a problem. */
  validate?(data: Float32Array): string | undefined;
}

/** An artifact tensor backed by one variable (same shape and layout as in the file). */
export function variableTensor(key: string, v: tf.Variable): ArtifactTensor {
  return {
    key,
    shape: v.shape.slice(),
    read: async () => Float32Array.from((await v.data()) as Float32Array),
    write(data) {
      const t = tf.tensor(data, v.shape, 'float32');
      v.assign(t);
      t.dispose();
    },
  };
}

export async function writeArtifact(dir: string, config: object, tensors: ArtifactTensor[], metadata: Record<string, string> = {}): Promise<void> {
  const keys = new Set<string>();
  for (const t of tensors) {
    if (keys.has(t.key)) throw new Error(`artifact: duplicate key ${t.key}`);
    keys.add(t.key);
  }
  // One read at a time: a read may materialise a computed tensor (a concatenation, merged prefixes),
  // so at most one such copy is alive; the file order is the order of `tensors`.
  const entries = new Map<string, TensorEntry>();
  for (const t of tensors) entries.set(t.key, f32(t.shape, await t.read()));
  mkdirSync(dir, { recursive: true });
  // PEFT writes {"format": "pt"}; transformers' safetensors loader requires it.
  writeSafetensors(join(dir, WEIGHTS_FILE), entries, { format: 'pt', ...metadata });
  writeFileSync(join(dir, CONFIG_FILE), JSON.stringify(config, null, 2) + '\n');
}

export interface ArtifactFiles {
  config: Record<string, unknown>;
  tensors: Map<string, TensorEntry>;
  metadata: Record<string, string>;
}

export function readArtifact(dir: string): ArtifactFiles {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`${dir}: not a directory (expected ${CONFIG_FILE} + ${WEIGHTS_FILE})`);
  const cfgPath = join(dir, CONFIG_FILE);
  if (!existsSync(cfgPath)) throw new UserError(`${cfgPath}: not found`);
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(cfgPath, 'utf8'));
  } catch (err) {
    throw new UserError(`${cfgPath}: not valid JSON (${(err as Error).message})`);
  }
  if (config === null || typeof config !== 'object' || Array.isArray(config)) throw new UserError(`${cfgPath}: expected a JSON object`);
  const file = readSafetensors(join(dir, WEIGHTS_FILE));
  return { config: config as Record<string, unknown>, tensors: file.tensors, metadata: file.metadata };
}

function shapeText(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

/** Joins problems into one line, the first `max` in full. */
function problemList(problems: string[], max = 100): string {
  const shown = problems.slice(0, max).join('; ');
  return problems.length > max ? `${shown}; … and ${problems.length - max} more` : shown;
}

/**
 * Writes `tensors` (file contents) into `expected` strictly: one UserError lists every missing,
 * unexpected, mis-shaped or invalid tensor, and nothing is written unless all match.
 */
export function assignStrict(label: string, expected: ArtifactTensor[], tensors: Map<string, TensorEntry>): void {
  const problems: string[] = [];
  const pending: [ArtifactTensor, Float32Array][] = [];
  const seen = new Set<string>();
  for (const e of expected) {
    seen.add(e.key);
    const src = tensors.get(e.key);
    if (src === undefined) {
      problems.push(`missing ${e.key}`);
      continue;
    }
    if (src.shape.length !== e.shape.length || src.shape.some((d, i) => d !== e.shape[i])) {
      problems.push(`${e.key} has shape ${shapeText(src.shape)} but the model expects ${shapeText(e.shape)}`);
      continue;
    }
    if (src.dtype !== 'F32' && src.dtype !== 'F16' && src.dtype !== 'BF16') {
      problems.push(`${e.key} has dtype ${src.dtype}, expected a float type`);
      continue;
    }
    const data = toFloat32(src);
    const nonFinite = nonFiniteIndex(data);
    if (nonFinite >= 0) {
      problems.push(`${e.key} has a non-finite value (${data[nonFinite]}) at index ${nonFinite}`);
      continue;
    }
    const bad = e.validate?.(data);
    if (bad !== undefined) {
      problems.push(`${e.key}: ${bad}`);
      continue;
    }
    pending.push([e, data]);
  }
  for (const key of tensors.keys()) if (!seen.has(key)) problems.push(`unexpected ${key}`);
  if (problems.length > 0) throw new UserError(`${label}: weights do not match the method: ${problemList(problems)}`);
  for (const [e, data] of pending) e.write(data);
}
