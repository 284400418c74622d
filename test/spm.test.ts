import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSpmModel } from '../src/tokenizers/spm-model.ts';
import { SentencePieceUnigram } from '../src/tokenizers/spm-unigram.ts';
import { UserError } from '../src/util/errors.ts';
import { SHARED } from './helpers/tiny.ts';
import { sharedOrSkip } from './helpers/skip.ts';

const DIR = join(SHARED, 'fixtures/tokenizers/spm-unigram');
const BIN = new URL('../bin/lora-repro.mjs', import.meta.url).pathname;

interface Case {
  text: string;
  ids: number[];
  pieces: string[];
}

describe('SentencePiece unigram tokenizer', function () {
  this.timeout(60_000);
  // The cases name the tests, so they are read at load time; without ../shared there are none and the before() skips.
  const encodings = join(DIR, 'encodings.json');
  const fx = existsSync(encodings)
    ? (JSON.parse(readFileSync(encodings, 'utf8')) as { cases: Case[]; vocab_size: number; special: Record<string, number> })
    : { cases: [], vocab_size: 0, special: {} };
  let tok: SentencePieceUnigram;
  before(function () {
    sharedOrSkip(this, 'fixtures/tokenizers/spm-unigram');
    tok = SentencePieceUnigram.fromFile(join(DIR, 'spm.model'));
  });

  it('reads the model: pieces, types, the nmt_nfkc map and the whitespace switches', () => {
    assert.equal(tok.vocabSize, fx.vocab_size);
    for (const [piece, id] of Object.entries(fx.special)) assert.equal(tok.tokenToId(piece), id, piece);
    const m = tok.model;
    assert.equal(m.normalizer.name, 'nmt_nfkc');
    assert.ok(m.normalizer.precompiledCharsmap.length > 0);
    assert.equal(m.pieces[3].type, 'unknown');
    assert.equal(m.pieces[4].type, 'user-defined');
    assert.equal(m.pieces[1].type, 'control');
  });

  for (const [i, c] of fx.cases.entries()) {
    it(`case ${i}: ${JSON.stringify(c.text).slice(0, 60)}`, () => {
      const got = tok.encodeWithPieces(c.text);
      assert.deepEqual(got.ids, c.ids);
      assert.deepEqual(got.pieces, c.pieces);
    });
  }

  it('decodes ids back to the normalised text', () => {
    assert.equal(tok.decode(tok.encode('The restaurant is near the river.')), 'The restaurant is near the river.');
    assert.equal(tok.decode(tok.encode('  leading and   inner   spaces  ')), 'leading and inner spaces');
  });

  it('`lora-repro tokenize --check` reproduces every case; bad input is one line', () => {
    const ok = spawnSync(process.execPath, [BIN, 'tokenize', DIR, '--check', join(DIR, 'encodings.json')], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`^${fx.cases.length}/${fx.cases.length} cases match$`, 'm'));
    const one = spawnSync(process.execPath, [BIN, 'tokenize', join(DIR, 'spm.model'), 'a', '--json'], { encoding: 'utf8' });
    assert.deepEqual(JSON.parse(one.stdout), { text: 'a', ids: [9], pieces: ['\u2581a'] });
    const tmp = mkdtempSync(join(tmpdir(), 'spm-'));
    const wrong = join(tmp, 'wrong.json');
    writeFileSync(wrong, JSON.stringify({ cases: [{ text: 'a', ids: [10] }] }));
    const mismatch = spawnSync(process.execPath, [BIN, 'tokenize', DIR, '--check', wrong], { encoding: 'utf8' });
    assert.equal(mismatch.status, 1);
    assert.match(mismatch.stdout, /^case 0 "a": got \[9\]/m);
    const bad = spawnSync(process.execPath, [BIN, 'tokenize', join(DIR, 'README.md'), 'x'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
    assert.match(bad.stderr, /not a SentencePiece model/);
  });

  it('refuses truncated or piece-less models with a UserError', () => {
    const bytes = new Uint8Array(readFileSync(join(DIR, 'spm.model')));
    assert.throws(() => parseSpmModel(bytes.subarray(0, 1000), 'cut'), (e: unknown) => e instanceof UserError && /^cut: not a SentencePiece model/.test(e.message));
    assert.throws(() => parseSpmModel(new Uint8Array(0), 'empty'), (e: unknown) => e instanceof UserError && /no pieces/.test(e.message));
  });
});
