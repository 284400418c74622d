/** Every sub-command, in the order `lora-repro --help` lists them. One import per command file. */
import type { Command } from './command.ts';
import { benchCommand } from './commands/bench.ts';
import { envCommand } from './commands/env.ts';
import { paramsCommand } from './commands/params.ts';
import { parityCommand } from './commands/parity.ts';
import { mlflowCommand } from './commands/mlflow.ts';
import { metricsCommand } from './commands/metrics.ts';
import { downloadCommand } from './commands/download.ts';
import { trainCommand } from './commands/train.ts';
import { evalCommand } from './commands/eval.ts';
import { generateCommand } from './commands/generate.ts';
import { runCommand } from './commands/run.ts';
import { runOneCommand } from './commands/run-one.ts';
import { statusCommand } from './commands/status.ts';
import { tableCommand } from './commands/table.ts';
import { chartsCommand } from './commands/charts.ts';
import { analyzeCommand } from './commands/analyze.ts';
import { reportCommand } from './commands/report.ts';
import { summaryCommand } from './commands/summary.ts';
import { pretrainCommand } from './commands/pretrain.ts';
import { tokenizeCommand } from './commands/tokenize.ts';

export const commands: Command[] = [envCommand, parityCommand, benchCommand, mlflowCommand, metricsCommand, paramsCommand, downloadCommand, trainCommand, evalCommand, generateCommand, runCommand, runOneCommand, statusCommand, tableCommand, chartsCommand, analyzeCommand, reportCommand, summaryCommand, pretrainCommand, tokenizeCommand];
