/** What the data pipeline needs from a tokenizer (implemented in ./hf-tokenizer.ts). */
export interface TextTokenizer {
  /** Token ids of `text`, without any special tokens added. */
  encode(text: string): number[];
  /** Text of `ids`; special tokens are dropped when skipSpecial is true. */
  decode(ids: number[], skipSpecial?: boolean): string;
  /** Id of a token string such as '<s>' or '<|endoftext|>', or undefined when absent. */
  tokenToId(token: string): number | undefined;
  readonly vocabSize: number;
}
