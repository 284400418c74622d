import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HfTokenizer, loadGpt2Bpe, loadTokenizer } from '../src/tokenizers/hf-tokenizer.ts';
import { gpt2SpecialTokens, robertaInputIds, robertaSpecialTokens, ROBERTA_BASE_SPECIAL_IDS } from '../src/tokenizers/special-tokens.ts';
import { UserError } from '../src/util/errors.ts';
import { sharedOrSkip } from './helpers/skip.ts';

const shared = (p: string): string => fileURLToPath(new URL(`../../shared/${p}`, import.meta.url));
const GPT2_DIR = shared('fixtures/tokenizers/gpt2');
const ENCODINGS = join(GPT2_DIR, 'encodings.json');

interface Case {
  text: string;
  ids: number[];
}
// The cases name the tests, so they are read at load time; without ../shared the suite skips (its before).
const cases = existsSync(ENCODINGS) ? (JSON.parse(readFileSync(ENCODINGS, 'utf8')) as { cases: Case[] }).cases : [];

/** The `ref` column of the first `n` rows of an E2E csv (RFC 4180 quoting: "" escapes a quote). */
function e2eRefs(path: string, n: number): string[] {
  const text = readFileSync(path, 'utf8');
  const rows: string[][] = [];
  let row: string[] = [], field = '', quoted = false;
  for (let i = 0; i < text.length && rows.length <= n; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\n') row.push(field.replace(/\r$/, '')), rows.push(row), (row = []), (field = '');
    else field += c;
  }
  assert.deepEqual(rows[0], ['mr', 'ref']);
  return rows.slice(1, n + 1).map((r) => r[1]!);
}

function userErrorMatching(pattern: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof UserError, `expected UserError, got ${String(e)}`);
    assert.ok(!e.message.includes('\n'));
    assert.match(e.message, pattern);
    return true;
  };
}

describe('tokenizers', () => {
  let fromJson: HfTokenizer;
  let fromPair: HfTokenizer;
  before(function () {
    sharedOrSkip(this, 'fixtures/tokenizers/gpt2');
    fromJson = loadTokenizer(GPT2_DIR); // the directory holds tokenizer.json
    fromPair = loadGpt2Bpe(join(GPT2_DIR, 'encoder.json'), join(GPT2_DIR, 'vocab.bpe'));
  });

  it('fixture has the documented hard cases', () => {
    const texts = cases.map((c) => c.text);
    assert.ok(texts.includes(''));
    assert.ok(texts.some((t) => /\t|\n| {2}/.test(t)), 'whitespace');
    assert.ok(texts.some((t) => /\p{Extended_Pictographic}/u.test(t)), 'emoji');
    assert.ok(texts.some((t) => /[^\x00-\x7f]/.test(t)), 'non-ASCII');
  });

  for (const [label, get] of [
    ['tokenizer.json', () => fromJson],
    ['encoder.json + vocab.bpe', () => fromPair],
  ] as const) {
    describe(`GPT-2 from ${label}`, () => {
      for (const c of cases) {
        it(`encodes ${JSON.stringify(c.text).slice(0, 50)} as OpenAI's encoder does, and decodes it back`, () => {
          const tok = get();
          assert.deepEqual(tok.encode(c.text), c.ids);
          assert.equal(tok.decode(c.ids), c.text);
        });
      }
      it('has vocab size 50257 and <|endoftext|> = 50256', () => {
        const tok = get();
        assert.equal(tok.vocabSize, 50257);
        assert.equal(tok.tokenToId('<|endoftext|>'), 50256);
        assert.equal(tok.tokenToId('Hello'), 15496);
        assert.equal(tok.tokenToId('no such token at all'), undefined);
        assert.equal(gpt2SpecialTokens(tok).endOfText, 50256);
      });
    });
  }

  it('decode drops special tokens only when asked', () => {
    assert.equal(fromJson.decode([50256, 15496, 995, 50256]), '<|endoftext|>Hello world<|endoftext|>');
    assert.equal(fromJson.decode([50256, 15496, 995, 50256], true), 'Hello world');
  });

  it('decode rejects ids outside the vocabulary', () => {
    assert.throws(() => fromJson.decode([15496, 50257]), RangeError);
    assert.throws(() => fromJson.decode([-1]), RangeError);
    assert.throws(() => fromJson.decode([1.5]), RangeError);
  });

  it('round-trips the first 2000 E2E training references exactly', function () {
    const refs = e2eRefs(sharedOrSkip(this, 'data/e2e/trainset.csv'), 2000);
    assert.equal(refs.length, 2000);
    assert.equal(refs[0], 'The Vaults pub near Café Adriatic has a 5 star rating.  Prices start at £30.');
    for (const ref of refs) assert.equal(fromJson.decode(fromJson.encode(ref)), ref);
    // The two loaders are the same tokenizer: identical ids on real data.
    for (const ref of refs.slice(0, 200)) assert.deepEqual(fromPair.encode(ref), fromJson.encode(ref));
  });

  describe('loading errors', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'tok-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('missing file names the file', () => {
      const p = join(dir, 'nope.json');
      assert.throws(() => loadTokenizer(p), userErrorMatching(new RegExp(`^${p}: file not found$`)));
    });
    it('directory without tokenizer.json names dir/tokenizer.json', () => {
      const p = join(dir, 'tokenizer.json');
      assert.throws(() => loadTokenizer(dir), userErrorMatching(new RegExp(`^${p}: file not found`)));
    });
    it('malformed tokenizer.json', () => {
      const p = join(dir, 'tokenizer.json');
      writeFileSync(p, '{"model": ');
      assert.throws(() => loadTokenizer(p), userErrorMatching(new RegExp(`^${p}: not valid JSON`)));
      writeFileSync(p, '{"added_tokens": []}');
      assert.throws(() => loadTokenizer(p), userErrorMatching(new RegExp(`^${p}: tokenizer.json has no "model" object`)));
    });
    it('malformed vocab.bpe names the line', () => {
      mkdirSync(join(dir, 'g'));
      writeFileSync(join(dir, 'g', 'encoder.json'), JSON.stringify({ a: 0, b: 1, ab: 2 }));
      writeFileSync(join(dir, 'g', 'vocab.bpe'), '#version: 0.2\na b\nab\n');
      assert.throws(() => loadTokenizer(join(dir, 'g')), userErrorMatching(/vocab\.bpe: line 3 is not a merge/));
    });
  });

  describe('special tokens', () => {
    it('RoBERTa ids come from the tokenizer when given', () => {
      // A tiny WordLevel-free BPE vocabulary with the special tokens at non-default ids.
      const dir = mkdtempSync(join(tmpdir(), 'tok-'));
      try {
        const vocab = { a: 0, b: 1, '<unk>': 2, '<pad>': 3, '<s>': 4, '</s>': 5, '<mask>': 6 };
        const json = {
          added_tokens: ['<unk>', '<pad>', '<s>', '</s>', '<mask>'].map((content) => ({
            id: vocab[content as keyof typeof vocab], content, special: true, single_word: false, lstrip: false, rstrip: false, normalized: false,
          })),
          normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null,
          model: { type: 'BPE', vocab, merges: [], unk_token: '<unk>' },
        };
        writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
        const tok = loadTokenizer(dir);
        assert.deepEqual(robertaSpecialTokens(tok), { bos: 4, pad: 3, eos: 5, unk: 2, mask: 6 });
        assert.equal(tok.vocabSize, 7);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
    it('defaults are roberta-base / GPT-2', () => {
      assert.deepEqual(robertaSpecialTokens(), { bos: 0, pad: 1, eos: 2, unk: 3, mask: 50264 });
      assert.deepEqual(gpt2SpecialTokens(), { endOfText: 50256 });
    });
    it('a GPT-2 tokenizer is not a RoBERTa tokenizer', () => {
      assert.throws(() => robertaSpecialTokens(fromJson), userErrorMatching(/tokenizer\.json: has no '<s>' token/));
    });
    it('RoBERTa single and pair layouts', () => {
      const s = ROBERTA_BASE_SPECIAL_IDS;
      assert.deepEqual(robertaInputIds(s, [10, 11]), [0, 10, 11, 2]);
      assert.deepEqual(robertaInputIds(s, [10], [20, 21]), [0, 10, 2, 2, 20, 21, 2]);
    });
  });
});
