/**
 * Every committed spec's expansion, pinned (issue 19: the spec expansion was restructured with the
 * promise that no existing spec expands differently). For each experiments/*.yaml, each profile, with
 * and without --rehearse: the planned run ids in order (a run id hashes the whole resolved config,
 * train/run-identity.ts, so equal ids mean equal configs) against test/fixtures/spec-expansion.json.
 * A deliberate change to a spec or to the expansion rewrites the fixture with
 * `UPDATE_SPEC_EXPANSION=1 npx mocha test/spec-expansion.test.ts`; review its diff like code.
 */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { expandSpec } from '../src/spec/expand.ts';
import { loadSpecFile } from '../src/spec/load.ts';

const FIXTURE = 'test/fixtures/spec-expansion.json';
type Expansions = Record<string, string[] | { error: string }>;

function expandAll(): Expansions {
  const out: Expansions = {};
  for (const file of readdirSync('experiments').filter((f) => f.endsWith('.yaml')).sort()) {
    const loaded = loadSpecFile(`experiments/${file}`);
    for (const profile of expandSpec(loaded).profiles) {
      for (const rehearse of [false, true]) {
        const key = `${file} --profile ${profile}${rehearse ? ' --rehearse' : ''}`;
        try {
          out[key] = expandSpec(loaded, { profile, rehearse }).runs.map((r) => r.runId);
        } catch (err) {
          out[key] = { error: (err as Error).message.split('\n')[0] };
        }
      }
    }
  }
  return out;
}

describe('spec expansion: every committed spec and profile expands to the pinned run ids', () => {
  it(`experiments/*.yaml × profiles × --rehearse against ${FIXTURE}`, () => {
    const got = expandAll();
    if (process.env.UPDATE_SPEC_EXPANSION === '1') writeFileSync(FIXTURE, `${JSON.stringify(got, null, 1)}\n`);
    const want = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Expansions;
    assert.deepEqual(Object.keys(got), Object.keys(want), 'the spec files and profiles expanded');
    for (const key of Object.keys(want)) {
      assert.deepEqual(got[key], want[key], `${key}: expands differently (UPDATE_SPEC_EXPANSION=1 if that is intended)`);
    }
  });
});
