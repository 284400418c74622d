/**
 * An emulation of the Stanford PTBLexer (CoreNLP 3.4.1, the tokenizer pycocoevalcap
 * runs as `PTBTokenizer -preserveLines -lowerCase`) with its default options:
 * PTB3 escaping (-LRB-, ``, '', --, ...), currency normalisation (£ -> #), americanize off.
 *
 * JFlex semantics are reproduced: at each position every rule is tried, the longest match
 * wins, where a rule with trailing context `r1/r2` counts the length of r1 r2 but only
 * consumes r1; ties go to the earlier rule. `%caseless` applies to literal strings only,
 * never to character classes (so `[T]he` is case sensitive while `Inc` is not). The whole
 * input is scanned as one block, so trailing context can see the next line.
 *
 * The 3.4.1 flex file itself was not at hand: the rules are reconstructed from the 2009
 * and 2017 versions of PTBLexer.flex (macros WORD, THING, NUMBER, REDAUX, SREDAUX,
 * ACRONYM, ABBREV1-4, QUOTES, DBLQUOT, ...) and checked against the behaviour listed in
 * the fixtures README (shared/fixtures/e2e-metrics); both fixtures' ROUGE-L and CIDEr come
 * out exact. Only rules that fire on ordinary English text are kept (URLs, e-mail, SGML,
 * phone numbers are approximated; smileys and other post-2014 additions are left out).
 * Where the two versions differ (e.g. a one-letter acronym before "It"/"The": 2017 splits
 * "B." into "B" "."), the 2017 rule is used.
 */

/** JFlex %caseless for a literal: every cased letter becomes a two-letter class. */
function ci(literal: string): string {
  let out = '';
  for (const ch of literal) {
    const lo = ch.toLowerCase();
    const up = ch.toUpperCase();
    if (lo !== up) out += `[${lo}${up}]`;
    else out += /[.*+?^${}()|[\]\\]/.test(ch) ? `\\${ch}` : ch;
  }
  return out;
}
const alt = (words: string): string => words.split(' ').map(ci).join('|');

// ---- macros (regex sources for the `u` flag) ----
const SPACE = '[ \\t\\u00A0\\u2000-\\u200A\\u3000]';
const NEWLINE = '(?:\\r\\n|[\\r\\n\\u2028\\u2029\\u000B\\u000C\\u0085])';
const SPACENL = `(?:${SPACE}|${NEWLINE})`;
const SGML = '<\\/?[A-Za-z!?][^>\\r\\n]*>';
const SENTEND1 = `${SPACENL}(?:${SPACENL}|\\p{Lu}|${SGML})`;
const DIGIT = '[\\p{Nd}\\u07C0-\\u07C9]';
const ALNUM = '[\\p{Alphabetic}\\p{Nd}]';
const LETTER_CLASS =
  '\\p{L}\\u00AD\\u0237-\\u024F\\u02C2-\\u02C5\\u02D2-\\u02DF\\u02E5-\\u02FF\\u0300-\\u036F\\u0370-\\u037D\\u0384\\u0385' +
  '\\u03CF\\u03F6\\u03FC-\\u03FF\\u0483-\\u0487\\u04CF\\u04F6-\\u04FF\\u0510-\\u0525\\u055A-\\u055F\\u0591-\\u05BD\\u05BF' +
  '\\u05C1\\u05C2\\u05C4\\u05C5\\u05C7\\u0615-\\u061A\\u063B-\\u063F\\u064B-\\u065E\\u0670\\u06D6-\\u06EF\\u06FA-\\u06FF' +
  '\\u070F\\u0711\\u0730-\\u074F\\u0750-\\u077F\\u07A6-\\u07B1\\u07CA-\\u07F5\\u07FA\\u0900-\\u0903\\u093C\\u093E-\\u094E' +
  '\\u0951-\\u0955\\u0962-\\u0963\\u0981-\\u0983\\u09BC-\\u09C4\\u09C7\\u09C8\\u09CB-\\u09CD\\u09D7\\u09E2\\u09E3\\u0A01-\\u0A03' +
  '\\u0A3C\\u0A3E-\\u0A4F\\u0A81-\\u0A83\\u0ABC-\\u0ACF\\u0B82\\u0BBE-\\u0BC2\\u0BC6-\\u0BC8\\u0BCA-\\u0BCD\\u0C01-\\u0C03' +
  '\\u0C3E-\\u0C56\\u0D3E-\\u0D44\\u0D46-\\u0D48\\u0E30-\\u0E3A\\u0E47-\\u0E4E\\u0EB1-\\u0EBC\\u0EC8-\\u0ECD';
const SPLET = `&[aeiouAEIOU](?:${alt('acute grave uml')});`;
const LETTER = `(?:[${LETTER_CLASS}]|${SPLET})`;
const WORD = `${LETTER}(?:${LETTER}|${DIGIT})*(?:[.!?]${LETTER}(?:${LETTER}|${DIGIT})*)*`;
const NUM = `${DIGIT}*(?:[.:,\\u00AD\\u066B\\u066C]${DIGIT}+)+|${DIGIT}+`;
const NUMBER = `[\\-+]?(?:${NUM})`;
const APOS = `(?:['\\u0092\\u2019]|${ci('&apos;')})`;
const APOSETC = `(?:${APOS}|[\`\\u0091\\u2018\\u201B])`;
const HYPHEN = '[\\-_\\u058A\\u2010\\u2011]';
const THINGPART = `(?:[dDoOlL]${APOSETC}${ALNUM})?`;
const THING = `${THINGPART}(?:${ALNUM}+|${NUMBER})(?:${HYPHEN}${THINGPART}(?:${ALNUM}+|${NUM}))*`;
const ACRO = `[A-Za-z](?:\\.[A-Za-z])*|(?:${alt('Canada Sino Korean EU Japan non')})-${ci('U.S')}|${ci('U.S.-')}(?:${alt('U.K U.S.S.R')})`;
const ACRO2 = `[A-Za-z](?:\\.[A-Za-z])+|(?:${alt('Canada Sino Korean EU Japan non')})-${ci('U.S')}|${ci('U.S.-')}(?:${alt('U.K U.S.S.R')})`;
const HTHING = `${ALNUM}[A-Za-z0-9.,\\u00AD]*(?:-(?:[A-Za-z0-9\\u00AD]+|(?:${ACRO2})\\.))+`;
const REDAUX = `${APOS}(?:[msdMSD]|${alt('re ve ll')})`;
const SWORD = '[A-Za-z\\u00AD]*[A-MO-Za-mo-z]\\u00AD*';
const SREDAUX = `[nN]${APOSETC}[tT]`;
const APOWORD =
  `${APOS}[nN]${APOS}?|[lLdDjJ]${APOS}|${ci('Dunkin')}${APOS}|${ci('somethin')}${APOS}|${ci('ol')}${APOS}|${APOS}${ci('em')}` +
  `|${ci('diff')}${APOSETC}${ci('rent')}|[A-HJ-XZn]${APOSETC}\\p{L}{2}\\p{L}*|${APOS}[2-9]0[sS]|${APOS}${ci('til')}[lL]?` +
  `|\\p{L}\\p{L}*[aeiouyAEIOUY]${APOSETC}[aeiouA-Z]\\p{L}*|${APOS}${ci('cause')}|${ci("cont'd")}\\.?|${alt("nor'easter c'mon e'er s'mores ev'ry li'l nat'l")}`;
const ABMONTH = alt('Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec');
const ABDAYS = alt('Mon Tue Tues Wed Thu Thurs Fri');
const ABSTATE =
  `${alt('Ala Ariz')}|[A]${ci('z')}|[A]${ci('rk')}|${alt('Calif Colo Conn Ct Dak')}|[D]${ci('el')}|${alt('Fla Ga')}|[I]${ci('ll')}|` +
  `${alt('Ind Kan Kans Ky')}|[L]${ci('a')}|[M]${ci('ass')}|${alt('Md Mich Minn')}|[M]${ci('iss')}|${alt('Mo Mont Neb Nev Okla')}|` +
  `[O]${ci('re')}|[P]${ci('a')}|${alt('Penn Tenn')}|[T]${ci('ex')}|${alt('Va Vt')}|[W]${ci('ash')}|${alt('Wis Wisc Wyo')}`;
const ABCOMP = alt('Inc Co Cos Corp Pty Ptys Ptes Pte Pt Ltd Plc Rt Bancorp Bhd Assn Univ Intl Sys');
const ABNUM = alt('tel est ext sq');
const ABPTIT = `${alt('Jr Bros Esq')}|(?:${alt('Ed Ph')})\\.${ci('D')}`;
const ABBREV1 = `(?:${ABMONTH}|${ABDAYS}|${ABSTATE}|${ABCOMP}|${ABNUM}|${ABPTIT}|${alt('etc al seq Bldg')})\\.`;
const ABTITLE = alt(
  'Mr Mrs Ms Mx Dr Drs Prof Profs Sen Sens Rep Reps Atty Attys Lt Col Gen Messrs Gov Govs Adm Rev Maj Sgt Cpl Pvt Capt St Ste Ave Pres Lieut Rt Hon Brig Cmdr Comdr Pfc Spc Supt Supts Det Mt Ft Adj Adv Asst Assoc Ens Insp Mlle Mme Msgr Sfc Sr',
) + `|[M]${ci('iss')}`;
const ABCOMP2 = alt('Invt Elec Natl Mfg Mtg Dept Blvd Rd Ave');
const ABBREV4 = `${ABTITLE}|${alt('vs Alex Wm Jos Cie a.k.a cf TREAS Ph')}|[v]|${ACRO}|${ABCOMP2}`;
const ABBREV3 = `(?:${alt('ca fig figs prop no nos sec sect secs sects art arts para paras bldg pp op approx rs')}|[P][tT])\\.`;
const ACRONYM_FOLLOWERS =
  'About According Additionally After An A As At But Did During Earlier He Her Here How However If In It Last Many More Mr. Ms. Now Once One Other Our She Since So Some Such That The Their Then There These They This We When While What Who Why Yet You'
    .split(' ')
    .map((w) => `[${w[0]}]${ci(w.slice(1))}`)
    .join('|');
const DBLQUOT = `"|${ci('&quot;')}`;
const QUOTES = `${APOS}|''|[\`\\u2018-\\u201F\\u0082\\u0084\\u0091-\\u0094\\u2039\\u203A\\u00AB\\u00BB]{1,2}`;
const NOT_SPACENL_ONE = '[^ \\t\\u00A0\\u2000-\\u200A\\u3000\\r\\n\\u2028\\u2029\\u000B\\u000C\\u0085]';
const MISCSYMBOL =
  '[+%&~\\^|\\\\\\u00A6\\u00A7\\u00A8\\u00A9\\u00AC\\u00AE\\u00AF\\u00B0-\\u00B3\\u00B4-\\u00BA\\u00D7\\u00F7\\u0387\\u05BE\\u05C0\\u05C3\\u05C6\\u05F3\\u05F4' +
  '\\u0600-\\u0603\\u0606-\\u060A\\u060C\\u0614\\u061B\\u061E\\u066A\\u066D\\u0703-\\u070D\\u07F6-\\u07F8\\u0964\\u0965\\u0E4F\\u2016\\u2017' +
  '\\u2020-\\u2025\\u2030-\\u2038\\u203B\\u203C\\u203E-\\u2044\\u207A-\\u207F\\u208A-\\u208E\\u2100-\\u214F\\u2190-\\u21FF\\u2200-\\u2BFF' +
  '\\u3001-\\u3006\\u3008-\\u3020\\u30FB\\uFF01-\\uFF0F\\uFF1A-\\uFF20\\uFF3B-\\uFF40\\uFF5B-\\uFF65]';

/** What a rule does with its match. `text` is the consumed part (trailing context excluded). */
type Action = (text: string) => { tokens: string[]; consumed?: number } | null;

const keep: Action = (t) => ({ tokens: [t] });
const drop: Action = () => null;

/** Latex quote normalisation (PTBLexer `latexQuotes`). */
function latexQuotes(tok: string, probablyLeft: boolean): string {
  let s = tok;
  if (probablyLeft) s = s.replace(/&apos;|'/gi, '`').replace(/"|&quot;/gi, '``');
  else s = s.replace(/&apos;|'/gi, "'").replace(/"|&quot;/gi, "''");
  return s
    .replace(/[\u0082\u008B\u0091\u2018\u201A\u201B\u2039]/g, '`')
    .replace(/[\u0092\u009B\u00B4\u2019\u203A]/g, "'")
    .replace(/[\u0084\u0093\u201C\u201E\u00AB]/g, '``')
    .replace(/[\u0094\u201D\u00BB]/g, "''");
}
const quote = (left: boolean): Action => (t) => ({ tokens: [latexQuotes(t, left)] });
const removeSoftHyphens = (t: string): string => t.replace(/\u00AD/g, '');

/** PTB3 currency normalisation: cents, pound sign to #, everything else to $. */
function normalizeCurrency(t: string): string {
  return t.replace(/[\u00A2\uFFE0]/g, 'cents').replace(/[\u00A3\uFFE1]/g, '#').replace(/[^#cents]/g, '$');
}

/** Abbreviation that also ends a sentence: the token keeps its period and a period token follows. */
const withExtraPeriod: Action = (t) => ({ tokens: [t, '.'] });
/** processAcronym: "I." alone gives "I" + "."; longer acronyms keep the period and add one. */
const acronym: Action = (t) => (t.length === 2 ? { tokens: [t[0], '.'] } : { tokens: [t, '.'] });

function rule(main: string, action: Action, context?: string): [RegExp, Action] {
  const src = context === undefined ? `(${main})` : `(${main})(?=(${context}))`;
  return [new RegExp(src, 'yu'), action];
}

const ellipsis: Action = () => ({ tokens: ['...'] });

/** The rules in PTBLexer.flex order (earlier wins ties). */
const RULES: Array<[RegExp, Action]> = [
  rule(ci('cannot'), () => ({ tokens: ['can'], consumed: 3 })),
  rule(SGML, (t) => ({ tokens: [t.replace(/[ \r\n]/g, '\u00A0')] })),
  rule(`${ci('&')}(?:${alt('MD mdash ndash')});|[\\u0096\\u0097\\u2013\\u2014\\u2015]`, () => ({ tokens: ['--'] })),
  rule(ci('&amp;'), () => ({ tokens: ['&'] })),
  rule(`&(?:${alt('HT TL UR LR QC QL QR odq cdq')}|#[0-9]+);`, keep),
  rule(WORD, (t) => ({ tokens: [removeSoftHyphens(t)] }), REDAUX),
  rule(SWORD, (t) => ({ tokens: [removeSoftHyphens(t)] }), SREDAUX),
  rule(WORD, (t) => ({ tokens: [removeSoftHyphens(t)] })),
  rule(APOWORD, quote(false)),
  rule(`[yY]${APOS}`, keep, '\\p{L}'),
  rule(`(?:${alt('ftp svn http https mailto')}):\\/\\/[^ \\t\\n\\f\\r"<>|(){}\\[\\]]+[^ \\t\\n\\f\\r"'<>|.!?(){},;:&\\[\\]\\-]`, keep),
  rule(`(?:www\\.(?:[^ \\t\\n\\f\\r"<>|.!?(){},]+\\.)+[a-zA-Z]{2,4}|(?:[^ \\t\\n\\f\\r"\`'<>|.!?(){},\\-_$]+\\.)+(?:${alt('com net org edu')}))(?:\\/[^ \\t\\n\\f\\r"<>|()]+[^ \\t\\n\\f\\r"<>|.!?(){},\\-])?`, keep),
  rule('[a-zA-Z0-9._%+\\-]+@[A-Za-z0-9][A-Za-z0-9.\\-]*[A-Za-z0-9]', keep),
  rule(REDAUX, quote(false), '[^\\p{Alphabetic}]'),
  rule(SREDAUX, quote(false), '[^\\p{Alphabetic}]'),
  rule(`${DIGIT}{1,2}[\\-\\/]${DIGIT}{1,2}[\\-\\/]${DIGIT}{2,4}`, keep),
  rule(NUMBER, (t) => ({ tokens: [removeSoftHyphens(t)] })),
  rule('[\\u207A\\u207B\\u208A\\u208B]?(?:[\\u2070\\u00B9\\u00B2\\u00B3\\u2074-\\u2079]+|[\\u2080-\\u2089]+)', keep),
  rule(`(?:${DIGIT}{1,4}[\\- \\u00A0])?${DIGIT}{1,4}(?:\\\\?\\/|\\u2044)${DIGIT}{1,4}`, (t) => ({ tokens: [t.replace(/ /g, '\u00A0')] })),
  rule('[\\u00BC\\u00BD\\u00BE\\u2153-\\u215E]', (t) => ({
    tokens: [t.replace('\u00BC', '1/4').replace('\u00BD', '1/2').replace('\u00BE', '3/4').replace('\u2153', '1/3').replace('\u2154', '2/3')],
  })),
  rule(`-(?:${alt('RRB LRB RCB LCB RSB LSB')})-|${ci('C.D.s')}|${alt('pro- anti-')}|${ci('S')}(?:&|${ci('&amp;')})${ci('P-500')}|${ci('S')}(?:&|${ci('&amp;')})${ci('Ls')}|${ci('Cap')}${APOS}${ci('n')}|${ci('c')}${APOS}${ci('est')}`, (t) => ({
    tokens: [t.replace(/&amp;/gi, '&')],
  })),
  rule('[A-Za-z0-9]+(?:-[A-Za-z]+){0,2}(?:\\\\?\\/[A-Za-z0-9]+(?:-[A-Za-z]+){0,2}){1,2}', keep),
  rule('[A-Z]*\\$|#', keep),
  rule('[\\u00A2\\u00A3\\u00A4\\u00A5\\u0080\\u20A0\\u20AA\\u20AC\\u20B9\\u060B\\u0E3F\\u20A4\\uFFE0\\uFFE1\\uFFE5\\uFFE6]', (t) => ({ tokens: [normalizeCurrency(t)] })),
  rule(`(?:${ACRO})\\.`, acronym, `${SPACENL}+(?:${ACRONYM_FOLLOWERS}|${SGML})(?:${SPACENL}|[?!])`),
  rule(ABBREV3, keep, `${SPACENL}?\\p{Nd}`),
  rule(`${ci('So.')}|${ci('No.')}`, keep, `${SPACENL}+(?:${alt('Africa Korea Cal')})`),
  rule(`(?:${ci('pt')}[eyEY]|${ci('co')})\\.`, keep, `${SPACE}(?:${alt('ltd lim')})`),
  rule(ABBREV1, withExtraPeriod, SENTEND1),
  rule(ABBREV1, keep, '[^][^]'),
  rule(ABBREV1, withExtraPeriod),
  rule(`(?:${ABBREV4})\\.`, keep),
  rule(ABBREV4, keep, SPACE),
  rule(ACRO, keep, SPACENL),
  rule(`${APOS}[0-9][0-9]`, keep, SPACENL),
  rule(`${WORD}\\.`, (t) => ({ tokens: [removeSoftHyphens(t)] }), '[,;:\\u3001]'),
  rule('(?:\\([0-9]{3}\\)[ \\u00A0]?|[0-9]{3}[\\- \\u00A0.])[0-9]{3}[\\- \\u00A0.][0-9]{4}', (t) => ({
    tokens: [t.replace(/ /g, '\u00A0').replace(/\(/g, '-LRB-').replace(/\)/g, '-RRB-')],
  })),
  rule(DBLQUOT, quote(true), '[\\p{Alphabetic}\\p{Nd}$]'),
  rule(DBLQUOT, quote(false)),
  rule(`<|${ci('&lt;')}`, () => ({ tokens: ['<'] })),
  rule(`>|${ci('&gt;')}`, () => ({ tokens: ['>'] })),
  rule('\\{', () => ({ tokens: ['-LCB-'] })),
  rule('\\}', () => ({ tokens: ['-RCB-'] })),
  rule('\\[', () => ({ tokens: ['-LSB-'] })),
  rule('\\]', () => ({ tokens: ['-RSB-'] })),
  rule('\\(', () => ({ tokens: ['-LRB-'] })),
  rule('\\)', () => ({ tokens: ['-RRB-'] })),
  rule('-+', (t) => ({ tokens: [t.length >= 3 && t.length <= 4 ? '--' : t] })),
  rule('\\.\\.\\.+|[\\u0085\\u2026]', ellipsis, `\\.${SPACENL}+\\p{L}`),
  rule('\\.[ \\u00A0](?:\\.[ \\u00A0])+\\.', ellipsis, `${SPACE}\\.${SPACENL}+\\p{L}`),
  rule('\\.\\.\\.+|[\\u0085\\u2026]|\\.[ \\u00A0](?:\\.[ \\u00A0])+\\.', ellipsis),
  rule('@+|#+|_+', keep),
  rule('\\*+|(?:\\\\\\*){1,3}', keep),
  rule('[,;:\\u3001]', keep),
  rule('[?!]+', keep),
  rule('[.\\u00A1\\u00BF\\u037E\\u0589\\u061F\\u06D4\\u0700-\\u0702\\u07FA\\u3002]', keep),
  rule('=+', keep),
  rule('\\/', keep),
  rule(HTHING, (t) => ({ tokens: [removeSoftHyphens(t)] }), '[,;:\\u3001]'),
  rule(HTHING, (t) => ({ tokens: [removeSoftHyphens(t)] })),
  rule(THING, quote(false)),
  rule(`[A-Z]+(?:(?:[+&]|${ci('&amp;')})[A-Z]+)+\\.`, (t) => ({ tokens: [t.replace(/&amp;/gi, '&')] }), '[,;:\\u3001]'),
  rule(`[A-Z]+(?:(?:[+&]|${ci('&amp;')})[A-Z]+)+`, (t) => ({ tokens: [t.replace(/&amp;/gi, '&')] })),
  rule(QUOTES, quote(true), `\\p{L}${NOT_SPACENL_ONE}`),
  rule(QUOTES, quote(true), `[AaIiUu][ \\t\\u00A0\\u2000-\\u200A\\u3000\\r\\n\\u2028\\u2029\\u000B\\u000C\\u0085]`),
  rule(QUOTES, quote(false)),
  rule(REDAUX, quote(false)),
  rule(SREDAUX, quote(false)),
  rule('<<|>>', keep),
  rule(MISCSYMBOL, keep),
  rule(`\\u0000|${SPACE}+|[\\u200B\\u200E\\u200F\\uFEFF]`, drop),
  rule(NEWLINE, () => ({ tokens: ['\n'] })),
  rule(ci('&nbsp;'), drop),
];

/**
 * Tokenizes `text` as one block; returns tokens, with '\n' marking each newline
 * (the `tokenizeNLs` behaviour used by -preserveLines). Untokenizable characters are
 * deleted (the lexer's default `untokenizable=firstDelete`).
 */
export function ptbLex(text: string): string[] {
  const out: string[] = [];
  let pos = 0;
  while (pos < text.length) {
    let best: [RegExp, Action] | undefined;
    let bestTotal = 0;
    let bestText = '';
    for (const r of RULES) {
      const re = r[0];
      re.lastIndex = pos;
      const m = re.exec(text);
      if (m === null) continue;
      const total = m[1].length + (m[2]?.length ?? 0);
      if (total > bestTotal) {
        best = r;
        bestTotal = total;
        bestText = m[1];
      }
    }
    if (best === undefined || bestText.length === 0) {
      pos += text.codePointAt(pos)! > 0xffff ? 2 : 1; // untokenizable: delete
      continue;
    }
    const res = best[1](bestText);
    pos += res?.consumed ?? bestText.length;
    if (res !== null) out.push(...res.tokens);
  }
  return out;
}
