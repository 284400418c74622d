/**
 * METEOR 1.5 `-norm` for English: `edu.cmu.meteor.util.Normalizer.normalizeLine(line,
 * LANG_EN, keepPunctuation = true)` followed by `toLowerCase()` (MeteorScorer), then the
 * word split of `Alignment` (java.util.StringTokenizer on " \t\n\r\f").
 *
 * The Java regexes are ported literally; Java's default (non-Unicode) classes are kept:
 * `\s` = [ \t\n\x0B\f\r], `\p{Digit}` = [0-9], `\p{Lower}` = [a-z].
 */

// "A-Za-zŠŽšžŸÀ-ÖØ-öø-ž" + "Ѐ-ӿԀ-ԧꙀ-ꙮ꙾-ꚗᴀ-ᵿ"
const ALPHA = 'A-Za-z\\u0160\\u017D\\u0161\\u017E\\u0178\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u017E\\u0400-\\u04FF\\u0500-\\u0527\\uA640-\\uA66E\\uA67E-\\uA697\\u1D00-\\u1D7F';
const ALNUM = `0-9${ALPHA}`;
const JAVA_S = ' \\t\\n\\x0B\\f\\r';

const R_SEP_OTHER = new RegExp(`([^${ALNUM}${JAVA_S}.'\`,\\-\\u2018\\u2019])`, 'gu');
const R_MULTI_DOT = /\.([.]+)/gu;
const R_MULTI_DOT2 = /DOTMULTI\.([^.])/gu;
const R_COMMA = /([^0-9]),([^0-9])/gu;
const R_COMMA2 = /([0-9]),([^0-9])/gu;
const R_COMMA3 = /([^0-9]),([0-9])/gu;
const R_QUOTE_NORM = /([`\u2018\u2019])/gu;
const R_QUOTE_NORM2 = /([\u201C\u201D]|'')/gu;
const R_RM_DASH = new RegExp(`([${ALNUM}.])-([${ALNUM}])`, 'gu');
const R_CONT_EN = new RegExp(`([^${ALPHA}])'([^${ALPHA}])`, 'gu');
const R_CONT_EN2 = new RegExp(`([^${ALPHA}0-9])'([${ALPHA}])`, 'gu');
const R_CONT_EN3 = new RegExp(`([${ALPHA}])'([^${ALPHA}])`, 'gu');
const R_CONT_EN4 = new RegExp(`([${ALPHA}])'([${ALPHA}])`, 'gu');
const R_CONT_EN5 = /([0-9])'([s])/gu;
const R_NBP1 = new RegExp(`[${ALPHA}]`, 'u');
const R_WHITE = /[ \u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]+/gu;
/** java.util.StringTokenizer default delimiters. */
const TOKENIZER_DELIMS = /[ \t\n\r\f]+/;

const NBP_ANY = 1;
const NBP_NUM_ONLY = 2;

/**
 * Nonbreaking prefixes (`resources/nonbreaking/english.prefixes`, the Moses list of
 * that time): a word ending in "." whose stem is listed keeps its period.
 */
const NONBREAKING_PREFIXES: ReadonlyMap<string, number> = (() => {
  const any =
    'A B C D E F G H I J K L M N O P Q R S T U V W X Y Z Adj Adm Adv Asst Bart Bldg Brig Bros Capt Cmdr Col Comdr Con Corp Cpl DR Dr Drs Ens Gen Gov Hon Hr Hosp Insp Lt MM MR MRS MS Maj Messrs Mlle Mme Mr Mrs Ms Msgr Op Ord Pfc Ph Prof Pvt Rep Reps Res Rev Rt Sen Sens Sfc Sgt Sr St Supt Surg v vs i.e rev e.g Nos Nr Jan Feb Mar Apr Jun Jul Aug Sep Oct Nov Dec';
  const m = new Map<string, number>();
  for (const p of any.split(' ')) m.set(p, NBP_ANY);
  for (const p of ['No', 'Art', 'pp']) m.set(p, NBP_NUM_ONLY);
  return m;
})();

/** Java `String.trim()`: strips characters <= U+0020 at both ends. */
export function javaTrim(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && s.charCodeAt(a) <= 32) a++;
  while (b > a && s.charCodeAt(b - 1) <= 32) b--;
  return s.slice(a, b);
}

/** `StringTokenizer` split (default delimiters). */
function javaTokenize(s: string): string[] {
  return s.split(TOKENIZER_DELIMS).filter((w) => w !== '');
}

/** `Normalizer.normalizeLine(line, LANG_EN, true)`. */
function meteorNormalizeLine(line: string): string {
  let w = ` ${line} `;
  w = w.replace(R_SEP_OTHER, ' $1 ');
  w = w.replace(R_MULTI_DOT, ' DOTMULTI$1');
  while (w.includes('DOTMULTI.')) {
    w = w.replace(R_MULTI_DOT2, 'DOTDOTMULTI $1');
    w = w.split('DOTMULTI.').join('DOTDOTMULTI');
  }
  w = w.replace(R_COMMA, '$1 , $2').replace(R_COMMA2, '$1 , $2').replace(R_COMMA3, '$1 , $2');
  w = w.replace(R_QUOTE_NORM, "'").replace(R_QUOTE_NORM2, ' " ');
  w = w.split('\u2013').join('-').split('--').join('-');
  w = w.replace(R_RM_DASH, '$1 $2');
  w = w.replace(R_CONT_EN, "$1 ' $2").replace(R_CONT_EN2, "$1 ' $2").replace(R_CONT_EN3, "$1 ' $2");
  w = w.replace(R_CONT_EN4, "$1 '$2").replace(R_CONT_EN5, "$1 '$2");

  const words = javaTokenize(w);
  let sb = '';
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (word.length > 1 && word.endsWith('.')) {
      const pre = word.slice(0, -1);
      const type = NONBREAKING_PREFIXES.get(pre);
      const next = words[i + 1];
      if (pre.includes('.') && R_NBP1.test(pre)) {
        sb += word.split('.').join(''); // U.S. -> US
      } else if (type === NBP_ANY || (next !== undefined && /^[a-z]/.test(next))) {
        sb += word;
      } else if (type === NBP_NUM_ONLY && next !== undefined && /^[0-9]+/.test(next)) {
        sb += word;
      } else {
        sb += `${pre} .`;
      }
    } else {
      sb += word;
    }
    sb += ' ';
  }
  w = sb;
  while (w.includes('DOTDOTMULTI')) w = w.split('DOTDOTMULTI').join('DOTMULTI.');
  w = w.split('DOTMULTI').join('.');
  return javaTrim(w.replace(R_WHITE, ' '));
}

/** What METEOR aligns for one line under `-norm`: normalised, lower-cased, tokenized. */
export function meteorWords(line: string): string[] {
  return javaTokenize(meteorNormalizeLine(line).toLowerCase());
}
