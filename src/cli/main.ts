/**
 * The `lora-repro` command line: a registry of sub-commands, one file each in ./commands.
 * User errors (bad flags, missing or corrupt files) print one line and exit 2.
 */
import { UserError } from '../util/errors.ts';
import type { Command } from './command.ts';
import { commands } from './registry.ts';

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
    if (err instanceof UserError) {
      console.error(`lora-repro ${name}: ${err.message}`);
      return 2;
    }
    throw err;
  }
}
