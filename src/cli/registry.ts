/** Every sub-command, in the order `lora-repro --help` lists them. One import per command file. */
import type { Command } from './command.ts';
import { benchCommand } from './commands/bench.ts';
import { envCommand } from './commands/env.ts';
import { paramsCommand } from './commands/params.ts';
import { parityCommand } from './commands/parity.ts';
import { mlflowCommand } from './commands/mlflow.ts';
import { metricsCommand } from './commands/metrics.ts';

export const commands: Command[] = [envCommand, parityCommand, benchCommand, mlflowCommand, metricsCommand, paramsCommand];
