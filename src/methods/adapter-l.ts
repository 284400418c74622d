/**
 * Adapter^L (Lin et al. 2020; paper Section 5.1): one adapter per block, on top of the block (after
 * the MLP and its residual), with its own LayerNorm on the adapter input, ReLU, residual:
 * h + W_up·ReLU(W_down·LN(h)), as Lin et al.'s code does. With `ln` the adapter's LayerNorm trains,
 * the paper's 2·L̂_LN·d_model term (L̂_LN = L); no other LayerNorm becomes trainable.
 * |Θ| = L·(2·d·r + r + d) + 2·L̂_LN·d (param-counts.md: GPT-2 M r = 6 with LN → 368,784, "0.37M").
 */
import { z } from 'zod';
import { ADAPTER_ACTIVATIONS, AppliedAdapters, adapterFormula } from './adapter-module.ts';
import { defineMethod, fmt } from './method.ts';

const schema = z
  .object({
    r: z.number().int().positive().default(8),
    activation: z.enum(ADAPTER_ACTIVATIONS).default('relu'),
    /** Train the adapters' own LayerNorms (gain and bias). */
    ln: z.boolean().default(false),
  })
  .strict();

export const adapterLMethod = defineMethod({
  name: 'adapter-l',
  summary: 'Lin adapters: one per block after the MLP, with its own LayerNorm (--ln: trainable)',
  schema,
  check() {},
  apply(model, config, rng) {
    const placements = Array.from({ length: model.config.layers }, (_, layer) => ({ layer, site: 'afterBlock' as const }));
    const options = { r: config.r, activation: config.activation, layerNorm: { trainable: config.ln } };
    return new AppliedAdapters(model, 'adapter-l', config, placements, options, rng);
  },
  formula: (m, c) => adapterFormula(m.hidden, c.r, m.layers, c.ln ? m.layers : 0),
  formulaText(m, c) {
    const lns = c.ln ? m.layers : 0;
    return `|Θ| = L̂_Adpt·(2·d_model·r + r + d_model) + 2·L̂_LN·d_model, L̂_Adpt = ${m.layers}, L̂_LN = ${lns}: ${m.layers}·(2·${m.hidden}·${c.r} + ${c.r} + ${m.hidden}) + 2·${lns}·${m.hidden} = ${fmt(adapterFormula(m.hidden, c.r, m.layers, lns))}`;
  },
});
