/**
 * The identity of a run: a hash of its fully resolved config. The cell key leaves out the seed
 * (and the bookkeeping fields), so the seeds of one table cell share it. Canonical JSON (sorted
 * keys, no whitespace) makes the hash independent of key order.
 */
import { createHash } from 'node:crypto';
import type { TrainRunConfig } from './run-config.ts';

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** Fields that say where data lives, not what is computed: they do not change a run's identity. */
const NOT_IDENTITY = ['dataDir'] as const;

export function runKeys(config: TrainRunConfig): { runId: string; cellKey: string } {
  const core: Record<string, unknown> = { ...config };
  for (const k of NOT_IDENTITY) delete core[k];
  const runId = hash(canonicalJson(core));
  delete core.seed;
  return { runId, cellKey: hash(canonicalJson(core)) };
}
