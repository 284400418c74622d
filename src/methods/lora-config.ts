/**
 * LoRA's configuration, one type for every part of it: the method's validated config (what a run's
 * methodConfig holds and its run id hashes), what injection puts on the model (lora-inject.ts) and
 * what the PEFT and loralib formats write and read (lora-peft.ts, loralib.ts).
 */
import { z } from 'zod';

/** The matrices LoRA can adapt, in the order configs, artifacts and tables list them. */
export const LORA_TARGETS = ['q', 'k', 'v', 'o', 'ffn1', 'ffn2'] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

export interface LoraConfig {
  r: number;
  /** Scaling is α/r (paper Section 4.1). */
  alpha: number;
  dropout: number;
  /** In LORA_TARGETS order, no repeats. */
  targets: LoraTarget[];
  /** Block indices to adapt, ascending; all blocks when absent. */
  layers?: number[];
}

const unique = <T>(xs: T[]): boolean => new Set(xs).size === xs.length;

/**
 * The method config at the boundary (spec, CLI, artifact metadata). The output keeps `layers` as a key
 * (undefined for all blocks); JSON and run ids drop it, so a config without layers hashes as before.
 */
export const loraSchema = z
  .object({
    r: z.number().int().positive().default(8),
    /** Defaults to r (scaling α/r = 1); the paper sets α to the first r it tries (Section 4.1). */
    alpha: z.number().positive().optional(),
    dropout: z.number().min(0).lt(1).default(0),
    targets: z.array(z.enum(LORA_TARGETS)).min(1).refine(unique, 'targets must not repeat').default(['q', 'v']),
    layers: z.array(z.number().int().nonnegative()).min(1).refine(unique, 'layers must not repeat').optional(),
  })
  .strict()
  .transform(
    (c): LoraConfig => ({
      r: c.r,
      alpha: c.alpha ?? c.r,
      dropout: c.dropout,
      targets: LORA_TARGETS.filter((t) => c.targets.includes(t)),
      layers: c.layers?.slice().sort((a, b) => a - b),
    }),
  );
