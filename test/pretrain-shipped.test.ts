/**
 * The shipped stand-ins (src/pretrain/shipped.ts, issue 18): export from a pretraining cache entry in
 * float16, byte-identical on re-export; the runner (src/runner/pretrained-models.ts) uses a shipped
 * folder only when it is the model pretraining would produce now, verifies it first, and fine-tuning
 * trains on it. Everything in temporary folders: the repository's artifacts/ is never written.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/backend/select.ts';
import { readSafetensors, toFloat32 } from '../src/io/safetensors.ts';
import { PRETRAIN_FILES } from '../src/pretrain/artifacts.ts';
import { fileSha256, locatePretrained } from '../src/pretrain/cache.ts';
import { SYNTHETIC_PRETRAIN } from '../src/pretrain/pretrain-config.ts';
import { PROVENANCE_FILE, SHIPPED_FORMAT, type ShippedProvenance } from '../src/pretrain/shipped.ts';
import { preparePretrainedModels, pretrainOverrides, shippedStandIn } from '../src/runner/pretrained-models.ts';
import type { TrainRunConfig } from '../src/train/run-config.ts';
import { runTraining } from '../src/train/trainer.ts';
import { UserError } from '../src/util/errors.ts';
import { pretrainCli } from './helpers/pretrain.ts';

const cli = pretrainCli;

const filesOf = (dir: string): Record<string, Buffer> => Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f))]));
const provenanceOf = (dir: string): ShippedProvenance => JSON.parse(readFileSync(join(dir, PROVENANCE_FILE), 'utf8')) as ShippedProvenance;

/** Copies a shipped folder to `<root>/mini-roberta` with provenance.json edited by `edit`. */
function forge(from: string, root: string, edit: (p: ShippedProvenance) => void): string {
  const dir = join(root, 'mini-roberta');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  cpSync(from, dir, { recursive: true });
  const p = provenanceOf(dir);
  edit(p);
  writeFileSync(join(dir, PROVENANCE_FILE), `${JSON.stringify(p, null, 2)}\n`);
  return dir;
}

describe('shipped stand-ins (artifacts/stand-ins)', function () {
  this.timeout(300_000);
  const tmp = mkdtempSync(join(tmpdir(), 'shipped-'));
  const cache = join(tmp, 'cache');
  let shipped: string; // a 20-step mini-roberta on the synthetic corpus, exported
  let entry: string; // its float32 cache entry

  before(async () => {
    await initBackend('wasm');
    // Full-size mini RoBERTa, 20 steps, synthetic corpus: the real export path in seconds.
    const [dir] = await cli(['--model', 'roberta', '--steps', '20', '--synthetic', '--cache', cache, '--ship', '--artifacts', join(tmp, 'a1')]);
    shipped = dir as string;
    entry = locatePretrained({ family: 'roberta', seed: 0, settings: { steps: 20 }, cacheDir: cache }).dir;
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('export: float16 weights of the float32 entry, its files and provenance with every sha256', () => {
    assert.equal(shipped, join(tmp, 'a1', 'mini-roberta'));
    assert.deepEqual(readdirSync(shipped).sort(), ['config.json', 'mlm_head.safetensors', 'model.safetensors', 'provenance.json', 'tokenizer.json']);
    const p = provenanceOf(shipped);
    assert.equal(p.format, SHIPPED_FORMAT);
    assert.equal(p.recreate.command, 'lora-repro pretrain --model roberta --seed 0 --synthetic --steps 20');
    assert.equal(p.recreate.export, `${p.recreate.command} --ship`);
    assert.equal(p.recreate.unflaggedSettings, undefined);
    assert.equal(p.recreate.fp32Sha256['model.safetensors'], fileSha256(join(entry, PRETRAIN_FILES.weights)));
    for (const f of readdirSync(shipped).filter((n) => n !== PROVENANCE_FILE)) assert.equal(p.files[f], fileSha256(join(shipped, f)), f);
    assert.deepEqual(readFileSync(join(shipped, 'config.json')), readFileSync(join(entry, 'config.json')));
    assert.deepEqual(readFileSync(join(shipped, 'tokenizer.json')), readFileSync(join(entry, 'tokenizer.json')));
    // pretrain.json's content, less the machine's paths.
    const meta = JSON.parse(readFileSync(join(entry, PRETRAIN_FILES.meta), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(p.pretrain.training, meta.training);
    assert.equal(p.pretrain.createdAt, meta.createdAt);
    assert.equal(p.pretrain.corpus.hash, (meta.corpus as { hash: string }).hash);
    assert.ok(!JSON.stringify(p).includes(cache), 'no cache paths');
    // Every weight is the float32 one to within half a float16 ulp, and some did change.
    for (const f of ['model.safetensors', 'mlm_head.safetensors']) {
      const half = readSafetensors(join(shipped, f)).tensors;
      const full = readSafetensors(join(entry, f)).tensors;
      assert.deepEqual([...half.keys()].sort(), [...full.keys()].sort());
      let changed = 0;
      for (const [name, t] of half) {
        assert.equal(t.dtype, 'F16', name);
        const a = toFloat32(t);
        const b = toFloat32(full.get(name)!);
        b.forEach((x, i) => {
          const d = Math.abs((a[i] as number) - x);
          if (d > 0) changed++;
          assert.ok(d <= Math.max(Math.abs(x) * 2 ** -11, 2 ** -25), `${f} ${name}[${i}]: ${x} → ${a[i]}`);
        });
      }
      assert.ok(changed > 0, f);
    }
  });

  it('export is deterministic: again from the cache, and from a second pretraining (only its times differ)', async () => {
    const [again] = await cli(['--model', 'roberta', '--steps', '20', '--synthetic', '--cache', cache, '--ship', '--artifacts', join(tmp, 'a2')]);
    assert.deepEqual(filesOf(again as string), filesOf(shipped));
    // A fresh cache pretrains again: the same bytes but for the timings in provenance.json.
    const [fresh] = await cli(['--model', 'roberta', '--steps', '20', '--synthetic', '--cache', join(tmp, 'cache2'), '--ship', '--artifacts', join(tmp, 'a3')]);
    const a = filesOf(shipped);
    const b = filesOf(fresh as string);
    for (const f of ['config.json', 'mlm_head.safetensors', 'model.safetensors', 'tokenizer.json']) assert.deepEqual(b[f], a[f], f);
    const times = (p: ShippedProvenance): ShippedProvenance => {
      const t = structuredClone(p);
      t.pretrain.training.msPerStep = 0;
      t.pretrain.training.trainSeconds = 0;
      t.pretrain.totalSeconds = 0;
      t.pretrain.createdAt = '';
      t.pretrain.tokenizer.trainSeconds = 0;
      return t;
    };
    assert.deepEqual(times(provenanceOf(fresh as string)), times(provenanceOf(shipped)));
  });

  describe('the runner', () => {
    const root = join(tmp, 'artifacts');
    const runnerCache = join(tmp, 'runner-cache');
    /** The tiny export posing as the default synthetic-corpus stand-in (same corpus; settings edited). */
    const fitting = (): string => forge(shipped, root, (p) => void (p.pretrain.settings = { ...SYNTHETIC_PRETRAIN.roberta }));
    const prepare = (env: NodeJS.ProcessEnv = {}, lines: string[] = []) =>
      preparePretrainedModels(['mini-roberta', 'roberta-base'], { dataDir: 'none', artifactsDir: root, cacheDir: runnerCache, env, log: (l) => lines.push(l) });

    it('uses a shipped stand-in that fits the corpus, settings and seed, and logs its path and sha256', async () => {
      const dir = fitting();
      const lines: string[] = [];
      const dirs = await prepare({}, lines);
      assert.deepEqual([...dirs], [['mini-roberta', dir]]);
      assert.equal(lines.length, 1);
      assert.match(lines[0] as string, new RegExp(`using the shipped stand-in ${dir} \\(model.safetensors sha256 ${provenanceOf(dir).files['model.safetensors']?.slice(0, 12)}`));
    });

    it('pretrains (here: reuses the cache) when the corpus differs, saying why in one line', async () => {
      forge(shipped, root, (p) => {
        p.pretrain.settings = { ...SYNTHETIC_PRETRAIN.roberta };
        p.pretrain.corpus.hash = 'f'.repeat(64);
      });
      // Stands in for the 1500-step pretraining: a verified entry where the runner will look.
      const target = locatePretrained({ family: 'roberta', seed: 0, cacheDir: runnerCache }).dir;
      mkdirSync(join(runnerCache, 'pretrained'), { recursive: true });
      cpSync(entry, target, { recursive: true });
      const lines: string[] = [];
      const dirs = await prepare({}, lines);
      assert.deepEqual([...dirs], [['mini-roberta', target]]);
      assert.match(lines[0] as string, /^mini-roberta: not using a shipped stand-in: the shipped .* does not fit: it was pretrained on another corpus \(sha256 ffffffffffff: .*\) than the one pretraining would use now \(sha256 [0-9a-f]{12}: SYNTHETIC/);
      assert.match(lines.at(-1) as string, /^mini-roberta: reusing /);
      // LORA_REPRO_REQUIRE_SHIPPED=1 (make smoke) turns the fallback into an error naming the fix.
      await assert.rejects(prepare({ LORA_REPRO_REQUIRE_SHIPPED: '1' }), (e: unknown) => e instanceof UserError && /another corpus.*lora-repro pretrain --model roberta --ship/.test(e.message));
    });

    it('says why it does not fit: other settings, seed, LORA_REPRO_PRETRAIN_STEPS, no folder', () => {
      forge(shipped, root, () => {});
      const choose = (env: NodeJS.ProcessEnv = {}, seed = 0) => shippedStandIn('roberta', { dataDir: undefined, seed, root, overrides: pretrainOverrides('roberta', undefined, env) });
      assert.match(String((choose() as { reason: string }).reason), /other settings \(shipped ≠ now: steps 20 ≠ 1500\)/);
      fitting();
      assert.match(String((choose({}, 3) as { reason: string }).reason), /seed 0, not 3/);
      assert.match(String((choose({ LORA_REPRO_PRETRAIN_STEPS: '60' }) as { reason: string }).reason), /LORA_REPRO_PRETRAIN_STEPS=60 is set/);
      assert.deepEqual(pretrainOverrides('roberta', undefined, { LORA_REPRO_PRETRAIN_STEPS: '150' }), { steps: 150, warmupSteps: 10, shortSeqSteps: 120 });
      assert.match(String((shippedStandIn('gpt2', { dataDir: undefined, seed: 0, root, overrides: undefined }) as { reason: string }).reason), /no shipped stand-in at/);
      assert.equal(locatePretrained({ family: 'roberta', seed: 0 }).settings.steps, SYNTHETIC_PRETRAIN.roberta.steps);
    });

    it('a corrupt or edited shipped file is a UserError naming the file and the fix', async () => {
      const dir = fitting();
      const tok = join(dir, 'tokenizer.json');
      writeFileSync(tok, readFileSync(tok, 'utf8').replace('"', ' "'));
      await assert.rejects(prepare(), (e: unknown) => e instanceof UserError && e.message.startsWith(`${tok}: sha256 differs`) && /git checkout -- .*mini-roberta' or export it again with 'lora-repro pretrain --model roberta --ship'/.test(e.message));
      rmSync(join(fitting(), 'model.safetensors'));
      await assert.rejects(prepare(), (e: unknown) => e instanceof UserError && /model\.safetensors: missing from the shipped stand-in/.test(e.message));
      writeFileSync(join(fitting(), PROVENANCE_FILE), '{"format": 1');
      await assert.rejects(prepare(), (e: unknown) => e instanceof UserError && /provenance\.json: not valid JSON/.test(e.message));
    });
  });

  it('fine-tuning loads the float16 stand-in, trains a step and records its sha256', async () => {
    const steps: number[] = [];
    const config = {
      model: shipped, task: 'synthetic-sst2', dataDir: join(tmp, 'no-data'), method: 'lora', methodConfig: { r: 4, alpha: 8 },
      seed: 0, epochs: 1, batchSize: 8, learningRate: 5e-3, maxSeqLength: 64, trainLimit: 8, evalLimit: 8,
    };
    const result = await runTraining(config as unknown as TrainRunConfig, { outDir: join(tmp, 'run'), log: () => {}, onStep: (_s, loss) => steps.push(loss) });
    assert.equal(result.status, 'finished', result.error);
    assert.equal(steps.length, 1);
    assert.ok(Number.isFinite(steps[0]));
    assert.ok(result.provenance.model.includes(`sha256:${fileSha256(join(shipped, 'model.safetensors'))}`), result.provenance.model);
  });
});
