/**
 * A small seeded random number generator (mulberry32). One seed fixes everything random in a run:
 * weight initialisation, data order and dropout masks all draw their seeds from an Rng.
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer seed for a tfjs op (random init, dropout), derived from this stream. */
  nextSeed(): number {
    return Math.floor(this.next() * 2147483647);
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  /** A child generator whose stream does not depend on how many numbers this one has drawn later. */
  fork(): Rng {
    return new Rng(this.nextSeed());
  }
}
