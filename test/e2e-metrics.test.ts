import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cider } from '../src/eval/e2e/cider.ts';
import { cocoTokenizeData, loadE2EData, scoreE2E } from '../src/eval/e2e/index.ts';
import { meteor, meteorResources, meteorScore, pairStats } from '../src/eval/e2e/meteor.ts';
import { meteorWords } from '../src/eval/e2e/meteor-normalize.ts';
import { mtevalScores, mtevalTokenize } from '../src/eval/e2e/mteval.ts';
import { ptbLex } from '../src/eval/e2e/ptb-lexer.ts';
import { cocoTokenize } from '../src/eval/e2e/ptb-tokenize.ts';
import { parseHypotheses, parseReferences } from '../src/eval/e2e/references.ts';
import { lcsLength, rougeL } from '../src/eval/e2e/rouge.ts';
import { snowballEnglish } from '../src/eval/e2e/snowball-english.ts';
import { UserError } from '../src/util/errors.ts';
import { sharedOrSkip } from './helpers/skip.ts';

const FIXTURES = fileURLToPath(new URL('../../shared/fixtures/e2e-metrics/', import.meta.url));
const REPO = fileURLToPath(new URL('../', import.meta.url));

interface Expected {
  BLEU_full_precision: number;
  NIST_full_precision: number;
  METEOR_no_paraphrase: number;
  ROUGE_L: number;
  CIDEr: number;
  instances: number;
  references: number;
}
const expected = (c: string): Expected => JSON.parse(readFileSync(join(FIXTURES, c, 'expected.json'), 'utf8')) as Expected;
const near = (actual: number, want: number, tol: number, what: string): void =>
  assert.ok(Math.abs(actual - want) <= tol, `${what}: got ${actual}, want ${want} (tolerance ${tol})`);

describe('E2E metrics: official fixtures (tuetschek/e2e-metrics measure_scores.py)', () => {
  before(function () {
    sharedOrSkip(this, 'fixtures/e2e-metrics');
  });
  for (const c of ['example-baseline', 'dev-template']) {
    it(`${c}: BLEU, NIST, ROUGE_L, CIDEr within 1e-6, METEOR within 0.005 of METEOR_no_paraphrase`, () => {
      const exp = expected(c);
      const { references, hypotheses } = loadE2EData(join(FIXTURES, c, 'refs.txt'), join(FIXTURES, c, 'hyps.txt'));
      assert.equal(references.length, exp.instances);
      assert.equal(references.flat().length, exp.references);
      const s = scoreE2E(references, hypotheses);
      near(s.BLEU, exp.BLEU_full_precision, 1e-6, 'BLEU');
      near(s.NIST, exp.NIST_full_precision, 1e-6, 'NIST');
      near(s.ROUGE_L, exp.ROUGE_L, 1e-6, 'ROUGE_L');
      near(s.CIDEr, exp.CIDEr, 1e-6, 'CIDEr');
      near(s.METEOR, exp.METEOR_no_paraphrase, 0.005, 'METEOR');
    });
  }
});

describe('E2E metrics: BLEU/NIST edge cases, hand-computed from mteval-v13a-sig.pl', () => {
  it('tokenizes like the Perl default tokenization (lower-case ASCII, punctuation, numbers)', () => {
    assert.equal(mtevalTokenize('The Eagle, priced £20-25. Rated 5.0/5!'), 'the eagle , priced £20 - 25 . rated 5.0 / 5 !');
    assert.equal(mtevalTokenize('a &amp; b &quot;c&quot; <skipped> É'), 'a & b " c " É');
    assert.equal(mtevalTokenize('1,000.50 x.y'), '1,000.50 x . y');
  });

  it('perfect copies give BLEU 1', () => {
    const refs = [['the cat sat on the mat', 'a cat was on a mat'], ['there is a dog in the park']];
    assert.equal(mtevalScores(refs, ['a cat was on a mat', 'there is a dog in the park']).bleu, 1);
  });

  it('outputs shorter than 4 tokens: missing n-gram orders add log 0 = 0, brevity penalty exp(1 - R/C)', () => {
    // p1 = 2/2, p2 = 1/1, no 3-/4-grams -> terms 0; R = 3, C = 2
    near(mtevalScores([['the cat sat']], ['the cat']).bleu, Math.exp(1 - 3 / 2), 1e-12, 'BLEU');
  });

  it('zero matches are smoothed with 1/2^k', () => {
    // p1 = 4/4, p2 = 1/3, p3: 0 of 2 -> 1/(2*2), p4: 0 of 1 -> 1/(4*1)
    const want = Math.exp((Math.log(1) + Math.log(1 / 3) + Math.log(1 / 4) + Math.log(1 / 4)) / 4);
    near(mtevalScores([['a b c d']], ['a b d c']).bleu, want, 1e-12, 'BLEU');
  });

  it('empty outputs count zero tokens; the closest reference length is then the shortest', () => {
    // C = 3, R = 3 + 2 (closest to 0 words among the second instance's refs: 2)
    near(mtevalScores([['a b c'], ['d e', 'f g h']], ['a b c', '']).bleu, Math.exp(1 - 5 / 3), 1e-12, 'BLEU');
    assert.deepEqual(mtevalScores([['a b c']], ['']), { bleu: 0, nist: 0 });
  });

  it('NIST information weights come from all references; length penalty uses total ref words / mean #refs', () => {
    // ref words 6: info(a) = info(b) = log2(6/2), info(c) = log2 6, info(b c) = log2(2/1), info(a b c) = log2(2/1)
    const want = (2 * Math.log2(3) + Math.log2(6)) / 3 + (0 + 1) / 2 + 1 / 1;
    near(mtevalScores([['a b c', 'a b d']], ['a b c']).nist, want, 1e-12, 'NIST');
    // L_sys = 1 word, L_ref = 6 / 2 = 3: penalty exp(-beta ln^2(1/3)), beta = -ln 0.5 / ln^2 1.5
    const beta = -Math.log(0.5) / Math.log(1.5) ** 2;
    near(mtevalScores([['a b c', 'a b d']], ['c']).nist, Math.log2(6) * Math.exp(-beta * Math.log(1 / 3) ** 2), 1e-12, 'NIST');
  });

  it("reproduces the Perl quirk: a history equal to '0' counts as no history", () => {
    // info(0 a) = -log2(count(0 a) / total words) = 1 instead of -log2(1/1) = 0
    near(mtevalScores([['0 a']], ['0 a']).nist, (1 + 1) / 2 + 1, 1e-12, 'NIST');
  });
});

describe('E2E metrics: PTB tokenization (pycocoevalcap PTBTokenizer, CoreNLP 3.4.1)', () => {
  const lex = (s: string): string => ptbLex(s).join(' ');
  it('follows the behaviours listed in the fixtures README', () => {
    assert.equal(lex("'Aromi' costs £20-25, isn't it? Don't, can't."), "` Aromi ' costs # 20-25 , is n't it ? Do n't , ca n't .");
    assert.equal(lex('£20–25 — 5-star family-friendly 30.99 10:30 1,000 3/5'), '# 20 -- 25 -- 5-star family-friendly 30.99 10:30 1,000 3/5');
    assert.equal(lex('Cambridge- a ---- b'), 'Cambridge - a -- b');
    assert.equal(lex('"Blue Spice" and " x'), "`` Blue Spice '' and '' x");
    assert.equal(lex('e.g. u.s. a. b Mr. St. Ave. the center., near'), 'e.g. u.s. a. b Mr. St. Ave. the center. , near');
    assert.equal(lex('Inc. The Co. etc.'), 'Inc. . The Co. etc. .');
    assert.equal(lex('(x) [y] {z} ... …'), '-LRB- x -RRB- -LSB- y -RSB- -LCB- z -RCB- ... ...');
  });

  it('lower-cases, drops the PUNCTUATIONS tokens case-sensitively and keeps captions aligned', () => {
    assert.deepEqual(cocoTokenize(["It's (cheap), near 'Aromi'.", '', 'kid-friendly {x} Inc.']), ["it 's -lrb- cheap -rrb- near aromi", '', 'kid-friendly -lcb- x -rcb- inc.']);
  });
});

describe('E2E metrics: ROUGE-L and CIDEr (pycocoevalcap)', () => {
  it('ROUGE-L: LCS-based F with beta 1.2, P and R maximised separately over references', () => {
    assert.equal(lcsLength(['a', 'c', 'b'], ['a', 'b']), 2);
    // P = max(2/2, 1/2) = 1, R = max(2/3, 1/1) = 1 (from different references)
    assert.equal(rougeL([['a c b', 'a']], ['a b']).score, 1);
    const p = 1;
    const r = 2 / 3;
    near(rougeL([['a c b']], ['a b']).score, ((1 + 1.44) * p * r) / (r + 1.44 * p), 1e-15, 'ROUGE-L');
    assert.equal(rougeL([['a b']], ['']).score, 0); // an empty caption is one empty token
  });

  it('CIDEr: a perfect copy of a single reference scores 10, an empty output 0', () => {
    const refs = [['the cat sat on the mat'], ['a dog ran in a park']];
    near(cider(refs, ['the cat sat on the mat', 'a dog ran in a park']).score, 10, 1e-12, 'CIDEr');
    assert.deepEqual(cider(refs, ['', '']).scores, [0, 0]);
  });
});

describe('E2E metrics: METEOR (exact, stem, synonym)', () => {
  const res = meteorResources();
  const score = (hyp: string, ref: string): number => meteorScore(pairStats(meteorWords(hyp), meteorWords(ref), res));

  it('normalises like METEOR -norm: hyphens between alphanumerics split, n\'t -> n \'t', () => {
    assert.deepEqual(meteorWords('kid-friendly 20-25 is n\'t'), ['kid', 'friendly', '20', '25', 'is', 'n', "'t"]);
  });

  it('uses the Snowball English (Porter2) stemmer', () => {
    const pairs: Record<string, string> = { generously: 'generous', friendly: 'friend', restaurants: 'restaur', knives: 'knive', hopping: 'hop', cried: 'cri', skies: 'sky' };
    for (const [w, s] of Object.entries(pairs)) assert.equal(snowballEnglish(w), s, w);
  });

  it('identical sentences score 1; a one-word stem match that is ambiguous is dropped (scores 0)', () => {
    assert.equal(score('the zebra', 'the zebra'), 1);
    // "cats"/"cat" is both a stem and a synonym candidate: the beam search keeps it only if it adds no chunk
    assert.equal(score('cats', 'cat'), 0);
    // with "the" fixed, the stem match (weight 0.6) joins the chunk: P = R = 0.75*0.6 + 0.25*1, frag 0
    near(score('the cats', 'the cat'), 0.75 * 0.6 + 0.25, 1e-12, 'METEOR');
  });

  it('matches WordNet synonyms through base forms (children -> child ~ kid <- kids), weight 0.8', () => {
    near(score('kids', 'children'), 0.8, 1e-12, 'METEOR');
  });

  it('hand-computed partial match: P, R, Fmean with alpha 0.85, fragmentation gamma 0.6, beta 0.2', () => {
    const p = 1;
    const r = 1 / (0.75 * 2 + 0.25); // "the" function word, "zebra" and "ran" content words
    const fmean = 1 / (0.15 / p + 0.85 / r);
    near(score('the zebra', 'the zebra ran'), fmean * (1 - 0.6 * Math.pow(1 / 2, 0.2)), 1e-12, 'METEOR');
  });

  it('corpus score sums statistics; chunks of perfect segments are not added', () => {
    const m = meteor([['the zebra'], ['children']], ['the zebra', 'kids'], res);
    near(m.score, (0.75 * 1.8 + 0.25) / (0.75 * 2 + 0.25), 1e-12, 'METEOR');
    assert.equal(meteor([['a b c']], [''], res).score, 0);
  });
});

describe('E2E metrics: file formats and errors', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-metrics-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the plain-text formats as measure_scores.py read_lines does', () => {
    assert.deepEqual(parseReferences(' a \r\nb\n\nc\n\n'), [['a', 'b'], ['c']]);
    assert.deepEqual(parseReferences('a\nb\nc\n'), [['a'], ['b'], ['c']]); // single-ref file
    assert.deepEqual(parseHypotheses('x\n\ny \n'), ['x', '', 'y']);
    assert.deepEqual(parseHypotheses('x\n\n'), ['x', '']);
  });

  it('rejects malformed input with one line naming the file', () => {
    assert.throws(() => parseReferences('a\n\n\nb\n', 'refs.txt'), (e: unknown) => e instanceof UserError && /refs\.txt: line 3/.test(e.message));
    const bad = join(dir, 'bad.txt');
    writeFileSync(bad, Buffer.from([0x61, 0xff, 0x0a]));
    assert.throws(() => loadE2EData(bad, bad), (e: unknown) => e instanceof UserError && e.message.includes(bad) && !e.message.includes('\n'));
    const refs = join(dir, 'refs.txt');
    const hyps = join(dir, 'hyps.txt');
    writeFileSync(refs, 'a\nb\n\nc\n');
    writeFileSync(hyps, 'a\n');
    assert.throws(() => loadE2EData(refs, hyps), (e: unknown) => e instanceof UserError && e.message.includes(refs) && e.message.includes(hyps) && /2 .* 1 /.test(e.message));
    assert.throws(() => scoreE2E([['a']], ['a', 'b']), UserError);
  });

  it('tokenizes reference groups and outputs separately, keeping the grouping', () => {
    const t = cocoTokenizeData([['Ab cd.', 'Ef (gh).'], ['Ij.']], ['Kl!', '']);
    assert.deepEqual(t, { refs: [['ab cd', 'ef -lrb- gh -rrb-'], ['ij']], hyps: ['kl', ''] });
  });

  it('CLI: lora-repro metrics e2e --json prints the five scores', function () {
    const c = sharedOrSkip(this, 'fixtures/e2e-metrics/example-baseline');
    const out = spawnSync(process.execPath, ['bin/lora-repro.mjs', 'metrics', 'e2e', '--refs', join(c, 'refs.txt'), '--hyps', join(c, 'hyps.txt'), '--json'], { cwd: REPO, encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    const s = JSON.parse(out.stdout) as Record<string, number>;
    assert.deepEqual(Object.keys(s), ['BLEU', 'NIST', 'METEOR', 'ROUGE_L', 'CIDEr']);
    const exp = expected('example-baseline');
    near(s.BLEU, exp.BLEU_full_precision, 1e-6, 'BLEU');
    near(s.NIST, exp.NIST_full_precision, 1e-6, 'NIST');
    near(s.CIDEr, exp.CIDEr, 1e-6, 'CIDEr');
    const bad = spawnSync(process.execPath, ['bin/lora-repro.mjs', 'metrics', 'e2e', '--refs', join(c, 'refs.txt'), '--hyps', join(dir, 'missing.txt')], { cwd: REPO, encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /missing\.txt/);
  });
});
