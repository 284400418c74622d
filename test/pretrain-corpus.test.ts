import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CORPUS_GLUE_TASKS, DEFAULT_CORPUS_BYTES, buildCorpus, locateDataDir, waterFill, type Corpus } from '../src/data/corpus.ts';
import { readE2eSplit } from '../src/data/e2e.ts';
import { readGlueSplit } from '../src/data/glue-tsv.ts';
import { UserError } from '../src/util/errors.ts';

const DATA = fileURLToPath(new URL('../../shared/data/', import.meta.url));
const HAS_DATA = existsSync(join(DATA, 'glue')) && existsSync(join(DATA, 'e2e'));

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
    if (HAS_DATA) assert.equal(locateDataDir({ flag: DATA, env: { LORA_REPRO_DATA: 'none' } }), join(DATA, '.').replace(/\/$/, ''));
    if (HAS_DATA) assert.equal(locateDataDir({ env: {} }), join(DATA, '.').replace(/\/$/, ''));
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

  describe('from the shared data', function () {
    let corpus: Corpus;
    before(function () {
      if (!HAS_DATA) this.skip();
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
