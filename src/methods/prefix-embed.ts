/**
 * Prefix-embedding tuning, PreEmbed (Li & Liang 2021; paper Section 5.1): l_p prefix and l_i infix
 * special tokens whose activations after the embedding layer train (prefix-module.ts has the
 * layout, masks and positions). |Θ| = d_model·(l_p + l_i).
 */
import { z } from 'zod';
import { UserError } from '../util/errors.ts';
import { defineMethod, fmt } from './method.ts';
import { AppliedPrefix } from './prefix-module.ts';

/** The special-token counts every prefix method has (prefix-layer adds its own keys). */
export const prefixFields = {
  prefixLength: z.number().int().nonnegative().default(10),
  infixLength: z.number().int().nonnegative().default(0),
};

export const hasSpecialTokens = (c: { prefixLength: number; infixLength: number }): boolean => c.prefixLength + c.infixLength > 0;
export const NO_SPECIAL_TOKENS = 'prefixLength + infixLength must be at least 1';

export const prefixSchema = z.object(prefixFields).strict().refine(hasSpecialTokens, NO_SPECIAL_TOKENS);

export type PrefixConfig = z.infer<typeof prefixSchema>;

export function checkPrefixFits(m: { maxPositions: number }, c: Pick<PrefixConfig, 'prefixLength' | 'infixLength'>, what: string): void {
  if (c.prefixLength + c.infixLength >= m.maxPositions) {
    throw new UserError(`${what}: ${c.prefixLength + c.infixLength} special tokens leave no room in the model's ${m.maxPositions} positions`);
  }
}

export const prefixEmbedMethod = defineMethod({
  name: 'prefix-embed',
  summary: 'prefix-embedding tuning: l_p prefix + l_i infix trainable token activations',
  schema: prefixSchema,
  check: (m, c) => checkPrefixFits(m, c, 'prefix-embed'),
  apply: (model, config, rng) => new AppliedPrefix(model, 'prefix-embed', config, { ...config, layerwise: false }, rng),
  formula: (m, c) => m.hidden * (c.prefixLength + c.infixLength),
  formulaText: (m, c) =>
    `|Θ| = d_model·(l_p + l_i) = ${m.hidden}·(${c.prefixLength} + ${c.infixLength}) = ${fmt(m.hidden * (c.prefixLength + c.infixLength))}`,
});
