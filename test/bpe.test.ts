import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCorpus } from '../src/data/corpus.ts';
import { readE2eSplit } from '../src/data/e2e.ts';
import { readGlueSplit } from '../src/data/glue-tsv.ts';
import {
  bytesToUnicode, countPretokens, tokenizerJson, trainByteLevelBpe, writeTokenizerJson, type TrainedBpe,
} from '../src/tokenizers/bpe-trainer.ts';
import { loadTokenizer, type HfTokenizer } from '../src/tokenizers/hf-tokenizer.ts';
import { gpt2SpecialTokens, robertaSpecialTokens } from '../src/tokenizers/special-tokens.ts';
import { UserError } from '../src/util/errors.ts';
import { sharedOrSkip } from './helpers/skip.ts';

const DATA = fileURLToPath(new URL('../../shared/data/', import.meta.url));

let tmp: string;
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'bpe-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

function load(trained: TrainedBpe, name: string): HfTokenizer {
  const path = join(tmp, `${name}.json`);
  writeTokenizerJson(path, trained);
  return loadTokenizer(path);
}

const tokens = (tok: HfTokenizer, text: string): string[] => tok.encode(text).map((id) => tok.idToToken(id) as string);

/**
 * Textbook BPE written independently of the trainer: after every merge, recount every pair of every
 * word from scratch and take the most frequent (ties: smaller left string, then smaller right).
 */
function naiveMerges(texts: string[], numMerges: number): [string, string][] {
  const words = [...countPretokens(texts)].map(([w, c]) => ({ sym: Array.from(w), c }));
  const merges: [string, string][] = [];
  while (merges.length < numMerges) {
    const counts = new Map<string, { a: string; b: string; n: number }>();
    for (const { sym, c } of words) {
      for (let i = 0; i + 1 < sym.length; i++) {
        const k = `${sym[i]}\u0000${sym[i + 1]}`;
        const e = counts.get(k) ?? { a: sym[i] as string, b: sym[i + 1] as string, n: 0 };
        e.n += c;
        counts.set(k, e);
      }
    }
    let best: { a: string; b: string; n: number } | undefined;
    for (const e of counts.values()) {
      if (best === undefined || e.n > best.n || (e.n === best.n && (e.a < best.a || (e.a === best.a && e.b < best.b)))) best = e;
    }
    if (best === undefined || best.n < 2) break;
    merges.push([best.a, best.b]);
    for (const w of words) {
      const out: string[] = [];
      for (let i = 0; i < w.sym.length; ) {
        if (i + 1 < w.sym.length && w.sym[i] === best.a && w.sym[i + 1] === best.b) {
          out.push(best.a + best.b);
          i += 2;
        } else out.push(w.sym[i++] as string);
      }
      w.sym = out;
    }
  }
  return merges;
}

describe('byte-level BPE trainer', () => {
  it('maps bytes to printable characters as GPT-2 does', () => {
    const table = bytesToUnicode();
    assert.equal(table.length, 256);
    assert.equal(new Set(table.map((e) => e.char)).size, 256);
    const of = new Map(table.map((e) => [e.byte, e.char]));
    // GPT-2's well-known cases: space → 'Ġ' (U+0120), newline → 'Ċ' (U+010A), 'A' → 'A'.
    assert.equal(of.get(0x20), 'Ġ');
    assert.equal(of.get(0x0a), 'Ċ');
    assert.equal(of.get(0x41), 'A');
    // encoder.json order: '!' is token 0 of GPT-2.
    assert.equal(table[0]?.char, '!');
  });

  it('learns the textbook merges of a low/lower/newest/widest corpus, in order', () => {
    // Sennrich et al. (2016)'s example counts; each word is its own text, so no leading space.
    const texts = [...Array(5).fill('low'), ...Array(2).fill('lower'), ...Array(6).fill('newest'), ...Array(3).fill('widest')];
    // Counts worked by hand: es 9 = st 9 (tie → 'e' < 's'), then est 9, lo 7 = ow 7 → lo, low 7,
    // ew 6 = ne 6 = w·est 6 → ew, then ew·est 6 vs n·ew 6 → 'ew' < 'n', newest; then the 3s, then the 2s.
    const expected = [
      ['e', 's'], ['es', 't'], ['l', 'o'], ['lo', 'w'], ['e', 'w'], ['ew', 'est'], ['n', 'ewest'],
      ['d', 'est'], ['i', 'dest'], ['w', 'idest'], ['e', 'r'], ['low', 'er'],
    ];
    const trained = trainByteLevelBpe(texts, { vocabSize: 256 + 1 + expected.length, family: 'gpt2' });
    assert.deepEqual(trained.merges, expected);
    const tok = load(trained, 'low');
    assert.equal(tok.vocabSize, 256 + 1 + expected.length);
    assert.deepEqual(tokens(tok, 'lowest'), ['low', 'est']);
    assert.deepEqual(tokens(tok, 'newer'), ['n', 'ew', 'er']);
    assert.deepEqual(tokens(tok, 'widest lower'), ['widest', 'Ġ', 'lower']);
  });

  it('matches a from-scratch recount BPE on real text', function () {
    sharedOrSkip(this, 'data/glue');
    const texts = readGlueSplit(DATA, 'rte', 'train').slice(0, 60).flatMap((e) => [e.text_a, e.text_b as string]);
    const fast = trainByteLevelBpe(texts, { vocabSize: 256 + 1 + 300, family: 'gpt2' });
    assert.deepEqual(fast.merges, naiveMerges(texts, fast.merges.length));
    assert.equal(fast.merges.length, 300);
  });

  it('lays out RoBERTa and GPT-2 special tokens like roberta-base and gpt2', () => {
    const texts = ['the cat sat on the mat', 'the dog sat on the log', 'a cat and a dog'];
    const r = load(trainByteLevelBpe(texts, { vocabSize: 270, family: 'roberta' }), 'r');
    assert.deepEqual(robertaSpecialTokens(r), { bos: 0, pad: 1, eos: 2, unk: 3, mask: 269 });
    assert.equal(r.vocabSize, 270);
    // The mask token is recognised inside text and eats the space before it (lstrip, as roberta-base).
    const ids = r.encode('the <mask> sat');
    assert.ok(ids.includes(269));
    assert.equal(r.decode(ids), 'the<mask> sat');
    const g = load(trainByteLevelBpe(texts, { vocabSize: 270, family: 'gpt2' }), 'g');
    assert.deepEqual(gpt2SpecialTokens(g), { endOfText: 269 });
    assert.equal(g.tokenToId('<s>'), undefined);
  });

  it('fails clearly when the corpus cannot fill the vocabulary, unless allowed to stop short', () => {
    const texts = ['aaa bbb', 'aaa bbb'];
    assert.throws(() => trainByteLevelBpe(texts, { vocabSize: 400, family: 'gpt2' }), UserError);
    const small = trainByteLevelBpe(texts, { vocabSize: 400, family: 'gpt2', allowSmaller: true });
    assert.ok(small.vocab.size < 400);
    // Ids stay contiguous with the special token last.
    assert.deepEqual([...small.vocab.values()].sort((a, b) => a - b), [...Array(small.vocab.size).keys()]);
    assert.equal(small.vocab.get('<|endoftext|>'), small.vocab.size - 1);
  });

  it('is deterministic and independent of text order', () => {
    const texts = ['one two three two one', 'three three two', 'four five four', 'one one five'];
    const a = JSON.stringify(tokenizerJson(trainByteLevelBpe(texts, { vocabSize: 275, family: 'roberta', minFrequency: 1 })));
    const b = JSON.stringify(tokenizerJson(trainByteLevelBpe(texts, { vocabSize: 275, family: 'roberta', minFrequency: 1 })));
    const c = JSON.stringify(tokenizerJson(trainByteLevelBpe(texts.slice().reverse(), { vocabSize: 275, family: 'roberta', minFrequency: 1 })));
    assert.equal(a, b);
    assert.equal(a, c);
  });

  describe('on the mini corpus (real GLUE/E2E train text)', function () {
    let tok: HfTokenizer;
    let trainSeconds = 0;
    let corpusBytes = 0;
    before(function () {
      sharedOrSkip(this, 'data/glue');
      sharedOrSkip(this, 'data/e2e');
      const corpus = buildCorpus({ dataDir: DATA });
      corpusBytes = corpus.bytes;
      const t0 = performance.now();
      const trained = trainByteLevelBpe(corpus.documents, { vocabSize: 8000, family: 'roberta' });
      trainSeconds = (performance.now() - t0) / 1000;
      tok = load(trained, 'mini');
    });

    it('trains an exact 8000-token vocabulary', () => {
      console.log(`      BPE training: ${(corpusBytes / 1e6).toFixed(2)} MB → 8000 tokens in ${trainSeconds.toFixed(2)} s`);
      assert.equal(tok.vocabSize, 8000);
      assert.equal(tok.tokenToId('<mask>'), 7999);
    });

    it('round-trips dev text it was not trained on, byte for byte', () => {
      const texts = [
        ...readGlueSplit(DATA, 'sst2', 'dev').slice(0, 200).map((e) => e.text_a),
        ...readGlueSplit(DATA, 'mrpc', 'dev').slice(0, 100).flatMap((e) => [e.text_a, e.text_b as string]),
        ...readE2eSplit(DATA, 'dev', 'csv').pairs.slice(0, 200).flatMap((p) => [p.mr, p.ref]),
        'Café Rouge costs £20-25 — naïve 日本語 🍕 text\twith\ttabs\n and  double  spaces ',
      ];
      for (const t of texts) assert.equal(tok.decode(tok.encode(t)), t);
      // Real merges were learned: common words are single tokens, text compresses well below bytes.
      assert.deepEqual(tokens(tok, ' restaurant'), ['Ġrestaurant']);
      const sample = texts.slice(0, 300).join(' ');
      assert.ok(tok.encode(sample).length < Buffer.byteLength(sample) / 3);
    });

    it('writes a tokenizer.json the loader reads back unchanged', () => {
      const json = JSON.parse(readFileSync(join(tmp, 'mini.json'), 'utf8')) as { model: { vocab: Record<string, number>; merges: string[] } };
      assert.equal(Object.keys(json.model.vocab).length, 8000);
      assert.equal(json.model.merges.length, 8000 - 5 - 256);
      for (const [token, id] of Object.entries(json.model.vocab).slice(0, 500)) assert.equal(tok.tokenToId(token), id);
    });
  });
});
