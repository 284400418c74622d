/** The model families behind one type, and helpers that work on any of them. */
import type { RobertaModel } from './roberta.ts';
import type { Gpt2Model } from './gpt2.ts';
import type { DebertaV2Model } from './deberta.ts';
import type { Linear } from './linear.ts';

export type TransformerModel = RobertaModel | Gpt2Model | DebertaV2Model;

/** The encoder-classifier families (a pooled or `<s>` token read by a classification head). */
export type ClassifierModel = RobertaModel | DebertaV2Model;

/** The Linear modules of one Transformer block, by role (the paper's W_q, W_k, W_v, W_o and the FFN). */
export interface BlockLinears {
  /** RoBERTa and DeBERTa have separate q/k/v; GPT-2 one fused c_attn whose output columns are [q | k | v]. */
  qkv: { q: Linear; k: Linear; v: Linear; fused: boolean };
  o: Linear;
  ffn1: Linear;
  ffn2: Linear;
}

/** Name prefix of block `layer`'s tensors: `roberta.encoder.layer.N`, `deberta.encoder.layer.N`, `transformer.h.N`. */
export function blockPrefix(modelType: TransformerModel['modelType'], layer: number): string {
  return modelType === 'gpt2' ? `transformer.h.${layer}` : `${modelType === 'roberta' ? 'roberta' : 'deberta'}.encoder.layer.${layer}`;
}

export function blockLinears(model: TransformerModel, layer: number): BlockLinears {
  const get = (name: string): Linear => {
    const lin = model.linears.get(name);
    if (lin === undefined) throw new Error(`no module ${name}`);
    return lin;
  };
  if (model.modelType !== 'gpt2') {
    // Same block layout; DeBERTa-v2 names the projections query_proj / key_proj / value_proj.
    const l = blockPrefix(model.modelType, layer);
    const [q, k, v] = model.modelType === 'roberta' ? ['query', 'key', 'value'] : ['query_proj', 'key_proj', 'value_proj'];
    return {
      qkv: { q: get(`${l}.attention.self.${q}`), k: get(`${l}.attention.self.${k}`), v: get(`${l}.attention.self.${v}`), fused: false },
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
