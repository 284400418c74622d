/**
 * One name, one model (issue 19): `mini-roberta`, `mini-gpt2` and `mini-deberta` are the shipped
 * stand-ins everywhere — the config a name stands for (captions, parameter formulas, cost) is the
 * config.json shipped in artifacts/stand-ins/, and pretraining builds that same architecture — while
 * the training-step benchmark's d-256 models have names of their own, the sizes its PyTorch
 * reference (bench/pytorch_reference.py) builds.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { builtinConfig, namedConfig, readHfConfig } from '../src/models/config.ts';
import { standInSpecialIds } from '../src/models/stand-ins.ts';
import { MINI_PRETRAIN, PRETRAIN_FAMILIES, pretrainModelConfig } from '../src/pretrain/pretrain-config.ts';

const artifact = (name: string): string => new URL(`../artifacts/stand-ins/${name}`, import.meta.url).pathname;

describe('model names: the stand-ins and the benchmark models', () => {
  it("mini-* stand for the shipped stand-ins' config.json, and pretraining builds exactly that", () => {
    for (const family of PRETRAIN_FAMILIES) {
      const name = `mini-${family}`;
      const shipped = readHfConfig(artifact(name));
      assert.deepEqual(namedConfig(name), shipped, name);
      const s = MINI_PRETRAIN[family];
      assert.deepEqual(pretrainModelConfig(s, s.vocabSize, standInSpecialIds(family, s.vocabSize)), shipped, `${name}: pretraining`);
      assert.equal(shipped.hidden, 128);
    }
    // The RoBERTa and GPT-2 stand-ins are built-in (random-init) names too, with the same config.
    assert.deepEqual(builtinConfig('mini-roberta'), readHfConfig(artifact('mini-roberta')));
    assert.deepEqual(builtinConfig('mini-gpt2'), readHfConfig(artifact('mini-gpt2')));
  });

  it("bench-roberta and bench-gpt2 are the PyTorch reference's sizes (d_model 256, 4 layers, 4 heads, FFN 1024, vocab 8000)", () => {
    const py = readFileSync(new URL('../bench/pytorch_reference.py', import.meta.url), 'utf8');
    const cfg = /^CFG = dict\(vocab=(\d+), hidden=(\d+), layers=(\d+), heads=(\d+), inter=(\d+),/m.exec(py);
    assert.ok(cfg, 'CFG line of bench/pytorch_reference.py');
    const [vocab, hidden, layers, heads, inter] = cfg.slice(1).map(Number);
    assert.match(py, /choices=\["bench-roberta", "bench-gpt2"\]/);
    for (const name of ['bench-roberta', 'bench-gpt2']) {
      const c = builtinConfig(name);
      assert.deepEqual([c.vocabSize, c.hidden, c.layers, c.heads, c.intermediate], [vocab, hidden, layers, heads, inter], name);
    }
    assert.equal(namedConfig('no-such-model'), undefined);
  });

});
