/**
 * Full fine-tuning (paper Section 5.1, "Fine-Tuning (FT)"): every pretrained weight trains. The
 * count is the whole backbone; the task head is trained too but, as in every count of the paper,
 * reported separately.
 */
import { z } from 'zod';
import { DirectParams } from './direct.ts';
import { defineMethod, fmt } from './method.ts';
import { backboneParams, blockParams, embeddingParams, finalParams } from './model-counts.ts';

export const ftMethod = defineMethod({
  name: 'ft',
  summary: 'full fine-tuning: every pretrained weight',
  schema: z.object({}).strict(),
  check() {},
  apply(model, config) {
    return new DirectParams(model, 'ft', config, model.params.names());
  },
  formula: (m) => backboneParams(m),
  formulaText(m) {
    const extra = m.modelType === 'gpt2' ? ` + ln_f ${fmt(finalParams(m))}` : m.modelType === 'deberta-v2' ? ` + position table and conv ${fmt(finalParams(m))}` : '';
    return `|Θ| = all parameters = embeddings ${fmt(embeddingParams(m))} + L·block = ${m.layers}·${fmt(blockParams(m))}${extra} = ${fmt(backboneParams(m))}`;
  },
});
