/**
 * A unified-style line diff (`@@ -a,n +b,m @@`, ' ' / '-' / '+' lines) for short texts, such as a
 * generated README block against the one checked in: enough to see which lines changed without
 * a diff dependency. Longest common subsequence over lines, O(n·m): meant for texts of hundreds of
 * lines, not files of millions.
 */

type Op = { kind: ' ' | '-' | '+'; line: string; a: number; b: number };

function lineOps(a: readonly string[], b: readonly string[]): Op[] {
  // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) ops.push({ kind: ' ', line: a[i], a: i++, b: j++ });
    // Removals before additions, as diff(1) prints a changed line.
    else if (i < a.length && (j === b.length || lcs[i + 1][j] >= lcs[i][j + 1])) ops.push({ kind: '-', line: a[i], a: i++, b: j });
    else ops.push({ kind: '+', line: b[j], a: i, b: j++ });
  }
  return ops;
}

export interface LineDiff {
  /** Lines only in the old text / only in the new one. */
  removed: number;
  added: number;
  /** Unified-style hunks (without the ---/+++ header); empty when the texts are equal. */
  lines: string[];
}

/**
 * The lines that differ between `before` and `after`, each hunk with `context` unchanged lines around
 * it; `offset`: lines before both texts in the file they are part of, so hunk headers give its line numbers.
 */
export function lineDiff(before: string, after: string, context = 2, offset = 0): LineDiff {
  const ops = lineOps(before.split('\n'), after.split('\n'));
  const changed = ops.map((o, k) => (o.kind !== ' ' ? k : -1)).filter((k) => k >= 0);
  const out: LineDiff = { removed: ops.filter((o) => o.kind === '-').length, added: ops.filter((o) => o.kind === '+').length, lines: [] };
  let k = 0;
  while (k < changed.length) {
    // One hunk: changes no more than 2·context unchanged lines apart.
    let end = k;
    while (end + 1 < changed.length && changed[end + 1] - changed[end] <= 2 * context + 1) end++;
    const from = Math.max(0, changed[k] - context);
    const to = Math.min(ops.length - 1, changed[end] + context);
    const hunk = ops.slice(from, to + 1);
    const aLen = hunk.filter((o) => o.kind !== '+').length;
    const bLen = hunk.filter((o) => o.kind !== '-').length;
    out.lines.push(`@@ -${offset + hunk[0].a + 1},${aLen} +${offset + hunk[0].b + 1},${bLen} @@`);
    for (const o of hunk) out.lines.push(`${o.kind}${o.line}`);
    k = end + 1;
  }
  return out;
}
