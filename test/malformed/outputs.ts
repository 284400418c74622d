/** Output paths of table, charts, report and run: a file where a folder goes, a folder where a file goes, read-only, too long. */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Case } from '../helpers/malformed.ts';
import { isRoot } from '../helpers/malformed.ts';
import type { Fixtures } from '../helpers/malformed-fixtures.ts';
import { standardRuns, writeResultsFolder } from '../helpers/results-fixture.ts';

type C = Case<Fixtures>;

const results = (d: string): string => writeResultsFolder(join(d, 'results'), 'p', standardRuns()).dir;
const profileArgs = (d: string): string[] => ['--results', join(d, 'results'), '--profile', 'p'];
const ROOT_SKIP = isRoot() ? 'root writes into a chmod 555 folder (the ENOTDIR and EISDIR cases cover it)' : undefined;

/** Per command: what it writes under results/p/, and the command line. */
const WRITERS: [string, string, (d: string) => string[]][] = [
  ['table', 'table2.md', (d) => ['table', '2', ...profileArgs(d)]],
  ['table', 'table3.csv', (d) => ['table', '3', ...profileArgs(d)]],
  ['charts', 'charts', (d) => ['charts', ...profileArgs(d)]],
  ['report', 'report.html', (d) => ['report', ...profileArgs(d)]],
];

const outputCases: C[] = WRITERS.flatMap(([command, target, argv]): C[] => [
  {
    command, kind: target.includes('.') ? 'path is a folder' : 'path is a file', title: `defect: results/p/${target} is ${target.includes('.') ? 'a folder' : 'a file'}`,
    setup: (d) => { const dir = results(d); if (target.includes('.')) mkdirSync(join(dir, target)); else writeFileSync(join(dir, target), 'x'); },
    argv, line: new RegExp(target.replace('.', '\\.')), mayChange: /^results\/p\/(table|charts|report)/, maxMs: 40_000,
  },
  {
    command, kind: 'read-only', title: 'defect: the results folder is read-only', skip: ROOT_SKIP,
    setup: (d) => chmodSync(results(d), 0o555), argv, line: /permission denied|read-only/, maxMs: 40_000,
  },
]);

const folderCases: C[] = ['table', 'charts', 'report'].flatMap((command): C[] => {
  const lead = command === 'table' ? ['table', '2'] : [command];
  return [
    { command, kind: 'missing', title: '--results does not exist', argv: (d) => [...lead, '--results', join(d, 'nope')], line: /nope/ },
    { command, kind: 'path is a file', title: '--results is a file', setup: (d) => writeFileSync(join(d, 'results'), 'x'), argv: (d) => [...lead, '--results', join(d, 'results')], line: /results/ },
    { command, kind: 'empty', title: '--results is an empty folder', setup: (d) => mkdirSync(join(d, 'results')), argv: (d) => [...lead, '--results', join(d, 'results')], line: /results/ },
    { command, kind: 'path too long', title: '--results name over 255 bytes', argv: (d) => [...lead, '--results', join(d, 'r'.repeat(300))], line: /r{20}/ },
    { command, kind: 'unknown name', title: '--profile that does not exist', setup: (d) => void results(d), argv: (d) => [...lead, '--results', join(d, 'results'), '--profile', 'zzz'], line: /zzz/ },
  ];
});

const runResultsCases: C[] = [
  { command: 'run', kind: 'path is a file', title: 'defect: --results is a file', setup: (d) => writeFileSync(join(d, 'results'), 'x'), argv: (d) => ['run', 'experiments/table2.yaml', '--profile', 'mini', '--filter', 'row=rob-base-lora,task=sst2,seed=1', '--executor-module', 'test/helpers/fake-executor.ts', '--results', join(d, 'results'), '--quiet'], line: /results/, spawn: true },
  { command: 'run', kind: 'path under a file', title: '--results below a file', setup: (d) => writeFileSync(join(d, 'f'), 'x'), argv: (d) => ['run', 'experiments/table2.yaml', '--profile', 'mini', '--filter', 'row=rob-base-lora,task=sst2,seed=1', '--executor-module', 'test/helpers/fake-executor.ts', '--results', join(d, 'f', 'results'), '--quiet'], line: /f\/results|not a folder/ },
  {
    command: 'run', kind: 'unknown name', title: 'defect: --executor fake does not pretrain the stand-in models', exit: 0,
    argv: (d) => ['run', 'experiments/table2.yaml', '--profile', 'mini', '--filter', 'row=rob-base-lora,task=sst2,seed=1', '--executor-module', 'test/helpers/fake-executor.ts', '--results', join(d, 'results'), '--quiet'],
    env: { LORA_REPRO_CACHE: '/nonexistent-cache-do-not-create' },
    check: (_d, out) => { if (/pretrain:/.test(out.stdout + out.stderr)) throw new Error(`pretrained with the fake executor:\n${out.stdout}`); },
    mayChange: /^results/, maxMs: 40_000,
  },
];

export const CASES: C[] = [...outputCases, ...folderCases, ...runResultsCases];
