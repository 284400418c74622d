/**
 * `lora-repro analyze section7` and `analyze intrinsic`: the Section 7 and intrinsic-dimension pages
 * of a results folder (src/report/section7-page.ts, intrinsic-page.ts), dispatched from analyze.ts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeIntrinsic } from '../../report/intrinsic-page.ts';
import { dintText } from '../../report/intrinsic.ts';
import { loadResults, resolveProfile } from '../../report/results.ts';
import { section7Markdown } from '../../report/section7-format.ts';
import { writeSection7 } from '../../report/section7-page.ts';
import { UserError } from '../../util/errors.ts';
import { parseCommandArgs } from '../args.ts';

export const STUDIES = ['section7', 'intrinsic'] as const;

export const STUDY_USAGE = [
  'Usage: lora-repro analyze section7 [--results DIR] [--profile P] [--out DIR] [--quiet]',
  '       lora-repro analyze intrinsic [--results DIR] [--profile P] [--lora-results DIR] [--out DIR] [--quiet]',
  '',
  'section7: paper Section 7 from the runs of experiments/section7.yaml in <results>/<profile>/: Tables 5',
  '  and 6 (mean ± std over seeds beside the paper), Figures 3/4 (φ heatmaps of the W_q+W_v adapters,',
  '  r=8 vs r=64 and two seeds at r=64, with the random expectation), Table 7 (ΔW vs the pre-trained W',
  '  the runs started from, r=4 and 64, per layer and averaged) and the paper\'s findings with verdicts.',
  '  Writes section7.{json,md,tex,csv,html}, charts/section7-*.{svg,png} and analysis/section7-*/.',
  'intrinsic: the runs of experiments/intrinsic.yaml: score against the subspace dimension d, full',
  '  fine-tuning as the 100% line, d_int90 with its seed spread, LoRA\'s counts at r = 1..64 on the',
  '  same axis; --lora-results DIR (default: <results>/../section7 when it holds the profile) adds',
  '  LoRA\'s W_q+W_v scores from a section7 results root. Writes intrinsic.{json,md,tex,csv,html}, charts/.',
  '  --results    results root (default: results/section7 or results/intrinsic)',
  '  --profile    results profile (default: the only one there)',
  '  --out        where the tables, charts and page go (default: <results>/<profile>; make section7 and',
  '               make intrinsic write them to results/<profile>/, beside Tables 2 and 3)',
  '  --quiet      do not print the tables',
].join('\n');

export async function runStudy(study: (typeof STUDIES)[number], argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    results: { type: 'string', default: join('results', study) },
    profile: { type: 'string' },
    'lora-results': { type: 'string' },
    out: { type: 'string' },
    quiet: { type: 'boolean', default: false },
  });
  if (positionals.length > 0) throw new UserError(`analyze ${study} takes no positional arguments (got '${positionals.join(' ')}')`);
  if (study === 'section7' && values['lora-results'] !== undefined) throw new UserError('--lora-results belongs to analyze intrinsic');
  const { dir, profile } = resolveProfile(values.results as string, values.profile);
  const folder = loadResults(dir, profile);
  if (study === 'section7') {
    const out = await writeSection7(folder, { out: values.out, log: (l) => console.error(l) });
    if (!values.quiet) console.log(section7Markdown(out.model));
    console.error(`wrote ${out.files.join(', ')} and ${out.charts.length} chart(s)`);
    return 0;
  }
  const given = values['lora-results'];
  const loraRoot = given ?? join(values.results as string, '..', 'section7');
  let lora: { folder: ReturnType<typeof loadResults> } | undefined;
  if (existsSync(join(loraRoot, profile, 'runs'))) lora = { folder: loadResults(join(loraRoot, profile), profile) };
  else if (given !== undefined) throw new UserError(`--lora-results ${given}: no ${join(given, profile, 'runs')} (run make section7 PROFILE=${profile} first, or leave the flag out)`);
  const out = await writeIntrinsic(folder, lora, values.out);
  if (!values.quiet) for (const t of out.model.tasks) console.log(`${t.info.task} (${t.info.model}): d_int90 ${dintText(t)}; d_int90 of the gain over the untrained baseline ${dintText(t, 'gain')}`);
  console.error(`wrote ${out.files.join(', ')} and ${out.charts.length} chart(s)`);
  return 0;
}
