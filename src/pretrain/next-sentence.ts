/**
 * Next-sentence prediction (BERT, Devlin et al. 2019 §3.1, Task #2) for the mini RoBERTa (and the
 * mini DeBERTa, whose `[CLS]` plays `<s>`'s part and whose pooler reads it): the
 * objective that trains the `<s>` position, whose hidden state RoBERTa's classification head reads
 * (the paper's GLUE setting, Section 5.2).
 *
 * Why the stand-in needs it although RoBERTa dropped it (Liu et al. 2019 §4.2): masked LM never puts
 * a loss on `<s>`. At RoBERTa's scale `<s>` still ends up summarising the input; in a 4-layer d-128
 * model pretrained for minutes it does not. Measured on the MLM-only stand-in (format 1): the `<s>`
 * hidden state varied across 32 SST-2 inputs by 3% of its total variance (a word position: 51%),
 * and full fine-tuning at lr 1e-3 could not fit 1000 SST-2 examples (train loss 0.69 after 10
 * epochs) where a randomly initialised model of the same shape could. With nothing to read at `<s>`,
 * every method sat at the majority-class baseline. Next-sentence prediction alone raised that share
 * to 16% and let full fine-tuning learn, but left the frozen-body methods at chance; the bag of words
 * of bag-of-words.ts supplies the words themselves.
 *
 * Our documents are single sentences (GLUE sentences, E2E references), so a pair is one document cut
 * in two: A = its first half, B = its second half ("IsNext") or the second half of another random
 * document ("NotNext"), 50/50, laid out as RoBERTa's sentence pairs `<s> A </s></s> B </s>` — the
 * input format of MRPC, RTE and STS-B (DeBERTa-v2's is `[CLS] A [SEP] B [SEP]`). Telling them apart
 * needs topic, syntax and sentiment agreement between A and B, read through `<s>`. The masked-LM corruption applies to A and B as to
 * any other text (BERT trains both losses on the same input).
 */
import type { Rng } from '../util/rng.ts';
import type { TokenBatch } from '../models/batch.ts';
import type { BagOfWordsTargets } from './bag-of-words.ts';
import { maskTokens, type MlmMaskingOptions } from './mlm-masking.ts';

export interface PairLayoutIds {
  /** `<s>` / `[CLS]`. */
  bos: number;
  /** `</s>` / `[SEP]`. */
  eos: number;
  pad: number;
  /** Separators between A and B: RoBERTa's `</s></s>` (2, the default), DeBERTa-v2's `[SEP]` (1). */
  separators?: 1 | 2;
}

export interface SentencePair {
  /** `<s> A </s></s> B </s>` (DeBERTa: `[CLS] A [SEP] B [SEP]`). */
  ids: Int32Array;
  /** 1 = B continues A (IsNext), 0 = B comes from another document (NotNext). */
  isNext: 0 | 1;
}

/** Documents (token ids, no special tokens) that can be cut into two non-empty halves. */
export function pairableDocuments(docs: readonly (readonly number[])[]): Int32Array[] {
  return docs.filter((d) => d.length >= 2).map((d) => Int32Array.from(d));
}

/**
 * The pair for document `i`: with probability 1/2 its own second half, else the second half of a
 * uniformly drawn other document. Halves are cut at ⌈n/2⌉; A keeps its head and B its tail when the
 * pair must be shortened to `maxTokens` (so the A|B seam, which IsNext is about, always survives).
 */
export function makeSentencePair(docs: readonly Int32Array[], i: number, rng: Rng, ids: PairLayoutIds, maxTokens: number): SentencePair {
  const doc = docs[i] as Int32Array;
  const isNext: 0 | 1 = docs.length < 2 || rng.next() < 0.5 ? 1 : 0;
  let other = doc;
  if (isNext === 0) {
    let j = rng.int(docs.length - 1);
    if (j >= i) j++;
    other = docs[j] as Int32Array;
  }
  let a = doc.subarray(0, Math.ceil(doc.length / 2));
  let b = other.subarray(Math.ceil(other.length / 2));
  if (b.length === 0) b = other.subarray(other.length - 1);
  // Longest-first, as the GLUE encoder truncates pairs (encode-roberta.ts), keeping the seam.
  const seps = ids.separators ?? 2;
  const budget = Math.max(2, maxTokens - 2 - seps);
  while (a.length + b.length > budget) {
    if (a.length >= b.length) a = a.subarray(1);
    else b = b.subarray(0, b.length - 1);
  }
  const out = new Int32Array(a.length + b.length + 2 + seps);
  out[0] = ids.bos;
  out.set(a, 1);
  out.fill(ids.eos, a.length + 1, a.length + 1 + seps);
  out.set(b, a.length + 1 + seps);
  out[out.length - 1] = ids.eos;
  return { ids: out, isNext };
}

export interface PairBatch {
  batch: TokenBatch;
  /** Flat indices (into batch × seqLen) of the masked-LM targets, and their original ids. */
  mlmPositions: Int32Array;
  mlmLabels: Int32Array;
  /** Next-sentence labels, one per row. */
  isNext: Int32Array;
  /** Bag-of-words targets (bag-of-words.ts): the `<s>` of each row predicts every ordinary token of its A and B. */
  bow: BagOfWordsTargets;
}

/** Pairs padded to the longest one, uncorrupted (what held-out next-sentence accuracy is scored on). */
export function padPairs(pairs: readonly SentencePair[], pad: number): TokenBatch {
  const seqLen = Math.max(...pairs.map((p) => p.ids.length));
  const inputIds = new Int32Array(pairs.length * seqLen).fill(pad);
  const attentionMask = new Int32Array(pairs.length * seqLen);
  pairs.forEach((p, r) => {
    inputIds.set(p.ids, r * seqLen);
    attentionMask.fill(1, r * seqLen, r * seqLen + p.ids.length);
  });
  return { inputIds, attentionMask, batch: pairs.length, seqLen };
}

/** Pads pairs to the longest one and draws masked-LM corruption for each (padding is never selected). */
export function collatePairs(pairs: readonly SentencePair[], pad: number, masking: MlmMaskingOptions, rng: Rng): PairBatch {
  const batch = padPairs(pairs, pad);
  const { inputIds, seqLen } = batch;
  const positions: number[] = [];
  const labels: number[] = [];
  const anchorOf: number[] = [];
  const bowLabels: number[] = [];
  pairs.forEach((p, r) => {
    for (const id of p.ids) {
      if (masking.specialIds.has(id)) continue;
      anchorOf.push(r);
      bowLabels.push(id);
    }
    const m = maskTokens(p.ids, masking, rng);
    inputIds.set(m.inputIds, r * seqLen);
    m.positions.forEach((pos, k) => {
      positions.push(r * seqLen + pos);
      labels.push(m.labels[k] as number);
    });
  });
  return {
    batch,
    mlmPositions: Int32Array.from(positions),
    mlmLabels: Int32Array.from(labels),
    isNext: Int32Array.from(pairs, (p) => p.isNext),
    bow: { anchors: Int32Array.from(pairs, (_, r) => r * seqLen), anchorOf: Int32Array.from(anchorOf), labels: Int32Array.from(bowLabels) },
  };
}

/**
 * Batches of document indices with similar lengths (HF's group_by_length): shuffle, cut into
 * chunks of `chunkBatches` batches, sort each chunk by length, cut into batches, shuffle the
 * batches. Pairs padded to their batch's longest then waste few positions (documents range from 2
 * to ~200 tokens).
 */
export function lengthGroupedBatches(lengths: readonly number[], batchSize: number, rng: Rng, chunkBatches = 16): number[][] {
  const order = rng.shuffle(lengths.map((_, i) => i));
  const batches: number[][] = [];
  const chunk = batchSize * chunkBatches;
  for (let c = 0; c < order.length; c += chunk) {
    const part = order.slice(c, c + chunk).sort((x, y) => (lengths[x] as number) - (lengths[y] as number));
    for (let b = 0; b + batchSize <= part.length; b += batchSize) batches.push(part.slice(b, b + batchSize));
  }
  return rng.shuffle(batches);
}
