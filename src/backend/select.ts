/**
 * Chooses the TensorFlow.js backend: tfjs-node-gpu → tfjs-node → wasm → cpu, by availability,
 * unless `--backend` or LORA_REPRO_BACKEND names one.
 *
 * The two tfjs-node packages are not dependencies: their installers download libtensorflow,
 * which fails offline. A user who has installed one gets it through a dynamic import.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients (its ESM build cannot load in Node); the union
// package's CommonJS bundle registers them all on the same shared tfjs-core.
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { UserError } from '../util/errors.ts';
import { registerSegmentSum } from './segment-sum-kernel.ts';
import { registerZeroCopyIdentity } from './wasm-identity.ts';
import { registerRowGather } from './wasm-gather.ts';
import { registerMatMulSum } from './wasm-sum.ts';
import { registerMatMulGradient } from './matmul-grad.ts';
import { loadNative, type NativeStatus } from './native.ts';
import { registerNativeKernels } from './native-kernels.ts';

export const BACKENDS = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** tfjs registers both node packages under the backend name 'tensorflow'. */
const NODE_PACKAGES: Record<'tensorflow-gpu' | 'tensorflow', string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

export interface BackendInfo {
  name: BackendName;
  /** The name tfjs itself uses (both node packages are 'tensorflow'). */
  tfjsName: string;
  tfjsVersion: string;
  threads: number;
  simd: boolean;
  /** Why the preferred backends before this one were not used. */
  skipped: string[];
  /** Which kernels run the heavy ops: 'tfjs' (the backend's own) or 'native-blas' (native/, wasm only). */
  kernels: 'tfjs' | 'native-blas';
  /** One line: the native library in use, or why the backend's own kernels are used. */
  kernelsDetail: string;
}

let active: BackendInfo | undefined;

export function parseBackendName(value: string, source: string): BackendName {
  if ((BACKENDS as readonly string[]).includes(value)) return value as BackendName;
  throw new UserError(`${source}: unknown backend '${value}' (choose one of ${BACKENDS.join(', ')})`);
}

async function tryNodePackage(name: 'tensorflow-gpu' | 'tensorflow'): Promise<string | undefined> {
  try {
    await import(NODE_PACKAGES[name]);
    return undefined;
  } catch (err) {
    return `${NODE_PACKAGES[name]} not installed (${(err as Error).message.split('\n')[0]})`;
  }
}

async function activate(name: BackendName): Promise<void> {
  const tfjsName = name === 'tensorflow-gpu' ? 'tensorflow' : name;
  if (name === 'wasm') {
    registerSegmentSum('wasm');
    registerZeroCopyIdentity();
    registerRowGather();
    registerMatMulSum();
    registerMatMulGradient();
  }
  if (name === 'cpu') {
    registerSegmentSum('cpu');
    // PROD silences the cpu backend's "install tfjs-node" banner (it only affects debug warnings).
    tf.env().set('PROD', true);
  }
  const ok = await tf.setBackend(tfjsName);
  if (!ok) throw new UserError(`backend '${name}' failed to initialise`);
  await tf.ready();
  if (name === 'wasm') activateNative();
}

/** The native kernels (native.ts) for wasm, when they load; LORA_REPRO_NATIVE=0 keeps tfjs's own. */
function activateNative(): NativeStatus {
  const { addon, status } = loadNative();
  if (addon !== undefined && status.active) registerNativeKernels(addon);
  return status;
}

/** LORA_REPRO_NATIVE=1 makes wasm without the native kernels an error (CI checks they are really used). */
function checkNativeRequired(info: BackendInfo): BackendInfo {
  if (process.env.LORA_REPRO_NATIVE === '1' && info.name === 'wasm' && info.kernels !== 'native-blas') {
    throw new UserError(`LORA_REPRO_NATIVE=1 but ${loadNative().status.summary}`);
  }
  return info;
}

function describe(name: BackendName, skipped: string[]): BackendInfo {
  const e = tf.env();
  const simd = name === 'wasm' ? e.getBool('WASM_HAS_SIMD_SUPPORT') : false;
  const threadsSupported = name === 'wasm' ? e.getBool('WASM_HAS_MULTITHREAD_SUPPORT') : false;
  return {
    name,
    tfjsName: tf.getBackend(),
    tfjsVersion: tf.version_core,
    threads: threadsSupported ? e.getNumber('WASM_NUM_THREADS' as never) || 1 : 1,
    simd,
    skipped,
    ...kernelInfo(name),
  };
}

function kernelInfo(name: BackendName): Pick<BackendInfo, 'kernels' | 'kernelsDetail'> {
  if (name !== 'wasm') return { kernels: 'tfjs', kernelsDetail: `tfjs ${name} kernels` };
  const { status } = loadNative();
  return status.active ? { kernels: 'native-blas', kernelsDetail: status.summary } : { kernels: 'tfjs', kernelsDetail: `tfjs wasm kernels; ${status.summary}` };
}

/**
 * Initialises the backend once per process. `requested` (a flag) wins over LORA_REPRO_BACKEND,
 * which wins over automatic choice. An explicitly requested backend that cannot load is an error.
 */
export async function initBackend(requested?: string): Promise<BackendInfo> {
  const fromEnv = process.env.LORA_REPRO_BACKEND;
  const explicit =
    requested !== undefined
      ? parseBackendName(requested, '--backend')
      : fromEnv !== undefined && fromEnv !== ''
        ? parseBackendName(fromEnv, 'LORA_REPRO_BACKEND')
        : undefined;
  if (active !== undefined && (explicit === undefined || explicit === active.name)) return active;

  const skipped: string[] = [];
  if (explicit !== undefined) {
    if (explicit === 'tensorflow-gpu' || explicit === 'tensorflow') {
      const why = await tryNodePackage(explicit);
      if (why !== undefined) throw new UserError(`backend '${explicit}': ${why}; install it with npm or choose wasm`);
    }
    await activate(explicit);
    active = checkNativeRequired(describe(explicit, skipped));
    return active;
  }
  for (const candidate of BACKENDS) {
    if (candidate === 'tensorflow-gpu' || candidate === 'tensorflow') {
      const why = await tryNodePackage(candidate);
      if (why !== undefined) {
        skipped.push(why);
        continue;
      }
    }
    try {
      await activate(candidate);
    } catch (err) {
      skipped.push(`${candidate}: ${(err as Error).message}`);
      continue;
    }
    active = checkNativeRequired(describe(candidate, skipped));
    return active;
  }
  throw new UserError(`no TensorFlow.js backend could be initialised: ${skipped.join('; ')}`);
}

/** The backend chosen by initBackend, if any. */
export function activeBackend(): BackendInfo | undefined {
  return active;
}
