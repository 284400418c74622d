/**
 * METEOR 1.5 as COCOEvalCap runs it in e2e-metrics (`java -jar meteor-1.5.jar - - -stdio
 * -l en -norm`), restricted to the modules exact, stem and synonym: the paraphrase table
 * `paraphrase-en.gz` is not obtainable, so this corresponds to the fixtures'
 * `METEOR_no_paraphrase` (METEOR 1.5 with `-m "exact stem synonym"`).
 *
 * - Inputs are the COCO-tokenized captions. The wrapper (`meteor.py` `_stat`) removes
 *   '|||' from the hypothesis and replaces double spaces; METEOR trims every field.
 * - Each line is normalised (`-norm`), lower-cased and aligned against every reference;
 *   the reference with the highest segment score is kept (first one on ties).
 * - Parameters of the default `rank` task for English: alpha 0.85, beta 0.20,
 *   gamma 0.60, delta 0.75; module weights 1.0 (exact), 0.6 (stem), 0.8 (synonym).
 * - Corpus score: per-segment statistics summed as `MeteorStats.addStats` does (chunks
 *   of perfectly matched segments are not added), then the score formula once.
 */
import { align, type AlignResources } from './meteor-align.ts';
import { ENGLISH_FUNCTION_WORDS } from './meteor-function-words.ts';
import { javaTrim, meteorWords } from './meteor-normalize.ts';
import { loadWordNet30Synonyms } from './wordnet-files.ts';

const ALPHA = 0.85;
const BETA = 0.2;
const GAMMA = 0.6;
const DELTA = 0.75;
const MODULE_WEIGHTS = [1.0, 0.6, 0.8];

/** METEOR sufficient statistics (`MeteorStats`, word-based). */
export interface MeteorStats {
  testLength: number;
  referenceLength: number;
  testFunctionWords: number;
  referenceFunctionWords: number;
  testTotalMatches: number;
  referenceTotalMatches: number;
  testStageMatchesContent: number[];
  referenceStageMatchesContent: number[];
  testStageMatchesFunction: number[];
  referenceStageMatchesFunction: number[];
  chunks: number;
  testWordMatches: number;
  referenceWordMatches: number;
}

const zeroStats = (): MeteorStats => ({
  testLength: 0, referenceLength: 0, testFunctionWords: 0, referenceFunctionWords: 0,
  testTotalMatches: 0, referenceTotalMatches: 0,
  testStageMatchesContent: [0, 0, 0], referenceStageMatchesContent: [0, 0, 0],
  testStageMatchesFunction: [0, 0, 0], referenceStageMatchesFunction: [0, 0, 0],
  chunks: 0, testWordMatches: 0, referenceWordMatches: 0,
});

/** `MeteorScorer.computeMetrics`: the score of a set of statistics. */
export function meteorScore(s: MeteorStats): number {
  const testWeightedLength = DELTA * (s.testLength - s.testFunctionWords) + (1.0 - DELTA) * s.testFunctionWords;
  const referenceWeightedLength = DELTA * (s.referenceLength - s.referenceFunctionWords) + (1.0 - DELTA) * s.referenceFunctionWords;
  let testWeighted = 0;
  let referenceWeighted = 0;
  for (let i = 0; i < MODULE_WEIGHTS.length; i++) testWeighted += s.testStageMatchesContent[i] * MODULE_WEIGHTS[i] * DELTA;
  for (let i = 0; i < MODULE_WEIGHTS.length; i++) referenceWeighted += s.referenceStageMatchesContent[i] * MODULE_WEIGHTS[i] * DELTA;
  for (let i = 0; i < MODULE_WEIGHTS.length; i++) testWeighted += s.testStageMatchesFunction[i] * MODULE_WEIGHTS[i] * (1.0 - DELTA);
  for (let i = 0; i < MODULE_WEIGHTS.length; i++) referenceWeighted += s.referenceStageMatchesFunction[i] * MODULE_WEIGHTS[i] * (1.0 - DELTA);
  const precision = testWeighted / testWeightedLength;
  const recall = referenceWeighted / referenceWeightedLength;
  const fMean = 1.0 / ((1.0 - ALPHA) / precision + ALPHA / recall);
  const frag =
    s.testTotalMatches === s.testLength && s.referenceTotalMatches === s.referenceLength && s.chunks === 1
      ? 0
      : s.chunks / ((s.testWordMatches + s.referenceWordMatches) / 2);
  const score = fMean * (1.0 - GAMMA * Math.pow(frag, BETA));
  return Number.isNaN(score) ? 0 : Math.max(score, 0.0); // Java Math.max(NaN-free score, 0)
}

/** `MeteorStats.addStats` into `agg`. */
function addStats(agg: MeteorStats, s: MeteorStats): void {
  agg.testLength += s.testLength;
  agg.referenceLength += s.referenceLength;
  agg.testFunctionWords += s.testFunctionWords;
  agg.referenceFunctionWords += s.referenceFunctionWords;
  agg.testTotalMatches += s.testTotalMatches;
  agg.referenceTotalMatches += s.referenceTotalMatches;
  for (let i = 0; i < 3; i++) {
    agg.testStageMatchesContent[i] += s.testStageMatchesContent[i];
    agg.referenceStageMatchesContent[i] += s.referenceStageMatchesContent[i];
    agg.testStageMatchesFunction[i] += s.testStageMatchesFunction[i];
    agg.referenceStageMatchesFunction[i] += s.referenceStageMatchesFunction[i];
  }
  if (!(s.testTotalMatches === s.testLength && s.referenceTotalMatches === s.referenceLength && s.chunks === 1.0)) agg.chunks += s.chunks;
  agg.testWordMatches += s.testWordMatches;
  agg.referenceWordMatches += s.referenceWordMatches;
}

/** `MeteorScorer.getMeteorStats(Alignment)` for one hypothesis/reference pair. */
export function pairStats(hyp: string[], ref: string[], res: AlignResources): MeteorStats {
  const a = align(hyp, ref, res);
  const s = zeroStats();
  s.testLength = hyp.length;
  s.referenceLength = ref.length;
  s.testFunctionWords = a.functionWords1;
  s.referenceFunctionWords = a.functionWords2;
  s.testStageMatchesContent = a.contentMatches1;
  s.referenceStageMatchesContent = a.contentMatches2;
  s.testStageMatchesFunction = a.functionMatches1;
  s.referenceStageMatchesFunction = a.functionMatches2;
  s.chunks = a.chunks;
  for (let i = 0; i < 3; i++) {
    s.testTotalMatches += a.contentMatches1[i] + a.functionMatches1[i];
    s.referenceTotalMatches += a.contentMatches2[i] + a.functionMatches2[i];
  }
  s.testWordMatches = s.testTotalMatches;
  s.referenceWordMatches = s.referenceTotalMatches;
  return s;
}

let defaultResources: AlignResources | undefined;

/** WordNet 3.0 synonyms, the function words and a stem cache (loaded once, ~0.3 s). */
export function meteorResources(): AlignResources {
  if (defaultResources === undefined) {
    defaultResources = {
      synonyms: loadWordNet30Synonyms(),
      functionWords: ENGLISH_FUNCTION_WORDS,
      stemCache: new Map(),
    };
  }
  return defaultResources;
}

/** METEOR's view of one field of a SCORE line: trimmed, normalised, lower-cased words. */
function fieldWords(field: string): string[] {
  return meteorWords(javaTrim(field));
}

/**
 * Corpus METEOR (exact + stem + synonym) of COCO-tokenized hypotheses against
 * COCO-tokenized references, with per-instance scores.
 */
export function meteor(tokenizedRefs: string[][], tokenizedHyps: string[], res: AlignResources = meteorResources()): { score: number; scores: number[] } {
  const agg = zeroStats();
  const scores: number[] = [];
  tokenizedHyps.forEach((hypRaw, k) => {
    const hyp = fieldWords(hypRaw.split('|||').join('').split('  ').join(' '));
    let best: MeteorStats | undefined;
    let bestScore = -1;
    for (const ref of tokenizedRefs[k]) {
      const st = pairStats(hyp, fieldWords(ref), res);
      const sc = meteorScore(st);
      if (sc > bestScore) {
        best = st;
        bestScore = sc;
      }
    }
    addStats(agg, best ?? zeroStats());
    scores.push(Math.max(bestScore, 0));
  });
  return { score: meteorScore(agg), scores };
}
