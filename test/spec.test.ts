/**
 * Experiment specs (src/spec): layering, profiles, identities, the --filter grammar, and one-line
 * errors for malformed files. Expected values are written out by hand from the spec texts below.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandSpec, type Expansion } from '../src/spec/expand.ts';
import { applyFilters, parseFilter } from '../src/spec/filter.ts';
import { parseSpecText } from '../src/spec/load.ts';
import { runKeys } from '../src/train/run-identity.ts';
import { UserError } from '../src/util/errors.ts';

const BASE = `
experiment: demo
seeds: [0, 1, 2]
defaults:
  epochs: 3
  batchSize: 8
  learningRate: 1.0e-3
  maxSeqLength: 64
  weightDecay: 0.5
  warmupSteps: 10
grid:
  - row: r1
    models: [mini-roberta]
    methods:
      - { method: lora, variant: r=4, config: { r: 4 } }
      - bitfit
    tasks:
      rte: { epochs: 5 }
      mrpc: ~
    set: { batchSize: 16 }
    cells:
      - where: { method: lora, task: mrpc }
        set: { learningRate: 2.0e-3 }
  - row: r2
    models: [mini-gpt2]
    methods: [{ method: lora, config: { r: 2, alpha: 8 } }]
    tasks: [e2e]
    seeds: [7]
overrides:
  - where: { task: rte }
    set: { maxSeqLength: 128 }
profiles:
  paper: {}
  mini:
    model: { mini-roberta: tiny-roberta }
    seeds: [0]
    set: { trainLimit: 32, warmupSteps: null }
    cells:
      - where: { row: r2 }
        set: { epochs: 1 }
      - where: { method: lora, row: r1 }
        set: { methodConfig: { dropout: 0.25 } }
`;

function expand(text: string, profile?: string, file = 'spec.yaml'): Expansion {
  return expandSpec(parseSpecText(text, file), { profile });
}

function find(e: Expansion, q: { model?: string; method: string; task: string; seed: number }) {
  const r = e.runs.find((x) => x.config.method === q.method && x.config.task === q.task && x.config.seed === q.seed && (q.model === undefined || x.config.model === q.model));
  assert.ok(r, `no run ${JSON.stringify(q)}`);
  return r;
}

/** The error a spec text raises (it must be a one-line UserError). */
function specError(text: string, profile?: string): string {
  try {
    expand(text, profile, 'bad.yaml');
  } catch (err) {
    assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
    assert.ok(!err.message.includes('\n'), `not one line: ${err.message}`);
    return err.message;
  }
  assert.fail('the spec was accepted');
}

describe('spec: expansion', () => {
  it('expands blocks as models × methods × tasks × seeds, paper profile by default', () => {
    const e = expand(BASE);
    assert.equal(e.profile, 'paper');
    assert.equal(e.experiment, 'demo');
    // r1: 1 model × 2 methods × 2 tasks × 3 seeds; r2: 1 × 1 × 1 × [7]
    assert.equal(e.runs.length, 12 + 1);
    assert.equal(new Set(e.runs.map((r) => r.runId)).size, 13);
    assert.deepEqual(e.runs.filter((r) => r.row === 'r2').map((r) => r.config.seed), [7]);
  });

  it('layers defaults < block.set < method config < per task < cells < overrides', () => {
    const e = expand(BASE);
    const loraRte = find(e, { method: 'lora', task: 'rte', seed: 0 }).config;
    assert.equal(loraRte.epochs, 5); // per task beats defaults
    assert.equal(loraRte.batchSize, 16); // block.set beats defaults
    assert.equal(loraRte.maxSeqLength, 128); // top-level override for rte
    assert.equal(loraRte.learningRate, 1e-3);
    assert.equal(loraRte.warmupSteps, 10);
    assert.equal(loraRte.weightDecay, 0.5);
    const loraMrpc = find(e, { method: 'lora', task: 'mrpc', seed: 1 }).config;
    assert.equal(loraMrpc.learningRate, 2e-3); // block cell selector (lora × mrpc only)
    assert.equal(loraMrpc.epochs, 3);
    assert.equal(loraMrpc.maxSeqLength, 64);
    assert.equal(find(e, { method: 'bitfit', task: 'mrpc', seed: 1 }).config.learningRate, 1e-3);
  });

  it('normalises method configs through the method registry (LoRA alpha defaults to r)', () => {
    const e = expand(BASE);
    assert.deepEqual(find(e, { method: 'lora', task: 'rte', seed: 0 }).config.methodConfig, { r: 4, alpha: 4, dropout: 0, targets: ['q', 'v'] });
    assert.deepEqual(find(e, { method: 'lora', task: 'e2e', seed: 7 }).config.methodConfig, { r: 2, alpha: 8, dropout: 0, targets: ['q', 'v'] });
    assert.deepEqual(find(e, { method: 'bitfit', task: 'rte', seed: 0 }).config.methodConfig, {});
  });

  it('applies a profile: model mapping, seeds, set (null unsets), deep-merged method config, cells', () => {
    const e = expand(BASE, 'mini');
    assert.equal(e.profile, 'mini');
    assert.equal(e.runs.length, 4 + 1);
    const r = find(e, { method: 'lora', task: 'rte', seed: 0 });
    assert.equal(r.config.model, 'tiny-roberta');
    assert.equal(r.specModel, 'mini-roberta');
    assert.equal(r.config.profile, 'mini');
    assert.equal(r.config.trainLimit, 32);
    assert.equal(r.config.warmupSteps, undefined);
    assert.equal(r.config.epochs, 5);
    assert.deepEqual(r.config.methodConfig, { r: 4, alpha: 4, dropout: 0.25, targets: ['q', 'v'] });
    const g = e.runs.find((x) => x.row === 'r2');
    assert.equal(g?.config.model, 'mini-gpt2'); // not in the mapping: unchanged
    assert.equal(g?.config.epochs, 1);
    assert.deepEqual(g?.config.seed, 0); // the profile's seeds win over the block's
  });

  it('keys runs by runKeys(config); identities ignore key order and differ across profiles', () => {
    const e = expand(BASE);
    for (const r of e.runs) assert.deepEqual(runKeys(r.config), { runId: r.runId, cellKey: r.cellKey });
    const seeds = e.runs.filter((r) => r.config.method === 'lora' && r.config.task === 'rte');
    assert.equal(new Set(seeds.map((r) => r.cellKey)).size, 1, 'the seeds of one cell share the cell key');
    const reordered = BASE.replace('  epochs: 3\n  batchSize: 8\n', '  batchSize: 8\n  epochs: 3\n');
    assert.notEqual(reordered, BASE);
    assert.deepEqual(expand(reordered).runs.map((r) => r.runId), e.runs.map((r) => r.runId));
    const mini = new Set(expand(BASE, 'mini').runs.map((r) => r.runId));
    assert.ok(e.runs.every((r) => !mini.has(r.runId)));
  });

  it('devices: 1 is the default (same run id as none); microBatchSize is not identity; devices 8 is another run', () => {
    const ids = (set: string): string[] => expand(BASE.replace('    set: { batchSize: 16 }\n', `    set: { batchSize: 16${set} }\n`)).runs.map((r) => r.runId);
    const plain = ids('');
    assert.deepEqual(ids(', devices: 1'), plain);
    assert.deepEqual(ids(', microBatchSize: 4'), plain);
    const eight = ids(', devices: 8');
    const r1 = expand(BASE).runs.filter((r) => r.row === 'r1').length;
    assert.equal(eight.filter((id, i) => id !== plain[i]).length, r1, 'every r1 run changes, no r2 run');
  });

  it('restricts tasks with profile.tasks and shares runs that a model mapping makes identical', () => {
    const text = `
seeds: [0, 1]
defaults: { epochs: 1, batchSize: 4, learningRate: 1.0e-3, maxSeqLength: 32 }
grid:
  - row: a
    models: [gpt2-medium]
    methods: [ft]
    tasks: [e2e, rte]
  - row: b
    models: [gpt2-large]
    methods: [ft]
    tasks: [e2e, rte]
profiles:
  paper: {}
  mini: { model: mini-gpt2, tasks: [e2e] }
`;
    assert.equal(expand(text).runs.length, 8);
    const mini = expand(text, 'mini');
    assert.equal(mini.runs.length, 2);
    assert.deepEqual(mini.runs.map((r) => r.sharedWith.map((s) => s.row)), [['b'], ['b']]);
    assert.equal(applyFilters(mini.runs, ['row=b']).length, 2, 'a shared run belongs to both rows');
  });
});

describe('spec: --filter', () => {
  const e = expand(BASE);
  const ids = (exprs: string[]): number => applyFilters(e.runs, exprs).length;

  it('ANDs clauses and flags, ORs alternatives, negates, globs, reads nested fields', () => {
    assert.equal(ids(['task=rte,method=lora']), 3);
    assert.equal(ids(['task=rte|e2e']), 7);
    assert.equal(ids(['task=rte', 'seed!=0']), 4);
    assert.equal(ids(['model=mini-*']), 13);
    assert.equal(ids(['methodConfig.r=4']), 6);
    assert.equal(ids(['row=r2']), 1);
    assert.equal(ids(['variant=r=4']), 6, 'values may contain =');
    assert.equal(ids(['learningRate=0.002']), 3);
    assert.equal(ids([]), 13);
  });

  it('rejects malformed expressions and unknown keys in one line', () => {
    assert.throws(() => parseFilter('task'), /--filter 'task': 'task' is not key=value/);
    assert.throws(() => parseFilter('tsk=rte'), /unknown key 'tsk' \(expected one of row, label, /);
    assert.throws(() => parseFilter('task=rte,,seed=1'), /empty clause/);
    assert.throws(() => parseFilter('task=rte|'), /empty value/);
  });
});

describe('spec: malformed files give one-line errors naming file, line, key path and expectation', () => {
  it('YAML syntax errors with line:col', () => {
    const msg = specError('grid:\n  - row: a\n    models: [mini-roberta\n');
    assert.match(msg, /^bad\.yaml:\d+:\d+: YAML syntax error: /);
  });

  it('unknown keys, pointing at the key', () => {
    const msg = specError(BASE.replace('    set: { batchSize: 16 }', '    set: { batchSize: 16, batchsize: 4 }'));
    assert.match(msg, /^bad\.yaml:20:27: grid\[0\]\.set\.batchsize: unknown key 'batchsize'; did you mean 'batchSize'\?/);
    assert.match(specError(`${BASE}\nextra: 1\n`), /^bad\.yaml:\d+:1: extra: unknown key 'extra'/);
  });

  it('wrong types', () => {
    const msg = specError(BASE.replace('  epochs: 3', '  epochs: three'));
    assert.match(msg, /^bad\.yaml:5:11: defaults\.epochs: expected number, received string$/);
    assert.match(specError(BASE.replace('seeds: [0, 1, 2]', 'seeds: [0, -1]')), /^bad\.yaml:3:\d+: seeds\[1\]: /);
  });

  it('unknown methods and tasks, listing the valid ones', () => {
    assert.match(specError(BASE.replace('      - bitfit', '      - bitfitt')), /^bad\.yaml:16:9: grid\[0\]\.methods\[1\]\.method: unknown method 'bitfitt' \(expected one of ft, ft-top2, bitfit, /);
    assert.match(specError(BASE.replace('    tasks: [e2e]', '    tasks: [e2e, rtee]')), /^bad\.yaml:27:\d+: grid\[1\]\.tasks\[1\]: unknown task 'rtee' \(expected one of mnli, /);
    assert.match(specError(BASE.replace('      rte: { epochs: 5 }', '      qnlii: { epochs: 5 }')), /grid\[0\]\.tasks\.qnlii: unknown task 'qnlii'/);
  });

  it('an empty grid, an empty spec, and empty axes', () => {
    assert.match(specError('seeds: [0]\ngrid: []\n'), /^bad\.yaml:2:7: grid: expected at least one grid block \(the grid is empty\)$/);
    assert.match(specError(''), /^bad\.yaml: the spec is empty/);
    assert.match(specError(BASE.replace('    models: [mini-gpt2]', '    models: []')), /grid\[1\]\.models: expected at least one model/);
  });

  it('method config errors from the method schema', () => {
    assert.match(specError(BASE.replace('config: { r: 4 }', 'config: { r: 0 }')), /^bad\.yaml:\d+:\d+: grid\[0\]\.methods\[0\]\.config: cell mini-roberta\/lora \(r=4\)\/rte: method 'lora': invalid config: r: /);
    assert.match(specError(BASE.replace('config: { r: 4 }', 'config: { rank: 4 }')), /method 'lora': invalid config: .*rank/);
  });

  it('a field no layer sets, selectors that match nothing, unknown profiles, duplicate runs', () => {
    assert.match(specError(BASE.replace('  epochs: 3\n', '')), /^bad\.yaml:\d+:\d+: grid\[0\]: cell mini-roberta\/lora \(r=4\)\/mrpc seed 0: missing 'epochs'/);
    assert.match(specError(BASE.replace('where: { task: rte }', 'where: { task: sst2 }')), /overrides\[0\]\.where: matches no cell of the grid/);
    assert.match(specError(BASE, 'tiny'), /^bad\.yaml: --profile 'tiny' is not defined in the spec \(profiles: paper, mini\)$/);
    const dup = BASE.replace("      - bitfit\n", "      - bitfit\n      - { method: lora, variant: r=4, config: { r: 4, alpha: 4 } }\n");
    assert.match(specError(dup), /is the same run as mini-roberta\/lora \(r=4\)\/rte seed 0 \(bad\.yaml:\d+:\d+\)/);
  });

  it('the CLI prints the error on one line and exits 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spec-cli-'));
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, BASE.replace('      - bitfit', '      - bitfitt'));
    const r = spawnSync(process.execPath, ['bin/lora-repro.mjs', 'run', file, '--dry-run'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^lora-repro run: .*broken\.yaml:16:9: grid\[0\]\.methods\[1\]\.method: unknown method 'bitfitt'/);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('spec: profile rows and task stand-ins', () => {
  const withProfile = (profile: string) => `${BASE}  cut:\n${profile}`;

  it('rows keeps only the named grid rows; taskMap runs a spec task on another task with its settings', () => {
    const e = expand(withProfile('    rows: [r1]\n    seeds: [0]\n    tasks: [rte]\n    taskMap: { rte: synthetic-rte }\n'), 'cut');
    assert.deepEqual(e.runs.map((r) => `${r.row}/${r.config.method}/${r.config.task}`).sort(), ['r1/bitfit/synthetic-rte', 'r1/lora/synthetic-rte']);
    // rte's own settings (epochs 5, the rte override's maxSeqLength 128) follow the stand-in.
    assert.ok(e.runs.every((r) => r.config.epochs === 5 && r.config.maxSeqLength === 128));
  });

  it('an unknown row or a taskMap of a task outside the grid is a one-line error', () => {
    assert.match(specError(withProfile('    rows: [r9]\n'), 'cut'), /^bad\.yaml:\d+:\d+: profiles\.cut\.rows\[0\]: row 'r9' is not in the grid \(rows: r1, r2\)$/);
    assert.match(specError(withProfile('    taskMap: { sst2: synthetic-sst2 }\n'), 'cut'), /profiles\.cut\.taskMap\.sst2: task 'sst2' is not in the grid/);
    assert.match(specError(withProfile('    taskMap: { rte: nope }\n'), 'cut'), /unknown task 'nope'/);
  });
});
