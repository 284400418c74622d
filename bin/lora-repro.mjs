#!/usr/bin/env node
// Entry point: runs the TypeScript sources through tsx's loader, so `npx lora-repro`
// works straight after `npm ci` with no build step.
import { register } from 'tsx/esm/api';
register();
try {
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  // Print here: the wasm runtime installs an uncaughtException handler that would
  // otherwise dump its whole minified source before the error.
  // main() reports every command error itself; this is the last resort for a failed import.
  if (process.env.LORA_REPRO_DEBUG === '1') console.error(err instanceof Error ? err.stack : String(err));
  else console.error(`lora-repro: internal error (a bug in lora-repro): ${err instanceof Error ? err.message.split('\n')[0] : String(err)}; rerun with LORA_REPRO_DEBUG=1 and report it`);
  process.exitCode = 1;
}
