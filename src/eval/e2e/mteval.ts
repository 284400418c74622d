/**
 * BLEU and NIST exactly as the E2E challenge computed them: `measure_scores.py`
 * (tuetschek/e2e-metrics) writes the data into SGML files and runs its patched
 * `mteval-v13a-sig.pl` with default options (no -c, BLEU smoothing on, brevity penalty
 * "closest", default — not international — tokenization). This file ports that Perl:
 *
 * - `create_mteval_file`: references are transposed into reference sets `ref_0`,
 *   `ref_1`, … (or `ref` if every instance has one reference); instances with fewer
 *   references are padded with empty segments, which the patched script ignores.
 * - `tokenization`: see `mtevalTokenize`.
 * - `compute_ngram_info`: NIST information weights from all reference segments.
 * - `score_segment` / `score_document` / `score_system`, `bleu_score`, `nist_score`,
 *   `nist_length_penalty`, `brevity_penalty_closest`.
 *
 * Only n-grams up to 5 are collected: the script's 6..9-grams never reach the returned
 * BLEU (cumulative 4-gram) or NIST (cumulative 5-gram) values.
 */

/** Perl's `\s` on UTF-8 strings (differs from JS `\s` in \x85 and \uFEFF). */
const PERL_WS = '\\t\\n\\x0B\\f\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000';
const PERL_WS_RUN = new RegExp(`[${PERL_WS}]+`, 'g');
const PERL_WS_LEAD = new RegExp(`^[${PERL_WS}]+`);
const PERL_WS_TRAIL = new RegExp(`[${PERL_WS}]+$`);

const MAX_N_BLEU = 4;
const MAX_N_NIST = 5;

/**
 * The default `tokenization` sub of mteval-v13a(-sig).pl, applied to a segment after the
 * SGML reader has squeezed its whitespace (`$span =~ s/[\s\n\r]+/ /g`).
 */
export function mtevalTokenize(segment: string): string {
  let t = segment.replace(PERL_WS_RUN, ' ');
  t = t.replace(/<skipped>/g, ''); // strip "skipped" tags
  t = t.replace(/-\n/g, ''); // end-of-line hyphenation (no newlines are left here)
  t = t.replace(/\n/g, ' ');
  t = t.replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>');
  t = ` ${t} `;
  t = t.replace(/[A-Z]/g, (c) => c.toLowerCase()); // tr/[A-Z]/[a-z]/ : ASCII only
  t = t.replace(/([{-~[-\x60 -&(-+:-@/])/g, ' $1 '); // tokenize punctuation
  t = t.replace(/([^0-9])([.,])/g, '$1 $2 '); // period/comma unless preceded by a digit
  t = t.replace(/([.,])([^0-9])/g, ' $1 $2'); // period/comma unless followed by a digit
  t = t.replace(/([0-9])(-)/g, '$1 $2 '); // dash when preceded by a digit
  t = t.replace(PERL_WS_RUN, ' ');
  t = t.replace(PERL_WS_LEAD, '').replace(PERL_WS_TRAIL, '');
  return t;
}

/** Perl `split /\s+/, $s` on an already normalised string (no leading whitespace). */
function words(tokenized: string): string[] {
  return tokenized === '' ? [] : tokenized.split(' ');
}

/** `Words2Ngrams`: counts of all 1..maxN-grams, keyed by the space-joined words. */
function ngramCounts(ws: string[], maxN: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < ws.length; i++) {
    let gram = '';
    for (let j = 0; j < maxN && i + j < ws.length; j++) {
      gram = j === 0 ? ws[i] : `${gram} ${ws[i + j]}`;
      counts.set(gram, (counts.get(gram) ?? 0) + 1);
    }
  }
  return counts;
}

function gramOrder(gram: string): number {
  let n = 1;
  for (let i = 0; i < gram.length; i++) if (gram.charCodeAt(i) === 32) n++;
  return n;
}

/** `brevity_penalty_closest`: closest reference length, ties to the shorter; empty refs skipped. */
function closestLength(current: number, refLen: number, tstLen: number): number {
  if (!refLen) return current;
  const dRef = Math.abs(tstLen - refLen);
  const dCur = Math.abs(tstLen - current);
  if (dRef < dCur) return refLen;
  if (dRef === dCur && current > refLen) return refLen;
  return current;
}

/** `nist_length_penalty`. */
function nistLengthPenalty(ratio: number): number {
  if (ratio >= 1) return 1;
  if (ratio <= 0) return 0;
  const ratioX = 1.5;
  const scoreX = 0.5;
  const beta = -Math.log(scoreX) / Math.log(ratioX) / Math.log(ratioX);
  return Math.exp(-beta * Math.log(ratio) * Math.log(ratio));
}

/** Transposes per-instance references into the padded reference sets of `create_mteval_file`, in the script's (string-sorted) order. */
function referenceSetsInScriptOrder(references: string[][]): string[][] {
  const setCount = Math.max(...references.map((r) => r.length));
  const ids = Array.from({ length: setCount }, (_, k) => ({ k, id: setCount === 1 ? 'ref' : `ref_${k}` }));
  // check_MT_data: @ref_sys = sort keys %ref_data (string sort: ref_0, ref_1, ref_10, ref_2, ...)
  ids.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return ids.map(({ k }) => references.map((inst) => inst[k] ?? ''));
}

export interface MtevalResult {
  /** Smoothed corpus BLEU (mteval `bleu_score`, cumulative 4-gram), 0..1. */
  bleu: number;
  /** Corpus NIST (cumulative 5-gram). */
  nist: number;
}

/**
 * Corpus BLEU and NIST of `hypotheses` against `references` (one list of references per
 * instance), as mteval-v13a-sig.pl reports them for a single document.
 */
export function mtevalScores(references: string[][], hypotheses: string[]): MtevalResult {
  if (references.length !== hypotheses.length) throw new Error('mtevalScores: references and hypotheses differ in length');
  const refSets = referenceSetsInScriptOrder(references); // [set][segment] raw text
  const tokRefSets = refSets.map((set) => set.map((seg) => words(mtevalTokenize(seg))));

  // compute_ngram_info: counts over every reference segment of the corpus.
  const refNgramTotals = new Map<string, number>();
  let totWords = 0;
  for (const set of tokRefSets) {
    for (const ws of set) {
      totWords += ws.length;
      for (const [g, c] of ngramCounts(ws, MAX_N_NIST)) refNgramTotals.set(g, (refNgramTotals.get(g) ?? 0) + c);
    }
  }
  const info = (gram: string): number => {
    const cut = gram.lastIndexOf(' ');
    const history = cut < 0 ? '' : gram.slice(0, cut);
    const count = refNgramTotals.get(gram) as number;
    // Perl truthiness: a history equal to '' or '0' counts as no history.
    const denom = history !== '' && history !== '0' ? (refNgramTotals.get(history) as number) : totWords;
    return -Math.log(count / denom) / Math.log(2);
  };
  const infoCache = new Map<string, number>();
  const cachedInfo = (gram: string): number => {
    let v = infoCache.get(gram);
    if (v === undefined) {
      v = info(gram);
      infoCache.set(gram, v);
    }
    return v;
  };

  const match = new Array<number>(MAX_N_NIST + 1).fill(0);
  const tstCount = new Array<number>(MAX_N_NIST + 1).fill(0);
  const tstInfo = new Array<number>(MAX_N_NIST + 1).fill(0);
  let refWords = 0; // cumulative ref_count[1]
  let refLength = 0; // cumulative closest reference length (BLEU)
  let nonEmptyRefs = 0;

  for (let seg = 0; seg < hypotheses.length; seg++) {
    const tst = words(mtevalTokenize(hypotheses[seg]));
    const tstNgrams = ngramCounts(tst, MAX_N_NIST);
    for (let n = 1; n <= MAX_N_NIST; n++) tstCount[n] += n <= tst.length ? tst.length - n + 1 : 0;

    const refMax = new Map<string, number>();
    let segRefLength: number | undefined;
    for (const set of tokRefSets) {
      const ws = set[seg];
      if (ws.length > 0) nonEmptyRefs++; // '$ref_seg ne ""'
      refWords += ws.length;
      for (const [g, c] of ngramCounts(ws, MAX_N_NIST)) {
        const prev = refMax.get(g);
        if (prev === undefined || c > prev) refMax.set(g, c);
      }
      segRefLength = segRefLength === undefined ? ws.length : closestLength(segRefLength, ws.length, tst.length);
    }
    refLength += segRefLength ?? 0;

    for (const [g, c] of tstNgrams) {
      const maxRef = refMax.get(g);
      if (maxRef === undefined) continue;
      const n = gramOrder(g);
      const clipped = Math.min(c, maxRef);
      tstInfo[n] += cachedInfo(g) * clipped;
      match[n] += clipped;
    }
  }

  // bleu_score (smoothed, v13a)
  const expLenScore = tstCount[1] > 0 ? Math.exp(Math.min(0, 1 - refLength / tstCount[1])) : 0;
  let smooth = 1;
  let score = 0;
  for (let j = 1; j <= MAX_N_BLEU; j++) {
    let iscore: number;
    if (tstCount[j] === 0) iscore = 0;
    else if (match[j] === 0) {
      smooth *= 2;
      iscore = Math.log(1 / (smooth * tstCount[j]));
    } else iscore = Math.log(match[j] / tstCount[j]);
    score += iscore;
  }
  const bleu = Math.exp(score / MAX_N_BLEU) * expLenScore;

  // nist_score with $nsys = non-empty references / segments (score_system)
  if (refWords === 0) throw new Error('mtevalScores: the references contain no words (mteval would divide by zero)');
  const nsys = nonEmptyRefs / hypotheses.length;
  let nist = 0;
  for (let n = 1; n <= MAX_N_NIST; n++) nist += tstInfo[n] / Math.max(tstCount[n], 1);
  nist *= nistLengthPenalty(tstCount[1] / (refWords / nsys));
  return { bleu, nist };
}
