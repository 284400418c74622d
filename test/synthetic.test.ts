import assert from 'node:assert/strict';
import { mrToLoraContext } from '../src/data/e2e.ts';
import type { GlueExample } from '../src/data/glue-tsv.ts';
import {
  SYNTHETIC_GLUE_TASK_NAMES, SYNTHETIC_TASKS, SYNTHETIC_TASK_NAMES,
  generateSyntheticE2e, generateSyntheticGlue, isSyntheticTask, type SyntheticGlueData,
} from '../src/data/synthetic.ts';
import { GLUE_TASK_NAMES } from '../src/data/glue-tasks.ts';
import { pearson, scoreGlueMetrics } from '../src/eval/glue-metrics.ts';
import { scoreE2E } from '../src/eval/e2e/index.ts';
import { copyInputHypotheses, majorityBaseline, SYNTHETIC_STAND_IN, syntheticCopyInputScores } from './helpers/synthetic.ts';

/** Word-presence features; pair tasks mark which sentence a word came from. */
function features(e: GlueExample): string[] {
  const f = e.text_a.split(' ').map((w) => `a:${w}`);
  if (e.text_b !== undefined) f.push(...e.text_b.split(' ').map((w) => `b:${w}`));
  return [...new Set(f)];
}

/** Bag-of-words logistic regression by plain SGD (binary labels); returns dev predictions. */
function bagOfWords(data: SyntheticGlueData): number[] {
  const index = new Map<string, number>();
  for (const e of data.train) for (const f of features(e)) if (!index.has(f)) index.set(f, index.size);
  const w = new Float64Array(index.size);
  let b = 0;
  for (let epoch = 0; epoch < 20; epoch++) {
    for (const e of data.train) {
      const fs = features(e).map((f) => index.get(f) as number);
      let z = b;
      for (const i of fs) z += w[i] as number;
      const g = 1 / (1 + Math.exp(-z)) - e.label;
      b -= 0.1 * g;
      for (const i of fs) w[i] = (w[i] as number) - 0.1 * (g + 1e-4 * (w[i] as number));
    }
  }
  return data.dev.map((e) => {
    let z = b;
    for (const f of features(e)) {
      const i = index.get(f);
      if (i !== undefined) z += w[i] as number;
    }
    return z > 0 ? 1 : 0;
  });
}

const labelsOf = (xs: GlueExample[]): number[] => xs.map((e) => e.label);

describe('synthetic stand-in tasks', () => {
  it('are marked synthetic in every name and description, and cover every real task', () => {
    for (const name of SYNTHETIC_TASK_NAMES) {
      assert.ok(name.startsWith('synthetic-'), name);
      assert.match(SYNTHETIC_TASKS[name].description, /SYNTHETIC/);
      assert.ok(isSyntheticTask(name));
    }
    assert.equal(isSyntheticTask('sst2'), false);
    for (const t of [...GLUE_TASK_NAMES, 'e2e' as const]) assert.ok(isSyntheticTask(SYNTHETIC_STAND_IN[t]));
  });

  it('are deterministic: the same data on every call, other data for another data seed', () => {
    for (const name of SYNTHETIC_GLUE_TASK_NAMES) {
      const a = generateSyntheticGlue(name, { trainSize: 200, devSize: 50 });
      const b = generateSyntheticGlue(name, { trainSize: 200, devSize: 50 });
      assert.deepEqual(a.train, b.train);
      assert.deepEqual(a.dev, b.dev);
      const c = generateSyntheticGlue(name, { trainSize: 200, devSize: 50, dataSeed: 999 });
      assert.notDeepEqual(a.train, c.train);
    }
    assert.deepEqual(generateSyntheticE2e({ trainSize: 30, devSize: 10 }), generateSyntheticE2e({ trainSize: 30, devSize: 10 }));
  });

  it('have the shape of the GLUE readers, with dev examples unseen in train', () => {
    for (const name of SYNTHETIC_GLUE_TASK_NAMES) {
      const d = generateSyntheticGlue(name);
      assert.equal(d.train.length, d.spec.defaultSizes.train);
      assert.equal(d.dev.length, d.spec.defaultSizes.dev);
      const train = new Set(d.train.map((e) => `${e.text_a}\t${e.text_b ?? ''}`));
      for (const e of [...d.train, ...d.dev]) {
        assert.equal(typeof e.text_a, 'string');
        assert.equal(e.text_b === undefined, name === 'synthetic-sst2');
        if (d.spec.isRegression) assert.ok(e.label >= 0 && e.label <= 5);
        else assert.ok(Number.isInteger(e.label) && e.label >= 0 && e.label < d.spec.numLabels);
      }
      for (const e of d.dev) assert.ok(!train.has(`${e.text_a}\t${e.text_b ?? ''}`));
      if (!d.spec.isRegression) {
        const positive = d.train.filter((e) => e.label === 1).length / d.train.length;
        assert.ok(positive > 0.4 && positive < 0.6, `${name}: ${positive} of train is class 1`);
      }
    }
  });

  it('synthetic-sst2: bag of words beats the majority class but stays far from perfect', () => {
    const d = generateSyntheticGlue('synthetic-sst2');
    const base = majorityBaseline(d).headline.value;
    const bow = scoreGlueMetrics(d.spec, bagOfWords(d), labelsOf(d.dev)).headline.value;
    console.log(`      synthetic-sst2 dev accuracy: majority ${base.toFixed(3)}, bag-of-words LR ${bow.toFixed(3)}`);
    assert.ok(base > 0.4 && base < 0.6);
    assert.ok(bow > base + 0.08, `${bow} vs ${base}`);
    // Negation and contrast are not linear in word presence.
    assert.ok(bow < 0.85, `${bow}`);
  });

  it('synthetic-rte: bag of words and a new-word rule beat the majority class but not by much', () => {
    const d = generateSyntheticGlue('synthetic-rte');
    const base = majorityBaseline(d).headline.value;
    const bow = scoreGlueMetrics(d.spec, bagOfWords(d), labelsOf(d.dev)).headline.value;
    // "The hypothesis adds a word or a negation → not entailed" fails on synonyms and on deletions.
    const rule = d.dev.map((e) => {
      const premise = new Set(e.text_a.split(' '));
      const hyp = (e.text_b as string).split(' ').filter((w) => !['was', 'by', 'did', 'a', 'an'].includes(w));
      return hyp.some((w) => !premise.has(w)) ? 1 : 0;
    });
    const ruleAcc = scoreGlueMetrics(d.spec, rule, labelsOf(d.dev)).headline.value;
    console.log(`      synthetic-rte dev accuracy: majority ${base.toFixed(3)}, bag-of-words LR ${bow.toFixed(3)}, new-word rule ${ruleAcc.toFixed(3)}`);
    assert.ok(bow > base + 0.08 && bow < 0.9, `${bow}`);
    assert.ok(ruleAcc > base + 0.1 && ruleAcc < 0.92, `${ruleAcc}`);
  });

  it('synthetic-stsb: word overlap predicts the score well but not perfectly; the constant baseline scores 0', () => {
    const d = generateSyntheticGlue('synthetic-stsb');
    const base = majorityBaseline(d);
    assert.equal(base.kind, 'mean');
    assert.equal(base.headline.value, 0);
    // A constant has no correlation (the metric itself says NaN for an exact constant), reported as 0.
    assert.ok(Number.isNaN(pearson(d.dev.map(() => 2.5), labelsOf(d.dev))));
    assert.ok(Math.abs(base.prediction - 2.5) < 0.3, `train mean ${base.prediction}`);
    const overlap = d.dev.map((e) => {
      const a = new Set(e.text_a.split(' '));
      const b = new Set((e.text_b as string).split(' '));
      const shared = [...a].filter((w) => b.has(w)).length;
      return (5 * shared) / new Set([...a, ...b]).size;
    });
    const r = scoreGlueMetrics(d.spec, overlap, labelsOf(d.dev)).headline.value;
    console.log(`      synthetic-stsb dev Pearson: constant 0, word-overlap rule ${r.toFixed(3)}`);
    assert.ok(r > 0.6 && r < 0.97, `${r}`);
  });

  it('synthetic-e2e: challenge-format MRs, several distinct references each, dev MRs unseen in train', () => {
    const d = generateSyntheticE2e();
    assert.equal(d.dev.instances.length, d.spec.defaultSizes.dev);
    const trainMrs = new Set(d.train.pairs.map((p) => p.mr));
    assert.equal(trainMrs.size, d.spec.defaultSizes.train);
    for (const inst of [...d.train.instances, ...d.dev.instances]) {
      assert.match(inst.mr, /^name\[[^\]]+\](, [A-Za-z ]+\[[^\]]+\])+$/);
      assert.doesNotThrow(() => mrToLoraContext(inst.mr));
      assert.ok(inst.refs.length >= 2 && inst.refs.length <= 6);
      assert.equal(new Set(inst.refs).size, inst.refs.length);
      // Every reference names the venue.
      const name = /^name\[([^\]]+)\]/.exec(inst.mr)?.[1] as string;
      for (const ref of inst.refs) assert.ok(ref.includes(name), ref);
    }
    for (const inst of d.dev.instances) assert.ok(!trainMrs.has(inst.mr));
    assert.equal(d.train.pairs.length, d.train.instances.reduce((n, i) => n + i.refs.length, 0));
  });

  it('synthetic-e2e: the copy-the-input baseline is scored with the E2E metrics and is low', () => {
    const d = generateSyntheticE2e({ devSize: 60 });
    assert.equal(copyInputHypotheses(d.dev)[0], mrToLoraContext(d.dev.instances[0]?.mr as string));
    const s = syntheticCopyInputScores(d.dev);
    console.log(`      synthetic-e2e copy-the-input: BLEU ${s.BLEU.toFixed(3)} NIST ${s.NIST.toFixed(2)} METEOR ${s.METEOR.toFixed(3)} ROUGE_L ${s.ROUGE_L.toFixed(3)} CIDEr ${s.CIDEr.toFixed(3)}`);
    assert.ok(s.BLEU > 0 && s.BLEU < 0.2, `${s.BLEU}`);
    // Leave-one-out: one reference scored against the others is far better, so the references
    // share a learnable way of saying the MR that copying the input lacks.
    const held = scoreE2E(d.dev.instances.map((i) => i.refs.slice(1)), d.dev.instances.map((i) => i.refs[0] as string));
    console.log(`      synthetic-e2e one reference vs the others: BLEU ${held.BLEU.toFixed(3)}`);
    assert.ok(held.BLEU > s.BLEU + 0.2, `${held.BLEU}`);
  });
});
