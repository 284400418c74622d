/** `lora-repro run-one <spec> --run-id ID`: one run by id, as one Slurm array task runs it (src/runner/slurm-task.ts). */
import { expandSpec } from '../../spec/expand.ts';
import { loadSpecFile } from '../../spec/load.ts';
import { DEFAULT_EXECUTOR_MODULE, resolveExecutorModule } from '../../runner/executor.ts';
import { resolveModel } from '../../runner/model-resolver.ts';
import { preparePretrainedModels } from '../../runner/pretrained-models.ts';
import { runOne } from '../../runner/slurm-task.ts';
import { gpuProblem, initBackend } from '../../backend/select.ts';
import { UserError } from '../../util/errors.ts';
import { intFlag, parseCommandArgs } from '../args.ts';
import type { Command } from '../command.ts';

export const runOneCommand: Command = {
  name: 'run-one',
  summary: 'run one run of a spec by its id (what each Slurm array task of `run --executor slurm` does)',
  usage: [
    'Usage: lora-repro run-one <spec.yaml> --run-id ID [--profile P] [--rehearse] [--results DIR] [--executor-module MODULE]',
    '                          [--backend B] [--micro-batch N] [--allow-cpu] [--quiet]',
    '',
    'Runs the run ID of the spec\'s profile through the same path as a local worker (a forked worker process,',
    'the same validation) and commits it the same way: results/<profile>/runs/<ID>.json written atomically, then',
    'its runs.csv row (a locked rewrite, safe with many tasks on several hosts writing the same folder), then',
    'MLflow (spooled to results/<profile>/mlflow-spool when the server cannot be reached: `lora-repro mlflow sync`).',
    'A run that is already finished is not run again. A run that starts from another (initFrom) whose parent',
    'has no finished result is recorded blocked. SIGTERM (scancel, a time limit, preemption) stops the run',
    'without recording it: it stays unfinished and the next `run --executor slurm` submits it again.',
    '',
    'Exit code: 0 when the run is finished, 1 when it failed or is blocked, 2 for bad input, 143 if stopped.',
  ].join('\n'),
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      'run-id': { type: 'string' },
      profile: { type: 'string' },
      rehearse: { type: 'boolean', default: false },
      results: { type: 'string', default: 'results' },
      'executor-module': { type: 'string' },
      backend: { type: 'string' },
      'micro-batch': { type: 'string' },
      'allow-cpu': { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
    });
    if (positionals.length !== 1) throw new UserError(`expected exactly one spec file, got ${positionals.length} (see --help)`);
    const runId = values['run-id'];
    if (runId === undefined || !/^[A-Za-z0-9._-]+$/.test(runId)) throw new UserError('--run-id expects the id of a run of the spec (see `lora-repro status`)');
    const microBatchSize = values['micro-batch'] === undefined ? undefined : intFlag('micro-batch', values['micro-batch'], 0);
    if (microBatchSize !== undefined && microBatchSize < 1) throw new UserError('--micro-batch expects at least 1');
    const executorModule = resolveExecutorModule(values['executor-module']);
    const loaded = loadSpecFile(positionals[0]);
    const expansion0 = expandSpec(loaded, { profile: values.profile, rehearse: values.rehearse });
    // Not part of run ids: set after expansion, as `run --micro-batch` does.
    const expansion = microBatchSize === undefined ? expansion0 : { ...expansion0, runs: expansion0.runs.map((r) => ({ ...r, config: { ...r.config, microBatchSize } })) };
    const run = expansion.runs.find((r) => r.runId === runId);

    const isTrainer = executorModule === DEFAULT_EXECUTOR_MODULE;
    if (isTrainer && run !== undefined && expansion.profile === 'paper' && !values['allow-cpu']) {
      const problem = gpuProblem(await initBackend(values.backend));
      if (problem !== undefined) throw new UserError(`profile 'paper' needs a hardware GPU, but ${problem} on this node: check the partition and --gpus-per-run (or --allow-cpu to insist)`);
    }
    // The stand-ins come from the shipped artifacts or the cache the submitter filled; nothing pretrains here unless missing.
    const pretrained = isTrainer && run !== undefined ? await preparePretrainedModels([run.config.model], { dataDir: run.config.dataDir, log: (l) => console.log(`pretrain: ${l}`) }) : new Map<string, string>();
    const env = { ...process.env, ...(values.backend !== undefined ? { LORA_REPRO_BACKEND: values.backend } : {}) };

    const controller = new AbortController();
    const onSignal = (sig: NodeJS.Signals): void => {
      console.error(`lora-repro run-one: ${sig}: stopping run ${runId}; it stays unfinished (not recorded) and is submitted again by the next run`);
      controller.abort();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    try {
      const out = await runOne(expansion, {
        resultsRoot: values.results!,
        runId,
        executorModule,
        env,
        resolveModel: (name) => pretrained.get(name) ?? (isTrainer ? resolveModel(name) : name),
        signal: controller.signal,
        log: values.quiet ? () => {} : (l) => console.log(l),
      });
      if (out.kind === 'interrupted') return 143;
      const r = out.result;
      console.log(`${out.kind === 'already-finished' ? 'already finished' : r.status} ${r.runId}: ${r.model} ${r.method} ${r.task} seed ${r.seed}${r.error ? `: ${r.error}` : ''}`);
      return r.status === 'finished' ? 0 : 1;
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
  },
};
