/**
 * FT^Top2 (Li & Liang 2021, used as a baseline in the paper's Table 3): fine-tune only the last two
 * Transformer blocks, with their biases and LayerNorms, and GPT-2's final LayerNorm ln_f, which sits
 * after them. Li & Liang's code trains ln_f in every top-k mode (PrefixTuning
 * gpt2/run_language_modeling.py, tuning_mode 'finetune-top': `'transformer.ln_f.' in name`). Its
 * `top_layers == 2` branch trains the tied embedding wte as well (51.5M more for GPT-2 medium, far
 * from the printed count); `top_layers == 22` (h.22, h.23, ln_f) gives 2 × 12,596,224 + 2,048 =
 * 25,194,496, the printed 25.19M (param-counts.md; without ln_f, 25,192,448, also 25.19M).
 *
 * RoBERTa normalises inside its blocks (post-LN) and has nothing between the last block and the
 * classification head, which trains with every method anyway: there the two blocks are all, and
 * `finalLayerNorm` changes nothing.
 */
import { z } from 'zod';
import type { ModelConfig } from '../models/config.ts';
import { blockPrefix } from '../models/model.ts';
import { UserError } from '../util/errors.ts';
import { DirectParams } from './direct.ts';
import { defineMethod, fmt } from './method.ts';
import { blockParams, finalParams } from './model-counts.ts';

const TOP = 2;

const schema = z
  .object({
    /** Train GPT-2's ln_f with the top blocks (Li & Liang's code does); false: the blocks only. */
    finalLayerNorm: z.boolean().default(true),
  })
  .strict();

type Config = z.infer<typeof schema>;

const finalCount = (m: ModelConfig, c: Config): number => (c.finalLayerNorm && m.modelType === 'gpt2' ? finalParams(m) : 0);

export const ftTop2Method = defineMethod({
  name: 'ft-top2',
  summary: "fine-tune the last two Transformer blocks (and GPT-2's ln_f) only (Li & Liang)",
  schema,
  check(m) {
    if (m.layers < TOP) throw new UserError(`ft-top2: the model has ${m.layers} block(s), needs at least ${TOP}`);
  },
  apply(model, config) {
    const blocks = blockPrefix(model.modelType, 0).slice(0, -1);
    const top = new Set(Array.from({ length: TOP }, (_, i) => model.config.layers - TOP + i));
    const inTop = (n: string): boolean => n.startsWith(blocks) && top.has(Number(n.slice(blocks.length).split('.')[0]));
    const isFinal = (n: string): boolean => config.finalLayerNorm && model.modelType === 'gpt2' && n.startsWith('transformer.ln_f.');
    return new DirectParams(model, 'ft-top2', config, model.params.names().filter((n) => inTop(n) || isFinal(n)));
  },
  formula: (m, c) => TOP * blockParams(m) + finalCount(m, c),
  formulaText(m, c) {
    const f = finalCount(m, c);
    const extra = f > 0 ? ` + ln_f ${fmt(f)}` : '';
    return `|Θ| = 2 · (parameters of one block)${extra} = 2 · ${fmt(blockParams(m))}${extra} = ${fmt(TOP * blockParams(m) + f)}`;
  },
});
