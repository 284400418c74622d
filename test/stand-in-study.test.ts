/**
 * bench/stand-in-study.ts on hand-made folders (no training): `collect` finds each run's pretrained
 * model (a snapshot.json folder or a pretrain.json cache entry), computes tokens and CPU time from
 * their settings, groups runs by model point, leaves out failed runs and same-seed duplicates, and
 * writes no absolute path; `chart` writes a non-empty SVG and the table; `run --dry-run` plans the
 * study's train commands and skips finished runs.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectStudy, describeModel, readStudy } from '../bench/stand-in-study-data.ts';
import { dataSizeSpec, dataSizeTable, mainSettings, studySpec, studyTable } from '../bench/stand-in-study-chart.ts';
import { main } from '../bench/stand-in-study.ts';
import { f32, writeSafetensors } from '../src/io/safetensors.ts';

const SETTINGS = { family: 'roberta', steps: 400, batchSize: 8, seqLen: 128, hidden: 128, layers: 4, warmupSteps: 50, shortSeqSteps: 200, shortSeqLen: 32, corpusBytes: 1 << 20, blasThreads: 1 };
const KEY = 'aaaabbbbccccdddd';

function writeJson(file: string, value: unknown): void {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, JSON.stringify(value));
}

/** A RunResult schedule (src/train/result-schema.ts) for `n` training examples, batch 16, 4 epochs. */
function schedule(n: number) {
  const stepsPerEpoch = Math.ceil(n / 16);
  return { trainExamples: n, effectiveBatch: 16, microBatch: 16, microBatchesPerStep: 1, stepsPerEpoch, totalSteps: 4 * stepsPerEpoch, warmupSteps: 0, warmupFraction: 0 };
}

/** A result.json with only the fields collect reads. */
function result(model: string, o: { task?: string; method?: string; seed?: number; value: number; lr?: number; status?: string; finishedAt?: string; trainLimit?: number | null; trainExamples?: number; heldout?: number }) {
  const task = o.task ?? 'sst2';
  const trainLimit = o.trainLimit === undefined ? 2000 : o.trainLimit;
  return {
    task, method: o.method ?? 'lora', seed: o.seed ?? 0, status: o.status ?? 'finished', headlineMetric: 'accuracy', metrics: { accuracy: o.value },
    bestEpoch: 2, wallSeconds: 10, finishedAt: o.finishedAt ?? '2026-01-01T00:00:00Z',
    ...(o.trainExamples === undefined ? {} : { schedule: schedule(o.trainExamples), baseline: { kind: 'majority', description: 'majority class', metrics: { accuracy: 0.509 } } }),
    config: { model, learningRate: o.lr ?? 2.5e-3, epochs: 4, ...(trainLimit === null ? {} : { trainLimit }), evalLimit: 872, ...(o.heldout === undefined ? {} : { selectOn: 'heldout', heldoutSize: o.heldout }) },
  };
}

describe('bench/stand-in-study', () => {
  let root: string;
  let snap: string;
  let final: string;
  let log: string[];
  const realLog = console.log;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'stand-in-study-'));
    snap = join(root, 'snaps', 'step-100');
    final = join(root, 'cache', 'pretrained', `roberta-${KEY}`);
    writeJson(join(snap, 'snapshot.json'), { key: KEY, family: 'roberta', seed: 0, step: 100, of: 400, heldOutLoss: 7.5, trainSeconds: 30, settings: SETTINGS, corpus: 'c0ffee'.repeat(10) });
    writeJson(join(final, 'pretrain.json'), {
      key: KEY, family: 'roberta', seed: 0, settings: SETTINGS, corpus: { hash: 'c0ffee'.repeat(10) },
      training: { msPerStep: 200, trainSeconds: 90, evalLoss: { after: 6.5 } },
    });
    log = [];
    console.log = (...args: unknown[]) => void log.push(args.join(' '));
  });
  afterEach(() => {
    console.log = realLog;
    rmSync(root, { recursive: true, force: true });
  });

  it('collect: tokens and CPU time per model point, runs grouped by point, failures and duplicates left out', () => {
    const runs = join(root, 'ft');
    writeJson(join(runs, 'a', 'result.json'), result(snap, { seed: 0, value: 0.6 }));
    writeJson(join(runs, 'b', 'result.json'), result(snap, { seed: 1, value: 0.7 }));
    writeJson(join(runs, 'c', 'result.json'), result(final, { method: 'ft', lr: 3e-4, value: 0.8 }));
    writeJson(join(runs, 'd', 'result.json'), result(snap, { seed: 2, value: 0.9, status: 'failed' }));
    // The run of `a` done again later into another folder: counted once, the later one.
    writeJson(join(runs, 'e', 'nested', 'result.json'), result(snap, { seed: 0, value: 0.62, finishedAt: '2026-02-01T00:00:00Z' }));
    writeJson(join(runs, 'f', 'result.json'), result(join(root, 'gone'), { value: 0.5 }));
    const study = collectStudy({ runs: [runs] });

    assert.deepEqual(study.points.map((p) => p.id), [`roberta-${KEY}@100`, `roberta-${KEY}@400`]);
    const [s, f] = study.points;
    // 100 steps × 8 sequences × 128 tokens; CPU: 100 steps × 200 ms of the finished run (known through run c).
    assert.equal(s.tokens, 102400);
    assert.equal(s.cpuSeconds, 20);
    assert.equal(s.cpuSecondsFrom, 'final-msPerStep');
    assert.equal(s.measuredSeconds, 30);
    assert.equal(s.annealed, false);
    assert.equal(s.totalSteps, 400);
    assert.equal(s.heldOutLoss, 7.5);
    assert.equal(f.tokens, 409600);
    assert.equal(f.cpuSeconds, 80);
    assert.equal(f.annealed, true);
    assert.equal(f.source, 'final');
    assert.equal(f.heldOutLoss, 6.5);

    assert.deepEqual(s.runs.map((r) => [r.run, r.seed, r.value]), [['ft/e/nested', 0, 0.62], ['ft/b', 1, 0.7]]);
    assert.deepEqual(f.runs.map((r) => [r.run, r.method, r.lr, r.trainLimit, r.evalLimit, r.epochs]), [['ft/c', 'ft', 3e-4, 2000, 872, 4]]);
    assert.deepEqual(study.skipped.map((x) => x.run), ['ft/a', 'ft/d', 'ft/f']);
    assert.match(study.skipped[1].reason, /failed/);
    assert.match(study.skipped[2].reason, /no longer exists/);
    assert.ok(!JSON.stringify(study).includes(root), 'no absolute path in the study');
  });

  it('fine-tuning data: runs of one point at several training-set sizes get their own table and chart; the compute view keeps the main setting', async () => {
    const runs = join(root, 'ft');
    // The main setting (2000 examples) on both points; the final model also at 8000 and at the whole split (67,349 recorded).
    writeJson(join(runs, 'a', 'result.json'), result(snap, { value: 0.6, trainExamples: 2000 }));
    writeJson(join(runs, 'b', 'result.json'), result(final, { value: 0.7, trainExamples: 2000 }));
    writeJson(join(runs, 'c', 'result.json'), result(final, { value: 0.74, trainLimit: 8000, trainExamples: 8000 }));
    writeJson(join(runs, 'd', 'result.json'), result(final, { value: 0.78, trainLimit: 8000, trainExamples: 8000, seed: 1 }));
    writeJson(join(runs, 'e', 'result.json'), result(final, { value: 0.8, trainLimit: null, trainExamples: 67349 }));
    // A task run on the final model only: in the fine-tuning-data view, not a column of the compute table.
    writeJson(join(runs, 'h', 'result.json'), result(final, { task: 'cola', value: 0.1, trainExamples: 2000 }));
    writeJson(join(runs, 'i', 'result.json'), result(final, { task: 'cola', value: 0.2, trainLimit: null, trainExamples: 8551 }));
    // Epochs chosen on a held-out slice: a line of their own, never mixed with the dev-selected runs.
    writeJson(join(runs, 'f', 'result.json'), result(final, { value: 0.69, trainExamples: 2000, heldout: 300 }));
    writeJson(join(runs, 'g', 'result.json'), result(final, { value: 0.79, trainLimit: 1_000_000, trainExamples: 67049, heldout: 300 }));
    const study = collectStudy({ runs: [runs] });
    assert.deepEqual(study.points[1].runs.filter((r) => r.task === 'sst2').map((r) => [r.trainLimit, r.trainExamples, r.heldoutSize]), [[2000, 2000, undefined], [2000, 2000, 300], [8000, 8000, undefined], [8000, 8000, undefined], [1_000_000, 67049, 300], [null, 67349, undefined]]);
    assert.equal(mainSettings(study).get('sst2'), '2000 train, 4 ep, eval 872');
    // The compute table: one column per method at the main setting only.
    const table = studyTable(study);
    assert.match(table, /\| 400 \/ 400 \(final\) \| 410k \| 1\.3 \| 6\.500 \| 70\.0 \|$/m);
    assert.ok(!table.includes('8000') && !table.includes('cola'), table);
    assert.equal(mainSettings(study).get('cola'), undefined);
    const sizes = dataSizeTable(study);
    assert.match(sizes, /\| cola \| 4 ep, eval 872 \| 8,551 \| 20\.0 \| 50\.9 \|/);
    assert.match(sizes, /\| sst2 \| 4 ep, eval 872 \| 2,000 \| 70\.0 \| 50\.9 \|/);
    assert.match(sizes, /\| sst2 \| 4 ep, eval 872 \| 8,000 \| 76\.0 ± 2\.8 \(2\) \| 50\.9 \|/);
    assert.match(sizes, /\| sst2 \| 4 ep, eval 872 \| 67,349 \| 80\.0 \|/);
    assert.match(sizes, /\| sst2 \| 4 ep, eval 872, epoch chosen on 300 held out \| 2,000 \| 69\.0 \|/);
    assert.match(sizes, /\| sst2 \| 4 ep, eval 872, epoch chosen on 300 held out \| 67,049 \| 79\.0 \|/);
    assert.equal(sizes.split('\n').filter((l) => l.startsWith('| roberta')).length, 7, 'the snapshot has one size only: no rows');
    assert.equal(dataSizeTable({ ...study, points: [study.points[0]] }), '');
    assert.equal(dataSizeSpec({ ...study, points: [study.points[0]] }), undefined);
    const json = join(root, 'study.json');
    assert.equal(await main(['collect', '--runs', runs, '--out', json]), 0);
    assert.equal(await main(['chart', '--in', json, '--out', join(root, 'charts')]), 0);
    assert.match(readFileSync(join(root, 'charts', 'stand-in-study-data-size.svg'), 'utf8'), /Fine-tuned score against fine-tuning data/);
    assert.ok(log.join('\n').includes('| sst2 | 4 ep, eval 872 | 67,349 | 80.0 |'));
  });

  it('collect: without the finished run, a snapshot keeps its own measured seconds; --cache finds the finished run', () => {
    const runs = join(root, 'ft');
    writeJson(join(runs, 'a', 'result.json'), result(snap, { value: 0.6 }));
    const alone = collectStudy({ runs: [runs] }).points[0];
    assert.equal(alone.cpuSeconds, 30);
    assert.equal(alone.cpuSecondsFrom, 'snapshot-trainSeconds');
    assert.equal(alone.msPerStep, null);
    const withCache = collectStudy({ runs: [runs], caches: [join(root, 'cache')] }).points[0];
    assert.equal(withCache.cpuSeconds, 20);
    assert.equal(withCache.msPerStep, 200);
  });

  it('collect then chart through the command line: JSON read back, non-empty SVG, the table', async () => {
    const runs = join(root, 'ft');
    writeJson(join(runs, 'a', 'result.json'), result(snap, { seed: 0, value: 0.6 }));
    writeJson(join(runs, 'b', 'result.json'), result(snap, { seed: 1, value: 0.7 }));
    writeJson(join(runs, 'c', 'result.json'), result(final, { value: 0.8 }));
    const json = join(root, 'out', 'study.json');
    assert.equal(await main(['collect', '--runs', runs, '--out', json]), 0);
    const study = readStudy(json);
    assert.equal(study.points.length, 2);
    const charts = join(root, 'out', 'charts');
    assert.equal(await main(['chart', '--in', json, '--out', charts]), 0);
    const svg = readFileSync(join(charts, 'stand-in-study.svg'), 'utf8');
    assert.match(svg, /^<svg/);
    assert.ok(svg.includes('Fine-tuned score against pretraining compute'));
    assert.ok(readFileSync(join(charts, 'stand-in-study.png')).length > 1000);
    // Seeds 0 and 1 at step 100: mean 65.0, sample std 7.1 (×100 scale); the final point's single run.
    const table = studyTable(study);
    assert.match(table, /\| 100 \/ 400 \| 102k \| 0\.3 \| 7\.500 \| 65\.0 ± 7\.1 \(2\) \|/);
    assert.match(table, /\| 400 \/ 400 \(final\) \| 410k \| 1\.3 \| 6\.500 \| 80\.0 \|/);
    assert.ok(log.join('\n').includes('65.0 ± 7.1 (2)'));
  });

  it('width / depth: points carry their architecture and parameters, one colour per (architecture, method), x = CPU time', async () => {
    // A d-256 run (another key) as a finished cache entry, with a weights file to count: 8 × 256 word
    // embeddings + 4 × 256 positions (embedding tables) + one 256 × 256 matrix and its bias.
    const WIDE = { ...SETTINGS, hidden: 256, heads: 8, intermediate: 1024 };
    const wide = join(root, 'cache', 'pretrained', 'roberta-eeeeffff00001111');
    writeJson(join(wide, 'pretrain.json'), {
      key: 'eeeeffff00001111', family: 'roberta', seed: 0, settings: WIDE, corpus: { hash: 'c0ffee'.repeat(10) },
      training: { msPerStep: 600, trainSeconds: 250, evalLoss: { after: 6.0 } },
    });
    const tensor = (...shape: number[]) => f32(shape, new Float32Array(shape.reduce((a, b) => a * b, 1)));
    writeSafetensors(join(wide, 'model.safetensors'), new Map([
      ['roberta.embeddings.word_embeddings.weight', tensor(8, 256)],
      ['roberta.embeddings.position_embeddings.weight', tensor(4, 256)],
      ['roberta.encoder.layer.0.attention.self.query.weight', tensor(256, 256)],
      ['roberta.encoder.layer.0.attention.self.query.bias', tensor(256)],
    ]));
    // The default-size snapshot's records say nothing of heads / FFN (hand-made): the width's are assumed.
    assert.deepEqual(describeModel(snap), { tag: `roberta-${KEY}-step100`, arch: 'd128-l4' });
    assert.deepEqual(describeModel(wide), { tag: 'roberta-d256-l4-eeeeffff00001111-step400', arch: 'd256-l4' });

    const runs = join(root, 'ft');
    writeJson(join(runs, 'a', 'result.json'), result(snap, { value: 0.6 }));
    writeJson(join(runs, 'b', 'result.json'), result(final, { value: 0.7 }));
    writeJson(join(runs, 'c', 'result.json'), result(wide, { value: 0.75 }));
    writeJson(join(runs, 'd', 'result.json'), result(wide, { method: 'ft', lr: 3e-4, value: 0.8 }));
    const json = join(root, 'out', 'study.json');
    assert.equal(await main(['collect', '--runs', runs, '--out', json]), 0);
    const study = readStudy(json);
    const byId = new Map(study.points.map((p) => [p.id, p]));
    const small = byId.get(`roberta-${KEY}@100`);
    const big = byId.get('roberta-eeeeffff00001111@400');
    assert.ok(small !== undefined && big !== undefined);
    assert.deepEqual([small.hidden, small.layers, small.heads, small.intermediate, small.params], [128, 4, 4, 512, null]);
    assert.deepEqual([big.hidden, big.layers, big.heads, big.intermediate], [256, 4, 8, 1024]);
    assert.equal(big.params, 8 * 256 + 4 * 256 + 256 * 256 + 256);
    assert.equal(big.nonEmbeddingParams, 256 * 256 + 256);
    // Same steps, three times the ms/step: three times the compute, the same tokens as the d-128 final point.
    assert.equal(big.cpuSeconds, 240);
    assert.equal(big.tokens, byId.get(`roberta-${KEY}@400`)?.tokens);

    const spec = JSON.stringify(studySpec(study));
    assert.ok(spec.includes('"field":"cpuMinutes","type":"quantitative","scale":{"type":"log"'), 'x axis: CPU-minutes');
    for (const label of ['lora · d128-l4', 'lora · d256-l4', 'ft · d256-l4']) assert.ok(spec.includes(`"label":"${label}"`), label);
    assert.ok(spec.includes('method · architecture'));
    const table = studyTable(study);
    assert.match(table, /\| roberta-eeeeffff \| d256-l4 \(69k, 66k non-emb\.\) \| 400 \/ 400 \(final\) \| 410k \| 4\.0 \| 6\.000 \| 80\.0 \| 75\.0 \|/);
    assert.match(table, /\| roberta-aaaabbbb \| d128-l4 \| 100 \/ 400 \| 102k \| 0\.3 \| 7\.500 \| — \| 60\.0 \|/);
    assert.equal(await main(['chart', '--in', json, '--out', join(root, 'out', 'charts')]), 0);
  });

  it('corpus / objective: non-default points say which (JSON, run-folder tag, table), default points carry nothing new', async () => {
    const DEFAULT_OBJ = { ...SETTINGS, nspEvery: 2, bagOfWords: true };
    const entry = (key: string, settings: object): string => {
      const dir = join(root, 'cache', 'pretrained', `roberta-${key}`);
      writeJson(join(dir, 'pretrain.json'), { key, family: 'roberta', seed: 0, settings, corpus: { hash: 'c0ffee'.repeat(10) }, training: { msPerStep: 200, trainSeconds: 80, evalLoss: { after: 6.4 } } });
      return dir;
    };
    const control = entry('1111000011110000', DEFAULT_OBJ);
    const wordnet = entry('2222000022220000', { ...DEFAULT_OBJ, corpusExtra: ['wordnet'] });
    const mlm = entry('3333000033330000', { ...DEFAULT_OBJ, nspEvery: 0, bagOfWords: false });
    assert.equal(describeModel(control).tag, 'roberta-1111000011110000-step400');
    assert.equal(describeModel(wordnet).tag, 'roberta-wordnet-2222000022220000-step400');
    assert.equal(describeModel(mlm).tag, 'roberta-mlm-3333000033330000-step400');
    const runs = join(root, 'ft');
    [control, wordnet, mlm].forEach((m, i) => writeJson(join(runs, `r${i}`, 'result.json'), result(m, { value: 0.6 + i / 100 })));
    const study = collectStudy({ runs: [runs] });
    const by = new Map(study.points.map((p) => [p.key, p]));
    assert.deepEqual([by.get('1111000011110000')?.objective, by.get('1111000011110000')?.corpusExtra], [undefined, undefined]);
    assert.ok(!('objective' in (by.get('1111000011110000') as object)) && !('corpusExtra' in (by.get('1111000011110000') as object)));
    assert.deepEqual([by.get('2222000022220000')?.corpusExtra, by.get('2222000022220000')?.objective], ['wordnet', undefined]);
    assert.deepEqual([by.get('3333000033330000')?.objective, by.get('3333000033330000')?.corpusExtra], ['mlm', undefined]);
    const table = studyTable(study);
    assert.match(table, /\| roberta-11110000 \| d128-l4 \| 400 \/ 400 \(final\) \|/);
    assert.match(table, /\| roberta-22220000 \(\+wordnet\) \| d128-l4 \| 400 \/ 400 \(final\) \| .* \| 61\.0 \|/);
    assert.match(table, /\| roberta-33330000 \(obj mlm\) \| d128-l4 \|/);
    assert.match(table, /\+wordnet = WordNet glosses/);
    const spec = JSON.stringify(studySpec(study));
    for (const label of ['lora · d128-l4', 'lora · d128-l4 wordnet', 'lora · d128-l4 mlm']) assert.ok(spec.includes(`"label":"${label}"`), label);
  });

  it('a study JSON written before the architecture fields still charts (as the default d-128 × 4)', () => {
    const runs = join(root, 'ft');
    writeJson(join(runs, 'a', 'result.json'), result(snap, { value: 0.6 }));
    const study = collectStudy({ runs: [runs] });
    const old = { ...study, points: study.points.map(({ heads: _h, intermediate: _i, params: _p, nonEmbeddingParams: _n, ...rest }) => rest) };
    const file = join(root, 'old.json');
    writeJson(file, old);
    const table = studyTable(readStudy(file));
    assert.match(table, /\| roberta-aaaabbbb \| d128-l4 \| 100 \/ 400 \|/);
  });

  it('bad input: one line, exit 2', async () => {
    const errors: string[] = [];
    const realError = console.error;
    console.error = (...args: unknown[]) => void errors.push(args.join(' '));
    try {
      assert.equal(await main(['collect', '--out', join(root, 'x.json')]), 2);
      assert.equal(await main(['chart', '--in', join(root, 'missing.json')]), 2);
      writeJson(join(root, 'bad.json'), { schema: 1, points: 'no' });
      assert.equal(await main(['chart', '--in', join(root, 'bad.json')]), 2);
    } finally {
      console.error = realError;
    }
    assert.equal(errors.length, 3);
    assert.match(errors[0], /--runs/);
    assert.match(errors[1], /collect/);
    assert.match(errors[2], /bad\.json: not a stand-in study/);
  });

  it('run --dry-run: the study settings per model, task, method; finished runs skipped; nothing started', async () => {
    const out = join(root, 'runs');
    const done = join(out, `roberta-${KEY}-step100-sst2-lora-lr0.0025-seed0`);
    writeJson(join(done, 'result.json'), { status: 'finished' });
    assert.equal(await main(['run', '--models', `${snap},${final}`, '--tasks', 'sst2', '--out', out, '--dry-run']), 0);
    const text = log.join('\n');
    assert.ok(text.includes(`skip (finished): ${done}`));
    const planned = log.filter((l) => l.includes('lora-repro train'));
    assert.equal(planned.length, 3);
    assert.ok(planned.some((l) => l.includes('--method ft') && l.includes('--lr 0.0003') && l.includes(`roberta-${KEY}-step400-sst2-ft-lr0.0003-seed0`)));
    assert.ok(planned.every((l) => l.includes('--epochs 4 --limit 2000 --batch 16 --max-seq 128 --warmup-ratio 0.06 --weight-decay 0.1 --seed 0')));
    assert.ok(planned.filter((l) => l.includes('--method lora')).every((l) => l.includes('--r 8 --alpha 16 --targets q,v --lr 0.0025')));
    assert.ok(!existsSync(join(out, `roberta-${KEY}-step400-sst2-ft-lr0.0003-seed0`)));
  });
});
