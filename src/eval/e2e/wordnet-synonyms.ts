/**
 * METEOR's synonym dictionary (`edu.cmu.meteor.aligner.SynonymDictionary`), rebuilt from
 * WordNet files instead of METEOR's own `english.synsets` / `english.exceptions`:
 *
 * - synsets: every lemma of index.{noun,verb,adj,adv} maps to its synset offsets
 *   (tagged with the part of speech so offsets of different files cannot collide);
 * - exceptions: {noun,verb,adj,adv}.exc map an inflected form to its base forms;
 * - `getStemSynSets(word)`: the synsets of the exception bases if the word is listed,
 *   else of `morph(word)`, METEOR's port of WordNet 3's morphy suffix rules (with its
 *   quirks: the "ful" branch is overwritten, the first suffix whose stripped form is a
 *   known lemma wins, '' when none is).
 */
const POS_FILES = ['noun', 'verb', 'adj', 'adv'] as const;

/* WordNet 3 morphology suffixes, in METEOR's order (nouns, verbs, adjectives). */
const SUFX = ['s', 'ses', 'xes', 'zes', 'ches', 'shes', 'men', 'ies', 's', 'ies', 'es', 'es', 'ed', 'ed', 'ing', 'ing', 'er', 'est', 'er', 'est'];
const ADDR = ['', 's', 'x', 'z', 'ch', 'sh', 'man', 'y', '', 'y', 'e', '', 'e', '', 'e', '', '', '', 'e', 'e'];

const EMPTY: ReadonlySet<number> = new Set();

export class SynonymDictionary {
  private readonly wordToSynsets = new Map<string, Set<number>>();
  private readonly wordToBases = new Map<string, string[]>();

  /**
   * @param readFile returns the text of a WordNet file by name: index.noun, index.verb,
   *   index.adj, index.adv and (unless `withExceptions` is false) noun.exc, verb.exc,
   *   adj.exc, adv.exc
   */
  constructor(readFile: (name: string) => string, withExceptions = true) {
    POS_FILES.forEach((pos, p) => {
      const text = readFile(`index.${pos}`);
      for (const line of text.split('\n')) {
        if (line === '' || line.startsWith(' ')) continue; // licence header lines start with spaces
        const f = line.trim().split(/ +/);
        const synsetCnt = Number(f[2]);
        const offsets = f.slice(f.length - synsetCnt);
        let set = this.wordToSynsets.get(f[0]);
        if (set === undefined) {
          set = new Set();
          this.wordToSynsets.set(f[0], set);
        }
        for (const o of offsets) set.add(p * 1e9 + Number(o));
      }
    });
    if (withExceptions) {
      for (const pos of POS_FILES) {
        const text = readFile(`${pos}.exc`);
        for (const line of text.split('\n')) {
          const f = line.trim().split(/ +/);
          if (f.length < 2 || f[0] === '') continue;
          const bases = this.wordToBases.get(f[0]) ?? [];
          bases.push(...f.slice(1));
          this.wordToBases.set(f[0], bases);
        }
      }
    }
  }

  /** Synsets the word itself belongs to. */
  getSynSets(word: string): ReadonlySet<number> {
    return this.wordToSynsets.get(word) ?? EMPTY;
  }

  /** Synsets of the word's base form (exception list, else morphy suffix rules). */
  getStemSynSets(word: string): ReadonlySet<number> {
    const bases = this.wordToBases.get(word);
    if (bases !== undefined) {
      const set = new Set<number>();
      for (const b of bases) for (const s of this.getSynSets(b)) set.add(s);
      return set;
    }
    return this.getSynSets(this.morph(word));
  }

  /** METEOR's `morph`: the first suffix rule that yields a known lemma. */
  private morph(word: string): string {
    let end = '';
    if (word.endsWith('ful')) end = 'ful'; // METEOR sets tmp here but overwrites it below
    if (word.endsWith('ss') || word.length <= 2) return word;
    for (let i = 0; i < SUFX.length; i++) {
      if (word.endsWith(SUFX[i])) {
        const retval = word.slice(0, word.length - SUFX[i].length) + ADDR[i];
        if (this.wordToSynsets.has(retval)) return retval + end;
      }
    }
    return '';
  }
}
