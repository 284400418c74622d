/** Every sub-command, in the order `lora-repro --help` lists them. One import per command file. */
import type { Command } from './command.ts';

export const commands: Command[] = [];
