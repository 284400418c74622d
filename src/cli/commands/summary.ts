/** `lora-repro summary`: the README's results block of a profile, from its table2.json and table3.json. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { currentBlock, linesBeforeBlock, markerBody, resultsBlockFrom, withBlock } from '../../report/readme-results.ts';
import { resolveProfile } from '../../report/results.ts';
import { UserError } from '../../util/errors.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import { lineDiff } from '../../util/line-diff.ts';
import { parseCommandArgs } from '../args.ts';
import type { Command } from '../command.ts';

export const summaryCommand: Command = {
  name: 'summary',
  summary: "the README's results block from results/<profile>/table{2,3}.json (summary [--profile P] [--write|--check README.md])",
  usage: [
    'Usage: lora-repro summary [--profile P] [--results DIR] [--write FILE | --check FILE]',
    '',
    'Renders the results block of a profile from <results>/<profile>/table2.json and table3.json (written',
    'by `lora-repro table 2|3`): per table, our numbers (mean or median ± std, as the table says) with the',
    'baseline row and the trainable parameters, the protocol line of its caption, and the run ids behind it.',
    'Prints it, or:',
    '  --write FILE  replaces the text between <!-- results:<profile>:begin --> and <!-- results:<profile>:end -->',
    '                in FILE (exit 2 if the markers are missing); `make readme-results` runs it on README.md',
    '  --check FILE  exit 0 if FILE holds that block, else prints how it differs and exits 1',
    '  --profile     results profile (default: mini)',
    '  --results     results root (default: results)',
  ].join('\n'),
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      profile: { type: 'string', default: 'mini' },
      results: { type: 'string', default: 'results' },
      write: { type: 'string' },
      check: { type: 'string' },
    });
    if (positionals.length > 0) throw new UserError(`summary takes no positional arguments (got '${positionals.join(' ')}')`);
    if (values.write !== undefined && values.check !== undefined) throw new UserError('give --write FILE or --check FILE, not both');
    const { dir, profile } = resolveProfile(values.results as string, values.profile);
    const block = resultsBlockFrom(dir, profile);
    const sources = `${join(dir, 'table2.json')} and table3.json`;
    const file = values.write ?? values.check;
    if (file === undefined) {
      process.stdout.write(block);
      return 0;
    }
    if (!existsSync(file)) throw new UserError(`${file}: not found; give the README that holds the results:${profile} markers`);
    const text = readFileSync(file, 'utf8');
    const now = currentBlock(text, profile, file);
    const want = markerBody(block);
    if (values.check !== undefined) {
      if (now === want) {
        console.error(`${file}: the results:${profile} block matches ${sources}`);
        return 0;
      }
      const d = lineDiff(now, want, 2, linesBeforeBlock(text, profile, file));
      process.stdout.write([`--- ${file} (results:${profile} block)`, `+++ lora-repro summary --profile ${profile} (from ${sources})`, ...d.lines, ''].join('\n'));
      console.error(`${file}: the results:${profile} block differs from ${sources} (${d.removed} line(s) only in ${file}, ${d.added} only in the results); update it with make readme-results PROFILE=${profile} (lora-repro summary --profile ${profile} --write ${file})`);
      return 1;
    }
    if (now === want) {
      console.error(`${file}: the results:${profile} block is already up to date with ${sources}`);
      return 0;
    }
    writeFileAtomic(file, withBlock(text, profile, block, file));
    console.error(`${file}: wrote the results:${profile} block from ${sources}`);
    return 0;
  },
};
