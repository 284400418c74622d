/**
 * Loads Hugging Face checkpoint tensors into a model through an explicit name map with shape
 * assertions. Strict about the body: one error lists every missing, unexpected or mis-shaped tensor.
 *
 * Real checkpoints carry more than the model a task builds, and transformers accepts that:
 * - Buffers and tied copies that hold no weights of their own are skipped silently, as transformers'
 *   `_keys_to_ignore_on_load_unexpected` / `_missing` do (modeling_gpt2.py: `h.N.attn.bias`,
 *   `h.N.attn.masked_bias`, the tied `lm_head.weight`; modeling_roberta.py: `position_ids`, the
 *   tied `lm_head.decoder.weight`, `lm_head.decoder.bias`, which is the same tensor as `lm_head.bias`).
 * - Weights of heads the task's model lacks are reported as unused, as transformers' "Some weights of
 *   the model checkpoint were not used when initializing …": FacebookAI/roberta-base ships its MLM head
 *   (`lm_head.dense`, `lm_head.layer_norm`, `lm_head.bias`) and the pooler RobertaForSequenceClassification
 *   builds without (`add_pooling_layer=False`); a fine-tuned checkpoint may carry `classifier.*` that an
 *   MLM model does not use.
 * A head the model HAS must match in shape; anything else the checkpoint carries is an error.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { SafetensorsFile } from '../io/safetensors.ts';
import { toFloat32 } from '../io/safetensors.ts';
import { UserError } from '../util/errors.ts';
import type { TransformerModel } from './model.ts';

interface CheckpointExtras {
  /** Non-weights (buffers, tied copies): skipped without a word. */
  buffers: RegExp[];
  /** Task heads: unused (and reported) when the model does not have them. */
  heads: RegExp[];
}

/** Patterns on canonical names (see canonicalName), per model type. */
const EXTRAS: Record<TransformerModel['modelType'], CheckpointExtras> = {
  roberta: {
    buffers: [/^roberta\.embeddings\.position_ids$/, /^lm_head\.decoder\.(weight|bias)$/],
    heads: [
      /^lm_head\.(dense|layer_norm)\.(weight|bias)$/,
      /^lm_head\.bias$/,
      /^classifier\.(dense|out_proj)\.(weight|bias)$/,
      /^roberta\.pooler\.dense\.(weight|bias)$/,
    ],
  },
  // DebertaV2Model._keys_to_ignore_on_load_unexpected ignores position_embeddings (absent with
  // position_biased_input false); position_ids is a buffer. microsoft/deberta-v2-xxlarge ships an MLM head
  // (lm_predictions.lm_head.*) that DebertaV2ForSequenceClassification does not build.
  'deberta-v2': {
    buffers: [/^deberta\.embeddings\.position_ids$/],
    heads: [/^lm_predictions\./, /^deberta\.embeddings\.position_embeddings\.weight$/, /^(pooler\.dense|classifier)\.(weight|bias)$/],
  },
  gpt2: {
    buffers: [/^transformer\.h\.\d+\.attn\.(bias|masked_bias)$/, /^lm_head\.weight$/],
    heads: [],
  },
};

/** Maps a checkpoint name onto ours (HF base-model checkpoints omit the `roberta.` / `transformer.` prefix). */
function canonicalName(name: string, model: TransformerModel): string {
  if (model.modelType === 'roberta') {
    if (/^(embeddings|encoder|pooler)\./.test(name)) return `roberta.${name}`;
    return name;
  }
  if (model.modelType === 'deberta-v2') {
    if (/^(embeddings|encoder)\./.test(name)) return `deberta.${name}`;
    return name;
  }
  if (/^(wte|wpe|h|ln_f)\b/.test(name)) return `transformer.${name}`;
  return name;
}

export interface LoadReport {
  loaded: string[];
  /** Model parameters not in the checkpoint that `allowMissing` let keep their initialisation. */
  initialised: string[];
  /** Checkpoint names (as written there) of buffers and tied copies, skipped on purpose. */
  skipped: string[];
  /** Checkpoint names (as written there) of head weights this model does not have. */
  unused: string[];
}

export function loadHfWeights(
  model: TransformerModel,
  file: SafetensorsFile,
  label: string,
  opts: { allowMissing?: (name: string) => boolean } = {},
): LoadReport {
  const extras = EXTRAS[model.modelType];
  const report: LoadReport = { loaded: [], initialised: [], skipped: [], unused: [] };
  const problems: string[] = [];
  const seen = new Set<string>();
  const assignments: [tf.Variable, tf.Tensor][] = [];
  for (const [raw, entry] of file.tensors) {
    const name = canonicalName(raw, model);
    const v = model.params.vars.get(name);
    if (v === undefined) {
      if (extras.buffers.some((re) => re.test(name))) report.skipped.push(raw);
      else if (extras.heads.some((re) => re.test(name))) report.unused.push(raw);
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

/**
 * The log lines a run prints about a load, one per kind (transformers' two warnings: weights "not used
 * when initializing" and weights "newly initialized"). Empty when the checkpoint matched exactly.
 */
export function loadReportLines(report: LoadReport, label: string): string[] {
  const lines: string[] = [];
  if (report.unused.length > 0) {
    lines.push(`${label}: ${report.unused.length} checkpoint tensors of heads this model does not use were not loaded: ${report.unused.join(', ')}`);
  }
  if (report.initialised.length > 0) {
    lines.push(`${label}: ${report.initialised.length} head tensors are not in the checkpoint and keep their seeded initialisation: ${report.initialised.join(', ')}`);
  }
  return lines;
}
