/**
 * Loads Hugging Face checkpoint tensors into a model through an explicit name map with shape
 * assertions. Strict: one error lists every missing, unexpected or mis-shaped tensor.
 *
 * Known names that carry no weights of ours are skipped: buffers (`position_ids`, GPT-2's causal
 * `attn.bias` / `attn.masked_bias`), tied heads (`lm_head.weight`, `lm_head.decoder.weight`),
 * the unused RoBERTa pooler, and `lm_head.decoder.bias` (the same tensor as `lm_head.bias`).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { SafetensorsFile } from '../io/safetensors.ts';
import { toFloat32 } from '../io/safetensors.ts';
import { UserError } from '../util/errors.ts';
import type { TransformerModel } from './model.ts';

const IGNORED: RegExp[] = [
  /^roberta\.embeddings\.position_ids$/,
  /^roberta\.pooler\./,
  /^lm_head\.decoder\.(weight|bias)$/,
  /^transformer\.h\.\d+\.attn\.(bias|masked_bias)$/,
  /^lm_head\.weight$/,
];

/** Maps a checkpoint name onto ours (HF base-model checkpoints omit the `roberta.` / `transformer.` prefix). */
export function canonicalName(name: string, model: TransformerModel): string {
  if (model.modelType === 'roberta') {
    if (/^(embeddings|encoder|pooler)\./.test(name)) return `roberta.${name}`;
    return name;
  }
  if (/^(wte|wpe|h|ln_f)\b/.test(name)) return `transformer.${name}`;
  return name;
}

export interface LoadReport {
  loaded: string[];
  /** Model parameters not in the checkpoint that `allowMissing` let keep their initialisation. */
  initialised: string[];
  /** Non-weight tensors skipped on purpose. */
  skipped: string[];
}

export function loadHfWeights(
  model: TransformerModel,
  file: SafetensorsFile,
  label: string,
  opts: { allowMissing?: (name: string) => boolean; extraTensors?: 'error' | 'skip' } = {},
): LoadReport {
  const report: LoadReport = { loaded: [], initialised: [], skipped: [] };
  const problems: string[] = [];
  const seen = new Set<string>();
  const assignments: [tf.Variable, tf.Tensor][] = [];
  for (const [raw, entry] of file.tensors) {
    const name = canonicalName(raw, model);
    if (IGNORED.some((re) => re.test(name))) {
      report.skipped.push(raw);
      continue;
    }
    const v = model.params.vars.get(name);
    if (v === undefined) {
      if (opts.extraTensors === 'skip') report.skipped.push(raw);
      else problems.push(`unexpected ${raw}`);
      continue;
    }
    seen.add(name);
    if (entry.shape.length !== v.shape.length || entry.shape.some((d, i) => d !== v.shape[i])) {
      problems.push(`${raw} has shape [${entry.shape}] but the model expects [${v.shape}]`);
      continue;
    }
    assignments.push([v, tf.tensor(toFloat32(entry), entry.shape, 'float32')]);
    report.loaded.push(name);
  }
  for (const name of model.params.names()) {
    if (seen.has(name)) continue;
    if (opts.allowMissing?.(name)) report.initialised.push(name);
    else problems.push(`missing ${name}`);
  }
  if (problems.length > 0) {
    for (const [, t] of assignments) t.dispose();
    const shown = problems.slice(0, 12).join('; ');
    const more = problems.length > 12 ? `; … and ${problems.length - 12} more` : '';
    throw new UserError(`${label}: checkpoint does not match the ${model.modelType} model: ${shown}${more}`);
  }
  for (const [v, t] of assignments) {
    v.assign(t);
    t.dispose();
  }
  return report;
}
