/**
 * ROUGE-L as pycocoevalcap `rouge/rouge.py` computes it on COCO-tokenized captions:
 * tokens are `caption.split(" ")` (so an empty caption is one empty token), LCS length
 * against every reference, precision and recall maximised independently over the
 * references, F with beta = 1.2, corpus score = mean over instances.
 */

const BETA = 1.2;

/** Length of the longest common subsequence of two token lists (`my_lcs`). */
export function lcsLength(a: string[], b: string[]): number {
  const [long, short] = a.length >= b.length ? [a, b] : [b, a];
  let prev = new Array<number>(short.length + 1).fill(0);
  let cur = new Array<number>(short.length + 1).fill(0);
  for (let i = 1; i <= long.length; i++) {
    for (let j = 1; j <= short.length; j++) {
      cur[j] = long[i - 1] === short[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[short.length];
}

/** `Rouge.calc_score` for one tokenized candidate and its tokenized references. */
function rougeLSentence(candidate: string, references: string[]): number {
  const tokC = candidate.split(' ');
  let precMax = -Infinity;
  let recMax = -Infinity;
  for (const ref of references) {
    const tokR = ref.split(' ');
    const lcs = lcsLength(tokR, tokC);
    precMax = Math.max(precMax, lcs / tokC.length);
    recMax = Math.max(recMax, lcs / tokR.length);
  }
  if (precMax !== 0 && recMax !== 0) {
    return ((1 + BETA ** 2) * precMax * recMax) / (recMax + BETA ** 2 * precMax);
  }
  return 0;
}

/** Corpus ROUGE-L: mean of the per-instance scores (`Rouge.compute_score`). */
export function rougeL(tokenizedRefs: string[][], tokenizedHyps: string[]): { score: number; scores: number[] } {
  const scores = tokenizedHyps.map((hyp, i) => rougeLSentence(hyp, tokenizedRefs[i]));
  return { score: mean(scores), scores };
}

function mean(xs: number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}
