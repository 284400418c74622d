/**
 * JSON parsing that never rounds an integer.
 *
 * MLflow's service.proto declares experiment and run ids as `string`, and the tracking server
 * sends them quoted. But proxies, older servers and Databricks-style backends have been seen to
 * emit numeric ids, and experiment ids from some backends are 64-bit (> 2^53). `JSON.parse`
 * would silently round those, and a rounded experiment id points at a different experiment.
 * Node 20 has no `JSON.parse` source-text access, so we pre-scan the text and quote every
 * integer literal that is not a safe integer before handing it to `JSON.parse`. Such integers
 * therefore arrive as exact decimal strings; schemas at the boundary accept string | number.
 */

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** Parses JSON text; integer literals outside ±(2^53 − 1) become their exact decimal string. */
export function parseJsonExact(text: string): unknown {
  let out = '';
  let last = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // Skip a string literal, honouring backslash escapes, so digits inside strings stay put.
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i += 2;
        else if (d === 0x22) break;
        else i++;
      }
      i++;
      continue;
    }
    if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (m === null) {
        i++; // not a number token; JSON.parse below reports the syntax error
        continue;
      }
      const token = m[0];
      const isInteger = !/[.eE]/.test(token);
      if (isInteger && !Number.isSafeInteger(Number(token))) {
        out += text.slice(last, i) + '"' + token + '"';
        last = i + token.length;
      }
      i += token.length;
      continue;
    }
    i++;
  }
  return JSON.parse(last === 0 ? text : out + text.slice(last));
}
