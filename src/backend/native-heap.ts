/**
 * How the native kernels reach tensors: byte offsets on the tfjs-wasm heap, and one shared
 * parameter block through which JavaScript passes sizes and offsets (native/src/addon.c).
 *
 * Uses tfjs-wasm internals (dataIdMap[dataId].memoryOffset and the Emscripten heap buffer): tfjs
 * is pinned to 4.22, and test/kernels.test.ts checks every kernel against independent truth.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { NativeAddon } from './native.ts';

/**
 * The addon holds ONE parameter block and heap for the process, so this module must exist once: a
 * second instance (the same file loaded through both require and import, as mocha did with tsx's
 * CommonJS hook until .mocharc.json loaded tests as ES modules only) would rebind the addon to its own
 * block while the first instance's kernels write theirs, and the kernels would read garbage offsets
 * and corrupt the wasm heap. Fail loudly instead.
 */
const INSTANCE = Symbol.for('lora-repro.native-heap');
if ((globalThis as Record<symbol, unknown>)[INSTANCE] !== undefined) {
  throw new Error(`src/backend/native-heap.ts loaded twice (${import.meta.url}): load src/ as ES modules only (tsx/esm)`);
}
(globalThis as Record<symbol, unknown>)[INSTANCE] = true;

/** The parameter block (its own ArrayBuffer: off the V8 heap, never moved by the GC). */
export const P = new Float64Array(new ArrayBuffer(8 * 64));
let addon: NativeAddon | undefined;
let heap: ArrayBufferLike | undefined;

/** Binds the addon to the parameter block (once per process). */
export function bindAddon(lib: NativeAddon): void {
  addon = lib;
  addon.setParams(P);
}

/** Byte offset of a tensor's data on the wasm heap. */
export function offset(b: BackendWasm, t: tf.TensorInfo): number {
  return b.dataIdMap.get(t.dataId)!.memoryOffset;
}

/** The addon, with the current heap registered. Call after allocating outputs (growth moves the heap). */
export function native(b: BackendWasm): NativeAddon {
  // HEAPU8 is on the Emscripten module object, absent from its published type.
  const buf = (b.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.buffer;
  if (buf !== heap) {
    addon!.setHeap(buf as ArrayBuffer);
    heap = buf;
  }
  return addon!;
}

export const size = (shape: number[]) => shape.reduce((a, x) => a * x, 1);
