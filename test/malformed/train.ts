/** `train` (and `params`, `bench`) with bad model configs, data values, sizes and output folders. */
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Case } from '../helpers/malformed.ts';
import { longName } from '../helpers/malformed.ts';
import { GPT2_TOKENIZER, copyRun, e2eData, gpt2Cfg, robertaCfg, stsbData, trainArgs, truncate, type Fixtures } from '../helpers/malformed-fixtures.ts';

type C = Case<Fixtures>;

/** Model configs that cannot describe a working model, for train and params. */
const BAD_CONFIGS: [string, Record<string, unknown>, RegExp][] = [
  ['defect: heads do not divide hidden_size', { num_attention_heads: 5 }, /must divide/],
  ['hidden_size 0', { hidden_size: 0 }, /hidden_size/],
  ['negative layers', { num_hidden_layers: -1 }, /num_hidden_layers/],
  ['fractional heads', { num_attention_heads: 2.5 }, /num_attention_heads/],
  ['unknown activation', { hidden_act: 'swishy' }, /hidden_act/],
  ['hidden_size as a string', { hidden_size: '32' }, /hidden_size/],
  ['dropout above 1', { hidden_dropout_prob: 3 }, /hidden_dropout_prob/],
  ['vocab_size 0', { vocab_size: 0 }, /vocab_size/],
  ['max_position_embeddings negative', { max_position_embeddings: -5 }, /max_position_embeddings/],
];

const configCases: C[] = BAD_CONFIGS.flatMap(([title, overrides, line]): C[] => [
  { command: 'train', kind: title.includes('string') ? 'wrong type' : 'out of range', title, setup: (d) => void robertaCfg(d, overrides), argv: (d) => trainArgs(join(d, 'config.json'), join(d, 'out')), line, check: (d) => assert.ok(!existsSync(join(d, 'out')), 'no output folder') },
  { command: 'params', kind: title.includes('string') ? 'wrong type' : 'out of range', title, setup: (d) => void robertaCfg(d, overrides), argv: (d) => ['params', '--model', d, '--method', 'lora'], line },
]);

const configFiles: C[] = [
  { command: 'train', kind: 'missing', title: 'config file does not exist', argv: (d) => trainArgs(join(d, 'nope.json'), join(d, 'out')), line: /nope\.json/ },
  { command: 'train', kind: 'empty', title: 'empty config.json', setup: (d) => writeFileSync(join(d, 'config.json'), ''), argv: (d) => trainArgs(join(d, 'config.json'), join(d, 'out')), line: /config\.json/ },
  { command: 'train', kind: 'truncated', title: 'truncated config.json', setup: (d) => { robertaCfg(d); truncate(join(d, 'config.json')); }, argv: (d) => trainArgs(join(d, 'config.json'), join(d, 'out')), line: /config\.json.*JSON/ },
  { command: 'train', kind: 'wrong type', title: 'config.json is an array', setup: (d) => writeFileSync(join(d, 'config.json'), '[]'), argv: (d) => trainArgs(join(d, 'config.json'), join(d, 'out')), line: /model_type/ },
  { command: 'train', kind: 'missing', title: 'tokenizer file does not exist', setup: (d) => void robertaCfg(d), argv: (d) => [...trainArgs(join(d, 'config.json'), join(d, 'out')).filter((_, i, a) => a[i - 1] !== '--tokenizer' && a[i] !== '--tokenizer'), '--tokenizer', join(d, 'tok.json')], line: /tok\.json/ },
  { command: 'train', kind: 'truncated', title: 'truncated tokenizer.json', setup: (d) => { robertaCfg(d); writeFileSync(join(d, 'tok.json'), '{"model": {"type": "BPE", "vocab": {"a"'); }, argv: (d) => [...trainArgs(join(d, 'config.json'), join(d, 'out')).filter((_, i, a) => a[i - 1] !== '--tokenizer' && a[i] !== '--tokenizer'), '--tokenizer', join(d, 'tok.json')], line: /tok\.json/ },
  { command: 'train', kind: 'pathological size', title: '--max-seq beyond the positions', setup: (d) => void robertaCfg(d), argv: (d) => [...trainArgs(join(d, 'config.json'), join(d, 'out')), '--max-seq', '100000'], line: /--max-seq.*positions/ },
  { command: 'train', kind: 'out of range', title: 'vocab_size too small for the tokenizer\'s ids of the data', setup: (d) => void gpt2Cfg(d, { vocab_size: 10 }), argv: (d) => ['train', '--model', join(d, 'gpt2.json'), '--tokenizer', GPT2_TOKENIZER, '--task', 'synthetic-e2e', '--method', 'lora', '--epochs', '1', '--limit', '8', '--eval-limit', '2', '--max-seq', '96', '--out', join(d, 'out')], line: /vocab_size/ },
  { command: 'train', kind: 'pathological size', title: '--batch 0', setup: (d) => void robertaCfg(d), argv: (d) => [...trainArgs(join(d, 'config.json'), join(d, 'out')), '--batch', '0'], line: /batch/i },
];

const dataCases: C[] = [
  ['defect: STS-B score 1e999', '1e999', /not finite/],
  ['defect: STS-B score 7 (range 0–5)', '7.000', /outside/],
  ['STS-B score -0.5', '-0.5', /outside/],
  ['STS-B score "high"', 'high', /not a number/],
  ['STS-B score empty', '', /not a number/],
].map(([title, score, line]) => ({
  command: 'train',
  kind: (title as string).includes('high') || score === '' ? ('wrong type' as const) : (score === '1e999' ? ('non-finite' as const) : ('out of range' as const)),
  title: title as string,
  setup: (d: string) => { robertaCfg(d); stsbData(d, score as string); },
  argv: (d: string) => ['train', '--model', join(d, 'config.json'), '--tokenizer', GPT2_TOKENIZER, '--task', 'stsb', '--method', 'lora', '--epochs', '1', '--max-seq', '32', '--data-dir', join(d, 'data'), '--out', join(d, 'out')],
  line: line as RegExp,
  check: (d: string) => assert.ok(!existsSync(join(d, 'out', 'result.json')), 'no result written'),
}));

const e2eCases: C[] = [
  ['defect: a sentence in the MR column', 'The Eagle is a coffee shop near the river.'],
  ['an unknown MR attribute', 'name[The Eagle], colour[blue]'],
  ['an MR item without brackets', 'name[The Eagle], eatType coffee shop'],
].map(([title, mr]) => ({
  command: 'train',
  kind: 'wrong type' as const,
  title: title as string,
  setup: (d: string) => { gpt2Cfg(d); e2eData(d, mr as string); },
  argv: (d: string) => ['train', '--model', join(d, 'gpt2.json'), '--tokenizer', GPT2_TOKENIZER, '--task', 'e2e', '--method', 'lora', '--epochs', '1', '--max-seq', '64', '--data-dir', join(d, 'data'), '--out', join(d, 'out')],
  line: /trainset\.csv:2: mr column/,
}));

const OUT_FILES = /^out\/(result\.json|train\.log|adapter|predictions|vocab-map\.json|base-config\.json)/;
const outCases: C[] = [
  { command: 'train', kind: 'existing output', title: 'defect: --out holding files it did not write is refused, nothing touched', setup: (d) => { robertaCfg(d); mkdirSync(join(d, 'out', 'adapter'), { recursive: true }); writeFileSync(join(d, 'out', 'adapter', 'mine.bin'), 'precious'); writeFileSync(join(d, 'out', 'notes.txt'), 'mine'); }, argv: (d) => trainArgs(join(d, 'config.json'), join(d, 'out')), line: /not empty.*--force/, check: (d) => assert.deepEqual(readdirSync(d).sort(), ['config.json', 'out']) },
  { command: 'train', kind: 'existing output', title: 'defect: --out holding another config\'s run is refused, nothing touched', setup: (d, fx) => { robertaCfg(d); copyRun(fx.run, d, 'out'); }, argv: (d) => [...trainArgs(join(d, 'config.json'), join(d, 'out')), '--seed', '7'], line: /holds run .* not this config/ },
  { command: 'train', kind: 'existing output', title: 'defect: --out holding a previous run of the same config is replaced, said on the console', setup: (d, fx) => void copyRun(fx.run, d, 'out'), argv: (d, fx) => trainArgs(fx.cfg, join(d, 'out')), exit: 0, line: /replacing the previous finished run/, mayChange: OUT_FILES },
  { command: 'train', kind: 'existing output', title: '--force keeps files it did not write', setup: (d) => { robertaCfg(d); mkdirSync(join(d, 'out')); writeFileSync(join(d, 'out', 'notes.txt'), 'mine'); }, argv: (d) => [...trainArgs(join(d, 'config.json'), join(d, 'out')), '--force'], exit: 0, mayChange: OUT_FILES, check: (d) => { assert.ok(existsSync(join(d, 'out', 'result.json'))); assert.ok(!readdirSync(d).some((n) => n.startsWith('.tmp-')), 'no staging folder left'); } },
  { command: 'train', kind: 'path is a file', title: '--out is a file', setup: (d) => { robertaCfg(d); writeFileSync(join(d, 'out'), 'a file'); }, argv: (d) => trainArgs(join(d, 'config.json'), join(d, 'out')), line: /out: is a file/ },
  { command: 'train', kind: 'path under a file', title: '--out below a file (ENOTDIR)', setup: (d) => { robertaCfg(d); writeFileSync(join(d, 'f'), 'a file'); }, argv: (d) => trainArgs(join(d, 'config.json'), join(d, 'f', 'out')), line: /f: .*not a folder/ },
  { command: 'train', kind: 'path too long', title: '--out name over 255 bytes', setup: (d) => void robertaCfg(d), argv: (d) => trainArgs(join(d, 'config.json'), longName(d)), line: /name too long/, spawn: true },
  { command: 'train', kind: 'existing output', title: 'a failed validation leaves no staging folder and no train.log', setup: (d) => void robertaCfg(d), argv: (d) => [...trainArgs(join(d, 'config.json'), join(d, 'out')), '--max-seq', '100000'], check: (d) => assert.deepEqual(readdirSync(d), ['config.json']) },
];

const benchCases: C[] = [
  { command: 'bench', kind: 'pathological size', title: 'defect: bench train --seq 2048 (past the positions)', argv: () => ['bench', 'train', '--seq', '2048'], line: /--seq 2048.*positions/, spawn: true },
  { command: 'bench', kind: 'pathological size', title: 'defect: bench train --batch 0', argv: () => ['bench', 'train', '--batch', '0'], line: /--batch 0/ },
  { command: 'bench', kind: 'pathological size', title: 'bench train --seq 0', argv: () => ['bench', 'train', '--seq', '0'], line: /--seq 0/ },
  { command: 'bench', kind: 'pathological size', title: 'bench decode --max-length 100000', argv: () => ['bench', 'decode', '--max-length', '100000'], line: /--max-length.*positions/ },
  { command: 'bench', kind: 'pathological size', title: 'bench decode --prompt past --max-length', argv: () => ['bench', 'decode', '--prompt', '600', '--max-length', '64'], line: /--prompt/ },
];

export const CASES: C[] = [...configCases, ...configFiles, ...dataCases, ...e2eCases, ...outCases, ...benchCases];
