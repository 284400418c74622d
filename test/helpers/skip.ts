/**
 * Skipping a test that cannot run on this machine, saying why. Mocha's this.skip() takes no reason,
 * so the reason is printed under the test's title; mocha counts the test as pending and .ci/run's
 * summary line as skipped. Called in a before() hook it skips the whole describe block.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED } from './tiny.ts';

export function skipBecause(ctx: Mocha.Context, reason: string): never {
  console.log(`      skipped: ${reason}`);
  ctx.skip();
}

/**
 * The absolute path of `rel` under ../shared (the read-only data and fixtures checkout beside the
 * repository), or a skip naming the missing path when it is not there.
 */
export function sharedOrSkip(ctx: Mocha.Context, rel: string): string {
  const path = join(SHARED, rel);
  if (!existsSync(path)) skipBecause(ctx, `needs ../shared/${rel}, not in this checkout (the shared data and fixtures beside the repository)`);
  return path;
}

/** Skips unless `command` is on PATH (or is an absolute path that exists); `install` says how to get it. */
export function commandOrSkip(ctx: Mocha.Context, command: string, install: string): void {
  const found = command.startsWith('/') ? existsSync(command) : (process.env.PATH ?? '').split(':').some((d) => d !== '' && existsSync(join(d, command)));
  if (!found) skipBecause(ctx, `no ${command} on this machine (${install})`);
}

/** What the training tests run on (test/helpers/train.ts): the shared GLUE/E2E data and the GPT-2 tokenizer. */
export function trainingInputsOrSkip(ctx: Mocha.Context): void {
  for (const rel of ['data/glue', 'data/e2e', 'fixtures/tokenizers/gpt2']) sharedOrSkip(ctx, rel);
}
