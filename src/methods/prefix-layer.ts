/**
 * Prefix-layer tuning, PreLayer (Li & Liang 2021; paper Section 5.1): like PreEmbed, and the special
 * tokens' activations after every Transformer block are replaced by trainable ones too.
 * |Θ| = L·d_model·(l_p + l_i): one vector per special token after the embeddings and after blocks
 * 0..L−2 (what block L−1 computes for them is discarded). Li & Liang's own code trains keys and
 * values instead, twice as many (param-counts.md); the paper's formula is the one implemented.
 */
import { defineMethod, fmt } from './method.ts';
import { AppliedPrefix } from './prefix-module.ts';
import { checkPrefixFits, prefixSchema } from './prefix-embed.ts';

export const prefixLayerMethod = defineMethod({
  name: 'prefix-layer',
  summary: 'prefix-layer tuning: trainable special-token activations after every block',
  schema: prefixSchema,
  check: (m, c) => checkPrefixFits(m, c, 'prefix-layer'),
  apply: (model, config, rng) => new AppliedPrefix(model, 'prefix-layer', config, { ...config, layerwise: true }, rng),
  formula: (m, c) => m.layers * m.hidden * (c.prefixLength + c.infixLength),
  formulaText: (m, c) =>
    `|Θ| = L·d_model·(l_p + l_i) = ${m.layers}·${m.hidden}·(${c.prefixLength} + ${c.infixLength}) = ${fmt(m.layers * m.hidden * (c.prefixLength + c.infixLength))}`,
});
