/**
 * Adapter^P (Pfeiffer et al. 2021; paper Section 5.1): one bottleneck adapter per block, after the
 * FFN (before the residual + LayerNorm), ReLU as in the reference code. No LayerNorm trains:
 * |Θ| = L·(2·d·r + r + d) (param-counts.md: 811,392 for RoBERTa-large, r = 16, "0.8M").
 *
 * Simplification: the reference's Pfeiffer variant feeds the adapter LN(ffn + residual) through the
 * block's own LayerNorm and then applies that LayerNorm again; here the adapter reads the FFN output
 * directly, like Houlsby's second adapter. Same tensors, same count, identity at initialisation.
 */
import { z } from 'zod';
import { ADAPTER_ACTIVATIONS, AppliedAdapters, adapterFormula } from './adapter-module.ts';
import { defineMethod, fmt } from './method.ts';

const schema = z
  .object({
    r: z.number().int().positive().default(8),
    activation: z.enum(ADAPTER_ACTIVATIONS).default('relu'),
  })
  .strict();

export const adapterPMethod = defineMethod({
  name: 'adapter-p',
  summary: 'Pfeiffer adapters: one after the FFN in every block',
  schema,
  check() {},
  apply(model, config, rng) {
    const placements = Array.from({ length: model.config.layers }, (_, layer) => ({ layer, site: 'afterFfn' as const }));
    return new AppliedAdapters(model, 'adapter-p', config, placements, { r: config.r, activation: config.activation }, rng);
  },
  formula: (m, c) => adapterFormula(m.hidden, c.r, m.layers, 0),
  formulaText: (m, c) =>
    `|Θ| = L̂_Adpt·(2·d_model·r + r + d_model), L̂_Adpt = L = ${m.layers}: ${m.layers}·(2·${m.hidden}·${c.r} + ${c.r} + ${m.hidden}) = ${fmt(adapterFormula(m.hidden, c.r, m.layers, 0))}`,
});
