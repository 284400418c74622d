import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { readE2eSplit } from '../src/data/e2e.ts';
import { collateE2e, e2eQuery, encodeE2ePair, ftDatasetRow } from '../src/data/encode-gpt2-e2e.ts';
import { buildRobertaInput, collateRoberta, encodeRobertaExample, truncateLongestFirst } from '../src/data/encode-roberta.ts';
import { buildDebertaInput, encodeDebertaExample } from '../src/data/encode-deberta.ts';
import { loadTokenizer } from '../src/tokenizers/hf-tokenizer.ts';
import { loadTextTokenizer } from '../src/tokenizers/load.ts';
import { debertaSpecialTokens } from '../src/tokenizers/special-tokens.ts';
import { SentencePieceUnigram } from '../src/tokenizers/spm-unigram.ts';
import type { TextTokenizer } from '../src/tokenizers/types.ts';
import { UserError } from '../src/util/errors.ts';
import { sharedOrSkip } from './helpers/skip.ts';

/**
 * A tiny stand-in for a byte-level BPE tokenizer: each chunk "optional space + non-space run" is one
 * token (so ' word' and 'word' differ, as in GPT-2), ids handed out in order of first appearance.
 */
class FakeTokenizer implements TextTokenizer {
  private readonly vocab = new Map<string, number>([
    ['<s>', 0],
    ['<pad>', 1],
    ['</s>', 2],
    ['<unk>', 3],
    ['<mask>', 4],
    ['<|endoftext|>', 5],
  ]);
  get vocabSize(): number {
    return this.vocab.size;
  }
  encode(text: string): number[] {
    return (text.match(/\s?\S+/g) ?? []).map((chunk) => {
      if (!this.vocab.has(chunk)) this.vocab.set(chunk, this.vocab.size);
      return this.vocab.get(chunk) as number;
    });
  }
  decode(ids: number[]): string {
    const inv = new Map([...this.vocab].map(([k, v]) => [v, k]));
    return ids.map((i) => inv.get(i) ?? '').join('');
  }
  tokenToId(token: string): number | undefined {
    return this.vocab.get(token);
  }
}

const range = (start: number, n: number) => Array.from({ length: n }, (_, i) => start + i);

describe('RoBERTa encoding', () => {
  it('single: <s> A </s>; pair: <s> A </s></s> B </s> (roberta-base ids 0 / 2)', () => {
    assert.deepEqual(buildRobertaInput([7, 8], undefined, 512), [0, 7, 8, 2]);
    assert.deepEqual(buildRobertaInput([7, 8], [9], 512), [0, 7, 8, 2, 2, 9, 2]);
    assert.deepEqual(buildRobertaInput([7], [9], 512, { bos: 10, eos: 11, pad: 12 }), [10, 7, 11, 11, 9, 11]);
  });

  it('longest-first truncation, hand-traced', () => {
    // 10 + 12 -> budget 15: b,b,b(tie),a,b,a,b -> a 8, b 7
    const [a1, b1] = truncateLongestFirst(range(100, 10), range(200, 12), 15);
    assert.deepEqual([a1.length, b1?.length], [8, 7]);
    assert.deepEqual(a1, range(100, 8)); // tokens leave from the end
    // 20 + 5 -> budget 15: only the longer one is cut
    const [a2, b2] = truncateLongestFirst(range(0, 20), range(50, 5), 15);
    assert.deepEqual([a2.length, b2?.length], [10, 5]);
    // 5 + 5 -> budget 7: tie removes from the second first -> a 4, b 3
    const [a3, b3] = truncateLongestFirst(range(0, 5), range(50, 5), 7);
    assert.deepEqual([a3.length, b3?.length], [4, 3]);
    // fits: untouched
    assert.deepEqual(truncateLongestFirst([1, 2], [3], 3), [[1, 2], [3]]);
  });

  it('longest-first matches the closed form of transformers\' truncate_sequences for all small sizes', () => {
    // transformers (PreTrainedTokenizerBase.truncate_sequences, LONGEST_FIRST): first_remove =
    // min(|len_pair - len_ids|, n); second_remove = n - first_remove; the longer loses first_remove and
    // both share second_remove, the first sequence losing second_remove // 2.
    for (let na = 0; na <= 12; na++) {
      for (let nb = 0; nb <= 12; nb++) {
        for (let budget = 2; budget <= na + nb; budget++) {
          const n = na + nb - budget;
          const first = Math.min(Math.abs(nb - na), n);
          const second = n - first;
          const [ra, rb] = na > nb ? [first + Math.floor(second / 2), second - Math.floor(second / 2)] : [Math.floor(second / 2), first + second - Math.floor(second / 2)];
          const [a, b] = truncateLongestFirst(range(0, na), range(0, nb), budget);
          assert.deepEqual([a.length, b?.length], [na - ra, nb - rb], `na ${na} nb ${nb} budget ${budget}`);
        }
      }
    }
  });

  it('max_length counts the special tokens; too small a max_length is a UserError', () => {
    assert.deepEqual(buildRobertaInput(range(10, 9), undefined, 6), [0, 10, 11, 12, 13, 2]);
    const pair = buildRobertaInput(range(10, 9), range(30, 2), 9);
    assert.equal(pair.length, 9);
    assert.deepEqual(pair, [0, 10, 11, 12, 2, 2, 30, 31, 2]);
    assert.throws(() => buildRobertaInput([1, 2], [3], 5), (e: unknown) => e instanceof UserError && /too small: need at least 6 for sentence pairs/.test(e.message));
  });

  it('encodes text examples with the tokenizer, each sentence separately', () => {
    const tok = new FakeTokenizer();
    const ex = encodeRobertaExample(tok, { text_a: 'a b', text_b: 'c', label: 1 }, { maxLength: 128 });
    const [a, b, c] = [tok.tokenToId('a'), tok.tokenToId(' b'), tok.tokenToId('c')];
    assert.deepEqual(ex, { inputIds: [0, a, b, 2, 2, c, 2], label: 1 });
  });

  it('collate: dynamic padding with <pad>=1, attention mask, int labels; fixed padTo; float labels', () => {
    const batch = collateRoberta([
      { inputIds: [0, 5, 2], label: 1 },
      { inputIds: [0, 5, 6, 7, 2], label: 0 },
    ]);
    assert.equal(batch.seqLen, 5);
    assert.equal(batch.batch, 2);
    assert.deepEqual(Array.from(batch.inputIds), [0, 5, 2, 1, 1, 0, 5, 6, 7, 2]);
    assert.deepEqual(Array.from(batch.attentionMask), [1, 1, 1, 0, 0, 1, 1, 1, 1, 1]);
    assert.ok(batch.labels instanceof Int32Array);
    assert.deepEqual(Array.from(batch.labels), [1, 0]);
    const sts = collateRoberta([{ inputIds: [0, 2], label: 3.8 }], { regression: true, padTo: 4 });
    assert.ok(sts.labels instanceof Float32Array);
    assert.ok(Math.abs((sts.labels[0] as number) - 3.8) < 1e-6);
    assert.deepEqual(Array.from(sts.inputIds), [0, 2, 1, 1]);
  });

  it('reproduces the roberta-tiny parity fixture inputs (ids, mask, labels)', function () {
    const fx = z
      .object({ input_ids: z.array(z.array(z.number())), attention_mask: z.array(z.array(z.number())), labels: z.array(z.number()) })
      .parse(JSON.parse(readFileSync(sharedOrSkip(this, 'fixtures/parity/roberta-tiny/inputs.json'), 'utf8')));
    const rows = [
      buildRobertaInput([34, 28, 52, 77, 44], [45, 46, 20, 89, 97, 68], 40),
      buildRobertaInput([26, 34, 7, 22, 24, 80], [92, 93, 82, 35, 79, 38], 40),
      buildRobertaInput([58, 63, 67, 71, 87, 50, 52], undefined, 40),
      buildRobertaInput([14, 84], undefined, 40),
    ];
    const batch = collateRoberta(rows.map((inputIds, i) => ({ inputIds, label: fx.labels[i] as number })));
    assert.deepEqual(Array.from(batch.inputIds), fx.input_ids.flat());
    assert.deepEqual(Array.from(batch.attentionMask), fx.attention_mask.flat());
    assert.deepEqual(Array.from(batch.labels), fx.labels);
  });
});

const Gpt2Inputs = z.object({
  input_ids: z.array(z.array(z.number())),
  attention_mask: z.array(z.array(z.number())),
  labels: z.array(z.array(z.number())),
  loss_mask: z.array(z.array(z.number())),
  source: z.array(z.object({ context: z.array(z.number()), completion: z.array(z.number()) })),
});

describe('GPT-2 E2E encoding (FT_Dataset)', () => {
  for (const padTo of ['max', 'longest'] as const) {
    it(`reproduces gpt2-tiny/inputs.json exactly from its source (padTo ${padTo})`, function () {
      const fx = Gpt2Inputs.parse(JSON.parse(readFileSync(sharedOrSkip(this, 'fixtures/parity/gpt2-tiny/inputs.json'), 'utf8')));
      const b = collateE2e(fx.source, { maxSeqLength: 16, padTo });
      assert.deepEqual([b.batch, b.seqLen], [3, 16]);
      assert.deepEqual(Array.from(b.inputIds), fx.input_ids.flat());
      assert.deepEqual(Array.from(b.attentionMask), fx.attention_mask.flat());
      assert.deepEqual(Array.from(b.labels), fx.labels.flat());
      assert.deepEqual(Array.from(b.lossMask), fx.loss_mask.flat());
    });
  }

  it('pads to the longest row, or to maxSeqLength with padTo max', () => {
    const pairs = [{ context: [1, 2, 9], completion: [3, 9] }];
    assert.equal(collateE2e(pairs, { maxSeqLength: 10 }).seqLen, 5);
    const b = collateE2e(pairs, { maxSeqLength: 8, padTo: 'max' });
    assert.deepEqual(Array.from(b.inputIds), [1, 2, 9, 3, 9, 0, 0, 0]);
    assert.deepEqual(Array.from(b.labels), [2, 9, 3, 9, 0, 0, 0, 0]);
    assert.deepEqual(Array.from(b.lossMask), [0, 0, 1, 1, 0, 0, 0, 0]);
  });

  it('truncation keeps the first max_seq_length tokens; the last position stays masked (reference quirk)', () => {
    // context 5 (incl. eos), completion 6 (incl. eos), max 8:
    // input = full[0:8], target = full[1:9], mask = [0]*4 + [1]*(8-5) = 7 entries, padded with one 0.
    const row = ftDatasetRow({ context: [10, 11, 12, 13, 99], completion: [20, 21, 22, 23, 24, 99] }, 8);
    assert.deepEqual(row.input, [10, 11, 12, 13, 99, 20, 21, 22]);
    assert.deepEqual(row.target, [11, 12, 13, 99, 20, 21, 22, 23]);
    assert.deepEqual(row.mask, [0, 0, 0, 0, 1, 1, 1]);
    assert.equal(row.inputLen, 8);
    // A context longer than max_seq_length leaves nothing to learn from.
    const long = ftDatasetRow({ context: range(1, 10), completion: [50, 99] }, 6);
    assert.deepEqual(long.mask, [0, 0, 0, 0, 0, 0]);
    assert.throws(() => ftDatasetRow({ context: [1], completion: [2] }, 1), UserError);
  });

  it('beam-search query keeps the last seq_len - eval_len context tokens', () => {
    assert.deepEqual(e2eQuery([1, 2, 3, 4, 5], 6, 3), [3, 4, 5]);
    assert.deepEqual(e2eQuery([1, 2], 6, 3), [1, 2]);
    assert.throws(() => e2eQuery([1], 4, 4), UserError);
  });

  it('gpt2_encode.py layout with a fake tokenizer: context + eos, " " + completion + eos', () => {
    const tok = new FakeTokenizer();
    const pair = encodeE2ePair(tok, 'name : A', 'A is nice .');
    assert.deepEqual(pair.context, [...tok.encode('name : A'), 5]);
    assert.deepEqual(pair.completion, [...tok.encode(' A is nice .'), 5]);
    assert.notEqual(pair.completion[0], tok.tokenToId('A'), 'the completion starts with the space-prefixed token');
  });
});

describe('E2E encoding with the real GPT-2 tokenizer (shared/fixtures/tokenizers/gpt2)', () => {
  let tok: ReturnType<typeof loadTokenizer>;
  before(function () {
    tok = loadTokenizer(sharedOrSkip(this, 'fixtures/tokenizers/gpt2'));
  });

  it('ids agree with OpenAI\'s encoder (encodings.json: "Hello world" = [15496, 995]); eos = 50256', () => {
    const pair = encodeE2ePair(tok, 'Hello', 'world');
    assert.deepEqual(pair, { context: [15496, 50256], completion: [995, 50256] });
  });

  it('a valid.txt pair round-trips and its loss mask covers exactly the completion', function () {
    const first = readE2eSplit(sharedOrSkip(this, 'data'), 'dev', 'lora').pairs[0];
    assert.ok(first);
    const pair = encodeE2ePair(tok, first.mr, first.ref);
    assert.equal(tok.decode(pair.context.slice(0, -1)), first.mr);
    assert.equal(tok.decode(pair.completion.slice(0, -1)), ' ' + first.ref);
    const b = collateE2e([pair], { maxSeqLength: 512 });
    const predicted = Array.from(b.labels).filter((_, t) => b.lossMask[t] === 1);
    assert.deepEqual(predicted, pair.completion);
  });
});

describe('DeBERTa-v2 encoding (shared/fixtures/tokenizers/spm-unigram)', () => {
  let modelDir: string | undefined;
  let tok: TextTokenizer;
  let special: ReturnType<typeof debertaSpecialTokens>;
  before(function () {
    const dir = sharedOrSkip(this, 'fixtures/tokenizers/spm-unigram');
    // A model directory as microsoft/deberta-v2-xxlarge lays it out: spm.model, no tokenizer.json.
    modelDir = mkdtempSync(join(tmpdir(), 'deberta-dir-'));
    copyFileSync(join(dir, 'spm.model'), join(modelDir, 'spm.model'));
    tok = loadTextTokenizer(modelDir);
    special = debertaSpecialTokens(tok);
  });
  after(() => {
    if (modelDir !== undefined) rmSync(modelDir, { recursive: true, force: true });
  });
  const pair = { text_a: 'The restaurant is near the river.', text_b: 'It is cheap.', label: 2 };

  it('a directory holding spm.model (no tokenizer.json) loads the unigram tokenizer; specials [CLS] 1, [SEP] 2, [PAD] 0', () => {
    assert.ok(tok instanceof SentencePieceUnigram);
    assert.deepEqual(special, { cls: 1, sep: 2, pad: 0 });
  });

  it('pair: [CLS] A [SEP] B [SEP], hand-computed from the fixture encodings; single: [CLS] A [SEP]', () => {
    // encodings.json: "The restaurant is near the river." = ▁The ▁restaurant ▁is ▁near ▁the ▁river . = 24 52 11 22 10 365 8;
    // "It is cheap." = ▁It ▁is ▁cheap . = 51 11 152 8.
    assert.deepEqual(encodeDebertaExample(tok, pair, { maxLength: 64, special }), { inputIds: [1, 24, 52, 11, 22, 10, 365, 8, 2, 51, 11, 152, 8, 2], label: 2 });
    assert.deepEqual(encodeDebertaExample(tok, { text_a: 'It is cheap.', label: 0 }, { maxLength: 64, special }).inputIds, [1, 51, 11, 152, 8, 2]);
  });

  it('longest-first truncation with 3 specials for a pair (budget 10 − 3 = 7: A 7 → 4, B 4 → 3); too small a max_length is a UserError', () => {
    assert.deepEqual(encodeDebertaExample(tok, pair, { maxLength: 10, special }).inputIds, [1, 24, 52, 11, 22, 2, 51, 11, 152, 2]);
    assert.deepEqual(buildDebertaInput([7, 8, 9], undefined, 4, special), [1, 7, 8, 2]);
    assert.throws(() => buildDebertaInput([7], [8], 4, special), (e: unknown) => e instanceof UserError && /need at least 5 for sentence pairs/.test(e.message));
  });

  it('collates with [PAD] 0 and no token type ids', () => {
    const rows = [encodeDebertaExample(tok, pair, { maxLength: 64, special }), encodeDebertaExample(tok, { text_a: 'It is cheap.', label: 0 }, { maxLength: 64, special })];
    const b = collateRoberta(rows, { pad: special.pad });
    assert.deepEqual([...b.inputIds.slice(14, 28)], [1, 51, 11, 152, 8, 2, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual([...b.attentionMask.slice(14, 28)], [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(Object.keys(b).sort(), ['attentionMask', 'batch', 'inputIds', 'labels', 'seqLen']);
  });
});
