/**
 * Inputs for the malformed-input suite: a tiny trained GLUE run and E2E run (built once, copied into
 * each case's folder before being broken), tiny model configs, data folders and tensor edits.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors, type TensorEntry } from '../../src/io/safetensors.ts';
import { runInProcess } from './malformed.ts';
import { GPT2_TOKENIZER, tinyGpt2Json, tinyRobertaJson } from './train.ts';
import { SHARED } from './tiny.ts';

export { GPT2_TOKENIZER };
export const PARITY_ROBERTA = join(SHARED, 'fixtures/parity/roberta-tiny');
const STSB_HEADER = 'index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore';

export interface Fixtures {
  /** A finished synthetic-sst2 LoRA run of a 1-layer RoBERTa (result.json, adapter/, predictions/). */
  run: string;
  /** A finished synthetic-e2e LoRA run of a 1-layer GPT-2. */
  e2eRun: string;
  /** The RoBERTa config.json the run used. */
  cfg: string;
}

function writeJson(path: string, value: unknown): string {
  writeFileSync(path, JSON.stringify(value));
  return path;
}

export function robertaCfg(dir: string, overrides: Record<string, unknown> = {}, name = 'config.json'): string {
  return writeJson(join(dir, name), tinyRobertaJson({ num_hidden_layers: 1, ...overrides }));
}

/** `train` of the tiny RoBERTa on synthetic-sst2 (about 2 s). */
export function trainArgs(model: string, out: string, extra: string[] = []): string[] {
  return ['train', '--model', model, '--tokenizer', GPT2_TOKENIZER, '--task', 'synthetic-sst2', '--method', 'lora', '--epochs', '1', '--limit', '8', '--eval-limit', '8', '--max-seq', '32', '--out', out, ...extra];
}

export async function buildFixtures(root: string): Promise<Fixtures> {
  const cfg = robertaCfg(root);
  const run = join(root, 'run');
  const a = await runInProcess(trainArgs(cfg, run));
  if (a.code !== 0) throw new Error(`fixture run failed: ${a.stderr}`);
  const g = writeJson(join(root, 'gpt2.json'), tinyGpt2Json({ n_layer: 1 }));
  const e2eRun = join(root, 'e2e-run');
  const b = await runInProcess(['train', '--model', g, '--tokenizer', GPT2_TOKENIZER, '--task', 'synthetic-e2e', '--method', 'lora', '--epochs', '1', '--limit', '8', '--eval-limit', '2', '--max-seq', '96', '--beam', '1', '--max-new-tokens', '4', '--out', e2eRun]);
  if (b.code !== 0) throw new Error(`fixture E2E run failed: ${b.stderr}`);
  return { run, e2eRun, cfg };
}

/** Copies the fixture run into `dir/run` and returns it. */
export function copyRun(from: string, dir: string, name = 'run'): string {
  const to = join(dir, name);
  cpSync(from, to, { recursive: true });
  return to;
}

export const ADAPTER_FILE = 'adapter/adapter_model.safetensors';

/** Rewrites the first tensor whose name matches `pick` in a safetensors file. */
export function editTensor(file: string, pick: RegExp, edit: (e: TensorEntry) => TensorEntry): void {
  const st = readSafetensors(file);
  const tensors = new Map(st.tensors);
  const name = [...tensors.keys()].find((n) => pick.test(n));
  if (name === undefined) throw new Error(`no tensor matching ${pick} in ${file}: ${[...tensors.keys()].join(', ')}`);
  tensors.set(name, edit(tensors.get(name) as TensorEntry));
  writeSafetensors(file, tensors, st.metadata);
}

export const withValue = (v: number) => (e: TensorEntry): TensorEntry => {
  const data = Float32Array.from(e.data as Float32Array);
  data[0] = v;
  return { dtype: 'F32', shape: e.shape, data };
};

export const asInt32 = (e: TensorEntry): TensorEntry => ({ dtype: 'I32', shape: e.shape, data: Int32Array.from(e.data as Float32Array, (x) => Math.round(x * 1000)) });

/** Cuts a file to `keep` of its bytes. */
export function truncate(file: string, keep = 0.5): void {
  const bytes = readFileSync(file);
  writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length * keep)));
}

/** A data folder holding STS-B train and dev files whose first train row has `score`. */
export function stsbData(dir: string, score: string): string {
  const d = join(dir, 'data', 'glue', 'STS-B');
  mkdirSync(d, { recursive: true });
  const row = (i: number, s: string) => `${i}\tmain-captions\tMSRvid\t2012test\t000${i}\tnone\tnone\tA man is playing.\tA man plays.\t${s}`;
  writeFileSync(join(d, 'train.tsv'), [STSB_HEADER, row(0, score), row(1, '3.000'), row(2, '1.000'), ''].join('\n'));
  writeFileSync(join(d, 'dev.tsv'), [STSB_HEADER, row(0, '2.000'), row(1, '4.000'), ''].join('\n'));
  return join(dir, 'data');
}

/** A data folder holding E2E challenge CSVs whose first training MR is `mr`. */
export function e2eData(dir: string, mr: string): string {
  const d = join(dir, 'data', 'e2e');
  mkdirSync(d, { recursive: true });
  const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
  const good = 'name[The Eagle], eatType[coffee shop]';
  const csv = (first: string) => ['mr,ref', `${q(first)},${q('The Eagle is a coffee shop.')}`, `${q(good)},${q('A coffee shop, The Eagle.')}`, ''].join('\n');
  writeFileSync(join(d, 'trainset.csv'), csv(mr));
  writeFileSync(join(d, 'devset.csv'), csv(good));
  writeFileSync(join(d, 'testset_w_refs.csv'), csv(good));
  return join(dir, 'data');
}

export const gpt2Cfg = (dir: string, overrides: Record<string, unknown> = {}): string => writeJson(join(dir, 'gpt2.json'), tinyGpt2Json({ n_layer: 1, ...overrides }));

/** A base model.safetensors for the fixture run's adapted modules (query, value of layer 0) holding one `v`. */
export function baseWeights(file: string, v: number): void {
  const w = (): TensorEntry => {
    const data = new Float32Array(32 * 32).fill(0.01);
    data[5] = v;
    return { dtype: 'F32', shape: [32, 32], data };
  };
  writeSafetensors(file, new Map([['roberta.encoder.layer.0.attention.self.query.weight', w()], ['roberta.encoder.layer.0.attention.self.value.weight', w()]]));
}
