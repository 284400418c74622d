/**
 * Word lists and sampling helpers of the synthetic stand-in tasks (./synthetic.ts). The words are
 * ordinary English so that a tokenizer and a pretrained model behave as they would on real text, but
 * every sentence is generated: none of it is GLUE or E2E data.
 */
import type { Rng } from '../util/rng.ts';

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.int(items.length)] as T;
}

export function chance(rng: Rng, p: number): boolean {
  return rng.next() < p;
}

/** A different element of `items` than `not` (items has at least two distinct values). */
export function pickOther<T>(rng: Rng, items: readonly T[], not: T): T {
  for (;;) {
    const x = pick(rng, items);
    if (x !== not) return x;
  }
}

/** The indefinite article for `phrase` by its first letter (enough for this lexicon). */
export function an(phrase: string): string {
  return /^[aeiouAEIOU]/.test(phrase) ? `an ${phrase}` : `a ${phrase}`;
}

/** Standard normal by Box–Muller (Rng only draws uniforms). */
export function gaussian(rng: Rng): number {
  const u = 1 - rng.next();
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

// --- sentiment (synthetic-sst2) -------------------------------------------------------------

export const REVIEW_NOUNS = [
  'movie', 'film', 'plot', 'acting', 'script', 'soundtrack', 'ending', 'cast', 'story', 'dialogue',
  'pacing', 'director', 'performance', 'cinematography', 'main character', 'humor', 'premise', 'sequel', 'finale', 'lead actor',
] as const;

export const POSITIVE_ADJECTIVES = [
  'good', 'great', 'wonderful', 'brilliant', 'charming', 'delightful', 'moving', 'clever', 'funny', 'beautiful',
  'engaging', 'superb', 'memorable', 'fresh', 'gripping', 'warm', 'smart', 'lovely',
] as const;

export const NEGATIVE_ADJECTIVES = [
  'bad', 'awful', 'boring', 'dull', 'terrible', 'clumsy', 'tedious', 'weak', 'silly', 'bland',
  'forgettable', 'messy', 'painful', 'shallow', 'predictable', 'flat', 'lazy', 'dreary',
] as const;

export const INTENSIFIERS = ['very', 'really', 'quite', 'truly', 'extremely', 'rather', 'so', 'pretty'] as const;

/** [past tense, base form] of verbs that carry sentiment. */
export const POSITIVE_VERBS = [['loved', 'love'], ['enjoyed', 'enjoy'], ['liked', 'like'], ['admired', 'admire']] as const;
export const NEGATIVE_VERBS = [['hated', 'hate'], ['disliked', 'dislike'], ['regretted', 'regret'], ['resented', 'resent']] as const;

export const OPENERS = ['overall ,', 'honestly ,', 'in the end ,', 'to be fair ,', 'frankly ,', 'all in all ,'] as const;
export const TAILS = [
  'from start to finish', 'for most of its running time', 'despite the long running time', 'in every scene',
  'on the big screen', 'at least for me', 'by the standards of the genre',
] as const;

// --- events (synthetic-rte, synthetic-stsb) -------------------------------------------------

/** A slot value and the words that may replace it without changing the meaning. */
export interface Word {
  text: string;
  synonyms: readonly string[];
}

const w = (text: string, ...synonyms: string[]): Word => ({ text, synonyms });

export const PEOPLE: readonly Word[] = [
  w('doctor', 'physician'), w('teacher', 'instructor'), w('student', 'pupil'), w('lawyer', 'attorney'),
  w('farmer'), w('pilot'), w('baker'), w('painter', 'artist'), w('nurse'), w('driver'), w('singer', 'vocalist'),
  w('writer', 'author'), w('engineer'), w('chef', 'cook'), w('sailor'), w('child', 'kid'),
];

export const PERSON_ADJECTIVES: readonly Word[] = [
  w('young'), w('old', 'elderly'), w('tall'), w('quiet', 'silent'), w('cheerful', 'happy'), w('nervous', 'anxious'),
  w('famous', 'well-known'), w('tired', 'weary'),
];

/** Verbs whose past tense equals their past participle, so passive forms are grammatical. */
export interface Verb extends Word {
  base: string;
}

const v = (text: string, base: string, ...synonyms: string[]): Verb => ({ text, base, synonyms });

export const VERBS: readonly Verb[] = [
  v('bought', 'buy', 'purchased'), v('sold', 'sell'), v('found', 'find', 'discovered'), v('painted', 'paint'),
  v('repaired', 'repair', 'fixed'), v('carried', 'carry'), v('borrowed', 'borrow'), v('cleaned', 'clean'),
  v('photographed', 'photograph'), v('moved', 'move', 'shifted'),
];

export const OBJECTS: readonly Word[] = [
  w('car', 'automobile'), w('bicycle', 'bike'), w('boat'), w('lamp'), w('guitar'), w('painting', 'picture'),
  w('book', 'novel'), w('table'), w('kettle'), w('umbrella'), w('sofa', 'couch'), w('clock'),
];

export const COLORS: readonly Word[] = [w('red'), w('blue'), w('green'), w('yellow'), w('black'), w('white'), w('brown')];

export const PLACES: readonly Word[] = [
  w('market', 'bazaar'), w('park'), w('station'), w('harbor', 'port'), w('library'), w('village'), w('garden'), w('museum'),
];

export const DAYS: readonly Word[] = [
  w('monday'), w('tuesday'), w('wednesday'), w('thursday'), w('friday'), w('saturday'), w('sunday'),
];

// --- restaurants (synthetic-e2e) -------------------------------------------------------------

/** Invented venue names (not the E2E ones), used for both `name` and `near`. */
export const VENUE_NAMES = [
  'The Copper Kettle', 'Blue Heron', 'The Olive Grove', 'Saffron House', 'The Lantern', 'Maple Court', 'The Red Fox',
  'Silver Spoon', 'The Old Mill', 'Harbour Lights', 'The Green Door', 'Juniper', 'The Wandering Goat', 'Cedar Hall',
  'The Brass Bell', 'Little Orchard', 'The Stone Bridge', 'Amber Rooms', 'The Painted Duck', 'Willow Tree',
  'The Quiet Owl', 'Northgate', 'The Salt Cellar', 'Golden Thistle',
] as const;

export const EAT_TYPES = ['restaurant', 'coffee shop', 'pub'] as const;
export const FOODS = ['English', 'Italian', 'French', 'Chinese', 'Indian', 'Japanese', 'Fast food'] as const;
/** The E2E value sets of priceRange and customer rating (the value vocabulary, not any data row). */
export const PRICE_RANGES = ['cheap', 'moderate', 'high', 'less than £20', '£20-25', 'more than £30'] as const;
export const RATINGS = ['low', 'average', 'high', '1 out of 5', '3 out of 5', '5 out of 5'] as const;
export const AREAS = ['city centre', 'riverside'] as const;
