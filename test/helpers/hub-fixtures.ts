/**
 * Tiny stand-ins for everything the paper profile downloads, under the real repository names and in
 * the real layouts, for FakeHubServer (fake-hub-server.ts):
 * - models FacebookAI/roberta-base, FacebookAI/roberta-large, openai-community/gpt2-medium,
 *   openai-community/gpt2-large: config.json + model.safetensors (LFS, as on the hub) + tokenizer.json,
 *   tensors named as the hub checkpoints name them: RoBERTa with its MLM head (`lm_head.*`, which a
 *   classification model reports as unused) and pooler, GPT-2 un-prefixed (`h.0.…`, `wte.weight`) with
 *   the `attn.bias` / `attn.masked_bias` buffers. A byte-level BPE trained on the fixture text keeps the
 *   vocabulary (and so the embedding) small;
 * - datasets nyu-mll/glue (all eight tasks, MNLI's two dev splits) and tuetschek/e2e_nlg
 *   (refs/convert/parquet: train, validation, test) as parquet (hub-parquet.ts).
 * - model microsoft/deberta-v2-xxlarge: config.json with the real repository's keys (relative attention,
 *   log buckets, shared keys, c2p|p2c, LayerNorm'd position table, ConvLayer, type_vocab_size 0),
 *   model.safetensors named as its MLM checkpoint names them (`deberta.…` plus the `lm_predictions.lm_head.*`
 *   head a classifier does not use; no pooler or classifier, which the run initialises) and spm.model (no
 *   tokenizer.json, as on the hub): the shared spm-unigram fixture, its 3,000 pieces sizing the vocabulary;
 * Sizes are for speed only: 8 RoBERTa blocks (the paper's Adapter^D rows drop 6), 4 GPT-2 blocks,
 * 2 DeBERTa blocks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { f32, serializeSafetensors, type TensorEntry } from '../../src/io/safetensors.ts';
import { GLUE_TASK_NAMES, GLUE_TASKS, type GlueTaskName } from '../../src/data/glue-tasks.ts';
import { GLUE_HUB_COLUMNS } from '../../src/data/glue-hub.ts';
import type { GlueExample } from '../../src/data/glue-tsv.ts';
import { DEBERTA_XXL_REPO } from '../../src/hub/catalog.ts';
import { e2eHubPath, glueHubPath } from '../../src/data/hub-datasets.ts';
import { parseHfConfig, toHfConfigJson, type ModelConfig } from '../../src/models/config.ts';
import { createModel } from '../../src/models/factory.ts';
import { tokenizerJson, trainByteLevelBpe, type TokenizerFamily } from '../../src/tokenizers/bpe-trainer.ts';
import { SentencePieceUnigram } from '../../src/tokenizers/spm-unigram.ts';
import { Rng } from '../../src/util/rng.ts';
import type { FakeRepoSpec } from './fake-hub-server.ts';
import { e2eParquet, glueParquet } from './hub-parquet.ts';
import { SHARED } from './tiny.ts';

const NAMES = ['Alice', 'Bob', 'The Eagle', 'Aromi', 'Zizzi', 'Cotto'];
const WORDS = ['good', 'bad', 'quiet', 'busy', 'cheap', 'fine', 'river', 'city', 'food', 'coffee', 'family', 'shop'];

function sentence(rng: Rng): string {
  const n = 3 + rng.int(5);
  const words = Array.from({ length: n }, () => WORDS[rng.int(WORDS.length)] as string);
  return `${NAMES[rng.int(NAMES.length)]} is ${words.join(' ')}.`;
}

function glueRows(task: GlueTaskName, n: number, seed: number): GlueExample[] {
  const spec = GLUE_TASKS[task];
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => ({
    text_a: sentence(rng),
    ...(GLUE_HUB_COLUMNS[task].textB === undefined ? {} : { text_b: sentence(rng) }),
    // Every class present (a constant label would make some metrics undefined).
    label: spec.isRegression ? Math.round(rng.next() * 50) / 10 : i % spec.labels.length,
  }));
}

function e2eRows(n: number, seed: number): { mr: string; ref: string }[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const name = NAMES[i % NAMES.length] as string;
    const food = WORDS[rng.int(WORDS.length)] as string;
    return { mr: `name[${name}], eatType[coffee shop], food[${food}]`, ref: `${name} is a coffee shop with ${food} food.` };
  });
}

/** Texts the tokenizer is trained on (the fixture data's words). */
function corpus(): string[] {
  const rng = new Rng(7);
  return [...Array.from({ length: 200 }, () => sentence(rng)), ...e2eRows(30, 8).flatMap((r) => [r.mr, r.ref])];
}

function tokenizerBytes(family: TokenizerFamily): { json: string; vocab: number } {
  const trained = trainByteLevelBpe(corpus(), { vocabSize: 360, family, allowSmaller: true });
  return { json: JSON.stringify(tokenizerJson(trained)), vocab: trained.vocab.size };
}

function tensorsOf(config: ModelConfig, seed: number): Map<string, TensorEntry> {
  const model = createModel(config, config.modelType === 'roberta' ? { seed, robertaHeads: ['mlm'] } : { seed });
  const out = new Map<string, TensorEntry>();
  try {
    for (const [name, v] of model.params.vars) {
      // The hub's GPT-2 checkpoints name the body without the `transformer.` prefix.
      const hubName = config.modelType === 'gpt2' ? name.replace(/^transformer\./, '') : name;
      out.set(hubName, f32(v.shape.slice(), Float32Array.from(v.dataSync())));
    }
  } finally {
    model.dispose();
  }
  if (config.modelType === 'roberta') {
    const d = config.hidden;
    out.set('roberta.pooler.dense.weight', f32([d, d], new Float32Array(d * d).fill(0.01)));
    out.set('roberta.pooler.dense.bias', f32([d], new Float32Array(d)));
  } else {
    const n = config.maxPositions;
    const causal = Float32Array.from({ length: n * n }, (_, i) => (i % n <= Math.floor(i / n) ? 1 : 0));
    for (let l = 0; l < config.layers; l++) {
      out.set(`h.${l}.attn.bias`, f32([1, 1, n, n], causal));
      out.set(`h.${l}.attn.masked_bias`, f32([], Float32Array.of(-1e4)));
    }
  }
  return out;
}

function modelRepo(id: string, family: TokenizerFamily, layers: number, seed: number): FakeRepoSpec {
  const tok = tokenizerBytes(family);
  const raw =
    family === 'roberta'
      ? { model_type: 'roberta', vocab_size: tok.vocab, hidden_size: 32, num_hidden_layers: layers, num_attention_heads: 4, intermediate_size: 64, max_position_embeddings: 80, type_vocab_size: 1, pad_token_id: 1, bos_token_id: 0, eos_token_id: 2 }
      : { model_type: 'gpt2', vocab_size: tok.vocab, n_embd: 32, n_layer: layers, n_head: 4, n_positions: 128, bos_token_id: tok.vocab - 1, eos_token_id: tok.vocab - 1 };
  const config = parseHfConfig(raw, id);
  return {
    type: 'model',
    id,
    files: {
      'config.json': JSON.stringify(toHfConfigJson(config)),
      'model.safetensors': serializeSafetensors(tensorsOf(config, seed), { format: 'pt' }),
      'tokenizer.json': tok.json,
    },
    lfs: ['model.safetensors'],
  };
}

const SPM_FIXTURE = join(SHARED, 'fixtures/tokenizers/spm-unigram/spm.model');

/** microsoft/deberta-v2-xxlarge, tiny: the real config keys, MLM-checkpoint tensor names, spm.model. */
function debertaRepo(seed: number): FakeRepoSpec {
  const spm = readFileSync(SPM_FIXTURE);
  const vocab = SentencePieceUnigram.fromFile(SPM_FIXTURE).vocabSize;
  // Every key of the hub's config.json, in its spelling (pos_att_type as a list), sizes shrunk.
  const raw = {
    model_type: 'deberta-v2',
    attention_head_size: 8,
    attention_probs_dropout_prob: 0.1,
    conv_act: 'gelu',
    conv_kernel_size: 3,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    hidden_size: 32,
    initializer_range: 0.02,
    intermediate_size: 64,
    layer_norm_eps: 1e-7,
    max_position_embeddings: 128,
    max_relative_positions: -1,
    norm_rel_ebd: 'layer_norm',
    num_attention_heads: 4,
    num_hidden_layers: 2,
    pad_token_id: 0,
    pooler_dropout: 0,
    pooler_hidden_act: 'gelu',
    pooler_hidden_size: 32,
    pos_att_type: ['p2c', 'c2p'],
    position_biased_input: false,
    position_buckets: 8,
    relative_attention: true,
    share_att_key: true,
    type_vocab_size: 0,
    vocab_size: vocab,
  };
  const config = parseHfConfig(raw, DEBERTA_XXL_REPO);
  const model = createModel(config, { seed });
  const tensors = new Map<string, TensorEntry>();
  try {
    for (const [name, v] of model.params.vars) if (name.startsWith('deberta.')) tensors.set(name, f32(v.shape.slice(), Float32Array.from(v.dataSync())));
  } finally {
    model.dispose();
  }
  const d = config.hidden;
  tensors.set('lm_predictions.lm_head.dense.weight', f32([d, d], new Float32Array(d * d).fill(0.01)));
  tensors.set('lm_predictions.lm_head.bias', f32([vocab], new Float32Array(vocab)));
  return {
    type: 'model',
    id: DEBERTA_XXL_REPO,
    files: { 'config.json': JSON.stringify(raw), 'model.safetensors': serializeSafetensors(tensors, { format: 'pt' }), 'spm.model': new Uint8Array(spm) },
    lfs: ['model.safetensors', 'spm.model'],
  };
}

/** The five model repositories of the paper profile (tiny). Needs an initialised tensor backend. */
export function paperModelRepos(): FakeRepoSpec[] {
  return [
    modelRepo('FacebookAI/roberta-base', 'roberta', 8, 1),
    modelRepo('FacebookAI/roberta-large', 'roberta', 8, 2),
    modelRepo('openai-community/gpt2-medium', 'gpt2', 4, 3),
    modelRepo('openai-community/gpt2-large', 'gpt2', 4, 4),
    debertaRepo(5),
  ];
}

/** nyu-mll/glue (every task and split lora-repro downloads) and tuetschek/e2e_nlg, tiny. */
export function paperDatasetRepos(): FakeRepoSpec[] {
  const glue: Record<string, Uint8Array> = {};
  GLUE_TASK_NAMES.forEach((task, t) => {
    const splits = ['train', ...GLUE_TASKS[task].evalSplits.map((s) => s.name)];
    splits.forEach((split, s) => {
      glue[glueHubPath(task, split)] = glueParquet(task, glueRows(task, split === 'train' ? 24 : 12, 100 * t + s));
    });
  });
  const e2e: Record<string, Uint8Array> = {};
  (['train', 'dev', 'test'] as const).forEach((split, s) => {
    e2e[e2eHubPath(split)] = e2eParquet(e2eRows(split === 'train' ? 24 : 12, 50 + s));
  });
  return [
    { type: 'dataset', id: 'nyu-mll/glue', files: glue, lfs: Object.keys(glue) },
    { type: 'dataset', id: 'tuetschek/e2e_nlg', files: e2e, refs: ['refs/convert/parquet'] },
  ];
}
