/**
 * GPT-2 inputs for E2E NLG, exactly as the LoRA reference code builds them (microsoft/LoRA examples/NLG):
 *
 * 1. src/gpt2_encode.py --add_bos --add_eos (create_datasets.sh): context ids = enc(context) + [eos];
 *    completion ids = enc(' ' + completion) + [eos]; bos = eos = <|endoftext|> (50256 in GPT-2).
 * 2. src/data_utils.py FT_Dataset.__getitem__ (no prefix/infix tokens, joint_lm off):
 *    full    = context + completion
 *    input   = full[:max_seq_length], right-padded with 0; input_len = its unpadded length
 *    target  = full[1:][:max_seq_length], right-padded with 0 (labels ALREADY shifted: target[t] is
 *              what logits[t] must predict)
 *    mask    = [0]*(len(context)-1) + [1]*(input_len - len(context)), cut to max_seq_length and
 *              right-padded with 0: 1 exactly on positions that predict a completion token, the final
 *              <|endoftext|> included. When the input was truncated the last position is masked although
 *              its target exists; that quirk is kept.
 *    query   = the last (max_seq_length - max_eval_length) context tokens (beam-search prompt).
 * The reference pads every row to max_seq_length; padding only to the batch's longest row gives the same
 * values on every real position (causal attention, masked loss), so both are offered.
 * The fixture /work/shared/fixtures/parity/gpt2-tiny/inputs.json was made by FT_Dataset and is the test.
 */
import { gpt2SpecialTokens } from '../tokenizers/special-tokens.ts';
import type { TextTokenizer } from '../tokenizers/types.ts';
import { UserError } from '../util/errors.ts';

export interface E2eTokenPair {
  context: number[];
  completion: number[];
}

/** gpt2_encode.py with --add_bos --add_eos: note the space put before the completion. */
export function encodeE2ePair(tokenizer: TextTokenizer, context: string, completion: string, eos: number = gpt2SpecialTokens(tokenizer).endOfText): E2eTokenPair {
  return {
    context: [...tokenizer.encode(context), eos],
    completion: [...tokenizer.encode(' ' + completion), eos],
  };
}

export interface FtDatasetRow {
  /** Unpadded input ids (at most maxSeqLength). */
  input: number[];
  /** Unpadded shifted targets (at most maxSeqLength). */
  target: number[];
  /** Unpadded loss mask (at most maxSeqLength; trailing zeros may be implicit). */
  mask: number[];
  inputLen: number;
}

/** FT_Dataset.__getitem__ for one pair, before padding. */
export function ftDatasetRow(pair: E2eTokenPair, maxSeqLength: number): FtDatasetRow {
  if (!Number.isInteger(maxSeqLength) || maxSeqLength < 2) {
    throw new UserError(`max sequence length ${maxSeqLength} is too small: use at least 2 (the reference uses 512)`);
  }
  const full = [...pair.context, ...pair.completion];
  const input = full.slice(0, maxSeqLength);
  const inputLen = input.length;
  const target = full.slice(1, 1 + maxSeqLength);
  const ctx = pair.context.length;
  // Python's [x] * n is empty for n <= 0.
  const mask = [...new Array<number>(Math.max(0, ctx - 1)).fill(0), ...new Array<number>(Math.max(0, inputLen - ctx)).fill(1)].slice(
    0,
    maxSeqLength,
  );
  return { input, target, mask, inputLen };
}

export interface E2eBatch {
  /** [batch, seqLen] row-major, right-padded with 0. */
  inputIds: Int32Array;
  /** [batch, seqLen]: 1 on the real (unpadded) input tokens. The reference itself uses no mask. */
  attentionMask: Int32Array;
  /** [batch, seqLen]: shifted targets, 0 on padding. */
  labels: Int32Array;
  /** [batch, seqLen]: 1 where the loss counts (positions predicting completion tokens). */
  lossMask: Float32Array;
  batch: number;
  seqLen: number;
}

export interface E2eCollateOptions {
  /** FT_Dataset max_seq_length (the E2E command uses --seq_len 512). */
  maxSeqLength: number;
  /** 'max' pads to maxSeqLength like the reference; 'longest' (default) to the batch's longest input. */
  padTo?: 'max' | 'longest';
}

export function collateE2e(pairs: readonly E2eTokenPair[], options: E2eCollateOptions): E2eBatch {
  const rows = pairs.map((p) => ftDatasetRow(p, options.maxSeqLength));
  const batch = rows.length;
  const longest = rows.reduce((m, r) => Math.max(m, r.inputLen, r.target.length, r.mask.length), 0);
  const seqLen = options.padTo === 'max' ? options.maxSeqLength : longest;
  const inputIds = new Int32Array(batch * seqLen);
  const attentionMask = new Int32Array(batch * seqLen);
  const labels = new Int32Array(batch * seqLen);
  const lossMask = new Float32Array(batch * seqLen);
  rows.forEach((r, b) => {
    const o = b * seqLen;
    inputIds.set(r.input, o);
    attentionMask.fill(1, o, o + r.inputLen);
    labels.set(r.target, o);
    lossMask.set(r.mask, o);
  });
  return { inputIds, attentionMask, labels, lossMask, batch, seqLen };
}

/**
 * Beam-search prompt of FT_Dataset (`query`): the context kept from the right to at most
 * maxSeqLength - maxEvalLength tokens (unpadded; query_len is its length).
 */
export function e2eQuery(context: readonly number[], maxSeqLength: number, maxEvalLength: number): number[] {
  const keep = maxSeqLength - maxEvalLength;
  if (keep <= 0) throw new UserError(`--seq-len ${maxSeqLength} must exceed --eval-len ${maxEvalLength}`);
  return context.length > keep ? context.slice(context.length - keep) : context.slice();
}
