/**
 * `lora-repro pretrain --corpus-extra wordnet`, `--objective mlm|mlm-nsp|mlm-nsp-bow` and `--vocab N`
 * (issue 18, the corpus, objective and tokenizer axes of the stand-in study; src/pretrain/pretrain-options.ts, wordnet-text.ts):
 * the WordNet reader against glosses read off the database by hand, the corpus rule (extras never
 * displace the data directory's text), absent / default flags leaving cache keys and the shipped
 * stand-in's match untouched, bad values as UserErrors, and `mlm` training without the next-sentence
 * and bag-of-words heads.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/backend/select.ts';
import { pretrainCommand } from '../src/cli/commands/pretrain.ts';
import { buildCorpus, locateDataDir } from '../src/data/corpus.ts';
import { isPretrainClassifier } from '../src/pretrain/artifacts.ts';
import { ensurePretrained, locatePretrained } from '../src/pretrain/cache.ts';
import { pairableDocuments } from '../src/pretrain/next-sentence.ts';
import { pretrainModel } from '../src/pretrain/pretrain.ts';
import { SYNTHETIC_PRETRAIN, pretrainModelConfig, type PretrainSettings } from '../src/pretrain/pretrain-config.ts';
import { corpusExtraSources, nonDefaultOptions, objectiveOf, optionsLabel, resolveCorpusExtra, resolveObjective, resolveVocab } from '../src/pretrain/pretrain-options.ts';
import { artifactsRoot, readShipped, shippedMismatch } from '../src/pretrain/shipped.ts';
import { parseWordNetDataLine, wordNetDocuments } from '../src/pretrain/wordnet-text.ts';
import { UserError } from '../src/util/errors.ts';
import { Rng } from '../src/util/rng.ts';
import { TINY_PRETRAIN } from './helpers/pretrain.ts';
import { sharedOrSkip } from './helpers/skip.ts';

/** The synthetic RoBERTa's key with `--steps 2`, from before these flags (test/pretrain-architecture.test.ts KEY_BEFORE). */
const KEY_STEPS2_BEFORE = '60bfae9f78b3230b';

const userError = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message) && !e.message.includes('\n');

describe('pretraining corpus and objective options (the corpus / objective study)', function () {
  this.timeout(10 * 60 * 1000);
  let cache: string;
  before(async () => {
    await initBackend();
    cache = mkdtempSync(join(tmpdir(), 'pretrain-options-'));
  });
  after(() => rmSync(cache, { recursive: true, force: true }));

  describe('the WordNet reader', () => {
    it('parses a synset line: headwords (markers and _ dropped), definition, quoted examples (attribution dropped)', () => {
      // data.adj, offset 00001740, as in the WordNet 3.0 file (pointers shortened to one).
      const able = parseWordNetDataLine(
        '00001740 00 a 01 able 0 001 ! 00002098 a 0101 | (usually followed by `to\') having the necessary means or skill or know-how or authority to do something; "able to swim"; "she was able to program her computer"  ',
      );
      assert.deepEqual(able, {
        words: ['able'],
        definition: "(usually followed by `to') having the necessary means or skill or know-how or authority to do something",
        examples: ['able to swim', 'she was able to program her computer'],
      });
      // A made-up line with an adjective marker, two words (w_cnt in hex), an attribution and two definitions.
      const made = parseWordNetDataLine('00000001 00 s 02 big_deal(p) 0 huge 1 000 | very large; enormous; "a huge house" - Anon');
      assert.deepEqual(made, { words: ['big deal', 'huge'], definition: 'very large; enormous', examples: ['a huge house'] });
      assert.equal(parseWordNetDataLine('  1 This software and database is being provided'), undefined, 'licence header');
    });

    it('reads the shipped WordNet 3.0: known glosses and examples, one document each, no duplicates', () => {
      const docs = wordNetDocuments();
      const set = new Set(docs);
      assert.equal(set.size, docs.length);
      // data.noun 02084071 (dog, n. 1), read off the file by hand.
      assert.ok(set.has('dog, domestic dog, Canis familiaris: a member of the genus Canis (probably descended from the common wolf) that has been domesticated by man since prehistoric times; occurs in many breeds'));
      assert.ok(set.has('the dog barked all night'));
      assert.ok(set.has("able: (usually followed by `to') having the necessary means or skill or know-how or authority to do something"));
      assert.ok(set.has('she was able to program her computer'));
      assert.ok(docs.length > 150_000, `${docs.length} documents`);
    });
  });

  it('extra sources fill what the main sources leave of the budget, never displacing them', () => {
    const plain = buildCorpus({ budgetBytes: 60_000 });
    const extra = Array.from({ length: 5000 }, (_, i) => `extra document ${i}`);
    const mixed = buildCorpus({ budgetBytes: 60_000, extraSources: [{ name: 'test extra', documents: [...extra, plain.documents[0] as string] }] });
    const chosen = new Set(mixed.documents);
    assert.ok(plain.documents.every((d) => chosen.has(d)), 'every document of the corpus without extras is kept');
    const used = mixed.sources.find((s) => s.name === 'test extra');
    assert.ok(used !== undefined && used.usedBytes > 0 && used.usedBytes <= 60_000 - plain.bytes, JSON.stringify(used));
    assert.equal(used.availableDocuments, extra.length, 'a document already in a main source is not counted again');
    assert.ok(mixed.bytes <= 60_000 && mixed.bytes > plain.bytes);
    assert.match(mixed.description, /\+ test extra/);
    assert.equal(buildCorpus({ budgetBytes: 60_000, extraSources: [] }).hash, plain.hash);
  });

  it('absent or default flags: no override, the cache key from before the flags', () => {
    for (const family of ['roberta', 'deberta', 'gpt2'] as const) assert.equal(resolveObjective(family, undefined, undefined), undefined);
    assert.equal(resolveObjective('roberta', undefined, 'mlm-nsp-bow'), undefined);
    assert.equal(resolveObjective('deberta', '/data', 'mlm-nsp-bow'), undefined);
    assert.equal(resolveCorpusExtra(undefined, undefined), undefined);
    assert.equal(locatePretrained({ family: 'roberta', seed: 0, settings: { steps: 2, ...resolveObjective('roberta', undefined, 'mlm-nsp-bow') } }).key, KEY_STEPS2_BEFORE);
    const mlm = resolveObjective('roberta', undefined, 'mlm');
    assert.deepEqual(mlm, { nspEvery: 0, bagOfWords: false });
    assert.deepEqual(resolveObjective('roberta', undefined, 'mlm-nsp'), { nspEvery: 2, bagOfWords: false, pairBagOfWords: false });
    assert.notEqual(locatePretrained({ family: 'roberta', seed: 0, settings: { steps: 2, ...mlm } }).key, KEY_STEPS2_BEFORE);
    // What the study reads back from a settings record.
    const d = SYNTHETIC_PRETRAIN.roberta;
    assert.equal(objectiveOf(d), 'mlm-nsp-bow');
    assert.equal(objectiveOf({ ...d, ...mlm }), 'mlm');
    assert.equal(objectiveOf({ ...d, ...resolveObjective('roberta', undefined, 'mlm-nsp') }), 'mlm-nsp');
    assert.equal(objectiveOf(SYNTHETIC_PRETRAIN.gpt2), 'clm');
    assert.deepEqual(nonDefaultOptions('roberta', d), {});
    assert.deepEqual(nonDefaultOptions('roberta', { ...d, ...mlm, corpusExtra: ['wordnet'] }), { objective: 'mlm', corpusExtra: 'wordnet' });
    assert.deepEqual(nonDefaultOptions('gpt2', SYNTHETIC_PRETRAIN.gpt2), {});
    assert.equal(optionsLabel({ objective: 'mlm', corpusExtra: 'wordnet' }), 'wordnet-mlm');
  });

  it('--vocab: absent or the default size leaves the key alone; another size is a key, a record field and a label of its own', () => {
    assert.equal(resolveVocab('roberta', undefined, undefined), undefined);
    assert.equal(resolveVocab('roberta', '/data', 8000), undefined);
    assert.equal(locatePretrained({ family: 'roberta', seed: 0, settings: { steps: 2, ...resolveVocab('roberta', undefined, 8000) } }).key, KEY_STEPS2_BEFORE);
    const v4000 = resolveVocab('roberta', undefined, 4000);
    assert.deepEqual(v4000, { vocabSize: 4000 });
    const key4000 = locatePretrained({ family: 'roberta', seed: 0, settings: { steps: 2, ...v4000 } }).key;
    assert.notEqual(key4000, KEY_STEPS2_BEFORE);
    assert.notEqual(locatePretrained({ family: 'roberta', seed: 0, settings: { steps: 2, vocabSize: 16000 } }).key, key4000);
    const d = SYNTHETIC_PRETRAIN.roberta;
    assert.deepEqual(nonDefaultOptions('roberta', { ...d, ...v4000 }), { vocabSize: 4000 });
    assert.deepEqual(nonDefaultOptions('gpt2', { ...SYNTHETIC_PRETRAIN.gpt2, vocabSize: 16000 }), { vocabSize: 16000 });
    assert.deepEqual(nonDefaultOptions('roberta', { ...d, ...resolveObjective('roberta', undefined, 'mlm'), vocabSize: 16000 }), { objective: 'mlm', vocabSize: 16000 });
    assert.equal(optionsLabel({ vocabSize: 16000 }), 'v16000');
    assert.equal(optionsLabel({ corpusExtra: 'wordnet', objective: 'mlm', vocabSize: 4000 }), 'wordnet-mlm-v4000');
    assert.throws(() => resolveVocab('roberta', undefined, 300), userError(/--vocab must be an integer of at least 512/));
  });

  it('--vocab N trains the tokenizer at that size and sizes the model to it', async () => {
    // TINY_PRETRAIN's own size is 400; --vocab 600 asks for more on the same corpus.
    const base = await ensurePretrained({ family: 'roberta', seed: 0, settings: { ...TINY_PRETRAIN, steps: 2, shortSeqSteps: 0 }, cacheDir: cache });
    const big = await ensurePretrained({ family: 'roberta', seed: 0, settings: { ...TINY_PRETRAIN, steps: 2, shortSeqSteps: 0, ...resolveVocab('roberta', undefined, 600) }, cacheDir: cache });
    assert.equal(base.meta.tokenizer.vocabSize, 400);
    assert.equal(big.meta.settings.vocabSize, 600);
    assert.equal(big.meta.tokenizer.vocabSize, 600, 'the synthetic corpus has merges enough for 600 tokens');
    const config = JSON.parse(readFileSync(join(big.dir, 'config.json'), 'utf8')) as { vocab_size: number };
    assert.equal(config.vocab_size, 600);
    assert.notEqual(big.meta.key, base.meta.key);
  });

  it('the data-directory default still matches the shipped stand-in; --corpus-extra wordnet gets its own key and corpus', function () {
    sharedOrSkip(this, 'data/glue');
    const dataDir = locateDataDir({ env: {} }) as string;
    const header = readShipped(join(artifactsRoot(undefined, {}), 'mini-roberta'), 'roberta');
    if (header === undefined) this.skip();
    assert.equal(resolveCorpusExtra(undefined, dataDir), undefined);
    const want = locatePretrained({ family: 'roberta', dataDir, seed: 0, settings: resolveObjective('roberta', dataDir, 'mlm-nsp-bow') });
    assert.equal(want.corpus.hash, header.pretrain.corpus.hash);
    assert.equal(shippedMismatch(header, { corpus: want.corpus, settings: want.settings, seed: 0 }), undefined);
    const corpusExtra = resolveCorpusExtra('wordnet', dataDir);
    const wn = locatePretrained({ family: 'roberta', dataDir, seed: 0, settings: { corpusExtra } });
    assert.notEqual(wn.key, want.key);
    assert.deepEqual(wn.settings.corpusExtra, ['wordnet']);
    assert.match(wn.corpus.description, /WordNet 3\.0 glosses \+ examples/);
    // The data directory's text is all there; WordNet has what it leaves of the 16 MiB.
    assert.deepEqual(wn.corpus.sources.slice(0, -1).map((s) => s.usedBytes), want.corpus.sources.map((s) => s.usedBytes));
    assert.equal(wn.corpus.bytes <= wn.settings.corpusBytes && wn.corpus.bytes > want.corpus.bytes, true);
    // --corpus-extra synthetic: the stand-in tasks' generated text in the same place.
    const syn = locatePretrained({ family: 'roberta', dataDir, seed: 0, settings: { corpusExtra: resolveCorpusExtra('synthetic', dataDir) } });
    assert.ok(syn.key !== want.key && syn.key !== wn.key);
    assert.match(syn.corpus.description, /synthetic generators/);
    assert.deepEqual(syn.corpus.sources.slice(0, -1).map((s) => s.usedBytes), want.corpus.sources.map((s) => s.usedBytes));
    assert.equal(syn.corpus.bytes <= syn.settings.corpusBytes && syn.corpus.bytes > want.corpus.bytes, true);
  });

  it('--corpus-extra synthetic: the generators\' sentences, one per document, the same every time', () => {
    const [a] = corpusExtraSources({ corpusExtra: ['synthetic'] });
    const [b] = corpusExtraSources({ corpusExtra: ['synthetic'] });
    assert.equal(a?.name, 'synthetic generators');
    assert.deepEqual(a?.documents.slice(0, 50), b?.documents.slice(0, 50));
    const bytes = (a?.documents ?? []).reduce((n, d) => n + Buffer.byteLength(d) + 1, 0);
    assert.ok(bytes >= 8 * 1024 * 1024, `${bytes} bytes: more than the data directory leaves of the budget`);
    assert.ok((a?.documents ?? []).every((d) => d.length > 0 && !d.includes('\n')));
  });

  it('bad values are one-line UserErrors', async () => {
    const run = (argv: string[]) => pretrainCommand.run([...argv, '--cache', join(cache, 'bad')]);
    await assert.rejects(run(['--model', 'roberta', '--synthetic', '--objective', 'nsp']), userError(/--objective must be one of mlm, mlm-nsp, mlm-nsp-bow, got 'nsp'/));
    await assert.rejects(run(['--model', 'gpt2', '--synthetic', '--objective', 'mlm']), userError(/masked-LM stand-ins/));
    await assert.rejects(run(['--model', 'roberta', '--corpus-extra', 'wiki']), userError(/--corpus-extra must be one of synthetic, wordnet, got 'wiki'/));
    await assert.rejects(run(['--model', 'roberta', '--synthetic', '--corpus-extra', 'wordnet']), userError(/there is none/));
    await assert.rejects(run(['--model', 'roberta', '--synthetic', '--objective', 'mlm', '--ship']), userError(/drop --objective/));
    await assert.rejects(run(['--model', 'roberta', '--synthetic', '--vocab', '100']), userError(/--vocab must be an integer of at least 512/));
    await assert.rejects(run(['--model', 'gpt2', '--synthetic', '--vocab', '4000', '--ship']), userError(/drop --vocab/));
  });

  it('--objective mlm trains masked LM on blocks only: no next-sentence head, no pair steps, no bag of words', async () => {
    const mlm = resolveObjective('roberta', undefined, 'mlm');
    const r = await ensurePretrained({ family: 'roberta', seed: 0, settings: { ...TINY_PRETRAIN, steps: 6, shortSeqSteps: 3, ...mlm }, cacheDir: cache });
    const t = r.meta.training;
    assert.equal(t.lossCurve.length, 6, 'every step a block step');
    assert.equal(t.pairLossCurve, undefined);
    assert.equal(t.nspAccuracy, undefined);
    assert.equal(objectiveOf(r.meta.settings), 'mlm');

    // The model pretrainModel builds: the MLM head only (the default objective's has the next-sentence head).
    const vocab = 400;
    const rng = new Rng(1);
    const blocks = Array.from({ length: 40 }, () => Int32Array.from({ length: 32 }, () => 5 + rng.int(vocab - 5)));
    const masking = { maskTokenId: 4, vocabSize: vocab, specialIds: new Set([0, 1, 2, 3, 4]) };
    const base: PretrainSettings = { ...SYNTHETIC_PRETRAIN.roberta, ...TINY_PRETRAIN, steps: 2, shortSeqSteps: 0 };
    const heads = async (s: PretrainSettings, pairs: boolean): Promise<string[]> => {
      const config = pretrainModelConfig(s, vocab, { pad: 1, bos: 0, eos: 2 });
      const out = await pretrainModel({ settings: s, config, blocks, masking, seed: 0, ...(pairs ? { pairs: { documents: pairableDocuments(blocks.map((b) => Array.from(b))), ids: { bos: 0, eos: 2, pad: 1 } } } : {}) });
      const names = out.model.params.names().filter(isPretrainClassifier);
      out.model.dispose();
      return names;
    };
    assert.deepEqual(await heads({ ...base, ...mlm }, false), []);
    assert.ok((await heads(base, true)).length > 0, 'the default objective trains a next-sentence head');
  });

  it('--objective mlm-nsp: pair steps without the bag of words', async () => {
    const r = await ensurePretrained({ family: 'roberta', seed: 0, settings: { ...TINY_PRETRAIN, steps: 4, shortSeqSteps: 2, ...resolveObjective('roberta', undefined, 'mlm-nsp') }, cacheDir: cache });
    assert.equal(r.meta.training.pairLossCurve?.length, 2);
    assert.ok(r.meta.training.nspAccuracy !== undefined);
    assert.equal(r.meta.settings.pairBagOfWords, false);
    assert.equal(objectiveOf(r.meta.settings), 'mlm-nsp');
  });
});
