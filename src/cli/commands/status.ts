/** `lora-repro status <spec>`: the state of every run of a profile, local or on Slurm (src/runner/slurm-state.ts). */
import { applyFilters } from '../../spec/filter.ts';
import { expandSpec, type PlannedRun } from '../../spec/expand.ts';
import { loadSpecFile } from '../../spec/load.ts';
import { profileResultsDir, resultsPaths } from '../../runner/paths.ts';
import { scanResults } from '../../runner/results-store.ts';
import { SlurmCommands, SlurmMissingError, type SlurmClient } from '../../runner/slurm-client.ts';
import { readSubmissions, taskLogPath } from '../../runner/slurm-records.ts';
import { countStates, formatCounts, jobIdOf, observeSlurm, runStates, type RunState, type SlurmView } from '../../runner/slurm-state.ts';
import { UserError } from '../../util/errors.ts';
import { parseCommandArgs } from '../args.ts';
import type { Command } from '../command.ts';

function detail(s: RunState, view: SlurmView): string {
  switch (s.kind) {
    case 'finished': {
      const v = s.result.metrics[s.result.headlineMetric];
      return `${s.result.headlineMetric}=${v === undefined ? 'n/a' : v.toFixed(4)}`;
    }
    case 'running':
      return `job ${s.jobId}_${s.task.taskIndex} on ${s.nodes || '?'} (${s.state.toLowerCase()})`;
    case 'queued':
      return `job ${s.jobId}_${s.task.taskIndex} (${s.state.toLowerCase()}: ${s.reason})`;
    case 'failed': {
      const job = s.task === undefined ? undefined : jobIdOf(s.task.array, view.queue);
      const log = s.task !== undefined && job !== undefined ? `; log ${taskLogPath(s.task.submission, job, s.task.taskIndex)}` : '';
      return `${s.result.status}: ${s.result.error ?? 'no error recorded'}${log}`;
    }
    case 'pending':
      return s.why;
  }
}

function formatStatus(runs: readonly PlannedRun[], states: ReadonlyMap<string, RunState>, view: SlurmView): string[] {
  const rows = runs.map((r) => {
    const s = states.get(r.runId) as RunState;
    const method = `${r.config.method}${r.config.variant ? ` (${r.config.variant})` : ''}`;
    return [s.kind, r.row, method, r.config.task, `seed ${r.config.seed}`, r.runId, detail(s, view)];
  });
  const widths = [0, 1, 2, 3, 4, 5].map((i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => row.map((c, i) => (i < 6 ? c.padEnd(widths[i]) : c)).join('  '));
}

export async function statusLines(argv: string[], client: SlurmClient = new SlurmCommands()): Promise<string[]> {
  const { values, positionals } = parseCommandArgs(argv, {
    profile: { type: 'string' },
    rehearse: { type: 'boolean', default: false },
    results: { type: 'string', default: 'results' },
    filter: { type: 'string', multiple: true },
  });
  if (positionals.length !== 1) throw new UserError(`expected exactly one spec file, got ${positionals.length} (see --help)`);
  const expansion = expandSpec(loadSpecFile(positionals[0]), { profile: values.profile, rehearse: values.rehearse });
  const runs = applyFilters(expansion.runs, values.filter ?? []);
  const paths = resultsPaths(profileResultsDir(values.results!, expansion.profile));
  const lines: string[] = [];
  let view: SlurmView;
  try {
    view = await observeSlurm(paths, client, { acct: true, warn: (l) => lines.push(l) });
  } catch (err) {
    if (!(err instanceof SlurmMissingError)) throw err;
    // Submitted from a login node, looked at from elsewhere: the results folder still says what ended.
    lines.push(`lora-repro status: ${err.message.split(':')[0]}: Slurm's queue is not known here; runs without a result show as pending`);
    view = { submissions: readSubmissions(paths), tasks: new Map(), queue: new Map(), acct: undefined };
  }
  const states = runStates(runs, scanResults(paths).byId, view);
  const jobs = [...new Set(view.submissions.flatMap((s) => s.arrays.map((a) => jobIdOf(a, view.queue)).filter((j) => j !== undefined)))];
  lines.unshift(
    `${expansion.experiment} · profile ${expansion.profile}: ${runs.length} run(s): ${formatCounts(countStates(states.values()))} → ${paths.root}` +
      (view.submissions.length ? `; Slurm: ${view.submissions.length} submission(s), job(s) ${jobs.join(', ') || 'unknown'}${view.acct === undefined ? ' (no accounting: reasons from the task logs)' : ''}` : ''),
  );
  return [...lines, ...formatStatus(runs, states, view)];
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'the state of every run of a spec: finished, running (job id), queued, failed (reason), pending',
  usage: [
    'Usage: lora-repro status <spec.yaml> [--profile P] [--rehearse] [--results DIR] [--filter EXPR]...',
    '',
    'One line per run of the profile: finished (headline metric), running (Slurm job and node), queued (why),',
    'failed or blocked (the error recorded, the task log), pending (not submitted, or its Slurm task ended without',
    'a result: sacct\'s state when accounting is on, else what the task log says: cancelled, time limit, …).',
    'Reads the results folder and asks squeue/sacct; changes nothing.',
  ].join('\n'),
  async run(argv) {
    for (const line of await statusLines(argv)) console.log(line);
    return 0;
  },
};
