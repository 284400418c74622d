/**
 * Turns tokenized documents into fixed-length training blocks, as Hugging Face's run_mlm.py /
 * run_clm.py `group_texts` do: documents are concatenated and cut into blocks of `blockSize`
 * tokens, the remainder dropped. No padding is needed, so every position trains.
 *
 * - RoBERTa: each document is wrapped as `<s> … </s>` (what the tokenizer's post-processor adds in
 *   run_mlm), so blocks hold RoBERTa's FULL-SENTENCES format (Liu et al. 2019 §4.2).
 * - GPT-2: each document is followed by `<|endoftext|>`, GPT-2's document separator.
 */
export interface PackingOptions {
  blockSize: number;
  /** Token put before every document (RoBERTa `<s>`). */
  before?: number;
  /** Token put after every document (RoBERTa `</s>`, GPT-2 `<|endoftext|>`). */
  after?: number;
}

export function packDocuments(documents: readonly (readonly number[])[], opts: PackingOptions): Int32Array[] {
  const { blockSize } = opts;
  if (!Number.isInteger(blockSize) || blockSize < 2) throw new Error(`packDocuments: block size ${blockSize} must be an integer ≥ 2`);
  const blocks: Int32Array[] = [];
  let current = new Int32Array(blockSize);
  let fill = 0;
  const push = (id: number): void => {
    current[fill++] = id;
    if (fill === blockSize) {
      blocks.push(current);
      current = new Int32Array(blockSize);
      fill = 0;
    }
  };
  for (const doc of documents) {
    if (opts.before !== undefined) push(opts.before);
    for (const id of doc) push(id);
    if (opts.after !== undefined) push(opts.after);
  }
  return blocks;
}
