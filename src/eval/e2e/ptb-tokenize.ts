/**
 * pycocoevalcap `tokenizer/ptbtokenizer.py` (as shipped with e2e-metrics): all captions
 * of one side (references, or system outputs) are newline-joined into one text, run
 * through `PTBTokenizer -preserveLines -lowerCase`, and every output line is split on
 * single spaces, stripped of the punctuation tokens in `PUNCTUATIONS` (case-sensitive,
 * so the lower-cased `-lrb-`, `-rrb-` survive) and re-joined with single spaces.
 */
import { ptbLex } from './ptb-lexer.ts';

/** `PUNCTUATIONS` of ptbtokenizer.py. */
const PUNCTUATIONS = new Set(["''", "'", '``', '`', '-LRB-', '-RRB-', '-LCB-', '-RCB-', '.', '?', '!', ',', ':', '-', '--', '...', ';']);

/**
 * Tokenizes a list of captions the way COCOEvalCap does for one side. The captions are
 * scanned as a single block (trailing context of the lexer can see the next caption).
 * The Python wrapper replaces '\n' in captions by a space; other line separators are
 * replaced too so that captions and output lines always stay aligned (the file loaders
 * never produce them).
 */
export function cocoTokenize(captions: string[]): string[] {
  const block = captions.map((c) => c.replace(/\r\n|[\n\r\u2028\u2029\u000B\u000C\u0085]/g, ' ')).join('\n');
  const tokens = ptbLex(block);
  const lines: string[][] = [[]];
  for (const tok of tokens) {
    if (tok === '\n') lines.push([]);
    else lines[lines.length - 1].push(tok.toLowerCase());
  }
  return captions.map((_, i) => (lines[i] ?? []).filter((w) => !PUNCTUATIONS.has(w)).join(' '));
}
