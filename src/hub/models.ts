/**
 * A paper model as a local directory: the snapshot folder holding config.json, model.safetensors and
 * tokenizer.json, downloaded on first use and read from the cache (without any request) afterwards.
 * The folder is what `loadPretrained(dir)` and the tokenizer loader take.
 */
import { modelRequest } from './catalog.ts';
import type { HubOptions } from './session.ts';
import { ensureSnapshot } from './snapshot.ts';

export interface HubModelOptions extends HubOptions {
  /** Branch, tag or commit (default main). */
  revision?: string;
}

/** Directory of `name` (roberta-base, …, or owner/name) in the cache, fetching what is missing. */
export async function hubModelDir(name: string, opts: HubModelOptions = {}): Promise<string> {
  return (await ensureSnapshot(modelRequest(name, opts.revision), opts)).dir;
}
