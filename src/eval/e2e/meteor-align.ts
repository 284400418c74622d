/**
 * METEOR 1.5 word alignment (`edu.cmu.meteor.aligner.Aligner`) for the modules exact,
 * stem and synonym, ported from the Java source including its quirks:
 *
 * - Matchers run in module order and append, for every reference position j, the
 *   candidate matches with every hypothesis position i (ExactMatcher: same word;
 *   StemMatcher: different words, same Snowball stem; SynonymMatcher: different words
 *   sharing a synset of the word or of its base form). Identical sentences use the exact
 *   module only.
 * - Matches whose words are covered by no other candidate on either side are fixed.
 * - The rest is a beam search (beam 40) over reference positions. Paths are ranked by
 *   `PARTIAL_COMPARE_TOTAL`: more weighted matched words (matches1 + matches2, Java ints
 *   updated with `+=` of length x weight, weights 1.0 exact and 0.5 otherwise, so every
 *   addition is truncated), then fewer chunks, then smaller distance; the sort is stable.
 *   As in the Java code, the distance of a newly chosen match is added to the parent path.
 * - Chunks of the final alignment are recounted from its matches (`getCountAndChunks`).
 *
 * Line 1 is the hypothesis ("test"), line 2 the reference; matches are indexed by
 * reference position.
 */
import { snowballEnglish } from './snowball-english.ts';
import type { SynonymDictionary } from './wordnet-synonyms.ts';

const MODULE_EXACT = 0;
const MODULE_STEM = 1;
const MODULE_SYNONYM = 2;

const BEAM_SIZE = 40;
/** MeteorScorer.loadConfiguration: aligner weights 1.0 for exact, 0.5 for the other modules. */
const ALIGN_WEIGHTS = [1.0, 0.5, 0.5];

export interface Match {
  module: number;
  start: number; // reference position
  length: number;
  matchStart: number; // hypothesis position
  matchLength: number;
}

export interface AlignmentResult {
  /** matches[j]: the match starting at reference position j, if any. */
  matches: Array<Match | null>;
  /** Per module: matched content / function words in hypothesis (1) and reference (2). */
  contentMatches1: number[];
  contentMatches2: number[];
  functionMatches1: number[];
  functionMatches2: number[];
  functionWords1: number;
  functionWords2: number;
  chunks: number;
}

/** `PartialAlignment`. */
class Path {
  constructor(
    public matches: Array<Match | null>,
    public used1: Uint8Array,
    public used2: Uint8Array,
    public matches1 = 0,
    public matches2 = 0,
    public chunks = 0,
    public idx = 0,
    public lastMatchEnd = -1,
    public distance = 0,
  ) {}

  copy(): Path {
    return new Path(this.matches.slice(), this.used1.slice(), this.used2.slice(), this.matches1, this.matches2, this.chunks, this.idx, this.lastMatchEnd, this.distance);
  }
}

/** `Constants.PARTIAL_COMPARE_TOTAL`. */
function compare(x: Path, y: Path): number {
  const matchDiff = y.matches1 + y.matches2 - (x.matches1 + x.matches2);
  if (matchDiff > 0) return 1;
  if (matchDiff < 0) return -1;
  const chunkDiff = x.chunks - y.chunks;
  if (chunkDiff !== 0) return chunkDiff;
  return x.distance - y.distance;
}

/** Java `int += double`: the sum is truncated towards zero. */
const addInt = (a: number, b: number): number => Math.trunc(a + b);

export interface AlignResources {
  synonyms: SynonymDictionary;
  functionWords: ReadonlySet<string>;
  stemCache: Map<string, string>;
  /** word -> synsets of the word and of its base form (filled lazily) */
  synCache?: Map<string, ReadonlySet<number>>;
}

function synsets(res: AlignResources, w: string): ReadonlySet<number> {
  res.synCache ??= new Map();
  let s = res.synCache.get(w);
  if (s === undefined) {
    s = new Set([...res.synonyms.getSynSets(w), ...res.synonyms.getStemSynSets(w)]);
    res.synCache.set(w, s);
  }
  return s;
}

function stem(res: AlignResources, w: string): string {
  let s = res.stemCache.get(w);
  if (s === undefined) {
    s = snowballEnglish(w);
    res.stemCache.set(w, s);
  }
  return s;
}

/** Aligns hypothesis words (line 1) with reference words (line 2). */
export function align(words1: string[], words2: string[], res: AlignResources, moduleCount = 3): AlignmentResult {
  const n1 = words1.length;
  const n2 = words2.length;
  const cand: Match[][] = Array.from({ length: n2 }, () => []);
  const cov1 = new Array<number>(n1).fill(0);
  const cov2 = new Array<number>(n2).fill(0);
  const add = (module: number, i: number, j: number): void => {
    cand[j].push({ module, start: j, length: 1, matchStart: i, matchLength: 1 });
    cov1[i]++;
    cov2[j]++;
  };
  const identical = n1 === n2 && words1.every((w, k) => w === words2[k]);
  const modsUsed = identical ? 1 : moduleCount;
  for (let mod = 0; mod < modsUsed; mod++) {
    if (mod === MODULE_EXACT) {
      for (let j = 0; j < n2; j++) for (let i = 0; i < n1; i++) if (words1[i] === words2[j]) add(mod, i, j);
    } else if (mod === MODULE_STEM) {
      const s1 = words1.map((w) => stem(res, w));
      const s2 = words2.map((w) => stem(res, w));
      for (let j = 0; j < n2; j++) for (let i = 0; i < n1; i++) if (s1[i] === s2[j] && words1[i] !== words2[j]) add(mod, i, j);
    } else if (mod === MODULE_SYNONYM) {
      const y1 = words1.map((w) => synsets(res, w));
      const y2 = words2.map((w) => synsets(res, w));
      for (let j = 0; j < n2; j++) {
        for (let i = 0; i < n1; i++) {
          let shared = false;
          for (const s of y1[i]) if (y2[j].has(s)) { shared = true; break; }
          if (shared && words1[i] !== words2[j]) add(mod, i, j);
        }
      }
    }
  }

  // One-to-one, non-overlapping matches are definite.
  const start = new Path(new Array<Match | null>(n2).fill(null), new Uint8Array(n1), new Uint8Array(n2));
  for (let j = 0; j < n2; j++) {
    if (cand[j].length !== 1) continue;
    const m = cand[j][0];
    if (cov2[j] === 1 && cov1[m.matchStart] === 1) {
      start.matches[j] = m;
      start.used2[j] = 1;
      start.used1[m.matchStart] = 1;
    }
  }
  const best = resolve(cand, start);

  const fw1 = words1.map((w) => res.functionWords.has(w.toLowerCase()));
  const fw2 = words2.map((w) => res.functionWords.has(w.toLowerCase()));
  const out: AlignmentResult = {
    matches: best.matches,
    contentMatches1: new Array<number>(moduleCount).fill(0),
    contentMatches2: new Array<number>(moduleCount).fill(0),
    functionMatches1: new Array<number>(moduleCount).fill(0),
    functionMatches2: new Array<number>(moduleCount).fill(0),
    functionWords1: fw1.filter(Boolean).length,
    functionWords2: fw2.filter(Boolean).length,
    chunks: 0,
  };
  for (const m of best.matches) {
    if (m === null) continue;
    for (let k = 0; k < m.matchLength; k++) (fw1[m.matchStart + k] ? out.functionMatches1 : out.contentMatches1)[m.module]++;
    for (let k = 0; k < m.length; k++) (fw2[m.start + k] ? out.functionMatches2 : out.contentMatches2)[m.module]++;
  }
  out.chunks = countChunks(best.matches);
  return out;
}

/** `Aligner.resolve`: beam search over reference positions. */
function resolve(cand: Match[][], start: Path): Path {
  let nextPaths: Path[] = [start];
  for (let current = 0; current <= cand.length; current++) {
    const paths = nextPaths;
    nextPaths = [];
    paths.sort(compare); // Array.prototype.sort is stable, like Collections.sort
    for (let rank = 0; rank < BEAM_SIZE && rank < paths.length; rank++) {
      const path = paths[rank];
      if (current === cand.length) {
        if (path.lastMatchEnd !== -1) path.chunks++;
        nextPaths.push(path);
        continue;
      }
      if (path.used2[current] === 1) {
        if (current < path.idx) {
          nextPaths.push(path);
        } else if (path.matches[path.idx] !== null) {
          const m = path.matches[path.idx] as Match;
          path.matches1 = addInt(path.matches1, m.matchLength * ALIGN_WEIGHTS[m.module]);
          path.matches2 = addInt(path.matches2, m.length * ALIGN_WEIGHTS[m.module]);
          if (path.lastMatchEnd !== -1 && m.matchStart !== path.lastMatchEnd) path.chunks++;
          path.idx = m.start + m.length;
          path.lastMatchEnd = m.matchStart + m.matchLength;
          path.distance += Math.abs(m.start - m.matchStart);
          nextPaths.push(path);
        }
        continue;
      }
      for (const m of cand[current]) {
        if (isUsed(path, m)) continue;
        const np = path.copy();
        for (let k = 0; k < m.length; k++) np.used2[m.start + k] = 1;
        for (let k = 0; k < m.matchLength; k++) np.used1[m.matchStart + k] = 1;
        np.matches[current] = m;
        np.matches1 = addInt(np.matches1, m.matchLength * ALIGN_WEIGHTS[m.module]);
        np.matches2 = addInt(np.matches2, m.length * ALIGN_WEIGHTS[m.module]);
        if (np.lastMatchEnd !== -1 && m.matchStart !== np.lastMatchEnd) np.chunks++;
        np.idx = m.start + m.length;
        np.lastMatchEnd = m.matchStart + m.matchLength;
        path.distance += Math.abs(m.start - m.matchStart); // sic: the parent path (Aligner.java)
        nextPaths.push(np);
      }
      if (path.lastMatchEnd !== -1) {
        path.chunks++;
        path.lastMatchEnd = -1;
      }
      path.idx++;
      nextPaths.push(path);
    }
    if (nextPaths.length === 0) nextPaths.push(paths[0]);
  }
  nextPaths.sort(compare);
  return nextPaths[0];
}

function isUsed(p: Path, m: Match): boolean {
  for (let k = 0; k < m.length; k++) if (p.used2[m.start + k] === 1) return true;
  for (let k = 0; k < m.matchLength; k++) if (p.used1[m.matchStart + k] === 1) return true;
  return false;
}

/** `getCountAndChunks`: chunks of an alignment, recounted along the reference. */
function countChunks(matches: Array<Match | null>): number {
  let chunks = 0;
  let idx = 0;
  let lastMatchEnd = -1;
  while (idx < matches.length) {
    const m = matches[idx];
    if (m === null) {
      if (lastMatchEnd !== -1) {
        chunks++;
        lastMatchEnd = -1;
      }
      idx++;
    } else {
      if (lastMatchEnd !== -1 && m.matchStart !== lastMatchEnd) chunks++;
      idx = m.start + m.length;
      lastMatchEnd = m.matchStart + m.matchLength;
    }
  }
  if (lastMatchEnd !== -1) chunks++;
  return chunks;
}
