/**
 * Adapter^P (Pfeiffer et al. 2021; paper Section 5.1): one bottleneck adapter per block, after the
 * FFN, ReLU. It reads the FFN output f plus the residual h through the block's own frozen LayerNorm
 * and adds its output to f before the block's residual + LayerNorm:
 * LN(f + W_up·ReLU(W_down·LN(f + h) + b_down) + b_up + h), as AdapterHub's Pfeiffer config
 * (SeqBnConfig: original_ln_before, original_ln_after, residual_before_ln) and the LoRA repo's
 * `RobertaOutput.forward` (examples/NLU/src/transformers/models/roberta/modeling_roberta.py,
 * adapter_type 'pfeiffer', the code behind the Adapter^P† rows of Table 2) compute it
 * (adapter-module.ts has the details). No LayerNorm trains: |Θ| = L·(2·d·r + r + d)
 * (param-counts.md: 811,392 for RoBERTa-large, r = 16, "0.8M").
 *
 * `originalLnBefore: false` gives the adapter the raw FFN output instead (Houlsby's second adapter;
 * what this method did before), kept for comparisons. The key is recorded in every config, so runs
 * of the two placements have different identities.
 */
import { z } from 'zod';
import { ADAPTER_ACTIVATIONS, AppliedAdapters, adapterFormula } from './adapter-module.ts';
import { defineMethod, fmt } from './method.ts';

const schema = z
  .object({
    r: z.number().int().positive().default(8),
    activation: z.enum(ADAPTER_ACTIVATIONS).default('relu'),
    /** AdapterHub's original_ln_before: the adapter reads LN(FFN output + residual). */
    originalLnBefore: z.boolean().default(true),
  })
  .strict();

export const adapterPMethod = defineMethod({
  name: 'adapter-p',
  summary: 'Pfeiffer adapters: one after the FFN in every block, reading LN(FFN + residual)',
  schema,
  check() {},
  apply(model, config, rng) {
    const placements = Array.from({ length: model.config.layers }, (_, layer) => ({ layer, site: 'afterFfn' as const }));
    const options = { r: config.r, activation: config.activation, pfeiffer: config.originalLnBefore };
    return new AppliedAdapters(model, 'adapter-p', config, placements, options, rng);
  },
  formula: (m, c) => adapterFormula(m.hidden, c.r, m.layers, 0),
  formulaText: (m, c) =>
    `|Θ| = L̂_Adpt·(2·d_model·r + r + d_model), L̂_Adpt = L = ${m.layers}: ${m.layers}·(2·${m.hidden}·${c.r} + ${c.r} + ${m.hidden}) = ${fmt(adapterFormula(m.hidden, c.r, m.layers, 0))}`,
});
