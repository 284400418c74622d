/**
 * Chooses the TensorFlow.js backend: tfjs-node-gpu (when it shows a GPU device) → WebGPU (on a
 * hardware adapter) → tfjs-node → wasm → cpu, by availability, unless `--backend` or
 * LORA_REPRO_BACKEND names one (then a software WebGPU adapter or a GPU-less tfjs-node-gpu is
 * used as asked, and the paper-profile guard, gpuProblem below, decides whether that may train).
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
import { adapterSummary, prepareWebGpu, vulkanLoaderVisible, webGpuAdapter, type WebGpuAdapterInfo } from './webgpu.ts';

export const BACKENDS = ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'] as const;
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
  /** The device: whether it is a hardware GPU (what the paper-profile guard asks) and one line on it. */
  device: DeviceInfo;
}

export interface DeviceInfo {
  hardwareGpu: boolean;
  /** e.g. "nvidia hopper … (driver …)", "llvmpipe … , software/fallback adapter", "CPU". */
  summary: string;
  /** WebGPU only: the adapter and its limits. */
  adapter?: WebGpuAdapterInfo;
}

let active: BackendInfo | undefined;

export function parseBackendName(value: string, source: string): BackendName {
  if ((BACKENDS as readonly string[]).includes(value)) return value as BackendName;
  throw new UserError(`${source}: unknown backend '${value}' (choose one of ${BACKENDS.join(', ')})`);
}

async function tryNodePackage(name: 'tensorflow-gpu' | 'tensorflow'): Promise<string | undefined> {
  if (name === 'tensorflow-gpu') {
    // Read by TensorFlow when the package loads: grow GPU memory on demand (several workers may
    // share a machine), and a runner worker's device (LORA_REPRO_GPU) is the only one it sees.
    process.env.TF_FORCE_GPU_ALLOW_GROWTH ??= 'true';
    const pinned = process.env.LORA_REPRO_GPU;
    if (pinned !== undefined && pinned !== '' && process.env.CUDA_VISIBLE_DEVICES === undefined) process.env.CUDA_VISIBLE_DEVICES = pinned;
  }
  try {
    await import(NODE_PACKAGES[name]);
    return undefined;
  } catch (err) {
    return `${NODE_PACKAGES[name]} not installed (${(err as Error).message.split('\n')[0]})`;
  }
}

async function activate(name: BackendName): Promise<void> {
  const tfjsName = name === 'tensorflow-gpu' ? 'tensorflow' : name;
  if (name === 'webgpu') await prepareWebGpu();
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
    device: deviceInfo(name),
  };
}

/** tfjs-node(-gpu)'s own answer to "does TensorFlow run on a GPU device?" (false on a silent CPU fallback). */
function tensorflowUsesGpu(): boolean {
  const b = tf.backend() as unknown as { isUsingGpuDevice?: boolean | (() => boolean); binding?: { isUsingGpuDevice?: () => boolean } };
  if (typeof b.isUsingGpuDevice === 'boolean') return b.isUsingGpuDevice;
  if (typeof b.isUsingGpuDevice === 'function') return b.isUsingGpuDevice();
  return b.binding?.isUsingGpuDevice?.() ?? false;
}

function deviceInfo(name: BackendName): DeviceInfo {
  if (name === 'webgpu') {
    const adapter = webGpuAdapter()!;
    return { hardwareGpu: !adapter.software, summary: adapterSummary(adapter), adapter };
  }
  if (name === 'tensorflow-gpu') {
    const gpu = tensorflowUsesGpu();
    const visible = process.env.CUDA_VISIBLE_DEVICES;
    return { hardwareGpu: gpu, summary: gpu ? `CUDA GPU (TensorFlow; CUDA_VISIBLE_DEVICES=${visible ?? 'all'})` : 'no GPU device visible to TensorFlow (it runs on the CPU)' };
  }
  return { hardwareGpu: false, summary: 'CPU' };
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
      if (candidate === 'webgpu') {
        if (!vulkanLoaderVisible()) {
          skipped.push('webgpu: no Vulkan loader (libvulkan.so.1) visible');
          continue;
        }
        // Only a hardware adapter is chosen automatically: a software one is slower than wasm.
        const adapter = await prepareWebGpu();
        if (adapter.software) {
          skipped.push(`webgpu: ${adapterSummary(adapter)} (use --backend webgpu to force it)`);
          continue;
        }
      }
      await activate(candidate);
    } catch (err) {
      skipped.push(`${candidate}: ${(err as Error).message}`);
      continue;
    }
    const info = describe(candidate, skipped);
    if (candidate === 'tensorflow-gpu' && !info.device.hardwareGpu) {
      // TensorFlow fell back to the CPU (no device, or CUDA/cuDNN not matching TF 2.9's 11.2/8.1).
      skipped.push(`tensorflow-gpu: ${info.device.summary}`);
      continue;
    }
    active = checkNativeRequired(info);
    return active;
  }
  throw new UserError(`no TensorFlow.js backend could be initialised: ${skipped.join('; ')}`);
}

/** Why this backend is not a hardware GPU (the paper profile's guard), or undefined when it is. */
export function gpuProblem(b: BackendInfo): string | undefined {
  if (b.device.hardwareGpu) return undefined;
  if (b.name === 'webgpu') return `the WebGPU adapter is a software/fallback one (${b.device.summary})`;
  if (b.name === 'tensorflow-gpu') return `tfjs-node-gpu sees ${b.device.summary} (TensorFlow 2.9 needs CUDA 11.2 / cuDNN 8.1)`;
  return `this process would train on '${b.name}' (CPU)`;
}

/**
 * GPUs a runner can pin workers to: WebGPU's adapter list, or for tfjs-node-gpu the devices in
 * CUDA_VISIBLE_DEVICES (else 1, the one TensorFlow showed); 0 for a CPU or software backend.
 */
export function gpuDeviceCount(b: BackendInfo): number {
  if (!b.device.hardwareGpu) return 0;
  if (b.device.adapter !== undefined) return Math.max(1, b.device.adapter.adapters.length);
  const visible = process.env.CUDA_VISIBLE_DEVICES;
  return visible !== undefined && visible !== '' ? visible.split(',').length : 1;
}

/** The backend chosen by initBackend, if any. */
export function activeBackend(): BackendInfo | undefined {
  return active;
}
