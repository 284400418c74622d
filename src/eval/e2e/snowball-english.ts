/**
 * The Snowball English ("Porter2") stemmer, as in `org.tartarus.snowball.ext.englishStemmer`
 * that METEOR 1.5 bundles (stem module). Follows english.sbl of that era: exception1,
 * prelude (initial apostrophe, consonant y -> Y), regions R1/R2 with the gener/commun/arsen
 * prefixes, Step 0/1a (apostrophe suffixes, sses/ied/ies/s), exception2, Steps 1b-5, and
 * the postlude. Words shorter than 3 characters are returned unchanged (`not hop 3`).
 */

const VOWELS = new Set(['a', 'e', 'i', 'o', 'u', 'y']);
const isV = (c: string | undefined): boolean => c !== undefined && VOWELS.has(c);

const EXCEPTION1: Record<string, string> = {
  skis: 'ski', skies: 'sky', dying: 'die', lying: 'lie', tying: 'tie',
  idly: 'idl', gently: 'gentl', ugly: 'ugli', early: 'earli', only: 'onli', singly: 'singl',
  sky: 'sky', news: 'news', howe: 'howe', atlas: 'atlas', cosmos: 'cosmos', bias: 'bias', andes: 'andes',
};
const EXCEPTION2 = new Set(['inning', 'outing', 'canning', 'herring', 'earring', 'proceed', 'exceed', 'succeed']);

/** Longest suffix of `w` (ending at `end`) from `list`, or undefined. */
function longestSuffix(w: string, list: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const s of list) if (w.endsWith(s) && (best === undefined || s.length > best.length)) best = s;
  return best;
}

/** Is there a vowel in w[0..end)? (`gopast v` backwards) */
function hasVowel(w: string, end: number): boolean {
  for (let i = 0; i < end; i++) if (isV(w[i])) return true;
  return false;
}

/** `shortv` tested at the end of w[0..end): a short syllable ends the word part, or it is vowel + non-vowel. */
function shortV(w: string, end: number): boolean {
  const a = w[end - 3];
  const b = w[end - 2];
  const c = w[end - 1];
  // Snowball backward mode: the last character is tested first (non-v_WXY), then v, then non-v.
  if (end >= 3 && !isV(c) && c !== 'w' && c !== 'x' && c !== 'Y' && isV(b) && !isV(a)) return true;
  return end === 2 && !isV(c) && isV(b);
}

function regions(w: string): [number, number] {
  const afterVNonV = (from: number): number => {
    let i = from;
    while (i < w.length && !isV(w[i])) i++;
    while (i < w.length && isV(w[i])) i++;
    return i < w.length ? i + 1 : w.length;
  };
  let p1: number;
  const pre = ['gener', 'commun', 'arsen'].find((p) => w.startsWith(p));
  if (pre !== undefined) p1 = pre.length;
  else p1 = afterVNonV(0);
  const p2 = afterVNonV(p1);
  return [p1, p2];
}

const STEP1B = ['eed', 'eedly', 'ed', 'edly', 'ing', 'ingly'];
const STEP2: Array<[string, string]> = [
  ['tional', 'tion'], ['enci', 'ence'], ['anci', 'ance'], ['abli', 'able'], ['entli', 'ent'],
  ['izer', 'ize'], ['ization', 'ize'], ['ational', 'ate'], ['ation', 'ate'], ['ator', 'ate'],
  ['alism', 'al'], ['aliti', 'al'], ['alli', 'al'], ['fulness', 'ful'], ['ousli', 'ous'], ['ousness', 'ous'],
  ['iveness', 'ive'], ['iviti', 'ive'], ['biliti', 'ble'], ['bli', 'ble'], ['ogi', 'og'], ['fulli', 'ful'],
  ['lessli', 'less'], ['li', ''],
];
const STEP3: Array<[string, string]> = [
  ['tional', 'tion'], ['ational', 'ate'], ['alize', 'al'], ['icate', 'ic'], ['iciti', 'ic'], ['ical', 'ic'],
  ['ful', ''], ['ness', ''], ['ative', ''],
];
const STEP4 = ['al', 'ance', 'ence', 'er', 'ic', 'able', 'ible', 'ant', 'ement', 'ment', 'ent', 'ism', 'ate', 'iti', 'ous', 'ive', 'ize', 'ion'];

/** Stems one lower-cased word. */
export function snowballEnglish(word: string): string {
  if (Object.prototype.hasOwnProperty.call(EXCEPTION1, word)) return EXCEPTION1[word];
  if (word.length < 3) return word;
  let w = word;
  // prelude
  if (w.startsWith("'")) w = w.slice(1);
  let yFound = false;
  const chars = [...w];
  for (let i = 0; i < chars.length; i++) {
    if (chars[i] === 'y' && (i === 0 || isV(chars[i - 1]))) {
      chars[i] = 'Y';
      yFound = true;
    }
  }
  w = chars.join('');
  const [p1, p2] = regions(w);
  const R1 = (pos: number): boolean => pos >= p1;
  const R2 = (pos: number): boolean => pos >= p2;

  // Step 0 (part of Step_1a in english.sbl): ' 's 's'
  const s0 = longestSuffix(w, ["'", "'s", "'s'"]);
  if (s0 !== undefined) w = w.slice(0, -s0.length);
  // Step 1a
  const s1a = longestSuffix(w, ['sses', 'ied', 'ies', 's', 'us', 'ss']);
  if (s1a === 'sses') w = `${w.slice(0, -4)}ss`;
  else if (s1a === 'ied' || s1a === 'ies') w = w.length - 3 >= 2 ? `${w.slice(0, -3)}i` : `${w.slice(0, -3)}ie`;
  else if (s1a === 's') {
    if (hasVowel(w, w.length - 2)) w = w.slice(0, -1);
  }
  if (!EXCEPTION2.has(w)) {
    // Step 1b
    const s1b = longestSuffix(w, STEP1B);
    if (s1b === 'eed' || s1b === 'eedly') {
      if (R1(w.length - s1b.length)) w = `${w.slice(0, -s1b.length)}ee`;
    } else if (s1b !== undefined) {
      const stem = w.slice(0, -s1b.length);
      if (hasVowel(stem, stem.length)) {
        w = stem;
        const end2 = w.slice(-2);
        if (end2 === 'at' || end2 === 'bl' || end2 === 'iz') w += 'e';
        else if (['bb', 'dd', 'ff', 'gg', 'mm', 'nn', 'pp', 'rr', 'tt'].includes(end2)) w = w.slice(0, -1);
        else if (w.length === p1 && shortV(w, w.length)) w += 'e';
      }
    }
    // Step 1c
    const last = w[w.length - 1];
    if ((last === 'y' || last === 'Y') && w.length >= 3 && !isV(w[w.length - 2])) w = `${w.slice(0, -1)}i`;
    // Step 2
    const s2 = longestSuffix(w, STEP2.map(([s]) => s));
    if (s2 !== undefined && R1(w.length - s2.length)) {
      const base = w.slice(0, -s2.length);
      const rep = STEP2.find(([s]) => s === s2)![1];
      if (s2 === 'ogi') {
        if (base.endsWith('l')) w = base + rep;
      } else if (s2 === 'li') {
        if ('cdeghkmnrt'.includes(base[base.length - 1] ?? '#')) w = base;
      } else w = base + rep;
    }
    // Step 3
    const s3 = longestSuffix(w, STEP3.map(([s]) => s));
    if (s3 !== undefined && R1(w.length - s3.length)) {
      const base = w.slice(0, -s3.length);
      if (s3 === 'ative') {
        if (R2(base.length)) w = base;
      } else w = base + STEP3.find(([s]) => s === s3)![1];
    }
    // Step 4
    const s4 = longestSuffix(w, STEP4);
    if (s4 !== undefined && R2(w.length - s4.length)) {
      const base = w.slice(0, -s4.length);
      if (s4 === 'ion') {
        if (base.endsWith('s') || base.endsWith('t')) w = base;
      } else w = base;
    }
    // Step 5
    if (w.endsWith('e')) {
      const pos = w.length - 1;
      if (R2(pos) || (R1(pos) && !shortV(w, pos))) w = w.slice(0, -1);
    } else if (w.endsWith('l')) {
      const pos = w.length - 1;
      if (R2(pos) && w[pos - 1] === 'l') w = w.slice(0, -1);
    }
  }
  return yFound ? w.replace(/Y/g, 'y') : w;
}
