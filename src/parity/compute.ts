/**
 * Computes, with our implementation, every tensor a parity fixture names in expected.safetensors
 * (logits.*, loss.*, grad.<fixture name>, merged.<module>.weight) and its beam-search cases.
 */
import * as tf from '@tensorflow/tfjs-core';
import { tokenBatch, type TokenBatch } from '../models/batch.ts';
import { EVAL } from '../models/context.ts';
import { createModel } from '../models/factory.ts';
import { loadHfWeights } from '../models/load-weights.ts';
import { lmLoss, sequenceClassificationLoss } from '../models/losses.ts';
import type { TransformerModel } from '../models/model.ts';
import { injectLora, loraVariables, mergeLora, unmergeLora, type LoraInjection } from '../methods/lora-inject.ts';
import { composeLoralib, importLoralib, inferLoralibTargets, loralibLayout } from '../methods/loralib.ts';
import { beamSearch } from '../generate/beam-search.ts';
import { Rng } from '../util/rng.ts';
import { UserError } from '../util/errors.ts';
import type { ParityFixture } from './fixture.ts';
import { relativePositions } from '../models/deberta-attention.ts';

export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

export interface ParityComputation {
  tensors: Map<string, HostTensor>;
  beamTokens: number[][];
}

async function host(t: tf.Tensor): Promise<HostTensor> {
  const out = { shape: t.shape.slice(), data: (await t.data()) as Float32Array };
  t.dispose();
  return out;
}

function logits(model: TransformerModel, batch: TokenBatch): tf.Tensor {
  return model.modelType === 'gpt2' ? model.logits(batch, EVAL) : model.classify(batch, EVAL);
}

function loss(model: TransformerModel, batch: TokenBatch, fx: ParityFixture, smoothing?: number): tf.Scalar {
  const labels = fx.inputs.labels;
  if (labels === undefined) throw new UserError(`${fx.dir}/inputs.json: labels are needed for loss.* and grad.*`);
  if (model.modelType !== 'gpt2') {
    const flat = (labels as number[]).map(Number);
    const y = model.config.numLabels === 1 ? Float32Array.from(flat) : Int32Array.from(flat);
    return tf.tidy(() => sequenceClassificationLoss(model.classify(batch, EVAL), y));
  }
  const rows = labels as number[][];
  const mask = fx.inputs.loss_mask ?? rows.map((r) => r.map(() => 1));
  const eps = smoothing ?? fx.inputs.label_smoothing ?? 0;
  return tf.tidy(() => lmLoss(model.logits(batch, EVAL), Int32Array.from(rows.flat()), Float32Array.from(mask.flat()), eps));
}

export async function computeParity(fx: ParityFixture): Promise<ParityComputation> {
  const wanted = [...fx.expected.tensors.keys()];
  const out = new Map<string, HostTensor>();
  const batch = tokenBatch(fx.inputs.input_ids, fx.inputs.attention_mask);
  const model = createModel(fx.config, { seed: 0 });
  let inj: LoraInjection | undefined;
  try {
    loadHfWeights(model, fx.model, `${fx.dir}/model.safetensors`);
    // Token types only matter with a token-type table; then they must be all 0, which is what our models add.
    const typed = model.modelType !== 'gpt2' && model.config.typeVocabSize > 0 && (fx.inputs.token_type_ids ?? []).some((r) => r.some((t) => t !== 0));
    if (typed) throw new UserError(`${fx.dir}/inputs.json: non-zero token_type_ids are not supported (batches carry no segment ids; every token reads type 0)`);
    if (fx.inputs.relative_positions !== undefined) {
      if (model.modelType !== 'deberta-v2') throw new UserError(`${fx.dir}/inputs.json: relative_positions is a DeBERTa-v2 input`);
      const c = model.config;
      const rel = relativePositions(batch.seqLen, batch.seqLen, { buckets: c.positionBuckets, maxRelative: c.maxRelativePositions });
      out.set('inputs.relative_positions', { shape: [batch.seqLen, batch.seqLen], data: Float32Array.from(rel) });
    }
    if (wanted.includes('logits.base')) out.set('logits.base', await host(logits(model, batch)));
    if (wanted.includes('loss.base')) out.set('loss.base', await host(loss(model, batch, fx)));

    if (fx.lora !== undefined) {
      const names = [...fx.lora.tensors.tensors.keys()];
      const { targets, layers } = inferLoralibTargets(names, model.modelType, fx.lora.config.enable_lora);
      inj = injectLora(model, { r: fx.lora.config.r, alpha: fx.lora.config.alpha, dropout: fx.lora.config.dropout, targets, layers }, new Rng(0));
      importLoralib({ model, injection: inj }, fx.lora.tensors.tensors, `${fx.dir}/lora.safetensors`);
      const injection = inj;
      if (wanted.includes('logits.lora')) out.set('logits.lora', await host(logits(model, batch)));
      if (wanted.includes('loss.lora')) out.set('loss.lora', await host(loss(model, batch, fx)));
      if (wanted.includes('loss.lora_nosmooth')) out.set('loss.lora_nosmooth', await host(loss(model, batch, fx, 0)));

      const gradNames = wanted.filter((n) => n.startsWith('grad.')).map((n) => n.slice('grad.'.length));
      if (gradNames.length > 0) {
        const layout = loralibLayout(model, injection);
        const loraVars = loraVariables(injection);
        const extra = gradNames.filter((n) => !layout.some((l) => l.name === n));
        const missing = extra.filter((n) => !model.params.has(n));
        if (missing.length > 0) throw new UserError(`${fx.dir}/expected.safetensors: gradients of unknown tensors: ${missing.join(', ')}`);
        const extraVars = extra.map((n) => model.params.get(n));
        const all = [...loraVars, ...extraVars];
        const { grads } = tf.valueAndGrads(() => loss(model, batch, fx))(all);
        const gradOf = new Map<tf.Tensor, tf.Tensor>(all.map((v, i) => [v, grads[i]]));
        for (const l of layout) {
          if (!gradNames.includes(l.name)) continue;
          out.set(`grad.${l.name}`, await host(composeLoralib(l, (a, w) => gradOf.get(w === 'A' ? a.A : a.B)!)));
        }
        for (const n of extra) out.set(`grad.${n}`, await host(gradOf.get(model.params.get(n))!.clone()));
        tf.dispose(grads);
      }

      const mergedNames = wanted.filter((n) => n.startsWith('merged.'));
      if (wanted.includes('logits.merged') || mergedNames.length > 0) {
        mergeLora(injection);
        if (wanted.includes('logits.merged')) out.set('logits.merged', await host(logits(model, batch)));
        for (const n of mergedNames) {
          const param = n.slice('merged.'.length);
          if (!model.params.has(param)) throw new UserError(`${fx.dir}/expected.safetensors: ${n} names no model weight`);
          out.set(n, await host(model.params.get(param).clone()));
        }
        unmergeLora(injection);
      }
    }

    const beamTokens: number[][] = [];
    if (fx.beam !== undefined) {
      if (model.modelType !== 'gpt2') throw new UserError(`${fx.dir}/expected.json: beam search needs a GPT-2 model`);
      const s = fx.beam.settings;
      for (const c of fx.beam.cases) {
        // FT_Dataset keeps the last seq_len − eval_len context tokens.
        const keep = s.seq_len !== undefined ? s.seq_len - s.eval_len : c.context.length;
        const context = c.context.slice(Math.max(0, c.context.length - keep));
        const r = await beamSearch(model, context, {
          beam: s.beam,
          lengthPenalty: s.length_penalty,
          noRepeatNgramSize: s.no_repeat_ngram_size,
          repetitionPenalty: s.repetition_penalty,
          minLength: s.min_length,
          maxNewTokens: s.eval_len,
          eosTokenIds: s.eos_token_id,
        });
        beamTokens.push(r.tokens);
      }
    }
    for (const n of wanted) if (!out.has(n)) throw new UserError(`${fx.dir}/expected.safetensors: don't know how to compute '${n}'`);
    return { tensors: out, beamTokens };
  } finally {
    model.dispose();
    if (inj) for (const a of inj.adapters.values()) a.dispose();
  }
}
