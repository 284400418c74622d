/** A padded batch of token ids on the host (row-major [batch, seqLen]), as the data pipeline makes it. */
export interface TokenBatch {
  inputIds: Int32Array;
  /** 1 for real tokens, 0 for padding. */
  attentionMask: Int32Array;
  batch: number;
  seqLen: number;
}

export function tokenBatch(rows: number[][], masks?: number[][]): TokenBatch {
  const batch = rows.length;
  const seqLen = Math.max(0, ...rows.map((r) => r.length));
  const inputIds = new Int32Array(batch * seqLen);
  const attentionMask = new Int32Array(batch * seqLen);
  rows.forEach((r, b) => {
    r.forEach((id, t) => {
      inputIds[b * seqLen + t] = id;
      attentionMask[b * seqLen + t] = masks ? masks[b][t] : 1;
    });
  });
  return { inputIds, attentionMask, batch, seqLen };
}
