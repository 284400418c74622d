/**
 * The offline stand-ins' architecture: what `mini-roberta`, `mini-gpt2` and `mini-deberta` are,
 * everywhere — the built-in configs of those names (config.ts: parameter counts and formulas,
 * table captions, cost estimates, a random init), and what pretraining builds (pretrain-config.ts
 * takes its sizes from here and writes `standInConfig` as the config.json of the models it ships in
 * artifacts/stand-ins/). Why these sizes: pretrain-config.ts. The d-256 configs of the training-step
 * benchmark are other models with their own names (config.ts `bench-roberta`, `bench-gpt2`).
 */
import type { Gpt2Config, ModelConfig, RobertaConfig } from './config.ts';
import { DEBERTA_V2_XXLARGE, type DebertaV2Config } from './deberta-config.ts';

/** The stand-in families: RoBERTa, GPT-2 and DeBERTa-v2 (issue 21). */
export type StandInFamily = 'roberta' | 'gpt2' | 'deberta';

/** The spec's model name of a family's stand-in, also its folder under the artifacts root. */
export const standInName = (family: StandInFamily): string => `mini-${family}`;

/** d 128, 4 layers, 4 heads of 32, FFN 512, vocabulary 8000; weights drawn with std 0.02 as roberta-base's and gpt2's. */
export const STAND_IN_SIZE = { vocabSize: 8000, hidden: 128, layers: 4, heads: 4, intermediate: 512, initializerRange: 0.02 } as const;

/**
 * Position-table rows. RoBERTa's positions start at pad + 1 = 2, so 514 rows serve 512 tokens, as in
 * roberta-base; GPT-2's 1024 as gpt2's; DeBERTa-v2 has no absolute positions, so 512 is only the
 * longest input fine-tuning may give it (train/model-source.ts), as in deberta-v2-xxlarge.
 */
export const STAND_IN_MAX_POSITIONS: Readonly<Record<StandInFamily, number>> = { roberta: 514, gpt2: 1024, deberta: 512 };

/** Tokens per pretraining block; DeBERTa's relative-position buckets are sized from it. */
export const STAND_IN_SEQ_LEN = 128;

/** The sizes a stand-in config is built from (pretraining settings carry them; the stand-in study varies them). */
export interface StandInShape {
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  /** Std of the normal init of weights (HF's initializer_range; 0.02 in roberta-base and gpt2). */
  initializerRange: number;
  /** Position-table rows written to config.json (positions past seqLen are not trained). */
  maxPositions: number;
  /** Tokens per pretraining block. */
  seqLen: number;
}

export interface SpecialIds {
  /** RoBERTa: `<pad>`, `<s>`, `</s>`; DeBERTa: `[PAD]`, `[CLS]`, `[SEP]`; GPT-2: `<|endoftext|>` for all three. */
  pad: number;
  bos: number;
  eos: number;
}

/**
 * The special ids of a stand-in tokenizer of `vocabSize` tokens, by the layout of
 * tokenizers/bpe-trainer.ts: RoBERTa `<s>` 0, `<pad>` 1, `</s>` 2; DeBERTa `[PAD]` 0, `[CLS]` 1,
 * `[SEP]` 2; GPT-2 `<|endoftext|>` last.
 */
export function standInSpecialIds(family: StandInFamily, vocabSize: number): SpecialIds {
  if (family === 'roberta') return { pad: 1, bos: 0, eos: 2 };
  if (family === 'deberta') return { pad: 0, bos: 1, eos: 2 };
  return { pad: vocabSize - 1, bos: vocabSize - 1, eos: vocabSize - 1 };
}

/** The model config of a stand-in of these sizes, for a trained tokenizer's size and special ids. */
export function standInConfig(family: StandInFamily, s: StandInShape, vocabSize: number, ids: SpecialIds): ModelConfig {
  if (family === 'roberta') {
    const c: RobertaConfig = {
      modelType: 'roberta', vocabSize, hidden: s.hidden, layers: s.layers, heads: s.heads, intermediate: s.intermediate,
      hiddenAct: 'gelu', hiddenDropout: 0.1, attentionDropout: 0.1, maxPositions: s.maxPositions, typeVocabSize: 1,
      layerNormEps: 1e-5, initializerRange: s.initializerRange, padTokenId: ids.pad, bosTokenId: ids.bos, eosTokenId: ids.eos, numLabels: 2,
    };
    return c;
  }
  if (family === 'deberta') {
    // microsoft/deberta-v2-xxlarge's config.json with the sizes scaled down: every structural switch
    // (no absolute positions, no token types, c2p + p2c with shared keys, LayerNorm-ed position table,
    // conv kernel 3 with GELU, eps 1e-7, GELU pooler) is XXL's. XXL has 256 log buckets over 512
    // relative positions, its pretraining length: distances up to ±128 exact, longer ones in log
    // buckets. Here seqLen / 2 buckets over seqLen (64 over 128): exact up to ±32, 33…127 in 31 log
    // buckets each way; longer fine-tuning inputs share the outermost rows, as XXL's do beyond 512.
    const c: DebertaV2Config = {
      ...DEBERTA_V2_XXLARGE,
      vocabSize, hidden: s.hidden, layers: s.layers, heads: s.heads, headSize: s.hidden / s.heads, intermediate: s.intermediate,
      poolerHidden: s.hidden, maxPositions: s.maxPositions, positionBuckets: Math.floor(s.seqLen / 2), maxRelativePositions: s.seqLen,
      initializerRange: s.initializerRange, padTokenId: ids.pad,
    };
    return c;
  }
  const c: Gpt2Config = {
    modelType: 'gpt2', vocabSize, hidden: s.hidden, layers: s.layers, heads: s.heads, intermediate: s.intermediate,
    activation: 'gelu_new', maxPositions: s.maxPositions, layerNormEps: 1e-5, initializerRange: s.initializerRange,
    residDropout: 0.1, embdDropout: 0.1, attnDropout: 0.1, bosTokenId: ids.bos, eosTokenId: ids.eos,
  };
  return c;
}

/** The stand-in of `family` at its shipped size. */
function shippedStandInConfig(family: StandInFamily): ModelConfig {
  const shape = { ...STAND_IN_SIZE, maxPositions: STAND_IN_MAX_POSITIONS[family], seqLen: STAND_IN_SEQ_LEN };
  return standInConfig(family, shape, STAND_IN_SIZE.vocabSize, standInSpecialIds(family, STAND_IN_SIZE.vocabSize));
}

/** Name → config of every stand-in at its shipped size (artifacts/stand-ins/<name>/config.json). */
export const STAND_IN_CONFIGS: Readonly<Record<string, ModelConfig>> = Object.fromEntries(
  (['roberta', 'gpt2', 'deberta'] as const).map((f) => [standInName(f), shippedStandInConfig(f)]),
);
