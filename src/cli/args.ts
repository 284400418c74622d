/** Small helpers around node:util parseArgs so every command reports bad flags the same way. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from '../util/errors.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseCommandArgs<O extends Options>(argv: string[], options: O, allowPositionals = true) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    throw new UserError((err as Error).message);
  }
}

/** Parses a flag value as a finite number, or fails naming the flag. */
export function numberFlag(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UserError(`--${name} expects a number, got '${value}'`);
  return n;
}

/** Parses a flag value as a positive integer, or fails naming the flag. */
export function intFlag(name: string, value: string | undefined, fallback: number): number {
  const n = numberFlag(name, value, fallback);
  if (!Number.isInteger(n) || n < 0) throw new UserError(`--${name} expects a non-negative integer, got '${value}'`);
  return n;
}
