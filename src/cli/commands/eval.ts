/**
 * `lora-repro eval <run-dir>`: rebuilds a saved run's model (base weights + its saved trainable weights
 * and head) and evaluates it again with the task's metrics, next to the values the run recorded for
 * its reported checkpoint (by default on the split it reported). The same subset and settings give the
 * same numbers (training is deterministic and the saved checkpoint is the reported one).
 */
import { reportedOf } from '../../train/result-schema.ts';
import { evaluateSavedRun } from '../../train/evaluate-run.ts';
import { initBackend } from '../../backend/select.ts';
import { UserError } from '../../util/errors.ts';
import { intFlag, parseCommandArgs } from '../args.ts';
import type { Command } from '../command.ts';

export const evalCommand: Command = {
  name: 'eval',
  summary: "re-evaluate a saved run (base model + its saved weights) and print the task's metrics",
  usage: [
    'Usage: lora-repro eval <run-dir> [--split NAME] [--eval-limit N | --full] [--data-dir DIR] [--json]',
    '',
    '  <run-dir>         a directory written by `lora-repro train` (result.json + adapter/)',
    "  --split NAME      another evaluation split (GLUE: the task's dev split names; E2E: dev or test; default: the run's reported split)",
    "  --eval-limit N    evaluate on a fixed random subset of N examples (default: the run's own subset)",
    '  --full            the whole split',
    '  --data-dir DIR    the data directory (default: the run\'s, LORA_REPRO_DATA, ../shared/data)',
    '  --json            {"runId","split","metrics","recorded","bestEpoch"}',
  ].join('\n'),
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      split: { type: 'string' },
      'eval-limit': { type: 'string' },
      full: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
      json: { type: 'boolean', default: false },
      backend: { type: 'string' },
    });
    if (positionals.length !== 1) throw new UserError('expected exactly one run directory (see --help)');
    if (values.full && values['eval-limit'] !== undefined) throw new UserError('--full and --eval-limit exclude each other');
    await initBackend(values.backend);
    const evalLimit = values.full ? null : values['eval-limit'] !== undefined ? intFlag('eval-limit', values['eval-limit'], 0) : undefined;
    if (evalLimit === 0) throw new UserError('--eval-limit must be at least 1');
    const { saved, output } = await evaluateSavedRun(positionals[0], { evalSplit: values.split, evalLimit, dataDir: values['data-dir'] });
    const recorded = saved.result.metrics;
    const reported = reportedOf(saved.result);
    if (values.json) {
      console.log(JSON.stringify({ runId: saved.result.runId, split: values.split ?? null, metrics: output.metrics, recorded, bestEpoch: saved.result.bestEpoch }));
      return 0;
    }
    console.log(`run ${saved.result.runId}: ${saved.config.method} on ${saved.config.model} / ${saved.config.task}${values.split ? ` (split ${values.split})` : ''}`);
    const keys = [...new Set([...Object.keys(output.metrics), ...Object.keys(recorded)])];
    const w = Math.max(8, ...keys.map((k) => k.length));
    console.log(`${'metric'.padEnd(w)}  ${'now'.padStart(10)}  ${`recorded (${reported.split}, epoch ${reported.epoch ?? '-'})`.padStart(22)}`);
    const show = (v: number | undefined): string => (v === undefined ? '-' : v.toFixed(4));
    for (const k of keys) console.log(`${k.padEnd(w)}  ${show(output.metrics[k]).padStart(10)}  ${show(recorded[k]).padStart(22)}`);
    return 0;
  },
};
