/** The options every report command shares: which results folder and profile, aggregation, data dir. */
import { AGGS, type Agg } from '../report/aggregate.ts';
import { loadResults, resolveProfile } from '../report/results.ts';
import { optionalDataDir } from '../report/tables.ts';
import { UserError } from '../util/errors.ts';
import { parseCommandArgs } from './args.ts';

export function parseProfileArgs(command: string, argv: string[]) {
  const { values, positionals } = parseCommandArgs(argv, {
    profile: { type: 'string' },
    results: { type: 'string', default: 'results' },
    agg: { type: 'string' },
    'data-dir': { type: 'string' },
  });
  if (positionals.length > 0) throw new UserError(`${command} takes no positional arguments (got '${positionals.join(' ')}')`);
  if (values.agg !== undefined && !AGGS.includes(values.agg as Agg)) throw new UserError(`--agg must be mean or median, got '${values.agg}'`);
  const { dir, profile } = resolveProfile(values.results as string, values.profile);
  return { folder: loadResults(dir, profile), agg: values.agg as Agg | undefined, dataDir: optionalDataDir(values['data-dir']) };
}
