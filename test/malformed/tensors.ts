/** Tensors and texts read from files: analyze, eval, generate, parity, metrics. */
import { strict as assert } from 'node:assert';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Case } from '../helpers/malformed.ts';
import { runInProcess } from '../helpers/malformed.ts';
import { ADAPTER_FILE, PARITY_ROBERTA, asInt32, baseWeights, copyRun, editTensor, truncate, withValue, type Fixtures } from '../helpers/malformed-fixtures.ts';

type C = Case<Fixtures>;

/** Ways to break the adapter file of a copied run, and the line each must give. */
const ADAPTER_BREAKS: [string, C['kind'], (file: string) => void, RegExp][] = [
  ['defect: integer lora_A', 'wrong dtype', (f) => editTensor(f, /lora_A/, asInt32), /dtype I32|float type/],
  ['defect: NaN in lora_A', 'non-finite', (f) => editTensor(f, /lora_A/, withValue(Number.NaN)), /NaN|not finite|non-finite/],
  ['defect: NaN in lora_B', 'non-finite', (f) => editTensor(f, /lora_B/, withValue(Number.NaN)), /NaN|not finite|non-finite/],
  ['+Infinity in lora_B', 'non-finite', (f) => editTensor(f, /lora_B/, withValue(Number.POSITIVE_INFINITY)), /Infinity|not finite|non-finite/],
  ['truncated adapter file', 'truncated', (f) => truncate(f, 0.6), /adapter_model\.safetensors/],
  ['empty adapter file', 'empty', (f) => writeFileSync(f, ''), /adapter_model\.safetensors/],
  ['adapter file that is text', 'wrong type', (f) => writeFileSync(f, 'not a safetensors file at all'), /adapter_model\.safetensors/],
  ['header length past the end', 'truncated', (f) => { const b = Buffer.alloc(16); b.writeBigUInt64LE(1n << 40n); writeFileSync(f, b); }, /adapter_model\.safetensors/],
];

const adapterCases: C[] = ADAPTER_BREAKS.flatMap(([title, kind, brk, line]): C[] => [
  { command: 'analyze', kind, title, setup: (d, fx) => brk(join(copyRun(fx.run, d), ADAPTER_FILE)), argv: (d) => ['analyze', 'subspace', '--a', join(d, 'run', 'adapter'), '--out', join(d, 'analysis'), '--no-charts'], line },
  { command: 'eval', kind, title, setup: (d, fx) => brk(join(copyRun(fx.run, d), ADAPTER_FILE)), argv: (d) => ['eval', join(d, 'run')], line },
]);

const runDirCases: C[] = [
  { command: 'eval', kind: 'missing', title: 'run folder does not exist', argv: (d) => ['eval', join(d, 'nope')], line: /nope/ },
  { command: 'eval', kind: 'path is a file', title: 'run folder is a file', setup: (d) => writeFileSync(join(d, 'run'), 'x'), argv: (d) => ['eval', join(d, 'run')], line: /run/ },
  { command: 'eval', kind: 'truncated', title: 'truncated result.json', setup: (d, fx) => truncate(join(copyRun(fx.run, d), 'result.json')), argv: (d) => ['eval', join(d, 'run')], line: /result\.json/ },
  { command: 'eval', kind: 'wrong type', title: 'result.json of another shape', setup: (d, fx) => writeFileSync(join(copyRun(fx.run, d), 'result.json'), '{"runId": 5}'), argv: (d) => ['eval', join(d, 'run')], line: /result\.json/ },
  { command: 'eval', kind: 'missing', title: 'adapter folder missing', setup: (d, fx) => { const r = copyRun(fx.run, d); cpSync(join(r, 'result.json'), join(d, 'r.json')); }, argv: (d) => ['eval', join(d, 'run', 'adapter')], line: /result\.json/ },
  { command: 'eval', kind: 'truncated', title: 'truncated vocab-map.json', setup: (d, fx) => truncate(join(copyRun(fx.run, d), 'vocab-map.json')), argv: (d) => ['eval', join(d, 'run')], line: /vocab-map\.json/ },
  { command: 'generate', kind: 'wrong type', title: 'a GLUE run given to generate', setup: (d, fx) => void copyRun(fx.run, d), argv: (d) => ['generate', join(d, 'run')], line: /E2E/ },
  { command: 'generate', kind: 'missing', title: 'run folder does not exist', argv: (d) => ['generate', join(d, 'nope')], line: /nope/ },
  { command: 'generate', kind: 'non-finite', title: 'NaN in the E2E run\'s lora_B', setup: (d, fx) => editTensor(join(copyRun(fx.e2eRun, d), ADAPTER_FILE), /lora_B/, withValue(Number.NaN)), argv: (d) => ['generate', join(d, 'run'), '--split', 'dev', '--limit', '1'], line: /non-finite|not finite/ },
  { command: 'generate', kind: 'path is a folder', title: '--out is a folder (EISDIR)', setup: (d, fx) => { copyRun(fx.e2eRun, d); mkdirSync(join(d, 'hyp')); }, argv: (d) => ['generate', join(d, 'run'), '--split', 'dev', '--limit', '1', '--out', join(d, 'hyp')], line: /hyp/, mayChange: /^run\/generate/ },
  { command: 'generate', kind: 'path under a file', title: '--out below a file (ENOTDIR)', setup: (d, fx) => { copyRun(fx.e2eRun, d); writeFileSync(join(d, 'f'), 'x'); }, argv: (d) => ['generate', join(d, 'run'), '--split', 'dev', '--limit', '1', '--out', join(d, 'f', 'hyp.txt')], line: /f\/hyp\.txt|f:/, mayChange: /^run\/generate/ },
  { command: 'generate', kind: 'pathological size', title: '--beam 0', setup: (d, fx) => void copyRun(fx.e2eRun, d), argv: (d) => ['generate', join(d, 'run'), '--split', 'dev', '--beam', '0'], line: /--beam/ },
];

const analyzeCases: C[] = [
  { command: 'analyze', kind: 'missing', title: '--a names nothing', argv: (d) => ['analyze', 'subspace', '--a', join(d, 'nope.safetensors')], line: /nope\.safetensors/ },
  { command: 'analyze', kind: 'wrong type', title: '--base is a JSON file, not safetensors', setup: (d, fx) => { copyRun(fx.run, d); }, argv: (d) => ['analyze', 'subspace', '--a', join(d, 'run', 'adapter'), '--base', join(PARITY_ROBERTA, 'lora.json'), '--out', join(d, 'analysis'), '--no-charts'], line: /lora\.json/ },
  { command: 'analyze', kind: 'non-finite', title: 'defect: NaN in the --base weights', setup: (d, fx) => { copyRun(fx.run, d); baseWeights(join(d, 'base.safetensors'), Number.NaN); }, argv: (d) => ['analyze', 'subspace', '--a', join(d, 'run', 'adapter'), '--base', join(d, 'base.safetensors'), '--out', join(d, 'analysis'), '--no-charts'], line: /base\.safetensors.*not finite/ },
  { command: 'analyze', kind: 'non-finite', title: '-Infinity in the --base weights', setup: (d, fx) => { copyRun(fx.run, d); baseWeights(join(d, 'base.safetensors'), Number.NEGATIVE_INFINITY); }, argv: (d) => ['analyze', 'subspace', '--a', join(d, 'run', 'adapter'), '--base', join(d, 'base.safetensors'), '--out', join(d, 'analysis'), '--no-charts'], line: /base\.safetensors.*not finite/ },
  { command: 'analyze', kind: 'path is a file', title: '--out is a file', setup: (d, fx) => { copyRun(fx.run, d); writeFileSync(join(d, 'analysis'), 'x'); }, argv: (d) => ['analyze', 'subspace', '--a', join(d, 'run', 'adapter'), '--out', join(d, 'analysis'), '--no-charts'], line: /analysis/ },
  { command: 'analyze', kind: 'path under a file', title: '--out below a file', setup: (d, fx) => { copyRun(fx.run, d); writeFileSync(join(d, 'f'), 'x'); }, argv: (d) => ['analyze', 'subspace', '--a', join(d, 'run', 'adapter'), '--out', join(d, 'f', 'analysis'), '--no-charts'], line: /f\/analysis|not a folder/ },
  { command: 'analyze', kind: 'path too long', title: '--out name over 255 bytes', setup: (d, fx) => { copyRun(fx.run, d); }, argv: (d) => ['analyze', 'subspace', '--a', join(d, 'run', 'adapter'), '--out', join(d, 'x'.repeat(300)), '--no-charts'], line: /name too long/ },
  { command: 'analyze', kind: 'wrong type', title: '--alpha not a number', setup: (d, fx) => void copyRun(fx.run, d), argv: (d) => ['analyze', 'subspace', '--a', join(d, 'run', 'adapter'), '--alpha', 'big'], line: /--alpha/ },
];

/** A copy of the tiny RoBERTa parity fixture with one edit. */
function parityCopy(d: string, edit?: (dir: string) => void): void {
  cpSync(PARITY_ROBERTA, join(d, 'fx'), { recursive: true });
  edit?.(join(d, 'fx'));
}
const parityCases: C[] = [
  { command: 'parity', kind: 'missing', title: 'fixture folder does not exist', argv: (d) => ['parity', join(d, 'nope')], line: /nope/ },
  { command: 'parity', kind: 'path is a file', title: 'fixture is a file', setup: (d) => writeFileSync(join(d, 'fx'), 'x'), argv: (d) => ['parity', join(d, 'fx')], line: /fx/ },
  { command: 'parity', kind: 'out of range', title: 'defect: config whose heads do not divide the width names the cause', setup: (d) => parityCopy(d, (f) => { const c = JSON.parse(readFileSync(join(f, 'config.json'), 'utf8')); c.num_attention_heads = 3; writeFileSync(join(f, 'config.json'), JSON.stringify(c)); }), argv: (d) => ['parity', join(d, 'fx')], line: /must divide/ },
  { command: 'parity', kind: 'truncated', title: 'truncated model.safetensors', setup: (d) => parityCopy(d, (f) => truncate(join(f, 'model.safetensors'))), argv: (d) => ['parity', join(d, 'fx')], line: /model\.safetensors/ },
  { command: 'parity', kind: 'truncated', title: 'truncated inputs.json', setup: (d) => parityCopy(d, (f) => truncate(join(f, 'inputs.json'))), argv: (d) => ['parity', join(d, 'fx')], line: /inputs\.json/ },
  { command: 'parity', kind: 'path is a file', title: '--dump is a file', setup: (d) => { parityCopy(d); writeFileSync(join(d, 'dump'), 'x'); }, argv: (d) => ['parity', join(d, 'fx'), '--dump', join(d, 'dump')], line: /dump/ },
  { command: 'parity', kind: 'path under a file', title: '--dump below a file', setup: (d) => { parityCopy(d); writeFileSync(join(d, 'f'), 'x'); }, argv: (d) => ['parity', join(d, 'fx'), '--dump', join(d, 'f', 'dump')], line: /f\/dump|not a folder/ },
  { command: 'parity', kind: 'path too long', title: '--dump name over 255 bytes', setup: (d) => parityCopy(d), argv: (d) => ['parity', join(d, 'fx'), '--dump', join(d, 'd'.repeat(300))], line: /name too long/, spawn: true },
];

const REFS = 'The Eagle is a coffee shop.\nA coffee shop.\n\nThe Mill is a pub.\n';
const HYPS = 'The Eagle is a coffee shop.\nThe Mill is a pub.\n';
const metricsCases: C[] = [
  { command: 'metrics', kind: 'missing', title: '--hyps does not exist', setup: (d) => writeFileSync(join(d, 'refs.txt'), REFS), argv: (d) => ['metrics', 'e2e', '--refs', join(d, 'refs.txt'), '--hyps', join(d, 'nope.txt')], line: /nope\.txt/ },
  { command: 'metrics', kind: 'path is a folder', title: '--refs is a folder', setup: (d) => { mkdirSync(join(d, 'refs')); writeFileSync(join(d, 'hyps.txt'), HYPS); }, argv: (d) => ['metrics', 'e2e', '--refs', join(d, 'refs'), '--hyps', join(d, 'hyps.txt')], line: /refs/ },
  { command: 'metrics', kind: 'wrong type', title: 'invalid UTF-8 hypotheses', setup: (d) => { writeFileSync(join(d, 'refs.txt'), REFS); writeFileSync(join(d, 'hyps.txt'), Buffer.from([0xff, 0xfe, 0x41, 0x0a])); }, argv: (d) => ['metrics', 'e2e', '--refs', join(d, 'refs.txt'), '--hyps', join(d, 'hyps.txt')], line: /UTF-8/ },
  { command: 'metrics', kind: 'out of range', title: 'more hypotheses than reference instances', setup: (d) => { writeFileSync(join(d, 'refs.txt'), REFS); writeFileSync(join(d, 'hyps.txt'), HYPS + 'one more\n'); }, argv: (d) => ['metrics', 'e2e', '--refs', join(d, 'refs.txt'), '--hyps', join(d, 'hyps.txt')], line: /hyp|instance|count|line/i },
  { command: 'metrics', kind: 'empty', title: 'empty references', setup: (d) => { writeFileSync(join(d, 'refs.txt'), ''); writeFileSync(join(d, 'hyps.txt'), HYPS); }, argv: (d) => ['metrics', 'e2e', '--refs', join(d, 'refs.txt'), '--hyps', join(d, 'hyps.txt')], line: /refs\.txt|reference/ },
  {
    command: 'metrics', kind: 'wrong type', title: 'defect: a UTF-8 BOM in the hypotheses does not change the scores',
    setup: (d) => { writeFileSync(join(d, 'refs.txt'), REFS); writeFileSync(join(d, 'hyps.txt'), HYPS); writeFileSync(join(d, 'bom.txt'), '\uFEFF' + HYPS); },
    argv: (d) => ['metrics', 'e2e', '--refs', join(d, 'refs.txt'), '--hyps', join(d, 'bom.txt'), '--json'], exit: 0,
    check: async (d, out) => assert.equal(out.stdout, (await runInProcess(['metrics', 'e2e', '--refs', join(d, 'refs.txt'), '--hyps', join(d, 'hyps.txt'), '--json'])).stdout),
  },
];

export const CASES: C[] = [...adapterCases, ...runDirCases, ...analyzeCases, ...parityCases, ...metricsCases];
