/**
 * `lora-repro pretrain --hidden/--layers/--heads/--intermediate` (issue 18, the width / depth axis of
 * the stand-in study; src/pretrain/architecture.ts): without them the settings and cache key are
 * those from before the flags existed; with them the key differs, the model built has the asked
 * shape, pretrain.json and snapshot.json record it, and --ship refuses (also --short-seq-steps, the
 * schedule flag a shorter equal-compute run needs).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeModel } from '../bench/stand-in-study-data.ts';
import { initBackend } from '../src/backend/select.ts';
import { pretrainCommand } from '../src/cli/commands/pretrain.ts';
import { readSafetensors } from '../src/io/safetensors.ts';
import { loadPretrained } from '../src/models/factory.ts';
import { archLabel, isDefaultArchitecture, resolveArchitecture } from '../src/pretrain/architecture.ts';
import { locatePretrained } from '../src/pretrain/cache.ts';
import { MINI_PRETRAIN, PRETRAIN_FAMILIES } from '../src/pretrain/pretrain-config.ts';
import { UserError } from '../src/util/errors.ts';
import { pretrainCli } from './helpers/pretrain.ts';

/**
 * Keys of the synthetic-corpus RoBERTa, seed 0, computed by `locatePretrained` before the flags were
 * added (default settings; `--steps 2`). They change, legitimately, with PRETRAIN_FORMAT, the
 * synthetic corpus or the default settings; then recompute them the same way.
 */
const KEY_BEFORE = { roberta: 'afdd6dcc947be47a', robertaSteps2: '60bfae9f78b3230b' };

describe('pretraining architecture flags (the width / depth study)', function () {
  this.timeout(10 * 60 * 1000);
  let cache: string;
  before(async () => {
    await initBackend();
    cache = mkdtempSync(join(tmpdir(), 'pretrain-arch-'));
  });
  after(() => rmSync(cache, { recursive: true, force: true }));

  it('resolves the flags: none → no override; --hidden keeps heads of 32 and FFN 4×; --layers keeps the width', () => {
    const d = MINI_PRETRAIN.roberta;
    assert.equal(resolveArchitecture('roberta', undefined, {}), undefined);
    assert.deepEqual(resolveArchitecture('roberta', undefined, { hidden: 256 }), { hidden: 256, layers: d.layers, heads: 8, intermediate: 1024 });
    assert.deepEqual(resolveArchitecture('roberta', undefined, { layers: 8 }), { hidden: d.hidden, layers: 8, heads: d.heads, intermediate: d.intermediate });
    assert.deepEqual(resolveArchitecture('gpt2', '/data', { hidden: 64, heads: 4, intermediate: 100 }), { hidden: 64, layers: 4, heads: 4, intermediate: 100 });
    for (const family of PRETRAIN_FAMILIES) {
      const d2 = MINI_PRETRAIN[family];
      assert.deepEqual(resolveArchitecture(family, undefined, { hidden: d2.hidden }), { hidden: d2.hidden, layers: d2.layers, heads: d2.heads, intermediate: d2.intermediate });
    }
    assert.throws(() => resolveArchitecture('roberta', undefined, { hidden: 48 }), (e: unknown) => e instanceof UserError && /--heads/.test(e.message));
    assert.throws(() => resolveArchitecture('roberta', undefined, { hidden: 128, heads: 3 }), (e: unknown) => e instanceof UserError && /must divide --hidden 128/.test(e.message));
    assert.throws(() => resolveArchitecture('roberta', undefined, { layers: 0 }), UserError);
    assert.equal(archLabel({ hidden: 256, layers: 4, heads: 8, intermediate: 1024 }), 'd256-l4');
    assert.equal(archLabel({ hidden: 128, layers: 8, heads: 2, intermediate: 512 }), 'd128-l8-h2');
    assert.equal(archLabel({ hidden: 128, layers: 4 }), 'd128-l4');
    assert.ok(isDefaultArchitecture('roberta', { hidden: 128, layers: 4, heads: 4, intermediate: 512 }));
    assert.ok(!isDefaultArchitecture('roberta', { hidden: 128, layers: 4, heads: 4, intermediate: 256 }));
  });

  it('no flag, or flags equal to the defaults: the cache key from before the flags existed', async () => {
    assert.equal(locatePretrained({ family: 'roberta', seed: 0 }).key, KEY_BEFORE.roberta);
    assert.equal(locatePretrained({ family: 'roberta', seed: 0, settings: { steps: 2 } }).key, KEY_BEFORE.robertaSteps2);
    const explicit = resolveArchitecture('roberta', undefined, { hidden: 128, layers: 4, heads: 4, intermediate: 512 });
    assert.equal(locatePretrained({ family: 'roberta', seed: 0, settings: { steps: 2, ...explicit } }).key, KEY_BEFORE.robertaSteps2);
    // --short-seq-steps at the default value (synthetic RoBERTa: 1200) is the default too.
    assert.equal(locatePretrained({ family: 'roberta', seed: 0, settings: { steps: 2, shortSeqSteps: 1200 } }).key, KEY_BEFORE.robertaSteps2);
    const wide = resolveArchitecture('roberta', undefined, { hidden: 256 });
    assert.notEqual(locatePretrained({ family: 'roberta', seed: 0, settings: { steps: 2, ...wide } }).key, KEY_BEFORE.robertaSteps2);
    // Through the CLI: the entry the old call (settings { steps } only) locates (its tokenizer serves the next test too).
    const [dir] = await pretrainCli(['--model', 'roberta', '--synthetic', '--steps', '2', '--cache', cache]);
    assert.equal(dir, join(cache, 'pretrained', `roberta-${KEY_BEFORE.robertaSteps2}`));
  });

  it('CLI: --hidden 64 --layers 2 pretrains that shape under its own key, records it, and --ship refuses', async () => {
    const artifacts = join(cache, 'artifacts');
    const shipCache = join(cache, 'ship');
    await assert.rejects(
      pretrainCommand.run(['--model', 'roberta', '--synthetic', '--steps', '2', '--hidden', '64', '--cache', shipCache, '--ship', '--artifacts', artifacts]),
      (e: unknown) => e instanceof UserError && /--ship .*default corpus, objective, tokenizer size, architecture and schedule: drop --hidden/.test(e.message),
    );
    assert.ok(!existsSync(artifacts) && !existsSync(shipCache), 'refused before anything was trained or written');
    await assert.rejects(pretrainCommand.run(['--model', 'roberta', '--synthetic', '--heads', '3', '--cache', cache]), UserError);
    await assert.rejects(
      pretrainCommand.run(['--model', 'roberta', '--synthetic', '--short-seq-steps', '5', '--cache', shipCache, '--ship']),
      (e: unknown) => e instanceof UserError && /drop --short-seq-steps/.test(e.message),
    );

    const snaps = join(cache, 'snaps');
    const argv = ['--model', 'roberta', '--synthetic', '--steps', '2', '--hidden', '64', '--layers', '2', '--short-seq-steps', '1', '--snapshots', '1', '--snapshot-dir', snaps, '--cache', cache];
    const [dir] = await pretrainCli(argv);
    const arch = { hidden: 64, layers: 2, heads: 2, intermediate: 256 };
    const where = locatePretrained({ family: 'roberta', seed: 0, settings: { steps: 2, ...arch, shortSeqSteps: 1 } });
    assert.equal(dir, join(cache, 'pretrained', `roberta-${where.key}`));
    assert.notEqual(where.key, KEY_BEFORE.robertaSteps2);

    const config = JSON.parse(readFileSync(join(dir as string, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual([config.hidden_size, config.num_hidden_layers, config.num_attention_heads, config.intermediate_size], [64, 2, 2, 256]);
    const weights = readSafetensors(join(dir as string, 'model.safetensors')).tensors;
    assert.deepEqual(weights.get('roberta.encoder.layer.1.intermediate.dense.weight')?.shape, [256, 64]);
    assert.equal(weights.has('roberta.encoder.layer.2.intermediate.dense.weight'), false);
    const { model } = loadPretrained(dir as string, { seed: 0 });
    assert.deepEqual([model.config.hidden, model.config.layers], [64, 2]);
    model.dispose();

    const meta = JSON.parse(readFileSync(join(dir as string, 'pretrain.json'), 'utf8')) as { key: string; settings: Record<string, unknown> };
    assert.equal(meta.key, where.key);
    assert.deepEqual([meta.settings.hidden, meta.settings.layers, meta.settings.heads, meta.settings.intermediate, meta.settings.shortSeqSteps], [64, 2, 2, 256, 1]);
    const snap = JSON.parse(readFileSync(join(snaps, 'step-1', 'snapshot.json'), 'utf8')) as { key: string; settings: Record<string, unknown> };
    assert.equal(snap.key, where.key);
    assert.deepEqual([snap.settings.hidden, snap.settings.layers, snap.settings.heads, snap.settings.intermediate], [64, 2, 2, 256]);
    // The study names the snapshot's run folders after its architecture.
    assert.deepEqual(describeModel(join(snaps, 'step-1')), { tag: `roberta-d64-l2-${where.key}-step1`, arch: 'd64-l2' });

    // The same flags again: the same key, reused.
    const [again] = await pretrainCli(argv);
    assert.equal(again, dir);
  });
});
