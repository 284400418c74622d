/**
 * The optional native kernels (native/, an N-API addon over the system BLAS).
 *
 * Why: tfjs-wasm's own GEMM tops out near 40 GFLOP/s (1.5–3 for batched and transposed products),
 * which caps training near 0.4× PyTorch; OpenBLAS runs the same products at 60–190 GFLOP/s, in
 * place on the wasm heap (../../native/README.md). The addon is built by `npm run build:native`
 * (never by an install script) and is optional: when it is absent, cannot load, is switched off
 * with LORA_REPRO_NATIVE=0, or finds only a slow reference BLAS, everything runs on tfjs's own
 * kernels and `lora-repro env` says why.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Functions of native/src/addon.c. Kernels take their arguments from the parameter block. */
export interface NativeAddon {
  open(): string | null;
  info(): { blasPath: string; blasConfig: string; blasThreads: number };
  setThreads(n: number): boolean;
  setHeap(heap: ArrayBuffer): void;
  setParams(block: Float64Array): void;
  benchGemm(n: number): number;
  gemm(): void;
  colSum(): void;
  fillRows(): void;
  layerNorm(): void;
  layerNormDx(): void;
  layerNormDparams(): void;
  gelu(): void;
  geluGrad(): void;
  adamw(): void;
  dropoutMask(): void;
  logSoftmax(): void;
  logSoftmaxGrad(): void;
  tokenXent(): void;
  tokenXentGrad(): void;
  attention(): void;
  attentionBackward(): void;
}

export interface NativeStatus {
  /** True when the native kernels are loaded and pass the speed check. */
  active: boolean;
  /** What is active, or why not: one line for `lora-repro env`. */
  summary: string;
  blasPath?: string;
  blasConfig?: string;
  blasThreads?: number;
  /** GFLOP/s of a 256³ sgemm at load time. */
  gflops?: number;
}

/**
 * Below this, the library is a reference BLAS (≈3 GFLOP/s): tfjs-wasm's own GEMM is faster.
 * LORA_REPRO_NATIVE_MIN_GFLOPS overrides it (the tests raise it to exercise the refusal).
 */
const MIN_BLAS_GFLOPS = 20;

function minGflops(): number {
  const v = Number(process.env.LORA_REPRO_NATIVE_MIN_GFLOPS);
  return Number.isFinite(v) && v > 0 ? v : MIN_BLAS_GFLOPS;
}

/** Where `npm run build:native` puts the addon; LORA_REPRO_NATIVE_ADDON overrides it (tests). */
export const ADDON_PATH = fileURLToPath(new URL('../../native/build/Release/lora_repro_native.node', import.meta.url));

let loaded: { addon?: NativeAddon; status: NativeStatus } | undefined;

/** BLAS threads: LORA_REPRO_THREADS, default 1 (the PyTorch reference's default too). */
function threadCount(): number {
  const v = Number(process.env.LORA_REPRO_THREADS ?? '1');
  return Number.isInteger(v) && v >= 1 ? v : 1;
}

function tryLoad(): { addon?: NativeAddon; status: NativeStatus } {
  const env = process.env.LORA_REPRO_NATIVE;
  if (env === '0' || env === 'false' || env === 'off') return { status: { active: false, summary: 'native kernels off (LORA_REPRO_NATIVE=0)' } };
  const path = process.env.LORA_REPRO_NATIVE_ADDON || ADDON_PATH;
  if (!existsSync(path)) return { status: { active: false, summary: 'native kernels not built (npm run build:native)' } };
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(path) as NativeAddon;
  } catch (err) {
    return { status: { active: false, summary: `native kernels failed to load (${(err as Error).message.split('\n')[0]})` } };
  }
  const why = addon.open();
  if (why !== null) return { status: { active: false, summary: `native kernels unavailable: ${why}` } };
  addon.setThreads(threadCount());
  const info = addon.info();
  // Best of two checks: one slow run on a loaded machine must not switch the kernels off.
  const gflops = Math.max(addon.benchGemm(256), addon.benchGemm(256));
  const lib = info.blasConfig.split(' ').slice(0, 2).join(' ') || info.blasPath;
  const base = { blasPath: info.blasPath, blasConfig: info.blasConfig, blasThreads: info.blasThreads, gflops };
  const min = minGflops();
  if (gflops < min) {
    return {
      status: { ...base, active: false, summary: `native kernels refused: ${lib} runs sgemm at ${gflops.toFixed(1)} GFLOP/s (< ${min}, a reference BLAS?); install OpenBLAS` },
    };
  }
  const threads = info.blasThreads > 0 ? info.blasThreads : threadCount();
  return {
    addon,
    status: { ...base, active: true, summary: `native ${lib} (${info.blasPath}, ${threads} thread${threads === 1 ? '' : 's'}, ${gflops.toFixed(0)} GFLOP/s)` },
  };
}

/** Loads the addon once per process; later calls return the same result. */
export function loadNative(): { addon?: NativeAddon; status: NativeStatus } {
  loaded ??= tryLoad();
  return loaded;
}

/**
 * Runs `fn` with `threads` BLAS threads, then goes back to LORA_REPRO_THREADS (the native kernels
 * only; without them `fn` just runs). OpenBLAS splits a product between threads, which can change
 * the last bits of its results, so a cached result made this way must be keyed by the count.
 */
export function withBlasThreads<T>(threads: number, fn: () => T): T {
  const { addon } = loadNative();
  if (addon === undefined) return fn();
  addon.setThreads(threads);
  let out: T;
  try {
    out = fn();
  } catch (err) {
    addon.setThreads(threadCount());
    throw err;
  }
  // An async fn (a training loop awaiting its read-backs) keeps the setting until it settles.
  if (out instanceof Promise) return out.finally(() => addon.setThreads(threadCount())) as T;
  addon.setThreads(threadCount());
  return out;
}
