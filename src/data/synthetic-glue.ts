/**
 * Generators of the GLUE-like synthetic stand-in examples (registered in ./synthetic.ts). Each draws
 * one example from an Rng; the signal is learnable but deliberately not linear in the words:
 *
 * - sentiment: a review clause's polarity comes from a small lexicon, flipped by negation ("was not
 *   good", "did not like"); in contrast sentences ("A , but B") only the clause after the connective
 *   counts. A bag of words sees both polarity words and cannot order them; 5% label noise caps any
 *   model below 100%.
 * - entailment: a hypothesis is the premise after meaning-preserving edits (dropping modifiers,
 *   synonyms, passive voice) or after one contradicting edit (negation, or a slot replaced by another
 *   value), often combined with a preserving edit so that "new word → contradiction" is only a
 *   heuristic. 3% label noise.
 * - similarity: sentence b changes k of the 7 slots of sentence a (other values) and swaps some
 *   unchanged slots for synonyms; the score is 5·(1 − k/7) plus Gaussian noise (σ 0.3), clipped to [0, 5].
 *
 * Text is lower-cased with spaced punctuation, like SST-2 and tokenized GLUE text.
 */
import type { Rng } from '../util/rng.ts';
import type { GlueExample } from './glue-tsv.ts';
import {
  COLORS, DAYS, INTENSIFIERS, NEGATIVE_ADJECTIVES, NEGATIVE_VERBS, OBJECTS, OPENERS, PEOPLE, PERSON_ADJECTIVES, PLACES,
  POSITIVE_ADJECTIVES, POSITIVE_VERBS, REVIEW_NOUNS, TAILS, VERBS, an, chance, gaussian, pick, pickOther, type Verb, type Word,
} from './synthetic-lexicon.ts';

// --- sentiment --------------------------------------------------------------------------------

interface Clause {
  words: string;
  /** 1 positive, 0 negative, after negation. */
  label: number;
}

function reviewClause(rng: Rng): Clause {
  const noun = pick(rng, REVIEW_NOUNS);
  const positive = chance(rng, 0.5);
  const negated = chance(rng, 0.4);
  const adj = pick(rng, positive ? POSITIVE_ADJECTIVES : NEGATIVE_ADJECTIVES);
  const intens = chance(rng, 0.35) ? `${pick(rng, INTENSIFIERS)} ` : '';
  const tense = chance(rng, 0.5) ? 'was' : 'is';
  let words: string;
  switch (rng.int(3)) {
    case 0:
      words = negated
        ? `the ${noun} ${tense} ${chance(rng, 0.7) ? 'not' : 'never'} ${intens}${adj}`
        : `the ${noun} ${tense} ${intens}${adj}`;
      break;
    case 1: {
      const verbs: readonly (readonly [string, string])[] = positive ? POSITIVE_VERBS : NEGATIVE_VERBS;
      const [past, base] = pick(rng, verbs);
      words = negated ? `i did not ${base} the ${noun}` : `i ${past} the ${noun}`;
      break;
    }
    default:
      words = negated ? `it was not ${an(`${intens}${adj} ${noun}`)}` : an(`${intens}${adj} ${noun}`);
  }
  return { words, label: positive !== negated ? 1 : 0 };
}

/** synthetic-sst2: labels 0 = negative, 1 = positive (SST-2's order). */
export function sentimentExample(rng: Rng): GlueExample {
  const first = reviewClause(rng);
  let text: string;
  let label: number;
  if (chance(rng, 0.3)) {
    const second = reviewClause(rng);
    text = chance(rng, 0.5) ? `${first.words} , but ${second.words}` : `although ${first.words} , ${second.words}`;
    label = second.label;
  } else {
    const opener = chance(rng, 0.3) ? `${pick(rng, OPENERS)} ` : '';
    const tail = chance(rng, 0.3) ? ` ${pick(rng, TAILS)}` : '';
    text = `${opener}${first.words}${tail}`;
    label = first.label;
  }
  if (chance(rng, 0.05)) label = 1 - label;
  return { text_a: `${text} .`, label };
}

// --- events: the shared sentence of the pair tasks ----------------------------------------------

type Slot = 'adj' | 'person' | 'verb' | 'color' | 'object' | 'place' | 'day';
const EVENT_SLOTS: readonly Slot[] = ['adj', 'person', 'verb', 'color', 'object', 'place', 'day'];

interface Event {
  adj: Word;
  person: Word;
  verb: Verb;
  color: Word;
  object: Word;
  place: Word;
  day: Word;
}

const SLOT_VALUES: Readonly<Record<Slot, readonly Word[]>> = {
  adj: PERSON_ADJECTIVES, person: PEOPLE, verb: VERBS, color: COLORS, object: OBJECTS, place: PLACES, day: DAYS,
};

function randomEvent(rng: Rng): Event {
  return {
    adj: pick(rng, PERSON_ADJECTIVES), person: pick(rng, PEOPLE), verb: pick(rng, VERBS), color: pick(rng, COLORS),
    object: pick(rng, OBJECTS), place: pick(rng, PLACES), day: pick(rng, DAYS),
  };
}

/** How a sentence realises an event: which words show, and with which surface form. */
interface Realisation {
  words: Partial<Record<Slot, string>>;
  passive: boolean;
  negated: boolean;
}

function plain(e: Event): Realisation {
  const words: Partial<Record<Slot, string>> = {};
  for (const s of EVENT_SLOTS) words[s] = e[s].text;
  return { words, passive: false, negated: false };
}

function render(e: Event, r: Realisation): string {
  const x = r.words;
  const agent = `the ${x.adj !== undefined ? `${x.adj} ` : ''}${x.person}`;
  const thing = an(`${x.color !== undefined ? `${x.color} ` : ''}${x.object}`);
  let core: string;
  if (r.passive) core = `${thing} was ${r.negated ? 'not ' : ''}${x.verb} by ${agent}`;
  else core = r.negated ? `${agent} did not ${e.verb.base} ${thing}` : `${agent} ${x.verb} ${thing}`;
  const place = x.place !== undefined ? ` at the ${x.place}` : '';
  const day = x.day !== undefined ? ` on ${x.day}` : '';
  return `${core}${place}${day} .`;
}

/** Meaning-preserving edits: drop optional modifiers, use synonyms, switch to the passive. */
function preserve(rng: Rng, e: Event, r: Realisation, force: boolean): void {
  let edited = false;
  if (chance(rng, 0.6)) {
    for (const s of ['adj', 'color', 'place', 'day'] as const) {
      if (chance(rng, 0.45)) {
        delete r.words[s];
        edited = true;
      }
    }
  }
  if (chance(rng, 0.5)) {
    for (const s of EVENT_SLOTS) {
      const syn = e[s].synonyms;
      if (r.words[s] !== undefined && syn.length > 0 && chance(rng, 0.6)) {
        r.words[s] = pick(rng, syn);
        edited = true;
      }
    }
  }
  if (chance(rng, 0.3)) {
    r.passive = true;
    edited = true;
  }
  if (force && !edited) delete r.words[pick(rng, ['adj', 'color', 'place', 'day'] as const)];
}

/** synthetic-rte: labels 0 = entailment, 1 = not_entailment (RTE's order). */
export function entailmentExample(rng: Rng): GlueExample {
  const e = randomEvent(rng);
  const premise = render(e, plain(e));
  const entailed = chance(rng, 0.5);
  const r = plain(e);
  let hypEvent = e;
  if (entailed) {
    preserve(rng, e, r, true);
  } else {
    if (chance(rng, 0.35)) {
      r.negated = true;
    } else {
      const slot = pick(rng, EVENT_SLOTS);
      const other = pickOther(rng, SLOT_VALUES[slot], e[slot]);
      hypEvent = { ...e, [slot]: other };
      r.words[slot] = other.text;
    }
    if (chance(rng, 0.5)) preserve(rng, hypEvent, r, false);
  }
  let label = entailed ? 0 : 1;
  if (chance(rng, 0.03)) label = 1 - label;
  return { text_a: premise, text_b: render(hypEvent, r), label };
}

/** synthetic-stsb: a similarity score in [0, 5], rounded to 3 decimals like STS-B's. */
export function similarityExample(rng: Rng): GlueExample {
  const a = randomEvent(rng);
  const changed = rng.int(EVENT_SLOTS.length + 1);
  const slots = rng.shuffle(EVENT_SLOTS.slice()).slice(0, changed);
  const b: Event = { ...a };
  for (const s of slots) (b as unknown as Record<Slot, Word>)[s] = pickOther(rng, SLOT_VALUES[s], a[s]);
  const rb = plain(b);
  for (const s of EVENT_SLOTS) {
    if (!slots.includes(s) && b[s].synonyms.length > 0 && chance(rng, 0.3)) rb.words[s] = pick(rng, b[s].synonyms);
  }
  if (chance(rng, 0.3)) rb.passive = true;
  const raw = 5 * (1 - changed / EVENT_SLOTS.length) + 0.3 * gaussian(rng);
  const score = Math.round(Math.min(5, Math.max(0, raw)) * 1000) / 1000;
  return { text_a: render(a, plain(a)), text_b: render(b, rb), label: score };
}
