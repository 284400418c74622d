/**
 * LoRA artifacts as Python PEFT sees them, for every (model × targets × layer subset × head) the
 * lora method allows: the adapter_config.json passes the checks PEFT runs on it (written below from
 * peft/config.py PeftConfig.__post_init__ / from_peft_type, peft/tuners/lora/config.py
 * LoraConfig.__post_init__, peft/auto.py AutoPeftModel.from_pretrained, v0.6.0 → current), and the
 * tensors are exactly what PEFT's injection creates and set_peft_model_state_dict loads: one
 * lora_A [r, in] / lora_B [out, r] per module matched by check_target_module_exists (re.fullmatch for a
 * regex, suffix match plus layers_to_transform otherwise; rank_pattern via get_pattern_key), and every
 * state_dict key of each modules_to_save module (PEFT >= 0.15 raises KeyError on a missing one).
 * No Python here: the checker is the spec.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/backend/select.ts';
import { readSafetensors } from '../src/io/safetensors.ts';
import { LORA_TARGETS, type LoraTarget } from '../src/methods/lora-config.ts';
import { AppliedLora } from '../src/methods/lora.ts';
import { PEFT_MIN_VERSION, peftBaseModel } from '../src/methods/peft-layout.ts';
import { configureMethod } from '../src/methods/registry.ts';
import { createModel } from '../src/models/factory.ts';
import type { ModelConfig } from '../src/models/config.ts';
import type { TransformerModel } from '../src/models/model.ts';
import { Rng } from '../src/util/rng.ts';
import { GPT2_TINY, ROBERTA_TINY } from './helpers/methods.ts';

/** Fields of LoraConfig (with PeftConfig's) in PEFT v0.6.0: anything else is a TypeError before v0.14. */
const V060_FIELDS = new Set([
  'peft_type', 'auto_mapping', 'base_model_name_or_path', 'revision', 'task_type', 'inference_mode',
  'r', 'target_modules', 'lora_alpha', 'lora_dropout', 'fan_in_fan_out', 'bias', 'modules_to_save',
  'init_lora_weights', 'layers_to_transform', 'layers_pattern', 'rank_pattern', 'alpha_pattern',
]);
const TASK_TYPES = new Set(['SEQ_CLS', 'SEQ_2_SEQ_LM', 'CAUSAL_LM', 'TOKEN_CLS', 'QUESTION_ANS', 'FEATURE_EXTRACTION']);

/** What PEFT raises for this adapter_config.json, or [] when every version from 0.6 loads it. */
function peftConfigProblems(c: Record<string, unknown>): string[] {
  const p: string[] = [];
  for (const k of Object.keys(c)) if (!V060_FIELDS.has(k)) p.push(`unknown field ${k} (TypeError before PEFT 0.14)`);
  if (c.peft_type !== 'LORA') p.push('peft_type');
  // PeftConfig.__post_init__
  if (c.task_type !== null && !TASK_TYPES.has(String(c.task_type))) p.push(`Invalid task type: '${String(c.task_type)}'`);
  // LoraConfig.__post_init__
  if (typeof c.target_modules === 'string' && c.layers_to_transform !== null) p.push('`layers_to_transform` cannot be used when `target_modules` is a str.');
  if (typeof c.target_modules === 'string' && c.layers_pattern !== null) p.push('`layers_pattern` cannot be used when `target_modules` is a str.');
  if (c.layers_pattern && c.layers_to_transform === null) p.push('When `layers_pattern` is specified, `layers_to_transform` must also be specified.');
  if (!['none', 'all', 'lora_only'].includes(String(c.bias))) p.push('bias');
  if (!(typeof c.r === 'number' && Number.isInteger(c.r) && c.r > 0)) p.push('r');
  // AutoPeftModel.from_pretrained: no task type needs auto_mapping; the base must be named.
  if (c.task_type === null && (c.auto_mapping === null || typeof c.auto_mapping !== 'object')) p.push('Cannot infer the auto class from the config');
  if (typeof c.base_model_name_or_path !== 'string') p.push('base_model_name_or_path');
  return p;
}

/** PEFT's check_target_module_exists (tuners_utils.py; same rules 0.6 → current for these inputs). */
function targeted(c: Record<string, unknown>, key: string): boolean {
  const tm = c.target_modules;
  if (typeof tm === 'string') return new RegExp(`^(?:${tm})$`).test(key);
  const list = tm as string[];
  let found = list.includes(key) || list.some((t) => key.endsWith(`.${t}`));
  const layers = c.layers_to_transform as number[] | number | null;
  if (found && layers !== null) {
    const m = new RegExp(`.*\\.${String(c.layers_pattern)}\\.(\\d+)\\.*`).exec(key);
    found = m !== null && (typeof layers === 'number' ? Number(m[1]) === layers : layers.includes(Number(m[1])));
  }
  return found;
}

/** get_pattern_key (peft/utils/other.py): rank of a module under rank_pattern. */
function rankOf(c: Record<string, unknown>, key: string): number {
  const pattern = (c.rank_pattern ?? {}) as Record<string, number>;
  const hit = Object.keys(pattern).find((k) => new RegExp(`^(.*\\.)?(${k})$`).test(key));
  return hit !== undefined ? pattern[hit] : (c.r as number);
}

interface HfModule { name: string; inF: number; outF: number }

/** Linear/Conv1D modules of the transformers class PEFT wraps, with in/out features. */
function hfLinears(model: TransformerModel, taskType: unknown): HfModule[] {
  const out: HfModule[] = [];
  for (const n of model.params.names()) {
    const v = model.params.get(n);
    if (!n.endsWith('.weight') || v.shape.length !== 2 || /embeddings|wte|wpe/.test(n)) continue;
    const name = n.slice(0, -'.weight'.length);
    const [a, b] = v.shape;
    const io = model.modelType === 'gpt2' ? { inF: a, outF: b } : { inF: b, outF: a };
    if (taskType === 'FEATURE_EXTRACTION') {
      if (!name.startsWith('roberta.')) continue; // AutoModel has no task head
      out.push({ name: name.slice('roberta.'.length), ...io });
    } else out.push({ name, ...io });
  }
  return out;
}

/** state_dict keys of each modules_to_save module (transformers' RobertaClassificationHead / RobertaLMHead). */
function wrapperKeys(model: TransformerModel, mod: string): Map<string, number[]> {
  const c = model.config as ModelConfig & { numLabels: number };
  const d = c.hidden;
  if (mod === 'classifier') {
    return new Map([['dense.weight', [d, d]], ['dense.bias', [d]], ['out_proj.weight', [c.numLabels, d]], ['out_proj.bias', [c.numLabels]]]);
  }
  assert.equal(mod, 'lm_head');
  return new Map([
    ['dense.weight', [d, d]], ['dense.bias', [d]], ['layer_norm.weight', [d]], ['layer_norm.bias', [d]],
    ['decoder.weight', [c.vocabSize, d]], ['decoder.bias', [c.vocabSize]], ['bias', [c.vocabSize]],
  ]);
}

function subsets<T>(xs: readonly T[]): T[][] {
  return Array.from({ length: 2 ** xs.length - 1 }, (_, m) => xs.filter((_, i) => ((m + 1) >> i) & 1));
}

describe(`PEFT export: every LoRA artifact loads in PEFT ${PEFT_MIN_VERSION} → current`, function () {
  this.timeout(300_000);
  let dir: string;
  before(async () => {
    await initBackend('wasm');
    dir = mkdtempSync(join(tmpdir(), 'peft-export-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: { label: string; cfg: ModelConfig; heads: ('classification' | 'mlm')[]; targetSets: LoraTarget[][] }[] = [
    { label: 'roberta+classifier(3 labels)', cfg: { ...ROBERTA_TINY, numLabels: 3 } as ModelConfig, heads: ['classification'], targetSets: subsets(LORA_TARGETS) },
    { label: 'gpt2', cfg: GPT2_TINY, heads: [], targetSets: subsets(LORA_TARGETS) },
    ...(['', 'mlm', 'mlm+classification'] as const).map((h) => ({
      label: `roberta+${h || 'no head'}`,
      cfg: ROBERTA_TINY,
      heads: h === '' ? [] : h === 'mlm' ? (['mlm'] as const).slice() : (['mlm', 'classification'] as ('classification' | 'mlm')[]),
      targetSets: [['q', 'v'], ['ffn2'], ['o', 'ffn2'], ['q', 'k', 'v', 'o', 'ffn1', 'ffn2']] as LoraTarget[][],
    })),
  ];

  for (const c of cases) {
    it(`${c.label}: ${c.targetSets.length} target sets × layers {all, [1]}`, async () => {
      const model = createModel(structuredClone(c.cfg), { seed: 3, robertaHeads: c.heads });
      let n = 0;
      for (const targets of c.targetSets) {
        for (const layers of [undefined, [1]]) {
          const what = `${c.label} targets=${targets.join(',')} layers=${layers?.join(',') ?? 'all'}`;
          const lora = configureMethod('lora', { r: 2, alpha: 4, targets, ...(layers ? { layers } : {}) }).apply(model, new Rng(1)) as AppliedLora;
          const out = join(dir, `a${n++}`);
          await lora.save(out, { baseModel: 'roberta-base' });
          const config = JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
          assert.deepEqual(peftConfigProblems(config), [], what);
          const file = readSafetensors(join(out, 'adapter_model.safetensors'));
          const expected = new Map<string, number[]>();
          for (const m of hfLinears(model, config.task_type)) {
            if (!targeted(config, m.name)) continue;
            const r = rankOf(config, m.name);
            expected.set(`base_model.model.${m.name}.lora_A.weight`, [r, m.inF]);
            expected.set(`base_model.model.${m.name}.lora_B.weight`, [m.outF, r]);
          }
          const adapted = new Set([...expected.keys()].map((k) => k.replace(/\.lora_[AB]\.weight$/, '')));
          const perLayer = (layers ?? [0, 1]).length * new Set(targets.map((t) => (model.modelType === 'gpt2' && 'qkv'.includes(t) ? 'qkv' : t))).size;
          assert.equal(adapted.size, perLayer, `${what}: PEFT adapts exactly our modules (${[...adapted].join(' ')})`);
          for (const mod of (config.modules_to_save as string[] | null) ?? []) {
            for (const [k, shape] of wrapperKeys(model, mod)) expected.set(`base_model.model.${mod}.${k}`, shape);
          }
          const got = new Map([...file.tensors].map(([k, t]) => [k, t.shape]));
          for (const [k, shape] of expected) assert.deepEqual(got.get(k), shape, `${what}: ${k}`);
          // Nothing unexpected, except a task head PEFT's class does not have (left alone by load_state_dict(strict=False)).
          const extra = [...got.keys()].filter((k) => !expected.has(k));
          assert.ok(extra.every((k) => k.startsWith('base_model.model.lm_head.') && config.task_type === 'SEQ_CLS'), `${what}: unexpected ${extra.join(' ')}`);
          // And our own strict loader reads it back.
          lora.load(out);
          lora.remove();
        }
      }
      model.dispose();
    });
  }

  it('records num_labels (metadata) and the task type per head', async () => {
    const heads: [('classification' | 'mlm')[], unknown, string | undefined][] = [
      [['classification'], 'SEQ_CLS', '3'],
      [[], 'FEATURE_EXTRACTION', undefined],
      [['mlm'], null, undefined],
    ];
    for (const [h, task, labels] of heads) {
      const model = createModel({ ...ROBERTA_TINY, numLabels: 3 } as ModelConfig, { seed: 3, robertaHeads: h });
      const lora = configureMethod('lora', { r: 2 }).apply(model, new Rng(1)) as AppliedLora;
      const out = join(dir, `h-${h.join('-') || 'none'}`);
      await lora.save(out, {});
      const config = JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
      assert.equal(config.task_type, task);
      if (task === null) assert.deepEqual(config.auto_mapping, { base_model_class: 'RobertaForMaskedLM', parent_library: 'transformers.models.roberta.modeling_roberta' });
      if (task === 'FEATURE_EXTRACTION') assert.ok([...readSafetensors(join(out, 'adapter_model.safetensors')).tensors.keys()].every((k) => k.startsWith('base_model.model.encoder.')), 'RobertaModel has no roberta. prefix');
      assert.equal(readSafetensors(join(out, 'adapter_model.safetensors')).metadata.num_labels, labels);
      lora.remove();
      model.dispose();
    }
  });

  it('base_model_name_or_path: the hub id and commit of a hub-cache snapshot, else a name the hub refuses', () => {
    const commit = 'e2da8e2f811d1448a5b465c236feacd80ffbac7b';
    assert.deepEqual(peftBaseModel(`/cache/hub/models--FacebookAI--roberta-base/snapshots/${commit}`), { name: 'FacebookAI/roberta-base', revision: commit });
    assert.deepEqual(peftBaseModel(`/cache/hub/models--gpt2/snapshots/${commit}/`), { name: 'gpt2', revision: commit });
    const local = join(dir, 'mini-roberta');
    mkdirSync(local, { recursive: true });
    assert.deepEqual(peftBaseModel(local), { name: 'lora-repro-local:mini-roberta', revision: null });
    assert.deepEqual(peftBaseModel('roberta-base'), { name: 'lora-repro-random-init:roberta-base', revision: null });
    // huggingface_hub's validate_repo_id: [\w\-.] and one '/', so ':' never names a hub repo.
    const HUB_ID = /^(?:[\w\-.]+\/)?[\w\-.]{1,96}$/;
    assert.ok(HUB_ID.test('FacebookAI/roberta-base'));
    for (const n of ['lora-repro-local:mini-roberta', 'lora-repro-random-init:roberta-base']) assert.ok(!HUB_ID.test(n), n);
  });
});
