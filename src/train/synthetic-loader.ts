/**
 * The SYNTHETIC stand-in tasks of the offline mini profile (src/data/synthetic.ts: synthetic-sst2,
 * -rte, -stsb, -e2e) as TaskData, through the same builders as GLUE and E2E. Their data depend only on
 * each task's fixed data seed, never on the run's seed; trainLimit/evalLimit subsample them and
 * heldoutSize holds out of them (heldout.ts) like real splits. Provenance records the generator and a hash of the generated examples, so a change of the
 * generators shows up as a different dataset.
 */
import { createHash } from 'node:crypto';
import {
  generateSyntheticE2e,
  generateSyntheticGlue,
  isSyntheticTask,
  syntheticSpec,
  type SyntheticGlueTaskName,
} from '../data/synthetic.ts';
import { scoreGlueMetrics } from '../eval/glue-metrics.ts';
import { UserError } from '../util/errors.ts';
import { holdOutExamples, holdOutMrs } from './heldout.ts';
import { subsampleIndices } from './seeds.ts';
import { buildE2eLikeTask, buildGlueLikeTask, evalSplitsToLoad, heldoutSizeToLoad, type TaskLoader } from './task-builders.ts';

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
    const size = heldoutSizeToLoad(ctx);
    if (spec.kind === 'glue') {
      const data = generateSyntheticGlue(spec.name as SyntheticGlueTaskName);
      const split = ctx.needTrain ? holdOutExamples(data.train.length, size, c.trainLimit, spec.name) : { heldout: [], train: [] };
      const rows = subsampleIndices(data.dev.length, c.evalLimit);
      return buildGlueLikeTask(
        ctx,
        {
          task: spec.name,
          numLabels: spec.numLabels,
          labelNames: spec.labels.map((l) => l.name),
          metrics: (preds, labels) => scoreGlueMetrics(spec, preds, labels).metrics as Record<string, number>,
          headline: spec.headline,
          headlineSplit: 'dev',
        },
        split.train.map((i) => data.train[i]),
        [{ name: 'dev', rows, examples: rows.map((i) => data.dev[i]) }],
        { [label]: dataHash([data.train, data.dev]) },
        size !== undefined ? { rows: split.heldout, examples: split.heldout.map((i) => data.train[i]) } : undefined,
      );
    }
    const data = generateSyntheticE2e();
    const pairs = data.train.pairs;
    const split = ctx.needTrain ? holdOutMrs(pairs, size, c.trainLimit, spec.name) : { heldout: [], train: [] };
    const train = split.train.map((i) => ({ mr: pairs[i].mr, ref: pairs[i].ref, where: `${spec.name} train pair ${i}` }));
    const heldout = size !== undefined ? split.heldout.map((h) => ({ mr: h.mr, refs: h.pairs.map((i) => pairs[i].ref), where: `${spec.name} held-out train MR (pair ${h.pairs[0]})` })) : undefined;
    const chosen = subsampleIndices(data.dev.instances.length, c.evalLimit).map((i) => ({ ...data.dev.instances[i], where: `${spec.name} dev MR ${i}` }));
    return buildE2eLikeTask(ctx, spec.name, train, [{ split: 'dev', instances: chosen }], { [label]: dataHash([data.train.pairs, data.dev.pairs]) }, heldout);
  },
};
