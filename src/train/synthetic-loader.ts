/**
 * The SYNTHETIC stand-in tasks of the offline mini profile (src/data/synthetic.ts: synthetic-sst2,
 * -rte, -stsb, -e2e) as TaskData, through the same builders as GLUE and E2E. Their data depend only on
 * each task's fixed data seed, never on the run's seed; trainLimit/evalLimit subsample them like real
 * splits. Provenance records the generator and a hash of the generated examples, so a change of the
 * generators shows up as a different dataset.
 */
import { createHash } from 'node:crypto';
import {
  generateSyntheticE2e,
  generateSyntheticGlue,
  isSyntheticTask,
  syntheticGlueMetrics,
  syntheticSpec,
  type SyntheticGlueTaskName,
} from '../data/synthetic.ts';
import { UserError } from '../util/errors.ts';
import { subsampleIndices } from './seeds.ts';
import { buildE2eLikeTask, buildGlueLikeTask, evalSplitsToLoad, type TaskLoader } from './task-builders.ts';

function dataHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

export const syntheticLoader: TaskLoader = {
  name: 'synthetic',
  matches: isSyntheticTask,
  modelType: (task) => (syntheticSpec(task).kind === 'e2e' ? 'gpt2' : 'roberta'),
  async load(ctx) {
    const c = ctx.config;
    const spec = syntheticSpec(c.task);
    const wanted = evalSplitsToLoad(ctx).find((s) => s !== 'dev');
    if (wanted !== undefined) throw new UserError(`${spec.name} has only a dev split (got '${wanted}')`);
    const label = `${spec.name} (generator, data seed ${spec.dataSeed})`;
    if (spec.kind === 'glue') {
      const data = generateSyntheticGlue(spec.name as SyntheticGlueTaskName);
      const train = ctx.needTrain ? subsampleIndices(data.train.length, c.trainLimit).map((i) => data.train[i]) : [];
      const rows = subsampleIndices(data.dev.length, c.evalLimit);
      return buildGlueLikeTask(
        ctx,
        {
          task: spec.name,
          numLabels: spec.numLabels,
          labelNames: spec.labels.map((l) => l.name),
          metrics: (preds, labels) => syntheticGlueMetrics(spec, preds, labels).metrics as Record<string, number>,
          headline: spec.headline,
          headlineSplit: 'dev',
        },
        train,
        [{ name: 'dev', rows, examples: rows.map((i) => data.dev[i]) }],
        { [label]: dataHash([data.train, data.dev]) },
      );
    }
    const data = generateSyntheticE2e();
    const train = ctx.needTrain
      ? subsampleIndices(data.train.pairs.length, c.trainLimit).map((i) => {
          const p = data.train.pairs[i];
          return { mr: p.mr, ref: p.ref, where: `${spec.name} train pair ${i}` };
        })
      : [];
    const chosen = subsampleIndices(data.dev.instances.length, c.evalLimit).map((i) => ({ ...data.dev.instances[i], where: `${spec.name} dev MR ${i}` }));
    return buildE2eLikeTask(ctx, spec.name, train, [{ split: 'dev', instances: chosen }], { [label]: dataHash([data.train.pairs, data.dev.pairs]) });
  },
};
