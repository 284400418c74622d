/** `lora-repro run <spec>`: expand an experiment spec and run what is not finished yet. */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { applyFilters } from '../../spec/filter.ts';
import { expandSpec } from '../../spec/expand.ts';
import { loadSpecFile } from '../../spec/load.ts';
import { checkSpecReferences } from '../../report/spec-references.ts';
import { describeCaps } from '../../spec/rehearsal.ts';
import type { Expansion } from '../../spec/expand.ts';
import { DEFAULT_EXECUTOR_MODULE, resolveExecutorModule } from '../../runner/executor.ts';
import { buildPlan, formatPlan } from '../../runner/plan.ts';
import { runExperiment } from '../../runner/runner.ts';
import { resolveModel } from '../../runner/model-resolver.ts';
import { preparePretrainedModels } from '../../runner/pretrained-models.ts';
import { UserError } from '../../util/errors.ts';
import { gpuDeviceCount, gpuProblem, initBackend } from '../../backend/select.ts';
import { intFlag, numberFlag, parseCommandArgs } from '../args.ts';
import type { Command } from '../command.ts';
import { checkNoSlurmFlags, refuseIfSlurmActive, runSlurm, SLURM_FLAGS, SLURM_USAGE } from './run-slurm.ts';

export const runCommand: Command = {
  name: 'run',
  summary: 'run an experiment spec (experiments/*.yaml): resumable, multi-seed, tracked',
  usage: [
    'Usage: lora-repro run <spec.yaml> [--profile P] [--rehearse] [--filter EXPR]... [--workers N] [--dry-run] [--results DIR]',
    '                      [--ms-per-token X] [--micro-batch N] [--executor local|slurm] [--executor-module MODULE] [--backend B]',
    '                      [--executor slurm [--partition P] [--gpus-per-run N] [--cpus-per-run N] [--mem M] [--time T]',
    '                       [--max-parallel N] [--account A] [--requeue] [--sbatch-arg ARG]... [--wait]]',
    '',
    'Expands the spec (grid × profile) into runs keyed by a hash of their resolved config, skips runs whose',
    'result is already in results/<profile>/runs/<runId>.json (status finished), and runs the rest in worker',
    'processes. Each result is written atomically and added to results/<profile>/runs.csv exactly once;',
    'kill it at any moment and run the same command again to resume. Failed runs are recorded as failed,',
    'do not stop the others, and are retried by the next invocation. A run that starts from another run',
    '(initFrom) runs after it; if that one failed it is recorded blocked, and --filter takes unfinished parents along.',
    '',
    '  --profile P        a profile of the spec (paper, mini, …); default: the spec\'s defaultProfile, else paper',
    '  --filter EXPR      select runs: key=value[,key=value…] (AND), value alternatives with |, * and ? globs,',
    '                     key!=value negates. Keys: row, label, model, method, variant, task, seed, any config',
    '                     field, methodConfig.<k>, decoding.<k>. Repeatable (AND). E.g. task=rte,method=lora',
    '  --workers N        parallel worker processes (default: the number of cores)',
    '  --dry-run          print the plan (counts per row, finished / to run) and a cost estimate; runs nothing',
    '  --results DIR      parent of the per-profile result directories (default: results)',
    '  --ms-per-token X   cost model override for --dry-run (ms per training token, padding not counted)',
    '  --micro-batch N    most examples per forward/backward pass of every run (default: its batchSize, one',
    '                     pass per simulated device); gradients are accumulated, run ids do not change',
    '  --executor-module MODULE  module exporting runTraining(config, opts) (default src/train/trainer.ts;',
    '                     also LORA_REPRO_EXECUTOR; test/helpers/fake-executor.ts exercises the bookkeeping)',
    '  --executor E       where runs execute: local (default: worker processes here) or slurm (see below)',
    ...SLURM_USAGE,
    '  --backend B        tensor backend of the workers (sets LORA_REPRO_BACKEND for them)',
    '  --quiet            print one line per finished run, not the runs\' own log lines (still in runs/<runId>/train.log)',
    '  --allow-cpu        run the paper profile even without a hardware GPU (it refuses by default)',
    '  --workers-per-gpu N  with a GPU backend and no --workers: N workers per device, each pinned to it (default 1)',
    '  --rehearse         rehearse the profile on any backend: its models, data sources, methods, batch, devices',
    '                     and initFrom chains, with sizes capped (first seed, 1 epoch, 16 training / 8 evaluation',
    '                     examples, …); results go to results/<profile>-rehearsal/ and every table says so. Rows',
    '                     whose model cannot run here (no architecture) are left out, in one printed line',
    '',
    'MLflow: with MLFLOW_TRACKING_URI set, each table cell is a parent run and each seed a child run',
    '(see docs/mlflow.md); without it nothing is sent and nothing fails.',
    'Exit code: 0 when every selected run is finished, 1 if any failed or was blocked, 2 for bad input, 130 if interrupted.',
    'With --executor slurm: 0 once submitted (nothing to submit included); with --wait, as above when the arrays end.',
  ].join('\n'),
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      profile: { type: 'string' },
      filter: { type: 'string', multiple: true },
      workers: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      results: { type: 'string', default: 'results' },
      'ms-per-token': { type: 'string' },
      'micro-batch': { type: 'string' },
      executor: { type: 'string' },
      'executor-module': { type: 'string' },
      ...SLURM_FLAGS,
      backend: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      'allow-cpu': { type: 'boolean', default: false },
      rehearse: { type: 'boolean', default: false },
      'workers-per-gpu': { type: 'string' },
    });
    if (positionals.length !== 1) throw new UserError(`expected exactly one spec file, got ${positionals.length} (see --help)`);
    const workers = intFlag('workers', values.workers, availableParallelism());
    if (workers < 1) throw new UserError('--workers expects at least 1');
    const msPerToken = values['ms-per-token'] === undefined ? undefined : numberFlag('ms-per-token', values['ms-per-token'], 0);
    if (msPerToken !== undefined && !(msPerToken > 0)) throw new UserError('--ms-per-token expects a positive number');

    const microBatchSize = values['micro-batch'] === undefined ? undefined : intFlag('micro-batch', values['micro-batch'], 0);
    if (microBatchSize !== undefined && microBatchSize < 1) throw new UserError('--micro-batch expects at least 1');
    const executorFlag = values.executor ?? 'local';
    if (executorFlag !== 'local' && executorFlag !== 'slurm') {
      throw new UserError(`--executor expects local or slurm, got '${executorFlag}' (an executor module goes in --executor-module)`);
    }
    const slurm = executorFlag === 'slurm';
    const moduleFlag = values['executor-module'];
    if (!slurm) checkNoSlurmFlags(values);
    else if (values.workers !== undefined || values['workers-per-gpu'] !== undefined) {
      throw new UserError('--workers and --workers-per-gpu are for the local executor; with --executor slurm, --max-parallel limits the tasks running at once');
    }
    const loaded = loadSpecFile(positionals[0]);
    checkSpecReferences(loaded, positionals[0]);
    const expansion = expandSpec(loaded, { profile: values.profile, rehearse: values.rehearse });
    for (const line of rehearsalLines(expansion, values.results!)) console.log(line);
    const filters = values.filter ?? [];
    // Not part of run ids (run-identity.ts): setting it after expansion keeps every run's key.
    const selected = applyFilters(expansion.runs, filters).map((r) => (microBatchSize === undefined ? r : { ...r, config: { ...r.config, microBatchSize } }));
    if (selected.length === 0) {
      throw new UserError(`--filter ${filters.map((f) => `'${f}'`).join(' ')} matches none of the ${expansion.runs.length} runs of ${expansion.file} (profile ${expansion.profile})`);
    }
    if (values['dry-run']) {
      const plan = buildPlan(expansion, selected, { resultsRoot: values.results!, workers, msPerToken });
      if (slurm) return runSlurm({ loaded, expansion, selected, values, resultsRoot: values.results!, msPerToken, taskFlags: [], dryRunPlan: formatPlan(expansion, plan, filters) });
      console.log(formatPlan(expansion, plan, filters));
      return 0;
    }
    if (slurm) {
      // Each task checks its own node (backend, GPU, models); here only what every task shares is prepared.
      const executorModule = resolveExecutorModule(moduleFlag);
      const taskFlags = [
        ...(executorModule !== DEFAULT_EXECUTOR_MODULE ? ['--executor-module', executorModule] : []),
        ...(values.backend !== undefined ? ['--backend', values.backend] : []),
        ...(microBatchSize !== undefined ? ['--micro-batch', String(microBatchSize)] : []),
        ...(values['allow-cpu'] ? ['--allow-cpu'] : []),
        ...(values.quiet ? ['--quiet'] : []),
      ];
      const prepare = async (runs: typeof selected): Promise<void> => {
        if (executorModule !== DEFAULT_EXECUTOR_MODULE) return;
        const pretrained = await preparePretrainedModels(runs.map((r) => r.config.model), { dataDir: runs[0]?.config.dataDir, log: (line) => console.log(`pretrain: ${line}`) });
        for (const m of new Set(runs.map((r) => r.config.model))) if (!pretrained.has(m)) resolveModel(m);
      };
      return runSlurm({ loaded, expansion, selected, values, resultsRoot: values.results!, msPerToken, taskFlags, prepare });
    }

    // A rehearsal is meant for any machine, CPU included: its sizes are capped.
    if (expansion.profile === 'paper' && expansion.rehearsal === undefined && !values['allow-cpu']) {
      // The paper profile trains 125M–774M-parameter models: refuse up front on a CPU backend.
      const backend = await initBackend(values.backend);
      const problem = gpuProblem(backend);
      if (problem !== undefined) {
        const plan = buildPlan(expansion, selected, { resultsRoot: values.results!, workers, msPerToken });
        const hours = plan.wallMs / 3_600_000;
        throw new UserError(
          `profile 'paper' needs a hardware GPU, but ${problem} ` +
            `(estimated ${hours.toFixed(0)} h here for ${plan.total.toRun} runs): run on a machine with a GPU ` +
            `(--backend webgpu, or tfjs-node-gpu with CUDA 11.2), or use --profile mini (or --allow-cpu to insist)`,
        );
      }
    }
    // One worker per GPU (or --workers-per-gpu), each pinned to its device (worker-pool.ts).
    const gpus = values.workers === undefined ? gpuDeviceCount(await initBackend(values.backend)) : 0;
    const perGpu = intFlag('workers-per-gpu', values['workers-per-gpu'], 1);
    if (perGpu < 1) throw new UserError('--workers-per-gpu expects at least 1');

    const executorModule = resolveExecutorModule(moduleFlag);
    const env = {
      ...process.env,
      ...(values.backend !== undefined ? { LORA_REPRO_BACKEND: values.backend } : {}),
      ...(gpus > 0 ? { LORA_REPRO_GPUS: String(gpus) } : {}),
    };
    const controller = new AbortController();
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals): void => {
      signals++;
      if (signals > 1) process.exit(130);
      console.error(`lora-repro run: ${sig}: stopping the workers; unfinished runs restart on the next run (press again to quit now)`);
      controller.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      // Stand-in models (mini-roberta, mini-gpt2) are pretrained (or taken from the cache) here, once —
      // only for the real trainer: another executor (the fake one) never reads the weights.
      const pretrained =
        executorModule === DEFAULT_EXECUTOR_MODULE
          ? await preparePretrainedModels(selected.map((r) => r.config.model), { dataDir: selected[0]?.config.dataDir, log: (line) => console.log(`pretrain: ${line}`) })
          : new Map<string, string>();
      const summary = await runExperiment(expansion, selected, {
        resolveModel: (name) => pretrained.get(name) ?? resolveModel(name),
        resultsRoot: values.results!,
        workers: gpus > 0 ? Math.min(gpus * perGpu, workers) : workers,
        executorModule,
        env,
        signal: controller.signal,
        quiet: values.quiet,
        underLock: (paths) => refuseIfSlurmActive(paths),
      });
      console.log(
        `done: ${summary.finished} finished, ${summary.failed} failed, ${summary.blocked ? `${summary.blocked} blocked (their parent run failed), ` : ''}${summary.skipped} were already finished` +
          `${summary.interrupted ? ' (interrupted)' : ''} → ${summary.resultsDir}/runs.csv`,
      );
      if (summary.interrupted) return 130;
      return summary.failed + summary.blocked > 0 ? 1 : 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};

/** What a rehearsal does and which rows it leaves out (one line for those): nothing otherwise. */
function rehearsalLines(expansion: Expansion, resultsRoot: string): string[] {
  const r = expansion.rehearsal;
  if (r === undefined) return [];
  const lines = [`rehearsal of profile '${r.of}' → ${join(resultsRoot, expansion.profile)}/: ${describeCaps()}`];
  if (r.leftOut.length > 0) {
    const reasons = [...new Set(r.leftOut.map((x) => x.reason))].join('; ');
    lines.push(`rehearsal: not rehearsed: rows ${r.leftOut.map((x) => x.row).join(', ')}: ${reasons}`);
  }
  return lines;
}
