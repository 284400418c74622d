/**
 * Adapter^D (AdapterDrop, Rücklé et al. 2021; paper Section 5.1): adapters as Houlsby (or Pfeiffer)
 * place them, removed from the lowest n blocks (`dropLayers`), which also removes their backward
 * pass there. The LoRA paper does not give its configuration (param-counts.md: for its "0.3M"
 * RoBERTa-base row both 12 adapters of r = 16 and 24 of r = 8 fit). Default n = 5, Rücklé et al.'s
 * AdapterDrop_5. |Θ| = L̂_Adpt·(2·d·r + r + d), L̂_Adpt = k·(L − n), k = 2 (Houlsby) or 1 (Pfeiffer).
 */
import { z } from 'zod';
import { UserError } from '../util/errors.ts';
import { ADAPTER_ACTIVATIONS, AppliedAdapters, adapterFormula, type AdapterPlacement } from './adapter-module.ts';
import { defineMethod, fmt } from './method.ts';

const schema = z
  .object({
    r: z.number().int().positive().default(8),
    dropLayers: z.number().int().nonnegative().default(5),
    placement: z.enum(['houlsby', 'pfeiffer']).default('houlsby'),
    activation: z.enum(ADAPTER_ACTIVATIONS).optional(),
  })
  .strict();

type Config = z.infer<typeof schema>;

const perBlock = (c: Config): number => (c.placement === 'houlsby' ? 2 : 1);

export const adapterDMethod = defineMethod({
  name: 'adapter-d',
  summary: 'AdapterDrop: Houlsby/Pfeiffer adapters without the lowest n blocks (--drop-layers)',
  schema,
  check(m, c) {
    if (c.dropLayers >= m.layers) throw new UserError(`adapter-d: dropLayers ${c.dropLayers} leaves no adapter (the model has ${m.layers} blocks)`);
  },
  apply(model, config, rng) {
    const placements: AdapterPlacement[] = [];
    for (let layer = config.dropLayers; layer < model.config.layers; layer++) {
      if (config.placement === 'houlsby') placements.push({ layer, site: 'afterAttention' });
      placements.push({ layer, site: 'afterFfn' });
    }
    const activation = config.activation ?? (config.placement === 'houlsby' ? 'swish' : 'relu');
    return new AppliedAdapters(model, 'adapter-d', config, placements, { r: config.r, activation }, rng);
  },
  formula: (m, c) => adapterFormula(m.hidden, c.r, perBlock(c) * (m.layers - c.dropLayers), 0),
  formulaText(m, c) {
    const n = perBlock(c) * (m.layers - c.dropLayers);
    return `|Θ| = L̂_Adpt·(2·d_model·r + r + d_model), L̂_Adpt = ${perBlock(c)}·(L − n) = ${perBlock(c)}·(${m.layers} − ${c.dropLayers}) = ${n}: ${n}·(2·${m.hidden}·${c.r} + ${c.r} + ${m.hidden}) = ${fmt(adapterFormula(m.hidden, c.r, n, 0))}`;
  },
});
