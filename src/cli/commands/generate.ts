/**
 * `lora-repro generate <run-dir>`: decodes the E2E MRs of a split with a saved GPT-2 run, with the
 * paper's decoding (Table 11: beam 10, length penalty 0.9, no-repeat n-gram 4, at most 64 tokens; the
 * LoRA README's command uses length penalty 0.8, hence the flag), and writes the outputs one per line
 * plus the references in the official format, ready for `lora-repro metrics e2e`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { initBackend } from '../../backend/select.ts';
import { PAPER_DECODING } from '../../generate/paper-decoding.ts';
import { evaluateSavedRun } from '../../train/evaluate-run.ts';
import { readSavedRun } from '../../train/run-dir.ts';
import { UserError } from '../../util/errors.ts';
import { intFlag, parseCommandArgs } from '../args.ts';
import type { Command } from '../command.ts';
import { DECODING_FLAGS, decodingFromFlags } from './train.ts';

/** references beside the hypotheses: x.hyp.txt → x.ref.txt, x.txt → x.ref.txt. */
export function referencesPath(hypPath: string): string {
  const name = basename(hypPath);
  const stem = name.endsWith('.hyp.txt') ? name.slice(0, -'.hyp.txt'.length) : name.endsWith('.txt') ? name.slice(0, -4) : name;
  return join(dirname(hypPath), `${stem}.ref.txt`);
}

export const generateCommand: Command = {
  name: 'generate',
  summary: `decode E2E with a saved run (beam ${PAPER_DECODING.beam}, length penalty ${PAPER_DECODING.lengthPenalty}, no-repeat ${PAPER_DECODING.noRepeatNgramSize}) and write hypotheses + references`,
  usage: [
    'Usage: lora-repro generate <run-dir> [--split dev|test] [--limit N] [--out FILE] [decoding options] [--json]',
    '',
    '  --split dev|test        which E2E split (default test)',
    '  --limit N               a fixed random subset of N MRs (default: all: 547 dev / 630 test)',
    '  --out FILE              hypotheses, one per line (default <run-dir>/generate/<split>.hyp.txt);',
    '                          references go beside it as <name>.ref.txt (one per line, blank line between MRs)',
    `  --beam N                (${PAPER_DECODING.beam})`,
    `  --length-penalty X      (${PAPER_DECODING.lengthPenalty}, Table 11; the LoRA README uses 0.8)`,
    `  --no-repeat-ngram N     (${PAPER_DECODING.noRepeatNgramSize})`,
    `  --max-new-tokens N      (${PAPER_DECODING.maxNewTokens})`,
    '  --data-dir DIR          the data directory',
    '  --json                  print {"hypotheses","references","metrics"} (paths and scores) as JSON',
    '',
    'The scores printed are those of `lora-repro metrics e2e --refs <refs> --hyps <hyps>` on the two files.',
  ].join('\n'),
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      split: { type: 'string', default: 'test' },
      limit: { type: 'string' },
      out: { type: 'string' },
      ...DECODING_FLAGS,
      'data-dir': { type: 'string' },
      json: { type: 'boolean', default: false },
      backend: { type: 'string' },
    });
    if (positionals.length !== 1) throw new UserError('expected exactly one run directory (see --help)');
    const split = values.split;
    if (split !== 'dev' && split !== 'test') throw new UserError(`--split must be dev or test, got '${split}'`);
    const limit = values.limit !== undefined ? intFlag('limit', values.limit, 0) : null;
    if (limit === 0) throw new UserError('--limit must be at least 1');
    const decoding = decodingFromFlags(values);
    await initBackend(values.backend);
    const runDir = positionals[0];
    const task0 = readSavedRun(runDir).config.task;
    if (task0 !== 'e2e' && !task0.endsWith('-e2e')) throw new UserError(`${runDir}: generate is for E2E runs; this run is ${task0} (use lora-repro eval)`);
    let last = performance.now();
    const { task, output } = await evaluateSavedRun(runDir, {
      evalSplit: split,
      evalLimit: limit,
      dataDir: values['data-dir'],
      decoding,
      onProgress: (done, total) => {
        if (performance.now() - last > 10_000) {
          process.stderr.write(`decoding ${done}/${total}\n`);
          last = performance.now();
        }
      },
    });
    const hypPath = resolve(values.out ?? join(runDir, 'generate', `${split}.hyp.txt`));
    const refPath = referencesPath(hypPath);
    const hyps = output.predictions[`${split}.hyp.txt`];
    const refs = output.predictions[`${split}.ref.txt`];
    if (hyps === undefined || refs === undefined) throw new Error(`generate: the ${task.task} evaluation returned no ${split} texts`);
    mkdirSync(dirname(hypPath), { recursive: true });
    writeFileSync(hypPath, hyps);
    writeFileSync(refPath, refs);
    if (values.json) {
      console.log(JSON.stringify({ hypotheses: hypPath, references: refPath, decoding, metrics: output.metrics }));
      return 0;
    }
    console.log(`${task.evalSize} outputs → ${hypPath}`);
    console.log(`references → ${refPath}`);
    for (const [k, v] of Object.entries(output.metrics)) console.log(`${k.padEnd(8)} ${v.toFixed(4)}`);
    console.log(`(rescore: lora-repro metrics e2e --refs ${refPath} --hyps ${hypPath})`);
    return 0;
  },
};
