/**
 * The JSON `lora-repro analyze subspace` writes (subspace.json) and `lora-repro charts` / the HTML
 * report read back: validated with zod on read, like every result file.
 */
import { z } from 'zod';

const grid = z.array(z.array(z.number()));

const wRelationSchema = z.object({
  r: z.number().int(),
  wNorm: z.number(),
  deltaNorm: z.number(),
  projDelta: z.number(),
  projW: z.number(),
  projRandom: z.object({ mean: z.number(), sd: z.number(), draws: z.number().int() }),
  amplification: z.number(),
  randomExpected: z.number(),
  wTopResidual: z.number(),
});

export const moduleSummarySchema = z.object({
  module: z.string(),
  layer: z.number().int(),
  weight: z.string(),
  r: z.number().int(),
  inDim: z.number().int(),
  outDim: z.number().int(),
  /** null when lora_alpha is unknown (ΔW's scale then is too). */
  scaling: z.number().nullable(),
  frobenius: z.number().nullable(),
  singularValues: z.array(z.number()).nullable(),
  stableRank: z.number().nullable(),
  /** Table 7 quantities; absent without base weights. */
  relation: wRelationSchema.optional(),
});

export const checkpointSummarySchema = z.object({
  label: z.string(),
  source: z.string(),
  format: z.enum(['peft', 'loralib']),
  modelType: z.enum(['roberta', 'gpt2']),
  alpha: z.number().nullable(),
  alphaSource: z.string(),
  modules: z.array(moduleSummarySchema),
  /** Per weight type: φ(A_l, A_m, i, j) between layers l, m at i = j = 1 and at full rank. */
  crossLayer: z.array(
    z.object({
      weight: z.string(),
      layers: z.array(z.number().int()),
      phiTop1: grid,
      phiFull: grid,
      /** The (i, j) of phiFull and E[φ] = max(i, j)/d for random subspaces there. */
      i: z.number().int(),
      j: z.number().int(),
      randomExpected: z.number(),
    }),
  ),
  /** φ between the A of two weight types of the same layer (same input space), e.g. Wq vs Wv. */
  crossType: z.array(z.object({ layer: z.number().int(), weights: z.tuple([z.string(), z.string()]), phiTop1: z.number(), phiFull: z.number() })),
});

const pairModuleSchema = z.object({
  layer: z.number().int(),
  weight: z.string(),
  r1: z.number().int(),
  r2: z.number().int(),
  d: z.number().int(),
  phiTop1: z.number(),
  /** φ(r1, r2) (for r1 ≤ r2: how much of A1's whole row space lies in A2's). */
  phiFull: z.number(),
  /** Row i−1, column j−1 = φ(A1, A2, i, j); kept for the heatmap layers only. */
  grid: grid.optional(),
});

export const pairAnalysisSchema = z.object({
  labels: z.tuple([z.string(), z.string()]),
  modules: z.array(pairModuleSchema),
  /** Figure 4's right panel: the same grid for two random Gaussian matrices of the same shapes. */
  random: z.object({ r1: z.number().int(), r2: z.number().int(), d: z.number().int(), grid }),
});

export const subspaceAnalysisSchema = z.object({
  schema: z.literal(1),
  kind: z.literal('subspace'),
  name: z.string(),
  createdAt: z.string(),
  checkpoints: z.array(checkpointSummarySchema),
  pair: pairAnalysisSchema.optional(),
  /** One line per quantity skipped and why (no base weights, unknown alpha, …). */
  skipped: z.array(z.string()),
  seconds: z.number(),
});

export type ModuleSummary = z.infer<typeof moduleSummarySchema>;
export type CheckpointSummary = z.infer<typeof checkpointSummarySchema>;
export type PairAnalysis = z.infer<typeof pairAnalysisSchema>;
export type SubspaceAnalysis = z.infer<typeof subspaceAnalysisSchema>;
