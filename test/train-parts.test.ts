import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { parseReferences } from '../src/eval/e2e/references.ts';
import { e2eEosIds, e2eHypothesisText, formatE2eReferences } from '../src/eval/evaluate-e2e.ts';
import { parseHfConfig, toHfConfigJson, type ModelConfig } from '../src/models/config.ts';
import { loadTokenizer } from '../src/tokenizers/hf-tokenizer.ts';
import { robertaSpecialTokens } from '../src/tokenizers/special-tokens.ts';
import { fitTokenizer } from '../src/train/fit-tokenizer.ts';
import { buildModel, resolveModelSource, withModelDropout } from '../src/train/model-source.ts';
import { isNoDecay } from '../src/train/optim.ts';
import { Progress, formatDuration } from '../src/train/progress.ts';
import { streamRng, subsampleIndices } from '../src/train/run-identity.ts';
import { finiteMetrics } from '../src/train/trainer.ts';
import { referencesPath } from '../src/cli/commands/generate.ts';
import { initBackend } from '../src/backend/select.ts';
import { UserError } from '../src/util/errors.ts';
import { GPT2_TOKENIZER, tinyGpt2Json, tinyRobertaJson } from './helpers/train.ts';
import { batchFor, maxAbsDiff, outputs } from './helpers/methods.ts';
import { sharedOrSkip } from './helpers/skip.ts';

describe('train: parts', () => {
  let gpt2Tok: ReturnType<typeof loadTokenizer>;
  /** The real GPT-2 BPE, for the tests that use it (they skip without ../shared). */
  const gpt2OrSkip = (ctx: Mocha.Context): ReturnType<typeof loadTokenizer> => {
    sharedOrSkip(ctx, 'fixtures/tokenizers/gpt2');
    gpt2Tok ??= loadTokenizer(GPT2_TOKENIZER);
    return gpt2Tok;
  };
  before(() => initBackend('wasm'));

  describe('fitting the GPT-2 BPE to randomly initialised models', () => {
    before(function () {
      gpt2OrSkip(this);
    });
    it('RoBERTa at the real vocabulary size: specials at 0..3, BPE id i at 4 + i, <mask> last, exact round trip', () => {
      const cfg = parseHfConfig(tinyRobertaJson(), 'tiny');
      const { tokenizer, map } = fitTokenizer(gpt2Tok, cfg, () => {
        throw new Error('the offset mode reads no corpus');
      });
      assert.equal(map.mode, 'offset');
      assert.deepEqual(robertaSpecialTokens(tokenizer), { bos: 0, pad: 1, eos: 2, unk: 3, mask: 50264 });
      const text = 'The Eagle is a coffee shop near Burger King.';
      assert.deepEqual(
        tokenizer.encode(text),
        gpt2Tok.encode(text).map((i) => i + 4),
      );
      assert.equal(tokenizer.decode([0, ...tokenizer.encode(text), 2], true), text);
      assert.equal(tokenizer.decode([0, ...tokenizer.encode(text), 2], false), `<s>${text}</s>`);
    });

    it('GPT-2 with a small table: the corpus ids get compact rows (a bijection: exact text back); unseen ids → one unk row that decodes to nothing', () => {
      const cfg = parseHfConfig(tinyGpt2Json({ vocab_size: 64 }), 'tiny');
      const corpus = ['name : The Eagle | Type : coffee shop', ' The Eagle is a coffee shop.'];
      const { tokenizer, map } = fitTokenizer(gpt2Tok, cfg, () => corpus);
      assert.equal(map.mode, 'compact');
      const distinct = new Set(corpus.flatMap((t) => gpt2Tok.encode(t)));
      assert.deepEqual(map.ids, [...distinct].sort((a, b) => a - b));
      assert.equal(tokenizer.tokenToId('<|endoftext|>'), 0);
      for (const t of corpus) {
        const ids = tokenizer.encode(t);
        assert.ok(ids.every((i) => i > 0 && i < 64));
        assert.equal(tokenizer.decode(ids), t);
      }
      const unk = tokenizer.encode('zebra');
      assert.ok(unk.every((i) => i === distinct.size + 1));
      assert.equal(tokenizer.decode([...tokenizer.encode(' The Eagle'), ...unk]), ' The Eagle');
      // "\n\n" (GPT-2's 628, the reference's second end-of-sequence id) is not in this corpus: not an eos row.
      assert.deepEqual(e2eEosIds(tokenizer), [0]);
      assert.deepEqual(e2eEosIds(gpt2Tok), [50256, 628]);
      // A saved map reproduces the same ids without the corpus.
      const again = fitTokenizer(gpt2Tok, cfg, () => [], { saved: map }).tokenizer;
      assert.deepEqual(again.encode(corpus[1]), tokenizer.encode(corpus[1]));
    });

    it('too small a table is a UserError naming the size needed; a pretrained model must use its own tokenizer', () => {
      const cfg = parseHfConfig(tinyGpt2Json({ vocab_size: 8 }), 'tiny');
      assert.throws(() => fitTokenizer(gpt2Tok, cfg, () => ['The Eagle is a coffee shop near the river.']), (e: Error) => e instanceof UserError && /vocab_size ≥ \d+/.test(e.message));
      const big = parseHfConfig(tinyGpt2Json({ vocab_size: 1000 }), 'tiny');
      assert.throws(() => fitTokenizer(gpt2Tok, big, () => ['x'], { allowRemap: false }), /does not fit the pretrained model's 1000-row vocabulary/);
      const rob = parseHfConfig(tinyRobertaJson(), 'tiny');
      assert.throws(() => fitTokenizer(gpt2Tok, rob, () => [], { allowRemap: false }), /RoBERTa specials missing/);
    });
  });

  it('subsets: fixed, distinct, in file order, all rows when the limit is not smaller', () => {
    const a = subsampleIndices(100, 10);
    assert.deepEqual(subsampleIndices(100, 10), a);
    assert.equal(new Set(a).size, 10);
    assert.deepEqual([...a].sort((x, y) => x - y), a);
    assert.ok(a.every((i) => i >= 0 && i < 100));
    assert.notDeepEqual(subsampleIndices(100, 10, 1), a);
    assert.deepEqual(subsampleIndices(5, 5), [0, 1, 2, 3, 4]);
    assert.deepEqual(subsampleIndices(3, undefined), [0, 1, 2]);
  });

  it('random streams: one per purpose, fixed by the seed', () => {
    const draw = (seed: number, s: string) => Array.from({ length: 3 }, () => streamRng(seed, s).next());
    assert.deepEqual(draw(1, 'dropout'), draw(1, 'dropout'));
    assert.notDeepEqual(draw(1, 'dropout')[0], draw(1, 'data-order')[0]);
    assert.notDeepEqual(draw(1, 'dropout')[0], draw(2, 'dropout')[0]);
  });

  it('weight decay groups: none on biases and LayerNorm weights (run_glue.py), decay elsewhere', () => {
    const none = [
      'roberta.encoder.layer.0.attention.self.query.bias',
      'roberta.encoder.layer.3.output.LayerNorm.weight',
      'roberta.embeddings.LayerNorm.weight',
      'lm_head.layer_norm.weight',
      'transformer.h.2.ln_1.weight',
      'transformer.ln_f.weight',
      'roberta.encoder.layer.0.adapter_attn.ln.weight',
      'classifier.out_proj.bias',
    ];
    const decay = [
      'roberta.encoder.layer.0.attention.self.query.weight',
      'roberta.embeddings.word_embeddings.weight',
      'classifier.dense.weight',
      'transformer.h.0.attn.c_attn.lora_A[q]',
      'roberta.encoder.layer.0.attention.self.value.lora_B',
    ];
    for (const n of none) assert.equal(isNoDecay(n), true, n);
    for (const n of decay) assert.equal(isNoDecay(n), false, n);
  });

  it('HF config round trip (base-config.json rebuilds the same model)', () => {
    for (const json of [tinyRobertaJson({ num_labels: 1, problem_type: 'regression' }), tinyRobertaJson({ num_labels: 3 }), tinyGpt2Json()]) {
      const c = parseHfConfig(json, 'x');
      assert.deepEqual(parseHfConfig(toHfConfigJson(c), 'y'), c);
    }
  });

  it("model dropout: replaces every rate of a pretrained model's config.json; at 0 a training forward equals the eval forward", function () {
    // The parity fixtures: RoBERTa with dropout 0.1, GPT-2 with none.
    for (const [name, from, to] of [['roberta-tiny', 0.1, 0], ['gpt2-tiny', 0, 0.3]] as const) {
      const source = resolveModelSource(sharedOrSkip(this, `fixtures/parity/${name}`));
      const rates = (c: ModelConfig): number[] =>
        c.modelType !== 'gpt2' ? [c.hiddenDropout, c.attentionDropout] : [c.residDropout, c.embdDropout, c.attnDropout];
      assert.deepEqual(rates(source.config), rates(source.config).map(() => from));
      assert.equal(withModelDropout(source.config, undefined), source.config);
      const { model } = buildModel(source, withModelDropout(source.config, to), 0);
      assert.deepEqual(rates(model.config), rates(model.config).map(() => to));
      const batch = batchFor(model);
      tf.tidy(() => {
        const diff = maxAbsDiff(outputs(model, batch, { training: true, rng: streamRng(0, 'dropout') }), outputs(model, batch));
        if (to === 0) assert.equal(diff, 0, name);
        else assert.ok(diff > 1e-3, `${name}: dropout ${to} changed nothing`);
      });
      model.dispose();
    }
  });

  it('E2E output text: cut at <|endoftext|> and "\\n\\n", one line, stripped; references in the official format', function () {
    gpt2OrSkip(this);
    const ids = gpt2Tok.encode(' The Eagle is nice.\nReally.\n\nname : X');
    assert.equal(e2eHypothesisText(gpt2Tok, [...ids]), 'The Eagle is nice. Really.');
    assert.equal(e2eHypothesisText(gpt2Tok, [...gpt2Tok.encode(' Hi there '), 50256, ...gpt2Tok.encode('more')]), 'Hi there');
    const refs = [['A b.', ' C d. '], ['E f.\r\nG.']];
    const text = formatE2eReferences(refs);
    assert.equal(text, 'A b.\nC d.\n\nE f. G.\n\n');
    assert.deepEqual(parseReferences(text), [['A b.', 'C d.'], ['E f. G.']]);
    assert.equal(referencesPath('/x/test.hyp.txt'), '/x/test.ref.txt');
    assert.equal(referencesPath('/x/out.txt'), '/x/out.ref.txt');
  });

  it('non-finite metrics are left out with a warning (JSON and the result schema hold finite numbers)', () => {
    const warned: string[] = [];
    assert.deepEqual(finiteMetrics({ pearson: Number.NaN, accuracy: 0.5 }, (l) => warned.push(l)), { accuracy: 0.5 });
    assert.match(warned[0], /pearson is NaN/);
  });

  describe('progress', () => {
    it('plain output: the first and last step and at most one line per interval', () => {
      let now = 0;
      const lines: string[] = [];
      const p = new Progress({ totalSteps: 100, log: (l) => lines.push(l), intervalMs: 1000, now: () => now });
      for (let s = 1; s <= 100; s++) {
        now += 100; // 10 steps per second
        p.update(s, 1 / s, 500, s * 100);
      }
      p.message('epoch 1/1: …');
      p.finish();
      const stepLines = lines.filter((l) => l.startsWith('step '));
      assert.equal(stepLines[0], 'step 1/100  loss 1.0000  500 tok/s  ETA 10s');
      assert.equal(stepLines[stepLines.length - 1], 'step 100/100  loss 0.0100  500 tok/s  ETA 0s');
      assert.ok(stepLines.length >= 10 && stepLines.length <= 12, `${stepLines.length} lines`);
      assert.equal(lines[lines.length - 2], 'epoch 1/1: …');
      assert.match(lines[lines.length - 1], /^done in 10s \(training 10s\)$/);
    });

    it('on a terminal: a bar redrawn in place, cleared before messages', () => {
      const out: string[] = [];
      const lines: string[] = [];
      const p = new Progress({ totalSteps: 4, log: (l) => lines.push(l), tty: { write: (s) => out.push(s), columns: 100 }, now: () => 0 });
      p.update(2, 0.5, 1234, 2000);
      assert.match(out[0], /^\r\[#+\.+\] step 2\/4  loss 0\.5000  1234 tok\/s  ETA 2s\x1b\[K$/);
      p.message('hello');
      assert.equal(out[1], '\r\x1b[K');
      assert.deepEqual(lines, ['hello']);
      assert.equal(formatDuration(3725), '1h02m');
      assert.equal(formatDuration(65), '1m05s');
    });
  });
});
