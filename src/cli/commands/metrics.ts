/** `lora-repro metrics e2e`: the official E2E NLG Challenge metrics of a system-output file. */
import { loadE2EData, scoreE2E, type E2EScores } from '../../eval/e2e/index.ts';
import { UserError } from '../../util/errors.ts';
import { parseCommandArgs } from '../args.ts';
import type { Command } from '../command.ts';

const METEOR_NOTE =
  'Note: METEOR runs without the paraphrase module (the paraphrase table is not obtainable), ' +
  'so it corresponds to METEOR_no_paraphrase (METEOR 1.5, modules exact stem synonym).';

export const metricsCommand: Command = {
  name: 'metrics',
  summary: 'E2E NLG metrics as the official scorer (metrics e2e --refs FILE --hyps FILE)',
  usage: [
    'Usage: lora-repro metrics e2e --refs <file> --hyps <file> [--json]',
    '',
    'Scores system outputs with the E2E NLG Challenge metrics, equal to tuetschek/e2e-metrics',
    'measure_scores.py: BLEU and NIST (mteval-v13a-sig.pl), METEOR, ROUGE_L and CIDEr (pycocoevalcap).',
    '  --refs  references: one per line, instances separated by one empty line',
    '  --hyps  system outputs: one per line (an empty line is an empty output)',
    '  --json  print {"BLEU","NIST","METEOR","ROUGE_L","CIDEr"} as JSON',
    METEOR_NOTE,
  ].join('\n'),
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      refs: { type: 'string' },
      hyps: { type: 'string' },
      json: { type: 'boolean', default: false },
    });
    if (positionals[0] !== 'e2e' || positionals.length !== 1) throw new UserError("only 'metrics e2e' exists (see --help)");
    if (values.refs === undefined || values.hyps === undefined) throw new UserError('metrics e2e needs --refs <file> and --hyps <file>');
    const { references, hypotheses } = loadE2EData(values.refs, values.hyps);
    const scores = scoreE2E(references, hypotheses);
    if (values.json) {
      console.log(JSON.stringify(scores));
      return 0;
    }
    const keys: Array<keyof E2EScores> = ['BLEU', 'NIST', 'METEOR', 'ROUGE_L', 'CIDEr'];
    for (const k of keys) console.log(`${k.padEnd(8)} ${scores[k].toFixed(4)}`);
    console.log(METEOR_NOTE);
    return 0;
  },
};
