/**
 * The `lora-repro` command line: a registry of sub-commands, one file each in ./commands.
 * Every error ends in one line (./error-boundary.ts): user errors and file-system errors on a path exit 2,
 * anything else is a bug and exits 1.
 */
import type { Command } from './command.ts';
import { commands } from './registry.ts';
import { reportError } from './error-boundary.ts';

function topLevelHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'lora-repro: reproduce the experiments of "LoRA: Low-Rank Adaptation of Large Language Models"',
    '',
    'Usage: lora-repro <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Global options: --backend <wasm|cpu|tensorflow|tensorflow-gpu> (or LORA_REPRO_BACKEND)',
    'Run `lora-repro <command> --help` for the options of one command.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(topLevelHelp());
    return 0;
  }
  if (name === '--version') {
    const { readPackageVersion } = await import('../util/provenance.ts');
    console.log(readPackageVersion());
    return 0;
  }
  const command: Command | undefined = commands.find((c) => c.name === name);
  if (command === undefined) {
    console.error(`lora-repro: unknown command '${name}'. Run 'lora-repro --help' for the list.`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.usage);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    return reportError(err, name);
  }
}
