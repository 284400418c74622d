/** The two model families behind one type, and helpers that work on either. */
import type { RobertaModel } from './roberta.ts';
import type { Gpt2Model } from './gpt2.ts';
import type { Linear } from './linear.ts';

export type TransformerModel = RobertaModel | Gpt2Model;

/** The Linear modules of one Transformer block, by role (the paper's W_q, W_k, W_v, W_o and the FFN). */
export interface BlockLinears {
  /** RoBERTa has separate q/k/v; GPT-2 one fused c_attn whose output columns are [q | k | v]. */
  qkv: { q: Linear; k: Linear; v: Linear; fused: boolean };
  o: Linear;
  ffn1: Linear;
  ffn2: Linear;
}

export function blockLinears(model: TransformerModel, layer: number): BlockLinears {
  const get = (name: string): Linear => {
    const lin = model.linears.get(name);
    if (lin === undefined) throw new Error(`no module ${name}`);
    return lin;
  };
  if (model.modelType === 'roberta') {
    const l = `roberta.encoder.layer.${layer}`;
    return {
      qkv: { q: get(`${l}.attention.self.query`), k: get(`${l}.attention.self.key`), v: get(`${l}.attention.self.value`), fused: false },
      o: get(`${l}.attention.output.dense`),
      ffn1: get(`${l}.intermediate.dense`),
      ffn2: get(`${l}.output.dense`),
    };
  }
  const l = `transformer.h.${layer}`;
  const cAttn = get(`${l}.attn.c_attn`);
  return {
    qkv: { q: cAttn, k: cAttn, v: cAttn, fused: true },
    o: get(`${l}.attn.c_proj`),
    ffn1: get(`${l}.mlp.c_fc`),
    ffn2: get(`${l}.mlp.c_proj`),
  };
}
