/** Every command: an unknown flag, a flag value of the wrong type, missing required arguments, --help. */
import { commands } from '../../src/cli/registry.ts';
import type { Case } from '../helpers/malformed.ts';
import type { Fixtures } from '../helpers/malformed-fixtures.ts';

type C = Case<Fixtures>;

// From the registry, so a new command gets these cases too.
const COMMANDS = commands.map((c) => c.name);

/** A first argument that gets each command past its sub-command choice, so the flag parser is reached. */
const LEAD: Record<string, string[]> = { bench: ['train'], mlflow: ['sync'], metrics: ['e2e'], analyze: ['subspace'], table: ['2'] };

const unknownFlag: C[] = COMMANDS.map((command) => ({
  command,
  kind: 'bad flag',
  title: 'an unknown flag is one line naming it',
  argv: () => [command, ...(LEAD[command] ?? []), '--no-such-flag'],
  line: /no-such-flag/,
}));

const help: C[] = COMMANDS.map((command) => ({
  command,
  kind: 'bad flag',
  title: '--help after other junk still prints the usage, exit 0',
  argv: () => [command, '--bogus', '--help'],
  exit: 0,
  line: /Usage/,
}));

const wrongType: C[] = [
  ['params', ['params', '--model', 'roberta-base', '--method', 'lora', '--r', 'eight'], /--r/],
  ['params', ['params', '--model', 'roberta-base', '--method', 'lora', '--r', '-3'], /--r/],
  ['bench', ['bench', 'train', '--batch', 'many'], /--batch/],
  ['bench', ['bench', 'train', '--seq', '1.5'], /--seq/],
  ['bench', ['bench', 'decode', '--beam', 'x'], /--beam/],
  ['train', ['train', '--model', 'mini-roberta', '--task', 'rte', '--method', 'lora', '--epochs', 'three'], /--epochs/],
  ['train', ['train', '--model', 'mini-roberta', '--task', 'rte', '--method', 'lora', '--lr', 'NaN'], /--lr/],
  ['train', ['train', '--model', 'mini-roberta', '--task', 'rte', '--method', 'lora', '--lr', 'Infinity'], /--lr/],
  ['train', ['train', '--model', 'mini-roberta', '--task', 'rte', '--method', 'lora', '--method-config', '{not json'], /method-config/],
  ['train', ['train', '--model', 'mini-roberta', '--task', 'rte', '--method', 'lora', '--method-config', '[1,2]'], /method-config/],
  ['run', ['run', 'experiments/table2.yaml', '--workers', 'lots', '--dry-run'], /--workers/],
  ['run', ['run', 'experiments/table2.yaml', '--executor', 'src/train/trainer.ts', '--dry-run'], /--executor expects local or slurm.*--executor-module/],
  ['mlflow', ['mlflow', 'sync', '--tracking-uri', 'http://127.0.0.1:9', '--spool', '/nonexistent-spool', '--max-retry-seconds', '-1'], /max-retry-seconds/],
  ['mlflow', ['mlflow', 'sync', '--tracking-uri', 'http://127.0.0.1:9', '--spool', '/nonexistent-spool', '--max-retry-seconds', 'soon'], /max-retry-seconds/],
  ['mlflow', ['mlflow', 'sync', '--tracking-uri', 'http://127.0.0.1:9', '--spool', '/nonexistent-spool'], /nonexistent-spool/],
  ['table', ['table', '2', '--format', 'docx'], /--format/],
  ['table', ['table', '4'], /table number/],
  ['charts', ['charts', '--agg', 'max'], /--agg|mean or median/],
  ['eval', ['eval', '.', '--eval-limit', 'some'], /--eval-limit/],
].map(([command, argv, line]) => ({ command: command as string, kind: 'wrong type' as const, title: `${(argv as string[]).slice(1).join(' ')}`, argv: () => argv as string[], line: line as RegExp }));

const missing: C[] = [
  ['train', ['train', '--task', 'rte', '--method', 'lora'], /--model/],
  ['train', ['train', '--model', 'mini-roberta', '--method', 'lora'], /--task/],
  ['train', ['train', '--model', 'mini-roberta', '--task', 'rte'], /--method/],
  ['eval', ['eval'], /run|directory|dir/i],
  ['generate', ['generate'], /run|directory|dir/i],
  ['analyze', ['analyze', 'subspace'], /--a/],
  ['analyze', ['analyze'], /subspace/],
  ['metrics', ['metrics', 'e2e', '--hyps', 'h.txt'], /--refs/],
  ['run', ['run'], /spec/i],
  ['parity', ['parity'], /fixture/i],
  ['params', ['params', '--method', 'lora'], /--model/],
  ['bench', ['bench'], /bench train/],
].map(([command, argv, line]) => ({ command: command as string, kind: 'missing' as const, title: `${(argv as string[]).join(' ')}`, argv: () => argv as string[], line: line as RegExp }));

const unknownName: C[] = [
  ['params', ['params', '--model', 'roberta-humongous', '--method', 'lora'], /roberta-humongous/],
  ['params', ['params', '--model', 'roberta-base', '--method', 'lorax'], /lorax/],
  ['train', ['train', '--model', 'mini-roberta', '--task', 'rtee', '--method', 'lora'], /rtee/],
  ['train', ['train', '--model', 'mini-roberta', '--task', 'rte', '--method', 'qlora'], /qlora/],
  ['bench', ['bench', 'train', '--model', 'gpt5'], /gpt5/],
  ['bench', ['bench', 'decode', '--model', 'bench-roberta'], /GPT-2/],
  ['table', ['table', '2', '--results', '.', '--profile', 'nope-profile'], /nope-profile|profile/],
  ['lora-repro', ['frobnicate'], /frobnicate/],
].map(([command, argv, line]) => ({ command: command as string, kind: 'unknown name' as const, title: `${(argv as string[]).join(' ')}`, argv: () => argv as string[], line: line as RegExp }));

export const CASES: C[] = [...unknownFlag, ...help, ...wrongType, ...missing, ...unknownName];
