/**
 * Adapter^H (Houlsby et al. 2019; paper Section 5.1): two bottleneck adapters per block, one after
 * the attention output projection and one after the FFN, each before the block's residual +
 * LayerNorm; swish, as in the reference code (examples/NLU/.../modeling_roberta.py). No LayerNorm
 * trains: |Θ| = L̂_Adpt·(2·d·r + r + d) with L̂_Adpt = 2L (param-counts.md: 835,968 for
 * RoBERTa-large, r = 8, the "0.8M" of Table 2).
 */
import { z } from 'zod';
import { ADAPTER_ACTIVATIONS, AppliedAdapters, adapterFormula } from './adapter-module.ts';
import { defineMethod, fmt } from './method.ts';

const schema = z
  .object({
    r: z.number().int().positive().default(8),
    activation: z.enum(ADAPTER_ACTIVATIONS).default('swish'),
  })
  .strict();

export const adapterHMethod = defineMethod({
  name: 'adapter-h',
  summary: 'Houlsby adapters: after attention and after the FFN in every block',
  schema,
  check() {},
  apply(model, config, rng) {
    const placements = Array.from({ length: model.config.layers }, (_, layer) => [
      { layer, site: 'afterAttention' as const },
      { layer, site: 'afterFfn' as const },
    ]).flat();
    return new AppliedAdapters(model, 'adapter-h', config, placements, { r: config.r, activation: config.activation }, rng);
  },
  formula: (m, c) => adapterFormula(m.hidden, c.r, 2 * m.layers, 0),
  formulaText: (m, c) =>
    `|Θ| = L̂_Adpt·(2·d_model·r + r + d_model), L̂_Adpt = 2L = ${2 * m.layers}: ${2 * m.layers}·(2·${m.hidden}·${c.r} + ${c.r} + ${m.hidden}) = ${fmt(adapterFormula(m.hidden, c.r, 2 * m.layers, 0))}`,
});
