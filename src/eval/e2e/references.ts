/**
 * Loaders for the official E2E NLG Challenge plain-text files, reading them exactly as
 * `read_lines` / `load_data` in tuetschek/e2e-metrics `measure_scores.py` do:
 *
 * - the file is decoded as UTF-8 (strict; a byte-order mark is kept, not stripped) and
 *   split into lines the way Python's `codecs` reader does, i.e. with `str.splitlines()`
 *   line boundaries (\n, \r, \r\n, \v, \f, \x1c-\x1e, \x85, \u2028, \u2029);
 * - every line is stripped with Python `str.strip()` semantics;
 * - references (`multi_ref=True`): one reference per line, an empty line starts a new
 *   instance, a trailing empty instance is dropped; a file that yields a single instance
 *   is re-read as single-reference data (one instance per line), as `load_data` does;
 * - outputs: one per line, an empty line is an empty output.
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../../util/errors.ts';

/** Characters for which Python's `str.isspace()` is true (what `str.strip()` removes). */
const PY_SPACE = '\\t\\n\\x0B\\f\\r\\x1C-\\x1F \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000';
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');

/** Python `str.strip()` with no argument. */
export function pyStrip(s: string): string {
  return s.replace(PY_STRIP, '');
}

/** Python `str.splitlines()` (without line ends): the boundaries the `codecs` reader uses. */
function pySplitLines(text: string): string[] {
  const lines = text.split(/\r\n|[\n\r\x0B\f\x1C\x1D\x1E\x85\u2028\u2029]/);
  // splitlines() yields no empty item after a final line boundary (and none for '').
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function readUtf8(path: string, what: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new UserError(`cannot read ${what} file '${path}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; check the path`);
  }
  try {
    // A leading U+FEFF is dropped (the decoder's default): it is an encoding mark an editor added, not
    // text, and keeping it (as Python's codecs 'UTF-8' reader would) changes the first hypothesis's
    // first token and so BLEU; the data readers (data-dir.ts readDataText) drop it too.
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UserError(`${what} file '${path}' is not valid UTF-8; re-save it as UTF-8 text`);
  }
}

/**
 * Parses the multi-reference text format (see the module comment). Throws a UserError
 * for an empty instance (two consecutive empty lines, or a leading empty line): the
 * official scorer would crash on it in pycocoevalcap (`assert len(ref) > 0`).
 */
export function parseReferences(text: string, source = '<references>'): string[][] {
  const lines = pySplitLines(text);
  const buf: string[][] = [[]];
  const startLine: number[] = [1];
  lines.forEach((raw, i) => {
    const line = pyStrip(raw);
    if (line === '') {
      buf.push([]);
      startLine.push(i + 2);
    } else {
      buf[buf.length - 1].push(line);
    }
  });
  if (buf[buf.length - 1].length === 0) {
    buf.pop();
    startLine.pop();
  }
  const empty = buf.findIndex((inst) => inst.length === 0);
  if (empty >= 0) {
    throw new UserError(
      `${source}: line ${startLine[empty]}: an instance without references (extra empty line); separate instances by exactly one empty line`,
    );
  }
  if (buf.length === 0) throw new UserError(`${source}: no references found; the file is empty`);
  // measure_scores.py: "this was apparently a single-ref file -> fix the structure"
  if (buf.length === 1) return buf[0].map((ref) => [ref]);
  return buf;
}

/** Parses a system-output file: one output per line, an empty line is an empty output. */
export function parseHypotheses(text: string): string[] {
  return pySplitLines(text).map(pyStrip);
}

/** Loads an official plain-text multi-reference file. */
function loadReferences(path: string): string[][] {
  return parseReferences(readUtf8(path, 'references'), path);
}

/** Loads a system-output file (one output per line). */
function loadHypotheses(path: string): string[] {
  return parseHypotheses(readUtf8(path, 'outputs'));
}

/** Loads both files and checks that they describe the same number of instances. */
export function loadE2EData(refsPath: string, hypsPath: string): { references: string[][]; hypotheses: string[] } {
  const references = loadReferences(refsPath);
  const hypotheses = loadHypotheses(hypsPath);
  if (references.length !== hypotheses.length) {
    throw new UserError(
      `instance counts differ: '${refsPath}' has ${references.length} reference groups, '${hypsPath}' has ${hypotheses.length} outputs; ` +
        'give one output line per instance (instances in the references file are separated by one empty line)',
    );
  }
  return { references, hypotheses };
}
