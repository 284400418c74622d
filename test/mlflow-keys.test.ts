/**
 * Every metric, param and tag key the MLflow projection produces, for every cell of every spec in
 * experiments/ (all tasks and splits, all methods, the seed and cell aggregates), checked against
 * MLflow's key rules of each server generation, written here from mlflow/utils/validation.py:
 *
 * | MLflow   | names (_VALID_PARAM_AND_METRIC_NAMES) | key | param value | tag value | longer values |
 * | 2.0–2.2  | ^[/\w.\- ]*$                          | 250 | 500         | 5000      | rejected      |
 * | 2.3–2.x  | ^[/\w.\- ]*$                          | 250 | 6000        | 5000      | truncated*    |
 * | 3.x      | ^[/\w.\- :]*$                         | 250 | 6000        | 8000      | truncated*    |
 * (* _validate_length_limit(..., truncate=True) when MLFLOW_TRUNCATE_LONG_VALUES, the default.)
 * Every name must also equal posixpath.normpath(name) and not be '.', '..*' or '/*'
 * (path_not_unique). The keys are produced by running the projection against the strict fake
 * server (2.0 rules), which rejects anything else; the checks below then apply every row.
 * Table 2's MNLI cells end FINISHED with the mismatched split's metric under a valid key.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandSpec } from '../src/spec/expand.ts';
import { loadSpecFile } from '../src/spec/load.ts';
import { createTracker } from '../src/tracking/index.ts';
import { validMlflowKey } from '../src/tracking/limits.ts';
import { FakeMlflowServer } from './helpers/fake-mlflow-server.ts';
import { fakeResult, projectionRig } from './helpers/mlflow-results.ts';

interface KeyRules {
  mlflow: string;
  name: RegExp;
  maxKey: number;
  maxParam: number;
  maxTag: number;
}
const RULES: KeyRules[] = [
  { mlflow: '2.0-2.2', name: /^[/\p{L}\p{N}_.\- ]*$/u, maxKey: 250, maxParam: 500, maxTag: 5000 },
  { mlflow: '2.3-2.x', name: /^[/\p{L}\p{N}_.\- ]*$/u, maxKey: 250, maxParam: 6000, maxTag: 5000 },
  { mlflow: '3.x', name: /^[/\p{L}\p{N}_.\- :]*$/u, maxKey: 250, maxParam: 6000, maxTag: 8000 },
];

/** Python's posixpath.normpath. */
function normpath(p: string): string {
  if (p === '') return '.';
  const initial = p.startsWith('//') && !p.startsWith('///') ? 2 : p.startsWith('/') ? 1 : 0;
  const out: string[] = [];
  for (const c of p.split('/')) {
    if (c === '' || c === '.') continue;
    if (c !== '..' || (initial === 0 && out.length === 0) || (out.length > 0 && out[out.length - 1] === '..')) out.push(c);
    else if (out.length > 0) out.pop();
  }
  const s = '/'.repeat(initial) + out.join('/');
  return s === '' ? '.' : s;
}
function pathNotUnique(name: string): boolean {
  const norm = normpath(name);
  return norm !== name || norm === '.' || norm.startsWith('..') || norm.startsWith('/');
}
function problem(rules: KeyRules, kind: 'metric' | 'param' | 'tag', key: string, value?: string): string | undefined {
  if (!rules.name.test(key)) return `bad characters`;
  if (pathNotUnique(key)) return `resolves to ${normpath(key)}`;
  if (key.length > rules.maxKey) return `key longer than ${rules.maxKey}`;
  const max = kind === 'param' ? rules.maxParam : kind === 'tag' ? rules.maxTag : Infinity;
  if (value !== undefined && value.length > max) return `value longer than ${max}`;
  return undefined;
}

describe('MLflow keys: every key the projection produces is valid on MLflow 2.0 → 3.x', function () {
  this.timeout(120_000);

  it('the checker follows validation.py (posixpath.normpath, the character sets)', () => {
    assert.equal(normpath('a//b'), 'a/b');
    assert.equal(normpath('a/'), 'a');
    assert.equal(normpath('./a'), 'a');
    assert.equal(normpath('a/../..'), '..');
    for (const bad of ['accuracy@dev_mismatched', '', 'a/', '/a', 'a/./b', 'x'.repeat(251)]) assert.ok(problem(RULES[0], 'metric', bad), bad);
    assert.equal(problem(RULES[2], 'metric', 'a:b'), undefined);
    assert.ok(problem(RULES[1], 'metric', 'a:b'));
    // The projection's mapping of data-made names: legacy MNLI key → today's key.
    assert.equal(validMlflowKey('accuracy@dev_mismatched'), 'accuracy_dev_mismatched');
    assert.equal(validMlflowKey('a//b/./c:d'), 'a/b/c_d');
    for (const k of ['accuracy@dev_mismatched', '/x/', '..', 'é:ü']) for (const r of RULES) assert.equal(problem(r, 'metric', validMlflowKey(k)), undefined, k);
  });

  it('table2 + table3 (all cells, every seed) against the strict server: all runs end FINISHED, every key valid everywhere', async () => {
    const server = await FakeMlflowServer.start({ rules: 'mlflow-2.0' });
    const dir = mkdtempSync(join(tmpdir(), 'mlflow-keys-'));
    try {
      for (const spec of ['table2', 'table3']) {
        const exp = expandSpec(loadSpecFile(join('experiments', `${spec}.yaml`)));
        const tracker = createTracker({ trackingUri: server.url, spoolDir: join(dir, spec, 'spool'), warn: () => {} });
        const rig = projectionRig(tracker, server.url, exp.runs, join(dir, spec), exp.experiment, exp.profile);
        // One seed of the first MNLI cell was written before the key change: `accuracy@dev_mismatched`.
        const legacy = exp.runs.find((r) => r.config.task === 'mnli');
        for (const run of exp.runs) {
          const r = fakeResult(run);
          if (run === legacy) r.metrics = Object.fromEntries(Object.entries(r.metrics).map(([k, v]) => [k.replace('_dev_mismatched', '@dev_mismatched'), v]));
          rig.put(r);
        }
        rig.projection.backfill();
        await rig.projection.flush();
        const summary = await tracker.close();
        assert.equal(summary.runsSpooled, 0);
        assert.deepEqual(rig.warnings, []);
        const runs = [...server.runs.values()].filter((r) => server.experiments.get(r.info.experiment_id)?.name === `lora-repro/${exp.experiment}/${exp.profile}`);
        const cells = new Set(exp.runs.map((r) => r.cellKey));
        assert.equal(runs.length, exp.runs.length + cells.size, `${spec}: one run per seed and per cell`);
        assert.deepEqual(runs.filter((r) => r.info.status !== 'FINISHED').map((r) => `${r.info.run_name}: ${r.info.status}`), []);
        if (spec === 'table2') {
          const mnli = runs.filter((r) => r.tags.get('task') === 'mnli');
          assert.ok(mnli.length > 0);
          for (const r of mnli) {
            const want = r.tags.has('mlflow.parentRunId') ? 'best/accuracy_dev_mismatched' : 'median/accuracy_dev_mismatched';
            assert.ok(r.metrics.some((m) => m.key === want), `${r.info.run_name} has ${want}`);
          }
        }
        for (const r of runs) {
          for (const rules of RULES) {
            for (const m of r.metrics) assert.equal(problem(rules, 'metric', m.key), undefined, `${rules.mlflow}: metric ${m.key}`);
            for (const [k, v] of r.params) assert.equal(problem(rules, 'param', k, v), undefined, `${rules.mlflow}: param ${k}=${v.slice(0, 40)}`);
            for (const [k, v] of r.tags) assert.equal(problem(rules, 'tag', k, v), undefined, `${rules.mlflow}: tag ${k}`);
          }
        }
      }
    } finally {
      await server.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
