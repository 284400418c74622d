/**
 * What the offline `mini` profile pretrains: model sizes, optimisation settings, and the Hugging Face
 * config.json written next to the weights.
 *
 * Choices, measured on the shared 2-core machine (tfjs-wasm, unloaded; more under load):
 * - Size: d 128, 4 layers, 4 heads of 32, FFN 512, vocab 8000. The `mini-*` bench configs (d 256)
 *   cost ~3.5 s per MLM step at batch 16 × 128, so a few minutes would buy ~50 steps; at d 128 a
 *   step of 8 × 128 tokens takes ~95 ms (MLM) / ~145 ms (causal LM, whose vocabulary projection
 *   covers every position). Depth stays 4 because adaptation methods act per layer (LoRA's target
 *   matrices and rank, adapters), which a 2-layer model would make degenerate.
 * - Steps: RoBERTa 1500 (~2.5 min), GPT-2 6000 (~9.5-11 min on 2 BLAS threads: 91-93 ms/step on a
 *   rested machine, 110-114 under sustained load, whatever process runs it; 137 on one thread;
 *   10 min 31 s in the last timed `make table3`). Held-out loss from ln(8000) ≈ 9.0 to ≈ 6.9 (MLM; the
 *   corpus' unigram entropy is ≈ 7.2, so the model uses context) and ≈ 4.1 (LM, on the linked
 *   corpus, below).
 * - GPT-2 reads a linked corpus (../data/corpus.ts `linkRelated`): related texts on both sides of
 *   `<|endoftext|>`, as in E2E's "MR <|endoftext|> reference". Both the linking and the longer
 *   pretraining were needed (E2E, 3000 pairs, seed 0, LoRA at 5e-3 for 4 epochs, best epoch; venue named in k of 50
 *   dev outputs): unlinked, 1000 steps: BLEU 34.3, METEOR 20.8, CIDEr 0.20, 0/50; linked, 1000
 *   steps: 37.1 / 19.0 / 0.19, 2/50; linked, 4000 steps (a prototype of this corpus): 58.6 / 34.1 /
 *   1.47, 38/50. Full fine-tuning learns the copying from the task either way (4 epochs: CIDEr
 *   1.53, 1.66). In the mini profile (3 epochs, seed 0, GPT-2's dropout 0.1 in every row), METEOR
 *   of LoRA / Adapter^L / PreLayer after 4000 steps: 34.5 / 33.4 / 29.9, after 6000: 35.9 / 35.7 /
 *   35.4 (copying the MR scores 34.6).
 *   MLM is slow to get below the unigram level: it must first learn to attend to the neighbours of
 *   a masked token, hence the short-sequence phase below (at 800 steps, 128-token blocks throughout
 *   were still at 7.3; 32-token blocks reached 6.6 by 1500 steps).
 * - RoBERTa alternates packed-block steps (masked LM + bag of words of each document's `<s>`) with
 *   sentence-pair steps (masked LM + next-sentence prediction + bag of words of `<s>`);
 *   next-sentence.ts and bag-of-words.ts say why. Held-out: MLM 9.01 → 6.90, next-sentence accuracy
 *   0.50 → 0.73. Measured alternatives (SST-2, 2000 examples, LoRA at 5e-3, best epoch; one seed
 *   unless said): masked LM only 0.50 (`<s>` varied across inputs by 3% of its variance); + next-
 *   sentence 0.51 (16%); + bag of words on pairs 0.57 (20%), but 0.57 / 0.51 / 0.51 over seeds
 *   0-2 at 4 epochs; + bag of words in blocks too (this setting) 0.58 / 0.57 / 0.53; pair steps only
 *   (nspEvery 1) 0.51 with next-sentence accuracy 0.86 but MLM 7.15; 2500 steps of next-sentence
 *   without bag of words 0.51.
 * - Learning rates 1e-3 (MLM, post-LN is touchier) and 2e-3 (LM) with linear warm-up and decay;
 *   lower or higher rates did not do better in 800–2000-step trials.
 * - Sequence length 128 covers the mini tasks' inputs (GLUE sentence pairs, E2E MR + reference).
 *
 * Dropout is off while pretraining, as in Cramming (Geiping & Goldstein 2023): the models are still
 * underfitting, so there is nothing to regularise and it only slows learning. RoBERTa's block steps
 * (every other one of its 1500) see its 8729 training blocks about 0.7 times; GPT-2's 6000 steps
 * see its 8331 about 5.8 times, and its held-out loss was still falling at the end (4.10 after 6000
 * steps, 4.05 after 8000 in a trial). config.json still says 0.1, the value fine-tuning uses (as
 * roberta-base's and gpt2's configs do).
 */
import { DEFAULT_CORPUS_BYTES } from '../data/corpus.ts';
import { toHfConfigJson, type Gpt2Config, type ModelConfig, type RobertaConfig } from '../models/config.ts';

export type PretrainFamily = 'roberta' | 'gpt2';

export interface PretrainSettings {
  family: PretrainFamily;
  /** Target tokenizer size (the trained one can be smaller on a tiny corpus, see bpe-trainer.ts allowSmaller). */
  vocabSize: number;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  /** Std of the normal init of weights (HF's initializer_range; 0.02 in roberta-base and gpt2). */
  initializerRange: number;
  /** Position table size written to config.json (positions past seqLen are not trained). */
  maxPositions: number;
  /** Tokens per training block. */
  seqLen: number;
  /**
   * The first `shortSeqSteps` steps train on blocks cut into pieces of `shortSeqLen` tokens (same
   * tokens per batch), the rest on full blocks: BERT's two-phase recipe (Devlin et al. 2019 App. A.2:
   * 90% of steps at length 128, then 512), because masked LM first has to learn to attend to nearby
   * tokens, which it finds much sooner among 32 positions than among 128; the last phase then trains
   * every position up to seqLen.
   */
  shortSeqLen: number;
  shortSeqSteps: number;
  batchSize: number;
  steps: number;
  learningRate: number;
  /** Linear warm-up steps, then linear decay to 0 at `steps` (HF's default linear schedule). */
  warmupSteps: number;
  weightDecay: number;
  maxGradNorm: number;
  /** MLM selection probability (RoBERTa only). */
  mlmProbability: number;
  /**
   * RoBERTa: every `nspEvery`-th step trains on sentence pairs with masked LM + next-sentence
   * prediction + bag of words of `<s>` (next-sentence.ts explains why), the others on packed blocks;
   * 0 = masked LM on blocks only.
   */
  nspEvery: number;
  /** Sentence pairs per pair step (padded to the longest of similar-length pairs). */
  pairBatchSize: number;
  /** RoBERTa with nspEvery > 0: block steps also train each document's `<s>` on its bag of words (bag-of-words.ts). */
  bagOfWords: boolean;
  /** Bytes of corpus text (see ../data/corpus.ts). */
  corpusBytes: number;
  /** Keep related texts together as the segments of one document (../data/corpus.ts `linkRelated`). */
  linkRelated: boolean;
  /**
   * BLAS threads while pretraining (native kernels). The runner pretrains before its workers start,
   * so both cores are free. Part of the cache key: the count changes the last bits of the weights.
   */
  blasThreads: number;
  /** Blocks held out of training to measure the loss before and after. */
  evalBlocks: number;
}

const common = {
  vocabSize: 8000,
  hidden: 128,
  layers: 4,
  heads: 4,
  intermediate: 512,
  initializerRange: 0.02,
  seqLen: 128,
  batchSize: 8,
  shortSeqLen: 32,
  weightDecay: 0.01,
  maxGradNorm: 1.0,
  mlmProbability: 0.15,
  pairBatchSize: 32,
  bagOfWords: true,
  corpusBytes: DEFAULT_CORPUS_BYTES,
  evalBlocks: 32,
};

export const MINI_PRETRAIN: Readonly<Record<PretrainFamily, PretrainSettings>> = {
  // RoBERTa's positions start at pad + 1 = 2, so 514 rows serve 512 tokens, as in roberta-base.
  // RoBERTa's own objectives relate sentences (next-sentence pairs), so its corpus stays unlinked.
  // One BLAS thread: Table 2's measured numbers were made so (2 would save ~1 of its 2.5 minutes).
  roberta: { family: 'roberta', ...common, maxPositions: 514, steps: 1500, shortSeqSteps: 1200, learningRate: 1e-3, warmupSteps: 100, nspEvery: 2, linkRelated: false, blasThreads: 1 },
  // Causal LM learns from every position at once and needs no short phase.
  gpt2: { family: 'gpt2', ...common, maxPositions: 1024, steps: 6000, shortSeqSteps: 0, learningRate: 2e-3, warmupSteps: 60, nspEvery: 0, linkRelated: true, blasThreads: 2 },
};

export interface SpecialIds {
  /** RoBERTa: `<pad>`, `<s>`, `</s>`; GPT-2: `<|endoftext|>` for all three. */
  pad: number;
  bos: number;
  eos: number;
}

/** The model config for the settings and the trained tokenizer's size and special ids. */
export function pretrainModelConfig(s: PretrainSettings, vocabSize: number, ids: SpecialIds): ModelConfig {
  if (s.family === 'roberta') {
    const c: RobertaConfig = {
      modelType: 'roberta', vocabSize, hidden: s.hidden, layers: s.layers, heads: s.heads, intermediate: s.intermediate,
      hiddenAct: 'gelu', hiddenDropout: 0.1, attentionDropout: 0.1, maxPositions: s.maxPositions, typeVocabSize: 1,
      layerNormEps: 1e-5, initializerRange: s.initializerRange, padTokenId: ids.pad, bosTokenId: ids.bos, eosTokenId: ids.eos, numLabels: 2,
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

/** The Hugging Face config.json of a pretrained stand-in: toHfConfigJson plus the architecture it was trained as. */
export function hfConfigJson(c: ModelConfig): Record<string, unknown> {
  return { architectures: [c.modelType === 'roberta' ? 'RobertaForMaskedLM' : 'GPT2LMHeadModel'], ...toHfConfigJson(c) };
}
