/**
 * The E2E-like synthetic stand-in (registered in ./synthetic.ts): restaurant meaning representations
 * with E2E's attributes and value sets, written in the challenge's MR format
 * (`name[X], eatType[Y], food[Z], …`, attributes in E2E order) so that ./e2e.ts mrToLoraContext turns
 * them into the LoRA context string, and several references per MR produced by varied templates:
 * different openings, some facts attached to the first sentence and the rest as separate sentences
 * in random order, several phrasings per fact. Names are invented (VENUE_NAMES), never E2E's.
 */
import type { Rng } from '../util/rng.ts';
import type { E2eData, E2eInstance, E2ePair } from './e2e.ts';
import { AREAS, EAT_TYPES, FOODS, PRICE_RANGES, RATINGS, VENUE_NAMES, an, chance, pick, pickOther } from './synthetic-lexicon.ts';

export interface SyntheticMr {
  name: string;
  eatType?: string;
  food?: string;
  priceRange?: string;
  customerRating?: string;
  area?: string;
  familyFriendly?: 'yes' | 'no';
  near?: string;
}

/** The MR in the challenge CSV's format, attributes in the E2E order. */
function formatMr(m: SyntheticMr): string {
  const items: [string, string | undefined][] = [
    ['name', m.name], ['eatType', m.eatType], ['food', m.food], ['priceRange', m.priceRange],
    ['customer rating', m.customerRating], ['area', m.area], ['familyFriendly', m.familyFriendly], ['near', m.near],
  ];
  return items.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}[${v}]`).join(', ');
}

/** A random MR: a name plus at least two other attributes (E2E MRs have 3 to 8). */
export function randomMr(rng: Rng): SyntheticMr {
  for (;;) {
    const name = pick(rng, VENUE_NAMES);
    const m: SyntheticMr = { name };
    if (chance(rng, 0.8)) m.eatType = pick(rng, EAT_TYPES);
    if (chance(rng, 0.7)) m.food = pick(rng, FOODS);
    if (chance(rng, 0.6)) m.priceRange = pick(rng, PRICE_RANGES);
    if (chance(rng, 0.55)) m.customerRating = pick(rng, RATINGS);
    if (chance(rng, 0.65)) m.area = pick(rng, AREAS);
    if (chance(rng, 0.55)) m.familyFriendly = chance(rng, 0.5) ? 'yes' : 'no';
    if (chance(rng, 0.45)) m.near = pickOther(rng, VENUE_NAMES, name);
    if (Object.keys(m).length >= 3) return m;
  }
}

const capitalise = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
const foodWord = (food: string): string => (food === 'Fast food' ? 'fast food' : food);
const isBand = (v: string): boolean => v === 'cheap' || v === 'moderate' || v === 'high' || v === 'low' || v === 'average';

/** One fact of the MR: a phrase that attaches to the venue noun, and a standalone sentence. */
interface Fact {
  attach: string;
  sentence: string;
}

function facts(rng: Rng, m: SyntheticMr, foodInSubject: boolean): Fact[] {
  const out: Fact[] = [];
  if (m.food !== undefined && !foodInSubject) {
    const f = foodWord(m.food);
    out.push({ attach: pick(rng, [`serving ${f} food`, `that serves ${f} food`]), sentence: pick(rng, [`It serves ${f} food.`, `They offer ${f} food.`]) });
  }
  if (m.priceRange !== undefined) {
    const p = m.priceRange;
    out.push(
      isBand(p)
        ? { attach: pick(rng, [`with ${p} prices`, `in the ${p} price range`]), sentence: pick(rng, [`Its prices are ${p}.`, `It has ${an(p)} price range.`]) }
        : { attach: pick(rng, [`with prices ${p}`, `with a price range of ${p}`]), sentence: pick(rng, [`Prices are ${p}.`, `Meals cost ${p}.`]) },
    );
  }
  if (m.customerRating !== undefined) {
    const r = m.customerRating;
    out.push(
      isBand(r)
        ? { attach: pick(rng, [`with ${an(r)} customer rating`, `rated ${r} by customers`]), sentence: pick(rng, [`Customers rate it ${r}.`, `Its customer rating is ${r}.`]) }
        : { attach: pick(rng, [`rated ${r} by customers`, `with a customer rating of ${r}`]), sentence: pick(rng, [`It has a customer rating of ${r}.`, `Customers rate it ${r}.`]) },
    );
  }
  if (m.area !== undefined) {
    const a = m.area;
    const place = a === 'riverside' ? pick(rng, ['by the riverside', 'in the riverside area']) : pick(rng, ['in the city centre', 'in the centre of the city']);
    out.push({ attach: pick(rng, [place, `located ${place}`]), sentence: pick(rng, [`It is located ${place}.`, `You can find it ${place}.`]) });
  }
  if (m.near !== undefined) {
    const n = m.near;
    out.push({ attach: pick(rng, [`near ${n}`, `close to ${n}`, `not far from ${n}`]), sentence: pick(rng, [`It is near ${n}.`, `It can be found near ${n}.`]) });
  }
  if (m.familyFriendly !== undefined) {
    out.push(
      m.familyFriendly === 'yes'
        ? { attach: pick(rng, ['that is family friendly', 'that welcomes children']), sentence: pick(rng, ['It is family friendly.', 'Children are welcome.', 'It is kid friendly.']) }
        : { attach: pick(rng, ['that is not family friendly', 'that does not welcome children']), sentence: pick(rng, ['It is not family-friendly.', 'It is not suitable for children.']) },
    );
  }
  return out;
}

/** One reference text for the MR. */
export function reference(rng: Rng, m: SyntheticMr): string {
  const foodInSubject = m.food !== undefined && chance(rng, 0.5);
  const noun = m.eatType ?? pick(rng, ['place', 'venue']);
  const nounPhrase = foodInSubject ? `${an(foodWord(m.food as string))} ${noun}` : an(noun);
  const opening = chance(rng, 0.6)
    ? `${m.name} is ${nounPhrase}`
    : `There is ${nounPhrase} ${pick(rng, ['called', 'named'])} ${m.name}`;
  const all = rng.shuffle(facts(rng, m, foodInSubject));
  const attached = all.slice(0, rng.int(Math.min(2, all.length) + 1));
  const separate = all.slice(attached.length);
  let first = opening;
  attached.forEach((f, i) => {
    first += i > 0 ? ` and ${f.attach}` : ` ${f.attach}`;
  });
  return [`${capitalise(first)}.`, ...separate.map((f) => f.sentence)].join(' ');
}

export interface SyntheticE2eSplits {
  train: E2eData;
  dev: E2eData;
}

/**
 * `trainMrs` + `devMrs` distinct MRs (dev MRs never occur in train, as in E2E), each with 2 to 6
 * distinct references. Train is MR-reference pairs, dev is grouped into instances.
 */
export function generateE2eSplits(rng: Rng, trainMrs: number, devMrs: number): SyntheticE2eSplits {
  const seen = new Set<string>();
  const make = (count: number, label: string): E2eData => {
    const pairs: E2ePair[] = [];
    const instances: E2eInstance[] = [];
    while (instances.length < count) {
      const m = randomMr(rng);
      const mr = formatMr(m);
      if (seen.has(mr)) continue;
      seen.add(mr);
      const want = 2 + rng.int(5);
      const refs = new Set<string>();
      for (let tries = 0; refs.size < want && tries < 50; tries++) refs.add(reference(rng, m));
      instances.push({ mr, refs: [...refs] });
      for (const ref of refs) pairs.push({ mr, ref, line: pairs.length + 1 });
    }
    return { file: `synthetic:synthetic-e2e/${label}`, pairs, instances };
  };
  return { train: make(trainMrs, 'train'), dev: make(devMrs, 'dev') };
}
