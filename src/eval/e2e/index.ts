/**
 * The E2E NLG Challenge metrics, equal to the official scorer (tuetschek/e2e-metrics
 * `measure_scores.py`): BLEU and NIST from mteval-v13a-sig.pl, METEOR, ROUGE-L and CIDEr
 * from pycocoevalcap on PTB-tokenized captions. Scales are the official ones
 * (BLEU 0-1, NIST ~8, METEOR 0-1, ROUGE_L 0-1, CIDEr ~2.5).
 *
 * METEOR runs without the paraphrase module (the English paraphrase table is not
 * obtainable), i.e. it corresponds to METEOR 1.5 with modules exact, stem, synonym.
 */
import { UserError } from '../../util/errors.ts';
import type { E2eMetricName } from '../../data/e2e.ts';
import { cider } from './cider.ts';
import { meteor } from './meteor.ts';
import { mtevalScores } from './mteval.ts';
import { cocoTokenize } from './ptb-tokenize.ts';
import { rougeL } from './rouge.ts';

export { loadE2EData } from './references.ts';

/** One score per E2E metric (the names are data's, as GLUE's metric names are: data/e2e.ts). */
export interface E2EScores extends Record<E2eMetricName, number> {
  BLEU: number;
  NIST: number;
  /** METEOR 1.5 without the paraphrase module (METEOR_no_paraphrase). */
  METEOR: number;
  ROUGE_L: number;
  CIDEr: number;
}

function validate(references: unknown, hypotheses: unknown): asserts references is string[][] {
  if (!Array.isArray(references) || !Array.isArray(hypotheses)) throw new UserError('scoreE2E: references must be string[][] and hypotheses string[]');
  if (references.length !== hypotheses.length) {
    throw new UserError(`scoreE2E: ${references.length} reference groups but ${hypotheses.length} outputs; give one output per instance`);
  }
  if (references.length === 0) throw new UserError('scoreE2E: no instances to score');
  references.forEach((refs, i) => {
    if (!Array.isArray(refs) || refs.length === 0) throw new UserError(`scoreE2E: instance ${i} has no references`);
    if (!refs.every((r) => typeof r === 'string')) throw new UserError(`scoreE2E: instance ${i} has a reference that is not a string`);
  });
  hypotheses.forEach((h, i) => {
    if (typeof h !== 'string') throw new UserError(`scoreE2E: output ${i} is not a string`);
  });
}

/** COCOEvalCap tokenization of both sides (references of all instances form one block). */
export function cocoTokenizeData(references: string[][], hypotheses: string[]): { refs: string[][]; hyps: string[] } {
  const flat = cocoTokenize(references.flat());
  const refs: string[][] = [];
  let k = 0;
  for (const group of references) {
    refs.push(flat.slice(k, k + group.length));
    k += group.length;
  }
  return { refs, hyps: cocoTokenize(hypotheses) };
}

/** Scores system outputs (one per instance) against the instances' references. */
export function scoreE2E(references: string[][], hypotheses: string[]): E2EScores {
  validate(references, hypotheses);
  const { bleu, nist } = mtevalScores(references, hypotheses);
  const tok = cocoTokenizeData(references, hypotheses);
  return {
    BLEU: bleu,
    NIST: nist,
    METEOR: meteor(tok.refs, tok.hyps).score,
    ROUGE_L: rougeL(tok.refs, tok.hyps).score,
    CIDEr: cider(tok.refs, tok.hyps).score,
  };
}
