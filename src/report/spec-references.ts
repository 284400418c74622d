/**
 * A spec's references, checked when it is loaded (issue 23): every `paper:` names a row of the paper's
 * Table 2 or 3 (datasets/paper/), and every `cite:` names a reference CSV that exists. Both are
 * provenance the tables print next to our numbers, so a typo would silently join nothing.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadedSpec } from '../spec/load.ts';
import { findPaperRow, loadPaperTable, type PaperTableRow } from './paper-tables.ts';

/** Where cited CSVs live: the shared reference folder beside the repository (../shared/reference). */
const REFERENCE_DIR = fileURLToPath(new URL('../../../shared/reference/', import.meta.url));

/** Folders a `cite: { file }` may be in: the spec's own folder, then the shared reference folder. */
function citeCandidates(specFile: string, file: string, referenceDir = REFERENCE_DIR): string[] {
  if (isAbsolute(file)) return [file];
  return [resolve(dirname(specFile), file), join(referenceDir, file)];
}

export function checkSpecReferences(loaded: LoadedSpec, file: string, opts: { referenceDir?: string; paperRows?: readonly PaperTableRow[] } = {}): void {
  let rows = opts.paperRows;
  loaded.spec.grid.forEach((block, b) => {
    const paper = block.paper as Record<string, string> | undefined;
    if (paper !== undefined) {
      const key = { model: paper.model ?? '', method: paper.method ?? '', variant: paper.variant ?? '' };
      rows ??= [...loadPaperTable(2), ...loadPaperTable(3)];
      if (findPaperRow(rows, key) === undefined) {
        const sameModel = rows.filter((r) => r.model === key.model).map((r) => `${r.method}/${r.variant}`);
        const hint = sameModel.length > 0 ? `; rows of ${key.model}: ${sameModel.slice(0, 6).join(', ')}` : '';
        throw loaded.source.error(['grid', b, 'paper'], `no row (model ${key.model}, method ${key.method}, variant ${key.variant}) in the paper's Table 2 or 3 (datasets/paper/)${hint}`);
      }
    }
    (block.cite ?? []).forEach((c, i) => {
      const cited = (c as Record<string, string>).file;
      if (cited === undefined) throw loaded.source.error(['grid', b, 'cite', i], "a citation needs 'file:' (a reference CSV such as hyperparams-glue.csv)");
      const places = citeCandidates(file, cited, opts.referenceDir);
      if (!places.some((p) => existsSync(p))) {
        throw loaded.source.error(['grid', b, 'cite', i, 'file'], `cited file '${cited}' not found (looked in ${places.join(', ')}): fix the name`);
      }
    });
  });
}
