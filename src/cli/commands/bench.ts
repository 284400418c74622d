/** `lora-repro bench train`: median training-step time of a mini model on this machine. */
import { initBackend } from '../../backend/select.ts';
import { runTrainBench } from '../../bench/train-bench.ts';
import { UserError } from '../../util/errors.ts';
import { intFlag, parseCommandArgs } from '../args.ts';
import type { Command } from '../command.ts';

export const benchCommand: Command = {
  name: 'bench',
  summary: 'benchmark a training step (bench train --model mini-roberta|mini-gpt2 --method lora|ft)',
  usage: [
    'Usage: lora-repro bench train --model mini-roberta|mini-gpt2 --method lora|ft',
    '                              [--batch 16] [--seq 128] [--steps 10] [--warmup 2] [--json] [--backend B]',
    '',
    'Builds the model with random weights (mini-* = 4 layers, d_model 256, 4 heads, FFN 1024, vocab 8000),',
    'runs warm-up steps, then prints the median ms/step, tokens/s, peak RSS, backend and threads.',
    'LoRA: r = 8, alpha = 16 on W_q and W_v (+ the classification head); ft: every weight.',
  ].join('\n'),
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      model: { type: 'string', default: 'mini-roberta' },
      method: { type: 'string', default: 'lora' },
      batch: { type: 'string' },
      seq: { type: 'string' },
      steps: { type: 'string' },
      warmup: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean', default: false },
      backend: { type: 'string' },
    });
    if (positionals[0] !== 'train') throw new UserError("only 'bench train' exists (see --help)");
    if (values.method !== 'lora' && values.method !== 'ft') throw new UserError(`--method must be lora or ft, got '${values.method}'`);
    await initBackend(values.backend);
    const r = runTrainBench({
      model: values.model!,
      method: values.method,
      batch: intFlag('batch', values.batch, 16),
      seq: intFlag('seq', values.seq, 128),
      steps: Math.max(1, intFlag('steps', values.steps, 10)),
      warmup: intFlag('warmup', values.warmup, 2),
      seed: intFlag('seed', values.seed, 0),
    });
    if (values.json) {
      console.log(JSON.stringify(r, null, 2));
      return 0;
    }
    console.log(
      `${r.model} ${r.method}  batch ${r.batch} × seq ${r.seq}  ${r.msPerStep.toFixed(0)} ms/step (median of ${r.steps})  ` +
        `${r.tokensPerSecond.toFixed(0)} tokens/s  peak RSS ${r.peakRssMiB.toFixed(0)} MiB  ` +
        `trainable ${r.trainableParams.toLocaleString('en-US')}  backend ${r.backend} (threads ${r.threads}, SIMD ${r.simd ? 'on' : 'off'})`,
    );
    return 0;
  },
};
