/**
 * `bench compare`: our training step and PyTorch's (bench/pytorch_reference.py) on the same config,
 * in one invocation. Each measurement runs in its own process, so peak RSS is per configuration, and
 * ours and PyTorch's alternate per configuration, so load from other processes hits both alike.
 * The ratio is PyTorch-time / our-time: 1.0 means as fast as PyTorch, 0.5 half its throughput.
 *
 * The Python side is optional: without PyTorch (or with PyTorch on a slow reference BLAS, which
 * the script refuses) the reason is one line and only our numbers are printed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/lora-repro.mjs', import.meta.url));
const PYTORCH_REFERENCE = fileURLToPath(new URL('../../bench/pytorch_reference.py', import.meta.url));

export interface CompareOptions {
  models: string[];
  methods: ('lora' | 'ft')[];
  seqs: number[];
  batch: number;
  steps: number;
  warmup: number;
  /** BLAS threads of both sides (PyTorch also intra-op threads). */
  threads: number;
  /** Python interpreter; found automatically when undefined. */
  python?: string;
  backend?: string;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
}

/** The fields both sides print (ours: `bench train --json`; PyTorch: the reference script). */
export interface StepMeasurement {
  msPerStep: number;
  stepTimesMs: number[];
  /** Median CPU time per step (all threads): the robust number on a shared, loaded machine. */
  cpuMsPerStep: number;
  tokensPerSecond: number;
  peakRssMiB: number;
  trainableParams: number;
}

export interface OurMeasurement extends StepMeasurement {
  backend: string;
  threads: number;
  simd: boolean;
  kernels?: string;
  tensorsAfterFirstStep: number;
  tensorsAtEnd: number;
}

export interface PytorchMeasurement extends StepMeasurement {
  torch: string;
  blas: string[];
  blasGflops: number;
  threads: number;
}

export interface CompareRow {
  model: string;
  method: 'lora' | 'ft';
  batch: number;
  seq: number;
  ours: OurMeasurement;
  pytorch?: PytorchMeasurement;
  /** PyTorch ms/step ÷ our ms/step (higher is better; 1 = parity). */
  ratio?: number;
  /** The same ratio of CPU time per step. */
  cpuRatio?: number;
}

export interface CompareResult {
  rows: CompareRow[];
  /** Why there is no PyTorch column, if there is none. */
  pytorchUnavailable?: string;
  python?: string;
}

function sh(cmd: string, args: string[], env?: NodeJS.ProcessEnv): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: env ?? process.env, maxBuffer: 64 * 2 ** 20 });
  return { status: r.error ? null : r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? (r.error?.message ?? '') };
}

/** The first interpreter that imports torch: LORA_REPRO_PYTHON, python3, /usr/bin/python3 (Debian's). */
function findPython(explicit?: string): { python?: string; why?: string } {
  const candidates = explicit ? [explicit] : [process.env.LORA_REPRO_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);
  const tried: string[] = [];
  for (const py of [...new Set(candidates)]) {
    const r = sh(py, ['-c', 'import torch']);
    if (r.status === 0) return { python: py };
    tried.push(r.status === null ? `${py}: not found` : `${py}: no torch`);
  }
  return { why: `PyTorch not found (${tried.join('; ')}); install python3-torch and libopenblas0-pthread (Debian) for the reference` };
}

function lastJsonLine<T>(text: string): T | undefined {
  const lines = text.trim().split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i].trim();
    if (l.startsWith('{')) {
      try {
        return JSON.parse(lines.slice(i).join('\n')) as T;
      } catch {
        // not the start of the JSON object: keep looking upwards
      }
    }
  }
  return undefined;
}

function runOurs(o: CompareOptions, model: string, method: string, seq: number): OurMeasurement {
  const args = [BIN, 'bench', 'train', '--json', '--model', model, '--method', method, '--batch', String(o.batch), '--seq', String(seq), '--steps', String(o.steps), '--warmup', String(o.warmup)];
  if (o.backend) args.push('--backend', o.backend);
  // The same number of BLAS threads as the PyTorch side (native kernels; tfjs-wasm itself is single-threaded).
  const r = sh(process.execPath, args, { ...process.env, LORA_REPRO_THREADS: String(o.threads) });
  const parsed = r.status === 0 ? lastJsonLine<OurMeasurement>(r.stdout) : undefined;
  if (parsed === undefined) throw new Error(`bench train ${model} ${method} seq ${seq} failed (exit ${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return parsed;
}

function runPytorch(o: CompareOptions, python: string, model: string, method: string, seq: number): { m?: PytorchMeasurement; why?: string } {
  const args = [PYTORCH_REFERENCE, '--model', model, '--method', method, '--batch', String(o.batch), '--seq', String(seq), '--steps', String(o.steps), '--warmup', String(o.warmup), '--threads', String(o.threads)];
  const r = sh(python, args);
  if (r.status !== 0) return { why: r.stderr.trim().split('\n').pop() ?? `exit ${r.status}` };
  const m = lastJsonLine<PytorchMeasurement>(r.stdout);
  return m ? { m } : { why: 'the reference printed no JSON' };
}

export function runCompare(o: CompareOptions): CompareResult {
  const log = o.log ?? (() => {});
  let python: string | undefined;
  let unavailable: string | undefined;
  if (!existsSync(PYTORCH_REFERENCE)) unavailable = `${PYTORCH_REFERENCE} is missing`;
  else {
    const found = findPython(o.python);
    python = found.python;
    unavailable = found.why;
  }
  const rows: CompareRow[] = [];
  for (const model of o.models) {
    for (const method of o.methods) {
      for (const seq of o.seqs) {
        log(`${model} ${method} seq ${seq}: ours…`);
        const ours = runOurs(o, model, method, seq);
        let pytorch: PytorchMeasurement | undefined;
        if (python !== undefined && unavailable === undefined) {
          log(`${model} ${method} seq ${seq}: PyTorch…`);
          const p = runPytorch(o, python, model, method, seq);
          if (p.why !== undefined) unavailable = `PyTorch reference unavailable: ${p.why}`;
          pytorch = p.m;
        }
        rows.push({
          model,
          method,
          batch: o.batch,
          seq,
          ours,
          pytorch,
          ratio: pytorch ? pytorch.msPerStep / ours.msPerStep : undefined,
          cpuRatio: pytorch ? pytorch.cpuMsPerStep / ours.cpuMsPerStep : undefined,
        });
      }
    }
  }
  return { rows, pytorchUnavailable: unavailable, python };
}

/** The side-by-side table, one row per (model, method, seq). */
export function formatCompare(r: CompareResult): string {
  const head = ['model', 'method', 'seq', 'ours ms/step', 'cpu ms', 'tok/s', 'RSS MiB', 'PyTorch ms/step', 'cpu ms', 'tok/s', 'RSS MiB', 'ratio PT/ours', 'cpu ratio'];
  const body = r.rows.map((x) => [
    x.model,
    x.method,
    String(x.seq),
    x.ours.msPerStep.toFixed(0),
    x.ours.cpuMsPerStep.toFixed(0),
    x.ours.tokensPerSecond.toFixed(0),
    x.ours.peakRssMiB.toFixed(0),
    x.pytorch ? x.pytorch.msPerStep.toFixed(0) : '-',
    x.pytorch ? x.pytorch.cpuMsPerStep.toFixed(0) : '-',
    x.pytorch ? x.pytorch.tokensPerSecond.toFixed(0) : '-',
    x.pytorch ? x.pytorch.peakRssMiB.toFixed(0) : '-',
    x.ratio !== undefined ? x.ratio.toFixed(2) : '-',
    x.cpuRatio !== undefined ? x.cpuRatio.toFixed(2) : '-',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const fmt = (row: string[]) => row.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const lines = ['ratio = PyTorch time / our time (1 = as fast as PyTorch); wall-clock medians, and CPU-time medians (robust under load)', fmt(head), ...body.map(fmt)];
  const first = r.rows[0];
  if (first) {
    const o = first.ours;
    lines.push(`ours: backend ${o.backend} (threads ${o.threads}, SIMD ${o.simd ? 'on' : 'off'}), kernels ${o.kernels ?? 'tfjs built-in'}; batch ${first.batch}`);
  }
  const p = r.rows.find((x) => x.pytorch)?.pytorch;
  if (p) {
    const blas = p.blas.map((b) => b.split('/').pop() ?? b);
    const shown = blas.filter((b) => /openblas|mkl/i.test(b));
    lines.push(`PyTorch ${p.torch} (${r.python}): ${p.threads} thread(s), BLAS ${(shown.length > 0 ? shown : blas).join(', ')} (${p.blasGflops} GFLOP/s sgemm)`);
  }
  if (r.pytorchUnavailable) lines.push(`PyTorch column missing: ${r.pytorchUnavailable}`);
  return lines.join('\n');
}
