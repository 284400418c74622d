/**
 * Canonical JSON: sorted keys, no whitespace, undefined properties left out, so equal values give equal
 * text whatever their key order. Run ids (train/run-identity.ts) and pretraining cache keys
 * (pretrain/cache.ts) hash it, and reports compare configs by it.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  // An array keeps its length: a hole or undefined item is null, as JSON.stringify writes it.
  if (Array.isArray(value)) return `[${Array.from(value, (v: unknown) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
