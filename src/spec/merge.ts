/**
 * Layering of field blocks: later layers win, plain objects merge key by key (so a profile can
 * change `decoding.beam` without restating the rest), arrays and scalars are replaced, and `null`
 * removes what an earlier layer set (the field then falls back to TrainRunConfig's default).
 */

export type Plain = Record<string, unknown>;

export function isPlainObject(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function clone<T>(v: T): T {
  return v === undefined ? v : (structuredClone(v) as T);
}

/**
 * Objects that name one thing and are replaced whole: `initFrom: { checkpoint: … }` over an earlier
 * `{ task: mnli }` must not become both.
 */
const REPLACED_WHOLE: readonly string[] = ['initFrom'];

/** Returns a new object: `base` with `layer` applied. `null` in `layer` deletes the key. */
function mergeLayer(base: Plain, layer: Plain | null | undefined): Plain {
  const out: Plain = { ...base };
  if (layer === null || layer === undefined) return out;
  for (const [k, v] of Object.entries(layer)) {
    if (v === undefined) continue;
    if (v === null) delete out[k];
    else if (isPlainObject(v) && isPlainObject(out[k]) && !REPLACED_WHOLE.includes(k)) out[k] = mergeLayer(out[k] as Plain, v);
    else if (isPlainObject(v)) out[k] = mergeLayer({}, v);
    else out[k] = clone(v);
  }
  return out;
}

export function mergeLayers(...layers: (Plain | null | undefined)[]): Plain {
  return layers.reduce<Plain>((acc, l) => mergeLayer(acc, l), {});
}
