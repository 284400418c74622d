/**
 * CIDEr as e2e-metrics runs it: pycocoevalcap `Cider` (cider/cider.py + cider_scorer.py,
 * the coco-caption code that is in fact CIDEr-D: clipped tf-idf vectors and a Gaussian
 * length penalty, sigma = 6, scores x10). The `CiderD` class with its other corpus
 * handling is not what COCOEvalCap calls.
 *
 * - tokens: Python `str.split()` of the COCO-tokenized caption; n-grams n = 1..4;
 * - document frequency: number of instances whose reference set contains the n-gram;
 * - weight: tf * (ln N - ln max(1, df)), N = number of instances;
 * - per n: sum over hypothesis n-grams of min(v_hyp, v_ref) * v_ref / (|v_hyp| |v_ref|)
 *   (0 when a norm is 0), times exp(-delta^2 / (2 sigma^2)) where delta is the difference
 *   of the bigram counts (the code's `length` counts 2-grams);
 * - instance score: mean over n, summed over references, / number of references, x 10;
 * - corpus score: mean over instances.
 */

const N = 4;
const SIGMA = 6.0;
const PY_WS = /[\t\n\x0B\f\r\x1C-\x1F \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+/;

/** Python `str.split()` with no argument. */
function pySplit(s: string): string[] {
  return s.split(PY_WS).filter((w) => w !== '');
}

type Counts = Map<string, number>;

/** `precook`: counts of all 1..4-grams, keyed by the space-joined words. */
function precook(s: string): Counts {
  const words = pySplit(s);
  const counts: Counts = new Map();
  for (let k = 1; k <= N; k++) {
    for (let i = 0; i + k <= words.length; i++) {
      const g = words.slice(i, i + k).join(' ');
      counts.set(g, (counts.get(g) ?? 0) + 1);
    }
  }
  return counts;
}

interface Vec {
  vec: Array<Map<string, number>>;
  norm: number[];
  length: number;
}

function order(gram: string): number {
  let n = 1;
  for (let i = 0; i < gram.length; i++) if (gram.charCodeAt(i) === 32) n++;
  return n;
}

/** CIDEr of tokenized hypotheses against tokenized references (one list per instance). */
export function cider(tokenizedRefs: string[][], tokenizedHyps: string[]): { score: number; scores: number[] } {
  const crefs = tokenizedRefs.map((refs) => refs.map(precook));
  const ctest = tokenizedHyps.map(precook);

  const df = new Map<string, number>();
  for (const refs of crefs) {
    const seen = new Set<string>();
    for (const r of refs) for (const g of r.keys()) seen.add(g);
    for (const g of seen) df.set(g, (df.get(g) ?? 0) + 1);
  }
  const refLen = Math.log(crefs.length);

  const counts2vec = (cnts: Counts): Vec => {
    const vec = Array.from({ length: N }, () => new Map<string, number>());
    const norm = new Array<number>(N).fill(0);
    let length = 0;
    for (const [g, tf] of cnts) {
      const d = Math.log(Math.max(1.0, df.get(g) ?? 0));
      const n = order(g) - 1;
      const v = tf * (refLen - d);
      vec[n].set(g, v);
      norm[n] += v ** 2;
      if (n === 1) length += tf;
    }
    return { vec, norm: norm.map(Math.sqrt), length };
  };

  const sim = (h: Vec, r: Vec): number[] => {
    const delta = h.length - r.length;
    const val = new Array<number>(N).fill(0);
    for (let n = 0; n < N; n++) {
      for (const [g, vh] of h.vec[n]) {
        const vr = r.vec[n].get(g) ?? 0;
        val[n] += Math.min(vh, vr) * vr;
      }
      if (h.norm[n] !== 0 && r.norm[n] !== 0) val[n] /= h.norm[n] * r.norm[n];
      val[n] *= Math.E ** (-(delta ** 2) / (2 * SIGMA ** 2));
    }
    return val;
  };

  const scores = ctest.map((test, i) => {
    const h = counts2vec(test);
    const score = new Array<number>(N).fill(0);
    for (const ref of crefs[i]) {
      const s = sim(h, counts2vec(ref));
      for (let n = 0; n < N; n++) score[n] += s[n];
    }
    let avg = score.reduce((a, b) => a + b, 0) / N;
    avg /= crefs[i].length;
    avg *= 10.0;
    return avg;
  });
  return { score: scores.reduce((a, b) => a + b, 0) / scores.length, scores };
}
