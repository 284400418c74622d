/**
 * Prefix-layer tuning, PreLayer (Li & Liang 2021; paper Section 5.1): like PreEmbed, and the special
 * tokens' activations after every Transformer block are replaced by trainable ones too.
 * |Θ| = L·d_model·(l_p + l_i): one vector per special token after the embeddings and after blocks
 * 0..L−2 (what block L−1 computes for them is discarded). Li & Liang's own code trains keys and
 * values instead, twice as many (param-counts.md); the paper's formula is the one implemented.
 *
 * `prefixMlp: m` trains Li & Liang's MLP reparametrisation of hidden size m (512 in their code,
 * gpt2/train_e2e.py `--mid_dim`; prefix-mlp.ts), as their published PreLayer numbers were trained:
 * n·d + d·m + m + m·L·d + L·d trainable tensors, merged after training into the L·d·(l_p + l_i)
 * plain prefixes the paper counts. Absent: the prefixes train directly (and the key stays out of
 * the config, so those runs keep their identities).
 */
import { z } from 'zod';
import type { ModelConfig } from '../models/config.ts';
import { defineMethod, fmt } from './method.ts';
import { AppliedPrefix } from './prefix-module.ts';
import { NO_SPECIAL_TOKENS, checkPrefixFits, hasSpecialTokens, prefixFields } from './prefix-embed.ts';

const schema = z
  .object({
    ...prefixFields,
    /** Hidden size of Li & Liang's reparametrisation MLP; absent: direct optimisation. */
    prefixMlp: z.number().int().positive().optional(),
  })
  .strict()
  .refine(hasSpecialTokens, NO_SPECIAL_TOKENS);

type Config = z.infer<typeof schema>;

/** The plain prefixes: L·d·(l_p + l_i). */
const plainCount = (m: ModelConfig, c: Config): number => m.layers * m.hidden * (c.prefixLength + c.infixLength);

/** Trained with the MLP: P' (n·d), Linear(d, m) and Linear(m, L·d), with biases. */
function mlpCount(m: ModelConfig, c: Config, mid: number): number {
  const n = c.prefixLength + c.infixLength;
  return n * m.hidden + (m.hidden * mid + mid) + (mid * m.layers * m.hidden + m.layers * m.hidden);
}

export const prefixLayerMethod = defineMethod({
  name: 'prefix-layer',
  summary: 'prefix-layer tuning: trainable special-token activations after every block (--prefix-mlp: Li & Liang reparametrisation)',
  schema,
  check: (m, c) => checkPrefixFits(m, c, 'prefix-layer'),
  apply: (model, config, rng) => new AppliedPrefix(model, 'prefix-layer', config, { ...config, layerwise: true, mlp: config.prefixMlp }, rng),
  formula: (m, c) => (c.prefixMlp === undefined ? plainCount(m, c) : mlpCount(m, c, c.prefixMlp)),
  formulaText(m, c) {
    const n = `(${c.prefixLength} + ${c.infixLength})`;
    const plain = `L·d_model·(l_p + l_i) = ${m.layers}·${m.hidden}·${n} = ${fmt(plainCount(m, c))}`;
    if (c.prefixMlp === undefined) return `|Θ| = ${plain}`;
    const k = c.prefixMlp;
    return (
      `|Θ| while training (MLP reparametrisation, hidden ${k}) = (l_p + l_i)·d + d·m + m + m·L·d + L·d = ` +
      `${n}·${m.hidden} + ${m.hidden}·${k} + ${k} + ${k}·${m.layers}·${m.hidden} + ${m.layers}·${m.hidden} = ${fmt(mlpCount(m, c, k))}; ` +
      `merged after training into ${plain} (the paper's count)`
    );
  },
});
