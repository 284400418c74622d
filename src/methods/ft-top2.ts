/**
 * FT^Top2 (Li & Liang 2021, used as a baseline in the paper's Table 3): fine-tune only the last two
 * Transformer blocks, with their biases and LayerNorms. GPT-2's final ln_f sits after the blocks and
 * is not part of them (param-counts.md: 2 × 12,596,224 = 25,192,448 for GPT-2 medium; with ln_f
 * it would be 25,194,496, which prints the same 25.19M).
 */
import { z } from 'zod';
import { UserError } from '../util/errors.ts';
import { DirectParams } from './direct.ts';
import { defineMethod, fmt } from './method.ts';
import { blockParams } from './model-counts.ts';

const TOP = 2;

export const ftTop2Method = defineMethod({
  name: 'ft-top2',
  summary: 'fine-tune the last two Transformer blocks only (Li & Liang)',
  schema: z.object({}).strict(),
  check(m) {
    if (m.layers < TOP) throw new UserError(`ft-top2: the model has ${m.layers} block(s), needs at least ${TOP}`);
  },
  apply(model, config) {
    const blocks = model.modelType === 'roberta' ? 'roberta.encoder.layer.' : 'transformer.h.';
    const top = new Set(Array.from({ length: TOP }, (_, i) => model.config.layers - TOP + i));
    const names = model.params.names().filter((n) => n.startsWith(blocks) && top.has(Number(n.slice(blocks.length).split('.')[0])));
    return new DirectParams(model, 'ft-top2', config, names);
  },
  formula: (m) => TOP * blockParams(m),
  formulaText: (m) => `|Θ| = 2 · (parameters of one block) = 2 · ${fmt(blockParams(m))} = ${fmt(TOP * blockParams(m))}`,
});
