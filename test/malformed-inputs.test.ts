/**
 * Issue 23: bad input, as a hostile user gives it, to every command. Each case asserts the README's
 * promise — one line naming the file and the fix, exit 2; no stack trace; nothing that existed before
 * deleted or changed; bounded time — and the cases of the issue's defect list are marked `defect:` in
 * their titles. Most run in-process through main(); a subset runs as real processes (spawn: true) for the
 * exit code and the bin wrapper. The cases themselves are in ./malformed/*.ts, one file per group.
 */
import { after, before, describe, it } from 'mocha';
import { rmSync } from 'node:fs';
import { initBackend } from '../src/backend/select.ts';
import { assertOutcome, caseDir, runInProcess, runSpawned, snapshot, tally, type Case } from './helpers/malformed.ts';
import { buildFixtures, type Fixtures } from './helpers/malformed-fixtures.ts';
import { CASES as FLAG_CASES } from './malformed/flags.ts';
import { CASES as TRAIN_CASES } from './malformed/train.ts';
import { CASES as TENSOR_CASES } from './malformed/tensors.ts';
import { CASES as OUTPUT_CASES } from './malformed/outputs.ts';
import { CASES as SPEC_CASES } from './malformed/specs.ts';
import { sharedOrSkip } from './helpers/skip.ts';

const ALL: Case<Fixtures>[] = [...FLAG_CASES, ...TRAIN_CASES, ...TENSOR_CASES, ...OUTPUT_CASES, ...SPEC_CASES];

describe(`malformed inputs: ${ALL.length} cases, no stack traces (issue 23)`, function () {
  this.timeout(60_000);
  let root: string;
  let fx: Fixtures;
  const dirs: string[] = [];
  before(async function () {
    // The fixtures train with the GPT-2 tokenizer; the tensor cases copy roberta-tiny.
    sharedOrSkip(this, 'fixtures/tokenizers/gpt2');
    sharedOrSkip(this, 'fixtures/parity/roberta-tiny');
    await initBackend('wasm');
    root = caseDir();
    fx = await buildFixtures(root);
  });
  after(() => {
    for (const d of [root, ...dirs]) if (d !== undefined) rmSync(d, { recursive: true, force: true });
    if (process.env.LORA_REPRO_MALFORMED_TALLY === '1') console.log(JSON.stringify(tally(ALL), null, 2));
  });

  for (const c of ALL) {
    const title = `${c.command} [${c.kind}] ${c.title}${c.spawn ? ' (process)' : ''}`;
    if (c.skip !== undefined) {
      it.skip(`${title} — skipped: ${c.skip}`);
      continue;
    }
    it(title, async function () {
      this.timeout(c.maxMs ?? 20_000); // bounded time
      const dir = caseDir();
      dirs.push(dir);
      c.setup?.(dir, fx);
      const before = snapshot(dir);
      const argv = c.argv(dir, fx);
      const out = c.spawn ? runSpawned(argv, c.env) : await runInProcess(argv, c.env);
      assertOutcome(c, out, before, snapshot(dir));
      await c.check?.(dir, out, fx);
      rmSync(dir, { recursive: true, force: true });
    });
  }
});
