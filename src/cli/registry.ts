/** Every sub-command, in the order `lora-repro --help` lists them. One import per command file. */
import type { Command } from './command.ts';
import { parityCommand } from './commands/parity.ts';

export const commands: Command[] = [parityCommand];
