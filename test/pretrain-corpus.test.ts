import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CORPUS_GLUE_TASKS, DEFAULT_CORPUS_BYTES, SEGMENT_SEPARATOR, buildCorpus, documentSegments, locateDataDir, waterFill, type Corpus } from '../src/data/corpus.ts';
import { readE2eSplit } from '../src/data/e2e.ts';
import { readGlueSplit } from '../src/data/glue-tsv.ts';
import { UserError } from '../src/util/errors.ts';
import { sharedOrSkip } from './helpers/skip.ts';

const DATA = fileURLToPath(new URL('../../shared/data/', import.meta.url));

const sentences = (task: (typeof CORPUS_GLUE_TASKS)[number], split: string): string[] =>
  readGlueSplit(DATA, task, split).flatMap((e) => (e.text_b === undefined ? [e.text_a] : [e.text_a, e.text_b]));

describe('pretraining corpus', () => {
  it('water-fills the byte budget: equal shares, leftovers of small sources to the others', () => {
    assert.deepEqual(waterFill([100, 100, 100], 90), [30, 30, 30]);
    assert.deepEqual(waterFill([10, 100, 100], 90), [10, 40, 40]);
    assert.deepEqual(waterFill([10, 20, 30], 1000), [10, 20, 30]);
    const shares = waterFill([5, 1000, 7, 300], 400);
    assert.equal(shares.reduce((a, b) => a + b, 0), 400);
  });

  it('finds the data directory: an explicit one must exist, the default only when present', () => {
    assert.throws(() => locateDataDir({ flag: '/nonexistent/lora-data', env: {} }), UserError);
    assert.throws(() => locateDataDir({ env: { LORA_REPRO_DATA: '/nonexistent/lora-data' } }), UserError);
    assert.equal(locateDataDir({ flag: 'none', env: { LORA_REPRO_DATA: DATA } }), undefined);
    assert.equal(locateDataDir({ env: { LORA_REPRO_DATA: 'none' } }), undefined);
  });

  it('finds the shared data directory: given as a flag, and by default beside the checkout', function () {
    sharedOrSkip(this, 'data/glue');
    sharedOrSkip(this, 'data/e2e');
    assert.equal(locateDataDir({ flag: DATA, env: { LORA_REPRO_DATA: 'none' } }), join(DATA, '.').replace(/\/$/, ''));
    assert.equal(locateDataDir({ env: {} }), join(DATA, '.').replace(/\/$/, ''));
  });

  it('without a data directory is generated SYNTHETIC text, deterministic, within budget', () => {
    const a = buildCorpus({ budgetBytes: 100_000 });
    const b = buildCorpus({ budgetBytes: 100_000 });
    assert.equal(a.kind, 'synthetic');
    assert.match(a.description, /SYNTHETIC/);
    assert.ok(a.bytes <= 100_000 && a.bytes > 90_000, `${a.bytes}`);
    assert.equal(a.hash, b.hash);
    assert.deepEqual(a.documents, b.documents);
    assert.notEqual(buildCorpus({ budgetBytes: 50_000 }).hash, a.hash);
  });

  it('linked SYNTHETIC text keeps the two sentences of a pair and the references of one MR together', () => {
    const plain = buildCorpus({ budgetBytes: 100_000 });
    assert.equal(buildCorpus({ budgetBytes: 100_000, linkRelated: false }).hash, plain.hash);
    const linked = buildCorpus({ budgetBytes: 100_000, linkRelated: true });
    assert.notEqual(linked.hash, plain.hash);
    assert.match(linked.description, /SYNTHETIC.*related texts linked/);
    assert.equal(buildCorpus({ budgetBytes: 100_000, linkRelated: true }).hash, linked.hash);
    const counts = linked.documents.map((d) => documentSegments(d).length);
    // One-sentence sentiment texts, two-sentence pairs, three references of one MR.
    assert.deepEqual([...new Set(counts)].sort(), [1, 2, 3]);
    for (const d of linked.documents) for (const seg of documentSegments(d)) assert.ok(seg !== '' && seg.trim() === seg && !/[\r\n]/.test(seg));
    assert.ok(linked.bytes <= 100_000 && linked.bytes > 90_000, `${linked.bytes}`);
  });

  describe('from the shared data', function () {
    let corpus: Corpus;
    before(function () {
      sharedOrSkip(this, 'data/glue');
      sharedOrSkip(this, 'data/e2e');
      corpus = buildCorpus({ dataDir: DATA });
    });

    it('hashes its content (SHA-256 of the documents) and reproduces it exactly', () => {
      assert.equal(corpus.kind, 'data');
      assert.equal(corpus.hash, createHash('sha256').update(JSON.stringify(corpus.documents)).digest('hex'));
      assert.equal(buildCorpus({ dataDir: DATA }).hash, corpus.hash);
      assert.notEqual(buildCorpus({ dataDir: DATA, seed: 1 }).hash, corpus.hash);
    });

    it('fills the default 4 MiB budget in roughly equal parts from all six sources', () => {
      assert.ok(corpus.bytes <= DEFAULT_CORPUS_BYTES && corpus.bytes > 0.99 * DEFAULT_CORPUS_BYTES, `${corpus.bytes}`);
      assert.equal(corpus.sources.length, 6);
      const share = DEFAULT_CORPUS_BYTES / 6;
      for (const s of corpus.sources) {
        assert.ok(s.usedBytes <= s.availableBytes);
        assert.ok(s.usedBytes > 0.95 * Math.min(share, s.availableBytes), `${s.name}: ${s.usedBytes}`);
      }
      const byteSum = corpus.documents.reduce((n, d) => n + Buffer.byteLength(d) + 1, 0);
      assert.equal(byteSum, corpus.bytes);
      assert.equal(new Set(corpus.documents).size, corpus.documents.length);
      for (const d of corpus.documents) assert.ok(!/[\r\n]/.test(d) && d.trim() === d && d !== '');
    });

    it('uses train splits only: no sentence that occurs only in a dev split', () => {
      const train = new Set<string>();
      for (const t of CORPUS_GLUE_TASKS) for (const s of sentences(t, 'train')) train.add(s.replace(/\s*[\r\n]+\s*/g, ' ').trim());
      for (const p of readE2eSplit(DATA, 'train', 'csv').pairs) train.add(p.ref.replace(/\s*[\r\n]+\s*/g, ' ').trim());
      for (const d of corpus.documents) assert.ok(train.has(d), `not from a train split: ${d.slice(0, 80)}`);
      const devOnly = new Set<string>();
      for (const t of CORPUS_GLUE_TASKS) for (const s of sentences(t, 'dev')) if (!train.has(s)) devOnly.add(s);
      for (const p of readE2eSplit(DATA, 'dev', 'csv').pairs) if (!train.has(p.ref)) devOnly.add(p.ref);
      assert.ok(devOnly.size > 1000);
      assert.equal(corpus.documents.filter((d) => devOnly.has(d)).length, 0);
    });

    it('linked (GPT-2): the two sentences of a pair example, the references of one E2E MR; train text only, no MR', () => {
      const linked = buildCorpus({ dataDir: DATA, linkRelated: true });
      assert.notEqual(linked.hash, corpus.hash);
      assert.ok(linked.bytes <= DEFAULT_CORPUS_BYTES && linked.bytes > 0.99 * DEFAULT_CORPUS_BYTES, `${linked.bytes}`);
      assert.equal(linked.documents.reduce((n, d) => n + Buffer.byteLength(d) + 1, 0), linked.bytes);
      const oneLine = (t: string): string => t.replace(/\s*[\r\n]+\s*/g, ' ').trim();
      const pairDocs = new Set<string>();
      for (const t of ['mrpc', 'stsb', 'rte'] as const) for (const e of readGlueSplit(DATA, t, 'train')) pairDocs.add([e.text_a, e.text_b as string].map(oneLine).join(SEGMENT_SEPARATOR));
      const mrOfRef = new Map<string, Set<string>>();
      for (const p of readE2eSplit(DATA, 'train', 'csv').pairs) {
        const r = oneLine(p.ref);
        mrOfRef.set(r, (mrOfRef.get(r) ?? new Set()).add(p.mr));
      }
      const train = new Set<string>([...CORPUS_GLUE_TASKS.flatMap((t) => sentences(t, 'train').map(oneLine)), ...mrOfRef.keys()]);
      let pairs = 0;
      let groups = 0;
      for (const d of linked.documents) {
        const segs = documentSegments(d);
        for (const seg of segs) assert.ok(train.has(seg) && !seg.includes(SEGMENT_SEPARATOR), `not a train text: ${seg.slice(0, 80)}`);
        if (segs.length === 2 && pairDocs.has(d)) pairs++;
        else if (segs.length > 1) {
          // Every reference of the document shares one MR.
          const common = segs.map((r) => mrOfRef.get(r) ?? new Set<string>()).reduce((a, b) => new Set([...a].filter((m) => b.has(m))));
          assert.ok(common.size > 0, `references of different MRs linked: ${d.slice(0, 120)}`);
          groups++;
        }
      }
      assert.ok(pairs > 1000 && groups > 500, `${pairs} pairs, ${groups} reference groups`);
      assert.ok(!linked.documents.some((d) => /\b(name|eatType|food|priceRange|customer rating|area|familyFriendly|near)\[/.test(d)), 'an MR (attribute[value]) in the corpus');
    });

    it('subsamples deterministically and mixes the sources', () => {
      // The first 100 documents come from several sources (shuffled together, not concatenated).
      const e2eRefs = new Set(readE2eSplit(DATA, 'train', 'csv').pairs.map((p) => p.ref));
      const head = corpus.documents.slice(0, 100);
      const fromE2e = head.filter((d) => e2eRefs.has(d)).length;
      assert.ok(fromE2e > 3 && fromE2e < 50, `${fromE2e}`);
      const small = buildCorpus({ dataDir: DATA, budgetBytes: 200_000 });
      assert.ok(small.bytes <= 200_000 && small.bytes > 195_000);
    });
  });
});
