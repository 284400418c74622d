/**
 * `lora-repro mlflow sync`: replays the MLflow spool (data recorded while the tracking server was
 * unreachable) into the server. Safe to rerun: delivered data is acknowledged in the spool and
 * runs are matched by their run key, so nothing is sent twice.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { syncSpool, type SyncReport } from '../../tracking/sync.ts';
import { UserError } from '../../util/errors.ts';
import { numberFlag, parseCommandArgs } from '../args.ts';
import type { Command } from '../command.ts';

const usage = `Usage: lora-repro mlflow sync [--spool DIR]... [--tracking-uri URI] [--max-retry-seconds N]

Replays MLflow data spooled while the tracking server was unreachable.

Options:
  --spool DIR          spool directory (repeatable); default: every results/*/mlflow-spool
  --tracking-uri URI   MLflow server (default: $MLFLOW_TRACKING_URI)
  --max-retry-seconds N  how long one request may keep retrying before sync gives up (default 90)

Exit status: 0 when everything pending was delivered, 1 when the server was unreachable or some
spool could not be replayed (it is left in place), 2 on bad usage.`;

/** Every results/<profile>/mlflow-spool (and results/mlflow-spool) under the current directory. */
async function defaultSpoolDirs(): Promise<string[]> {
  const dirs: string[] = [];
  let entries: string[];
  try {
    entries = await readdir('results');
  } catch {
    return dirs;
  }
  for (const e of ['', ...entries.sort()]) {
    const dir = e === '' ? join('results', 'mlflow-spool') : join('results', e, 'mlflow-spool');
    try {
      if ((await stat(dir)).isDirectory()) dirs.push(dir);
    } catch {
      // no spool for this profile
    }
  }
  return dirs;
}

function summarize(r: SyncReport): string {
  return (
    `mlflow sync: ${r.filesSeen} spool file(s): ${r.runsCompleted} run(s) completed, ${r.runsOpen} still open, ` +
    `${r.runsCreated} created; sent ${r.metricsSent} metric(s) (${r.metricsAlreadyPresent} already on the server), ` +
    `${r.paramsSent} param(s), ${r.tagsSent} tag(s), ${r.artifactsSent} artifact(s)` +
    (r.artifactsSkipped > 0 ? `; ${r.artifactsSkipped} artifact(s) left out (${r.warnings.join('; ')})` : '')
  );
}

export const mlflowCommand: Command = {
  name: 'mlflow',
  summary: 'MLflow tracking utilities (sync: replay the offline spool)',
  usage,
  async run(argv: string[]): Promise<number> {
    const { values, positionals } = parseCommandArgs(argv, {
      spool: { type: 'string', multiple: true },
      'tracking-uri': { type: 'string' },
      'max-retry-seconds': { type: 'string' },
    });
    const [sub, ...extra] = positionals;
    if (sub !== 'sync') throw new UserError(sub === undefined ? `missing sub-command; ${usage.split('\n')[0]}` : `unknown sub-command '${sub}'; expected 'sync'`);
    if (extra.length > 0) throw new UserError(`unexpected argument '${extra[0]}'`);
    // Every flag is checked before anything is looked up, so a bad value is never silently ignored.
    const maxRetrySeconds = numberFlag('max-retry-seconds', values['max-retry-seconds'], 90);
    if (maxRetrySeconds < 0) throw new UserError(`--max-retry-seconds must be >= 0, got ${maxRetrySeconds}`);
    const trackingUri = (values['tracking-uri'] ?? process.env.MLFLOW_TRACKING_URI ?? '').trim();
    if (trackingUri === '') throw new UserError('no MLflow server: set MLFLOW_TRACKING_URI or pass --tracking-uri');
    const spoolDirs = values.spool ?? (await defaultSpoolDirs());
    for (const dir of values.spool ?? []) {
      const isDir = await stat(dir).then((st) => st.isDirectory(), () => false);
      if (!isDir) throw new UserError(`spool directory '${dir}' does not exist`);
    }
    if (spoolDirs.length === 0) {
      console.log('mlflow sync: no spool directories found (looked for results/*/mlflow-spool); nothing to do');
      return 0;
    }
    const report = await syncSpool({ spoolDirs, trackingUri, retry: { maxElapsedMs: maxRetrySeconds * 1000 } });
    console.log(summarize(report));
    for (const e of report.errors) console.error(`lora-repro mlflow: ${e}`);
    if (report.aborted !== undefined) {
      console.error(`lora-repro mlflow: ${report.aborted}; the rest stays in the spool, rerun 'lora-repro mlflow sync' later`);
      return 1;
    }
    return report.errors.length > 0 ? 1 : 0;
  },
};
