/**
 * `lora-repro bench train`: median training-step time of a benchmark model (bench-roberta, bench-gpt2: d_model 256) on this machine.
 * `lora-repro bench compare`: the same step, ours and PyTorch's, side by side (src/bench/compare.ts).
 */
import { initBackend } from '../../backend/select.ts';
import { PAPER_DECODING } from '../../generate/paper-decoding.ts';
import { formatCompare, runCompare } from '../../bench/compare.ts';
import { runTrainBench } from '../../bench/train-bench.ts';
import { runDecodeBench } from '../../bench/decode-bench.ts';
import { UserError } from '../../util/errors.ts';
import { intFlag, parseCommandArgs } from '../args.ts';
import type { Command } from '../command.ts';

const MODELS = ['bench-roberta', 'bench-gpt2'];

function listFlag(name: string, value: string | undefined, fallback: string): string[] {
  const items = (value ?? fallback).split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new UserError(`--${name} expects a comma-separated list`);
  return items;
}

async function compare(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    models: { type: 'string' },
    methods: { type: 'string' },
    seqs: { type: 'string' },
    batch: { type: 'string' },
    steps: { type: 'string' },
    warmup: { type: 'string' },
    threads: { type: 'string' },
    python: { type: 'string' },
    backend: { type: 'string' },
    json: { type: 'boolean', default: false },
  }, false);
  const models = listFlag('models', values.models, 'bench-roberta');
  for (const m of models) if (!MODELS.includes(m)) throw new UserError(`--models: '${m}' has no PyTorch reference (choose from ${MODELS.join(', ')})`);
  const methods = listFlag('methods', values.methods, 'lora,ft');
  for (const m of methods) if (m !== 'lora' && m !== 'ft') throw new UserError(`--methods: '${m}' is not lora or ft`);
  const seqs = listFlag('seqs', values.seqs, '64,128,256').map((s) => intFlag('seqs', s, 0));
  const result = runCompare({
    models,
    methods: methods as ('lora' | 'ft')[],
    seqs,
    batch: intFlag('batch', values.batch, 16),
    steps: Math.max(1, intFlag('steps', values.steps, 5)),
    warmup: intFlag('warmup', values.warmup, 1),
    threads: Math.max(1, intFlag('threads', values.threads, 1)),
    python: values.python,
    backend: values.backend,
    log: values.json ? undefined : (l) => process.stderr.write(`${l}\n`),
  });
  if (values.json) console.log(JSON.stringify(result, null, 2));
  else console.log(formatCompare(result));
  return 0;
}

async function decode(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    model: { type: 'string', default: 'bench-gpt2' },
    beam: { type: 'string' },
    prompt: { type: 'string' },
    'max-length': { type: 'string' },
    'new-tokens': { type: 'string' },
    seed: { type: 'string' },
    backend: { type: 'string' },
    json: { type: 'boolean', default: false },
  }, false);
  await initBackend(values.backend);
  const r = await runDecodeBench({
    model: values.model!,
    beam: Math.max(1, intFlag('beam', values.beam, PAPER_DECODING.beam)),
    prompt: Math.max(1, intFlag('prompt', values.prompt, 32)),
    maxLength: intFlag('max-length', values['max-length'], 512),
    newTokens: Math.max(1, intFlag('new-tokens', values['new-tokens'], 64)),
    seed: intFlag('seed', values.seed, 0),
  });
  if (values.json) {
    console.log(JSON.stringify(r, null, 2));
    return 0;
  }
  console.log(`${r.model}, beam ${r.beam}: ms per new token (all ${r.beam} beams, KV cache) by sequence length`);
  for (const w of r.perToken) console.log(`  length ${String(w.fromLength).padStart(4)}–${String(w.toLength).padEnd(4)}  ${w.ms.toFixed(1).padStart(7)} ms`);
  console.log(`  growth last/first window: ${r.growth.toFixed(2)}×`);
  console.log(
    `E2E beam search (beam ${r.beam}, prompt ${r.e2e.prompt}, ${r.e2e.newTokens} new tokens, no-repeat-${PAPER_DECODING.noRepeatNgramSize}-gram): ${r.e2e.seconds.toFixed(2)} s, ` +
      `${r.e2e.tokensPerSecond.toFixed(1)} tokens/s (${r.e2e.beamTokensPerSecond.toFixed(0)} beam-tokens/s)`,
  );
  console.log(`backend ${r.backend}, kernels ${r.kernels}; tensors ${r.tensorsBefore} → ${r.tensorsAfter}`);
  return 0;
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'benchmark a training step (bench train …), ours against PyTorch (bench compare …), decoding (bench decode …)',
  usage: [
    'Usage: lora-repro bench train --model bench-roberta|bench-gpt2 --method lora|ft',
    '                              [--batch 16] [--seq 128] [--steps 10] [--warmup 2] [--json] [--backend B]',
    '       lora-repro bench compare [--models bench-roberta[,bench-gpt2]] [--methods lora,ft] [--seqs 64,128,256]',
    '                              [--batch 16] [--steps 5] [--warmup 1] [--threads 1] [--python PY] [--json]',
    '       lora-repro bench decode [--model bench-gpt2] [--beam 10] [--prompt 32] [--max-length 512] [--new-tokens 64] [--json]',
    '',
    'train: builds the model with random weights (bench-* = 4 layers, d_model 256, 4 heads, FFN 1024, vocab 8000),',
    'runs warm-up steps, then prints the median ms/step, tokens/s, peak RSS, backend, threads and kernels.',
    'LoRA: r = 8, alpha = 16 on W_q and W_v (+ the classification head); ft: every weight.',
    '',
    'compare: runs `bench train` and bench/pytorch_reference.py (same model, init and step) one after the other',
    'for every model × method × seq, each in its own process, and prints both with the ratio PyTorch-time / our-time',
    '(1.0 = as fast as PyTorch). PyTorch uses --threads BLAS threads (default 1) and must run on OpenBLAS;',
    'without PyTorch the reason is one line and only our numbers are printed. LORA_REPRO_PYTHON picks the interpreter.',
    '',
    'decode: GPT-2 decoding with the key/value cache: ms per new token by sequence length (flat = the cache works),',
    `then a beam search with the paper's E2E decoding (beam ${PAPER_DECODING.beam}, length penalty ${PAPER_DECODING.lengthPenalty}, no-repeat-${PAPER_DECODING.noRepeatNgramSize}-gram) and its tokens/s.`,
  ].join('\n'),
  async run(argv) {
    if (argv[0] === 'compare') return compare(argv.slice(1));
    if (argv[0] === 'decode') return decode(argv.slice(1));
    const { values, positionals } = parseCommandArgs(argv, {
      model: { type: 'string', default: 'bench-roberta' },
      method: { type: 'string', default: 'lora' },
      batch: { type: 'string' },
      seq: { type: 'string' },
      steps: { type: 'string' },
      warmup: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean', default: false },
      backend: { type: 'string' },
    });
    if (positionals[0] !== 'train') throw new UserError("choose 'bench train', 'bench compare' or 'bench decode' (see --help)");
    if (values.method !== 'lora' && values.method !== 'ft') throw new UserError(`--method must be lora or ft, got '${values.method}'`);
    await initBackend(values.backend);
    const r = await runTrainBench({
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
      `${r.model} ${r.method}  batch ${r.batch} × seq ${r.seq}  ${r.msPerStep.toFixed(0)} ms/step (median of ${r.steps}; CPU ${r.cpuMsPerStep.toFixed(0)} ms)  ` +
        `${r.tokensPerSecond.toFixed(0)} tokens/s  peak RSS ${r.peakRssMiB.toFixed(0)} MiB  ` +
        `trainable ${r.trainableParams.toLocaleString('en-US')}  backend ${r.backend} (threads ${r.threads}, SIMD ${r.simd ? 'on' : 'off'})  kernels ${r.kernels}`,
    );
    return 0;
  },
};
