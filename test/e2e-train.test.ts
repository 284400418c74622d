/**
 * End to end on the real data (issue 4 item 7): a tiny RoBERTa trained with LoRA on an RTE subset and a
 * tiny GPT-2 on an E2E subset, both randomly initialised (no pretrained weights are available offline).
 * Loss goes down, the task metrics are computed, predictions are written and agree with the metrics,
 * the result validates, the tensor count stays flat, and the CLI can re-evaluate and decode the runs.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/select.ts';
import { main } from '../src/cli/main.ts';
import { groupConsecutive, readE2eSplit } from '../src/data/e2e.ts';
import { readGlueSplit } from '../src/data/glue-tsv.ts';
import { loadE2EData, scoreE2E } from '../src/eval/e2e/index.ts';
import { readSafetensors } from '../src/io/safetensors.ts';
import { runResultSchema, type RunResult } from '../src/train/result-schema.ts';
import { runTraining } from '../src/train/trainer.ts';
import type { TrainRunConfig } from '../src/train/run-config.ts';
import { DATA_DIR, GPT2_TOKENIZER, e2eConfig, rteConfig, tempDir, tinyGpt2Json, tinyRobertaJson, writeConfig } from './helpers/train.ts';
import { trainingInputsOrSkip } from './helpers/skip.ts';

interface Trace {
  tensorsAtStep: number[];
  lines: string[];
}

async function train(config: Record<string, unknown>, outDir: string): Promise<{ result: RunResult; trace: Trace }> {
  const trace: Trace = { tensorsAtStep: [], lines: [] };
  const result = await runTraining(config as TrainRunConfig, {
    outDir,
    log: (l) => trace.lines.push(l),
    onStep: () => trace.tensorsAtStep.push(tf.memory().numTensors),
  });
  return { result, trace };
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Runs the CLI in-process, returning exit code and stdout. */
async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const lines: string[] = [];
  const errs: string[] = [];
  const log = console.log;
  const error = console.error;
  const write = process.stderr.write;
  console.log = (...a: unknown[]) => void lines.push(a.map(String).join(' '));
  console.error = (...a: unknown[]) => void errs.push(a.map(String).join(' '));
  process.stderr.write = ((chunk: string | Uint8Array) => errs.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    const code = await main(argv);
    return { code, out: lines.join('\n'), err: errs.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
    process.stderr.write = write;
  }
}

describe('end to end on the real data: tiny models trained on RTE and E2E subsets', function () {
  this.timeout(120_000);
  const dir = tempDir('e2e-train');
  const robertaFile = writeConfig(dir, 'tiny-roberta.json', tinyRobertaJson({ hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 }));
  const gpt2File = writeConfig(dir, 'tiny-gpt2.json', tinyGpt2Json());

  before(async function () {
    trainingInputsOrSkip(this);
    await initBackend('wasm');
  });

  it('RoBERTa + LoRA on RTE: loss down, accuracy from the written predictions, result valid, tensors flat, only LoRA + head saved', async () => {
    const out = join(dir, 'rte');
    const before = tf.memory().numTensors;
    const t0 = performance.now();
    const { result, trace } = await train(rteConfig(robertaFile, { epochs: 12 }), out);
    const seconds = (performance.now() - t0) / 1000;
    assert.equal(result.status, 'finished', result.error);

    // Loss goes down (measured: 0.715 → 0.455 over 24 updates).
    const losses = result.epochs.map((e) => e.trainLoss);
    assert.ok(losses[losses.length - 1] < losses[0] - 0.1, `epoch losses ${losses.map((l) => l.toFixed(3)).join(' ')}`);

    // The result file is the returned result, and validates.
    const onDisk = runResultSchema.parse(JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')));
    assert.deepEqual(onDisk, result);
    assert.equal(result.headlineMetric, 'accuracy');
    assert.equal(result.epochs.length, 12);
    assert.ok(result.bestEpoch !== null && result.bestEpoch >= 1);
    assert.deepEqual(result.metrics, result.epochs[result.bestEpoch - 1].metrics);
    assert.ok(result.tokensPerSecond > 0 && result.peakRssMiB > 0 && result.wallSeconds > 0);
    // LoRA on W_q, W_v: 2 layers · 2 matrices · r(in + out) = 2·2·8·64; head: dense 32·32+32 + out 32·2+2.
    assert.deepEqual(result.trainableParams, { counted: 2048, formula: 2048, head: 1122 });
    assert.equal(result.provenance.datasets['glue/RTE/train.tsv'], sha256(join(DATA_DIR, 'glue/RTE/train.tsv')));
    assert.equal(result.provenance.datasets['glue/RTE/dev.tsv'], sha256(join(DATA_DIR, 'glue/RTE/dev.tsv')));

    // Predictions: one row per evaluated example, labels as in dev.tsv, accuracy = the reported metric.
    const dev = readGlueSplit(DATA_DIR, 'rte', 'dev');
    const rows = readFileSync(join(out, 'predictions/dev.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
    assert.equal(rows.length, 32);
    const names = ['entailment', 'not_entailment'];
    let hits = 0;
    for (const [index, prediction, label] of rows) {
      assert.equal(label, names[dev[Number(index)].label]);
      if (prediction === label) hits++;
    }
    assert.equal(result.metrics.accuracy, hits / rows.length);

    // Tensor count flat across steps (evaluation and checkpoints between epochs included), nothing left after.
    assert.equal(new Set(trace.tensorsAtStep).size, 1, `tensor counts ${[...new Set(trace.tensorsAtStep)].join(', ')}`);
    assert.equal(tf.memory().numTensors, before);

    // The checkpoint holds the LoRA matrices and the head, nothing of the frozen backbone.
    const keys = [...readSafetensors(join(out, 'adapter/adapter_model.safetensors')).tensors.keys()].sort();
    assert.equal(keys.length, 2 * 2 * 2 + 4);
    assert.ok(keys.every((k) => /lora_[AB]\.weight$/.test(k) || k.includes('classifier.')), keys.join(', '));
    assert.ok(existsSync(join(out, 'train.log')));
    console.log(`      RTE: epoch loss ${losses[0].toFixed(3)} → ${losses[losses.length - 1].toFixed(3)}, accuracy ${result.metrics.accuracy}, ${seconds.toFixed(1)} s`);
  });

  it('GPT-2 + LoRA on E2E: loss down, BLEU/NIST/METEOR/ROUGE-L/CIDEr computed, hypotheses + references written and rescore to the same values', async () => {
    const out = join(dir, 'e2e');
    const before = tf.memory().numTensors;
    const t0 = performance.now();
    const { result, trace } = await train(e2eConfig(gpt2File), out);
    const seconds = (performance.now() - t0) / 1000;
    assert.equal(result.status, 'finished', result.error);
    const losses = result.epochs.map((e) => e.trainLoss);
    assert.ok(losses[losses.length - 1] < losses[0] - 0.2, `epoch losses ${losses.map((l) => l.toFixed(3)).join(' ')}`);
    runResultSchema.parse(JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')));
    assert.equal(result.headlineMetric, 'BLEU');
    for (const e of result.epochs) assert.deepEqual(Object.keys(e.metrics).sort(), ['BLEU', 'CIDEr', 'METEOR', 'NIST', 'ROUGE_L']);
    assert.equal(new Set(trace.tensorsAtStep).size, 1);
    assert.equal(tf.memory().numTensors, before);

    // The references written are devset.csv's, for the MRs evaluated; rescoring the files gives the metrics.
    const { references, hypotheses } = loadE2EData(join(out, 'predictions/dev.ref.txt'), join(out, 'predictions/dev.hyp.txt'));
    assert.equal(hypotheses.length, 3);
    const devRefs = new Set(groupConsecutive(readE2eSplit(DATA_DIR, 'dev', 'csv').pairs).map((i) => JSON.stringify(i.refs.map((r) => r.trim()))));
    for (const group of references) assert.ok(devRefs.has(JSON.stringify(group)), `not a devset.csv instance: ${group[0]}`);
    const rescored = scoreE2E(references, hypotheses);
    for (const [k, v] of Object.entries(rescored)) assert.ok(Math.abs(v - result.metrics[k]) < 1e-12, `${k}: ${v} vs ${result.metrics[k]}`);
    const map = JSON.parse(readFileSync(join(out, 'vocab-map.json'), 'utf8')) as { mode: string; ids: number[] };
    assert.equal(map.mode, 'compact');
    console.log(`      E2E: epoch loss ${losses[0].toFixed(3)} → ${losses[losses.length - 1].toFixed(3)}, BLEU ${result.metrics.BLEU.toFixed(4)}, ${map.ids.length} distinct BPE ids, ${seconds.toFixed(1)} s`);
  });

  it('CLI: train → eval reproduces the recorded metrics → generate writes files that `metrics e2e` scores', async () => {
    const out = join(dir, 'cli-e2e');
    const t = await cli([
      'train', '--model', gpt2File, '--tokenizer', GPT2_TOKENIZER, '--task', 'e2e', '--method', 'lora',
      '--r', '4', '--alpha', '32', '--epochs', '2', '--limit', '16', '--eval-limit', '2', '--batch', '8', '--lr', '2e-2',
      '--warmup-steps', '1', '--max-seq', '96', '--beam', '2', '--max-new-tokens', '8', '--data-dir', DATA_DIR, '--out', out, '--json',
    ]);
    assert.equal(t.code, 0);
    const result = runResultSchema.parse(JSON.parse(t.out));
    assert.equal(result.config.gradAccumulation, 1);
    assert.equal(result.config.labelSmoothing, 0.1); // the E2E default (Table 11)

    const e = await cli(['eval', out, '--json']);
    assert.equal(e.code, 0);
    const ev = JSON.parse(e.out) as { metrics: Record<string, number>; recorded: Record<string, number> };
    assert.deepEqual(ev.metrics, ev.recorded);
    assert.deepEqual(ev.recorded, result.metrics);

    const hyp = join(dir, 'gen', 'test.hyp.txt');
    const g = await cli(['generate', out, '--split', 'test', '--limit', '2', '--beam', '2', '--max-new-tokens', '8', '--out', hyp, '--json']);
    assert.equal(g.code, 0);
    const gen = JSON.parse(g.out) as { hypotheses: string; references: string; metrics: Record<string, number>; decoding: { lengthPenalty: number } };
    assert.equal(gen.references, join(dir, 'gen', 'test.ref.txt'));
    assert.equal(gen.decoding.lengthPenalty, 0.9);
    assert.equal(readFileSync(hyp, 'utf8').split('\n').length, 3); // two lines + final newline
    const m = await cli(['metrics', 'e2e', '--refs', gen.references, '--hyps', gen.hypotheses, '--json']);
    assert.equal(m.code, 0);
    const scores = JSON.parse(m.out) as Record<string, number>;
    for (const [k, v] of Object.entries(gen.metrics)) assert.ok(Math.abs(v - scores[k]) < 1e-12, `${k}: ${v} vs ${scores[k]}`);
  });

  it('CLI: bad input is one line and exit 2, before any data is read (GLUE task on a GPT-2 model; an option the method lacks)', async () => {
    const a = await cli(['train', '--model', gpt2File, '--tokenizer', GPT2_TOKENIZER, '--task', 'rte', '--method', 'lora', '--data-dir', DATA_DIR, '--out', join(dir, 'bad')]);
    assert.equal(a.code, 2);
    assert.match(a.err, /task 'rte' needs a RoBERTa model/);
    assert.equal(a.err.trim().split('\n').length, 1);
    assert.ok(!existsSync(join(dir, 'bad', 'result.json')));
    const b = await cli(['train', '--model', gpt2File, '--task', 'e2e', '--method', 'ft', '--r', '4']);
    assert.equal(b.code, 2);
    assert.match(b.err, /--r does not apply to method 'ft'/);
    // Held-out selection needs its size (test/heldout-selection.test.ts covers the mode itself).
    const c = await cli(['train', '--model', gpt2File, '--task', 'e2e', '--method', 'lora', '--select-on', 'heldout']);
    assert.equal(c.code, 2);
    assert.match(c.err, /selectOn heldout needs heldoutSize/);
    const d = await cli(['train', '--model', gpt2File, '--task', 'e2e', '--method', 'lora', '--select-on', 'test', '--heldout-size', '4']);
    assert.equal(d.code, 2);
    assert.equal(d.err.trim().split('\n').length, 1);
  });
});
