/** Tiny randomly initialised models and run configs for the training tests (real data, seconds). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHARED } from './tiny.ts';

/** The real GPT-2 BPE (RoBERTa's vocabulary is the same BPE plus four specials). */
export const GPT2_TOKENIZER = join(SHARED, 'fixtures/tokenizers/gpt2/tokenizer.json');
export const DATA_DIR = join(SHARED, 'data');

/**
 * RoBERTa sized to the real vocabulary (50,265 rows: GPT-2's 50,257 BPE ids at 4.. plus the specials,
 * fit-tokenizer.ts 'offset'), 2 layers of width 32. A wide init (0.15) makes the frozen random encoder's
 * <s> features differ enough between inputs for LoRA + head to fit a few examples.
 */
export function tinyRobertaJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model_type: 'roberta',
    vocab_size: 50265,
    hidden_size: 32,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    intermediate_size: 64,
    max_position_embeddings: 130,
    initializer_range: 0.15,
    ...overrides,
  };
}

/**
 * GPT-2 with a 1,024-row table: the E2E subset's distinct BPE ids get compact rows (fit-tokenizer.ts
 * 'compact'), so generated ids decode to exact text while the LM head stays cheap (the full 50,257-row
 * head costs ~1 s per step and ~6 s per beam-search MR here). No dropout: the reference E2E GPT-2
 * has none besides LoRA's own.
 */
export function tinyGpt2Json(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model_type: 'gpt2',
    vocab_size: 1024,
    n_embd: 32,
    n_layer: 2,
    n_head: 4,
    n_positions: 128,
    initializer_range: 0.1,
    resid_pdrop: 0,
    embd_pdrop: 0,
    attn_pdrop: 0,
    ...overrides,
  };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `lora-repro-${prefix}-`));
}

/** Writes a config.json file (a random-init model source) and returns its path. */
export function writeConfig(dir: string, name: string, json: Record<string, unknown>): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(json));
  return path;
}

/** A LoRA run of the tiny RoBERTa on RTE (16 training, 32 dev examples). */
export function rteConfig(model: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model,
    tokenizer: GPT2_TOKENIZER,
    dataDir: DATA_DIR,
    task: 'rte',
    method: 'lora',
    methodConfig: { r: 8, alpha: 16 },
    seed: 1,
    epochs: 3,
    batchSize: 8,
    learningRate: 1e-2,
    warmupRatio: 0.06,
    maxSeqLength: 128,
    trainLimit: 16,
    evalLimit: 32,
    ...overrides,
  };
}

/** A LoRA run of the tiny GPT-2 on E2E (32 pairs, 3 dev MRs, cheap beam search). */
export function e2eConfig(model: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model,
    tokenizer: GPT2_TOKENIZER,
    dataDir: DATA_DIR,
    task: 'e2e',
    method: 'lora',
    methodConfig: { r: 8, alpha: 32, targets: ['q', 'k', 'v', 'o', 'ffn1', 'ffn2'] },
    seed: 1,
    epochs: 4,
    batchSize: 8,
    learningRate: 2e-2,
    warmupSteps: 2,
    weightDecay: 0.01,
    labelSmoothing: 0.1,
    maxGradNorm: 0,
    maxSeqLength: 96,
    trainLimit: 32,
    evalLimit: 3,
    decoding: { beam: 2, maxNewTokens: 12 },
    ...overrides,
  };
}
