import { strict as assert } from 'node:assert';
import { collatePairs, lengthGroupedBatches, makeSentencePair, padPairs, pairableDocuments } from '../src/pretrain/next-sentence.ts';
import { Rng } from '../src/util/rng.ts';

const IDS = { bos: 0, eos: 2, pad: 1 };
// Token ids ≥ 10 are ordinary; each document's ids start at a distinct hundred so halves are traceable.
const DOCS = pairableDocuments([
  [100, 101, 102, 103, 104],
  [200, 201, 202, 203],
  [300],
  [400, 401, 402, 403, 404, 405, 406],
]);

describe('next-sentence prediction pairs', () => {
  it('keeps only documents that can be cut in two', () => {
    assert.deepEqual(DOCS.map((d) => d[0]), [100, 200, 400]);
  });

  it('lays a pair out as <s> A </s></s> B </s>, A the first ⌈n/2⌉ tokens, B the rest (IsNext) or another document\'s tail', () => {
    const rng = new Rng(5);
    const seen = new Set<number>();
    for (let k = 0; k < 50; k++) {
      const p = makeSentencePair(DOCS, 0, rng, IDS, 128);
      seen.add(p.isNext);
      const ids = Array.from(p.ids);
      assert.deepEqual(ids.slice(0, 5), [0, 100, 101, 102, 2]);
      assert.equal(ids[5], 2);
      assert.equal(ids[ids.length - 1], 2);
      const b = ids.slice(6, -1);
      if (p.isNext === 1) assert.deepEqual(b, [103, 104]);
      else assert.ok(b.every((t) => Math.floor(t / 100) !== 1) && b.length > 0, `NotNext B from another document: ${b}`);
    }
    assert.deepEqual([...seen].sort(), [0, 1], 'both labels occur');
  });

  it('draws IsNext about half of the time', () => {
    const rng = new Rng(1);
    let next = 0;
    for (let k = 0; k < 2000; k++) next += makeSentencePair(DOCS, k % 3, rng, IDS, 128).isNext;
    assert.ok(Math.abs(next / 2000 - 0.5) < 0.04, `${next}`);
  });

  it('shortens the longer side from its outer end, so the A|B seam survives', () => {
    const p = makeSentencePair(DOCS, 2, { next: () => 0, int: () => 0 } as unknown as Rng, IDS, 8);
    // 400…406: A = 400–403, B = 404–406; 8 − 4 specials = 4 tokens: A loses its head first.
    assert.equal(p.isNext, 1);
    assert.deepEqual(Array.from(p.ids), [0, 402, 403, 2, 2, 404, 405, 2]);
  });

  it('collates to the longest pair, padding never attended to nor masked', () => {
    const rng = new Rng(3);
    const pairs = [makeSentencePair(DOCS, 0, rng, IDS, 128), makeSentencePair(DOCS, 2, rng, IDS, 128)];
    const masking = { probability: 0.5, maskTokenId: 4, vocabSize: 500, specialIds: new Set([0, 1, 2, 4]) };
    const b = collatePairs(pairs, IDS.pad, masking, rng);
    const len = Math.max(pairs[0]!.ids.length, pairs[1]!.ids.length);
    assert.equal(b.batch.seqLen, len);
    assert.deepEqual(Array.from(b.isNext), pairs.map((p) => p.isNext));
    pairs.forEach((p, r) => {
      for (let t = 0; t < len; t++) {
        assert.equal(b.batch.attentionMask[r * len + t], t < p.ids.length ? 1 : 0);
        if (t >= p.ids.length) assert.equal(b.batch.inputIds[r * len + t], IDS.pad);
      }
    });
    b.mlmPositions.forEach((pos, k) => {
      const r = Math.floor(pos / len);
      const t = pos % len;
      assert.ok(t < pairs[r]!.ids.length, 'a masked-LM target inside the pair');
      assert.equal(b.mlmLabels[k], pairs[r]!.ids[t]);
      assert.ok(!masking.specialIds.has(b.mlmLabels[k]!), 'special tokens are never targets');
    });
  });

  it('pads pairs for scoring without corrupting any token', () => {
    const rng = new Rng(4);
    const pairs = [makeSentencePair(DOCS, 0, rng, IDS, 128), makeSentencePair(DOCS, 2, rng, IDS, 128)];
    const b = padPairs(pairs, IDS.pad);
    pairs.forEach((p, r) => {
      assert.deepEqual(Array.from(b.inputIds.subarray(r * b.seqLen, r * b.seqLen + p.ids.length)), Array.from(p.ids));
      assert.ok(Array.from(b.inputIds.subarray(r * b.seqLen + p.ids.length, (r + 1) * b.seqLen)).every((t) => t === IDS.pad));
    });
  });

  it('groups documents of similar length into batches that cover every full batch once', () => {
    const lengths = Array.from({ length: 100 }, (_, i) => (i * 37) % 91);
    const batches = lengthGroupedBatches(lengths, 8, new Rng(0), 4);
    const all = batches.flat();
    assert.equal(new Set(all).size, all.length, 'no index twice');
    assert.equal(all.length, 96, 'the remainder of each chunk that fills no batch is dropped');
    const spread = (b: number[]) => Math.max(...b.map((i) => lengths[i]!)) - Math.min(...b.map((i) => lengths[i]!));
    const mean = batches.reduce((s, b) => s + spread(b), 0) / batches.length;
    assert.ok(mean < 30, `mean length spread inside a batch ${mean} (random batches: ~70)`);
  });
});
