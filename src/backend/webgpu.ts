/**
 * The WebGPU backend: @tensorflow/tfjs-backend-webgpu over Dawn's Node binding (the `webgpu`
 * package, whose prebuilt dawn.node ships inside the package, so it installs offline).
 *
 * Why our own backend factory rather than the package's: the package registers 'webgpu' at import
 * time only if navigator.gpu already exists, and then asks for whatever adapter Dawn prefers. Here
 * the adapter is chosen first (LORA_REPRO_GPU pins a runner worker to one), described (vendor,
 * architecture, device, driver, software or not, limits) for `lora-repro env`, the paper-profile
 * guard and the run's provenance, and only then handed to tfjs.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../util/errors.ts';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { registerWebGpuKernels } from './webgpu-kernels.ts';

export interface WebGpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  /** Dawn puts the driver name and version here (e.g. "llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)"). */
  description: string;
  /** A fallback/software adapter (lavapipe, SwiftShader, WARP): fine for tests, no paper runs. */
  software: boolean;
  /** Dawn's adapter list index this process uses (LORA_REPRO_GPU), and how many it lists. */
  index: number;
  adapters: string[];
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

interface DawnModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

let dawn: DawnModule | undefined;
let info: WebGpuAdapterInfo | undefined;
let registered = false;

async function loadDawn(): Promise<DawnModule> {
  if (dawn !== undefined) return dawn;
  try {
    dawn = (await import('webgpu')) as unknown as DawnModule;
  } catch (err) {
    throw new UserError(`webgpu: the 'webgpu' package (Dawn) does not load: ${(err as Error).message.split('\n')[0]}`);
  }
  // GPUBufferUsage, GPUMapMode etc., which tfjs-backend-webgpu reads as browser globals.
  Object.assign(globalThis, dawn.globals);
  return dawn;
}

/** Dawn's own adapter list ("backend: 'vulkan', name: '…'" lines), read from the error it gives for an unknown name. */
async function listAdapters(d: DawnModule): Promise<string[]> {
  try {
    await d.create(['adapter=lora-repro-no-such-adapter']).requestAdapter();
    return [];
  } catch (err) {
    return [...(err as Error).message.matchAll(/name: '([^']*)'/g)].map((m) => m[1]);
  }
}

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|softpipe|warp|software|cpu/i;

/**
 * The adapter this process trains on: Dawn's list entry LORA_REPRO_GPU (a runner worker's device),
 * else Dawn's high-performance choice. Null-adapter cases become one line naming the usual cause.
 */
async function requestAdapter(d: DawnModule): Promise<{ adapter: GPUAdapter; index: number; names: string[] }> {
  const names = await listAdapters(d);
  const pinned = process.env.LORA_REPRO_GPU;
  let flags: string[] = [];
  let index = 0;
  if (pinned !== undefined && pinned !== '') {
    index = Number(pinned);
    if (!Number.isInteger(index) || index < 0) throw new UserError(`LORA_REPRO_GPU: expected a device index, got '${pinned}'`);
    // Dawn selects by name; identical cards share one, and then CUDA_VISIBLE_DEVICES (set by the
    // runner too) is what keeps NVIDIA's Vulkan driver to one card.
    if (index < names.length && names.filter((n) => n === names[index]).length === 1) flags = [`adapter=${names[index]}`];
  }
  const gpu = d.create(flags);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (adapter === null) {
    throw new UserError(
      `webgpu: Dawn found no adapter (${names.length === 0 ? 'no Vulkan/Metal/D3D device visible' : names.join(', ')}); ` +
        'on Linux without a GPU run `source .ci/lavapipe.sh` for the software Vulkan device',
    );
  }
  // Keep a reference: dawn.node lives as long as its GPU object does.
  (globalThis as { navigator?: { gpu?: GPU } }).navigator ??= {} as { gpu?: GPU };
  Object.defineProperty((globalThis as unknown as { navigator: object }).navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  return { adapter, index, names };
}

function describeAdapter(adapter: GPUAdapter, index: number, names: string[]): WebGpuAdapterInfo {
  const a = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const fallback = a.isFallbackAdapter === true || (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  return {
    vendor: a.vendor,
    architecture: a.architecture,
    device: a.device,
    description: a.description,
    software: fallback || SOFTWARE.test(`${a.architecture} ${a.device} ${a.description}`),
    index,
    adapters: names,
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
  };
}

/**
 * tfjs's WebGPU backend with one change: a synchronous read of data still on the device (tfjs
 * reads through an OffscreenCanvas, which Node lacks) fails with the fix instead of a ReferenceError.
 */
function nodeBackendClass(base: typeof WebGPUBackend): new (device: GPUDevice, info?: GPUAdapterInfo) => WebGPUBackend {
  return class extends base {
    override readSync(dataId: object): tf.backend_util.BackendValues {
      const data = (this as unknown as { tensorMap: { get(id: object): { values?: unknown } | undefined } }).tensorMap.get(dataId);
      if (data?.values == null) throw new Error('webgpu: synchronous read of a tensor on the device (dataSync/arraySync); Node has no synchronous GPU read: use await tensor.data()');
      return super.readSync(dataId);
    }
  };
}

/**
 * Whether Dawn could find Vulkan here (Linux: libvulkan.so.1 on the loader's path). Automatic
 * selection asks first: without it Dawn prints a warning on stderr for every command.
 */
export function vulkanLoaderVisible(): boolean {
  if (process.platform !== 'linux') return true;
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':'), '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu', '/usr/local/lib'];
  return dirs.some((d) => d !== '' && existsSync(join(d, 'libvulkan.so.1')));
}

/** Registers tfjs's 'webgpu' backend on the chosen adapter (once per process) and our kernels. */
export async function prepareWebGpu(): Promise<WebGpuAdapterInfo> {
  if (registered && info !== undefined) return info;
  const d = await loadDawn();
  const { adapter, index, names } = await requestAdapter(d);
  info = describeAdapter(adapter, index, names);
  // Imported only now: without navigator.gpu at import time the package registers no factory of
  // its own, and ours (below) is the only one.
  const NodeWebGpuBackend = nodeBackendClass((await import('@tensorflow/tfjs-backend-webgpu')).WebGPUBackend);
  const limits = adapter.limits;
  const features: GPUFeatureName[] = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
  const device = await adapter.requestDevice({
    requiredFeatures: features,
    // The adapter's own maxima (the defaults cap buffers at 256 MiB: too small for vocab × hidden gradients).
    requiredLimits: {
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
    },
  });
  tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new NodeWebGpuBackend(device, adapter.info), 0);
  registerWebGpuKernels();
  registered = true;
  return info;
}

/** The adapter of the webgpu backend, once prepareWebGpu has run. */
export function webGpuAdapter(): WebGpuAdapterInfo | undefined {
  return info;
}

/** One line for `env`, provenance and the guard: "mesa software llvmpipe-… (llvmpipe: Mesa 25…), software". */
export function adapterSummary(a: WebGpuAdapterInfo): string {
  const name = [a.vendor, a.architecture, a.device].filter((s) => s !== '').join(' ');
  return `${name || 'unknown adapter'} (${a.description || 'no driver description'})${a.software ? ', software/fallback adapter' : ''}`;
}
