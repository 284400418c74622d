/** Tiny model configs and batches for fast tests. */
import { parseHfConfig, type Gpt2Config, type RobertaConfig } from '../../src/models/config.ts';
import { tokenBatch, type TokenBatch } from '../../src/models/batch.ts';
import { Rng } from '../../src/util/rng.ts';

export const SHARED = new URL('../../../shared/', import.meta.url).pathname;

export function tinyRoberta(overrides: Record<string, unknown> = {}): RobertaConfig {
  return parseHfConfig(
    {
      model_type: 'roberta',
      vocab_size: 100,
      hidden_size: 32,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      intermediate_size: 64,
      max_position_embeddings: 40,
      initializer_range: 0.15,
      num_labels: 3,
      ...overrides,
    },
    'tiny-roberta',
  ) as RobertaConfig;
}

export function tinyGpt2(overrides: Record<string, unknown> = {}): Gpt2Config {
  return parseHfConfig(
    { model_type: 'gpt2', vocab_size: 100, n_embd: 32, n_layer: 2, n_head: 4, n_positions: 32, initializer_range: 0.1, ...overrides },
    'tiny-gpt2',
  ) as Gpt2Config;
}

/** Random right-padded rows (RoBERTa: <s>=0 … </s>=2, pad=1; GPT-2: pad=0). */
export function randomBatch(seed: number, rows: number, maxLen: number, kind: 'roberta' | 'gpt2'): TokenBatch {
  const rng = new Rng(seed);
  const ids: number[][] = [];
  const masks: number[][] = [];
  for (let r = 0; r < rows; r++) {
    const len = r === 0 ? maxLen : 3 + rng.int(maxLen - 2);
    const row = Array.from({ length: len }, () => 3 + rng.int(96));
    if (kind === 'roberta') {
      row[0] = 0;
      row[len - 1] = 2;
    }
    const pad = kind === 'roberta' ? 1 : 0;
    ids.push([...row, ...Array(maxLen - len).fill(pad)]);
    masks.push([...Array(len).fill(1), ...Array(maxLen - len).fill(0)]);
  }
  return tokenBatch(ids, masks);
}
