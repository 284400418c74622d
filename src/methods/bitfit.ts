/**
 * BitFit (Ben Zaken et al. 2021; paper Section 5.1, "Bias-only or BitFit"): train every bias vector
 * and nothing else: the linear layers' biases and the LayerNorm biases (param-counts.md: 102,144
 * for RoBERTa-base, "0.1M"). LayerNorm gains stay frozen.
 */
import { z } from 'zod';
import { DirectParams } from './direct.ts';
import { defineMethod, fmt } from './method.ts';
import { biasParams } from './model-counts.ts';

export const bitfitMethod = defineMethod({
  name: 'bitfit',
  summary: 'bias-only: every bias vector (linear layers and LayerNorms)',
  schema: z.object({}).strict(),
  check() {},
  apply(model, config) {
    return new DirectParams(model, 'bitfit', config, model.params.names().filter((n) => n.endsWith('.bias')));
  },
  formula: (m) => biasParams(m),
  formulaText(m) {
    const d = m.hidden;
    if (m.modelType === 'deberta-v2') {
      return `|Θ| = every bias: L·(linear biases + LayerNorm biases 2d) + embedding, position-table and conv LayerNorm/conv biases = ${fmt(biasParams(m))}`;
    }
    const last = m.modelType === 'gpt2' ? 'ln_f' : 'embedding LayerNorm';
    return `|Θ| = L·(linear biases 5d + f + LayerNorm biases 2d) + ${last} bias d = ${m.layers}·(${5 * d} + ${m.intermediate} + ${2 * d}) + ${d} = ${fmt(biasParams(m))}`;
  },
});
