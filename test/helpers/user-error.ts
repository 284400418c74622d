/** Asserting the one-line UserError a failure must end with (src/util/errors.ts). */
import { strict as assert } from 'node:assert';
import { UserError } from '../../src/util/errors.ts';

/** Awaits `p`, which must reject with a one-line UserError matching every pattern; returns it. */
export async function expectUserError(p: Promise<unknown>, ...parts: RegExp[]): Promise<UserError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof UserError, `expected a UserError, got ${(err as Error).stack}`);
    assert.ok(!err.message.includes('\n'), `one line: ${err.message}`);
    for (const re of parts) assert.match(err.message, re);
    return err;
  }
  assert.fail('expected a UserError');
}
