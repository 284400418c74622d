/**
 * GatherV2 for tfjs-wasm as whole-row copies.
 *
 * Why: tfjs-wasm 4.22's Gather copies element by element through generic strides; looking up 2048
 * embedding rows of width 256 took 25–30 ms, as long as a 2048×256×256 matmul. Here each gathered
 * slice is one contiguous copy on the heap (copyWithin), well under a millisecond. Same results and
 * same index check as the built-in kernel; batchDims > 0 still goes to the built-in kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { replaceKernel } from './replace-kernel.ts';

let builtin: tf.KernelFunc | undefined;

const BYTES: Partial<Record<tf.DataType, number>> = { float32: 4, int32: 4, bool: 1 };

const gatherV2: tf.KernelFunc = (args) => {
  const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
  const { axis, batchDims } = args.attrs as unknown as { axis: number; batchDims: number };
  const w = args.backend as BackendWasm;
  const bytes = BYTES[x.dtype];
  if (batchDims !== 0 || bytes === undefined || indices.dtype !== 'int32') return builtin!(args);
  const ax = tf.util.parseAxisParam(axis, x.shape)[0];
  const dim = x.shape[ax];
  const outer = tf.util.sizeFromShape(x.shape.slice(0, ax));
  const inner = tf.util.sizeFromShape(x.shape.slice(ax + 1));
  const idx = w.typedArrayFromHeap(indices) as Int32Array;
  for (let i = 0; i < idx.length; i++) {
    const v = idx[i];
    if (v < 0 || v > dim - 1) throw new Error(`GatherV2: the index value ${v} is not in [0, ${dim - 1}]`);
  }
  const out = w.makeOutput([...x.shape.slice(0, ax), ...indices.shape, ...x.shape.slice(ax + 1)], x.dtype);
  if (outer * idx.length * inner === 0) return out;
  // Views are taken after makeOutput: an allocation may grow (and so replace) the heap buffer.
  const heap = new Uint8Array((w.typedArrayFromHeap(out) as Uint8Array).buffer);
  const ids = w.typedArrayFromHeap(indices) as Int32Array;
  const src = w.dataIdMap.get(x.dataId)!.memoryOffset;
  let dst = w.dataIdMap.get(out.dataId)!.memoryOffset;
  const row = inner * bytes;
  for (let o = 0; o < outer; o++) {
    const base = src + o * dim * row;
    for (let i = 0; i < ids.length; i++, dst += row) {
      const from = base + ids[i] * row;
      heap.copyWithin(dst, from, from + row);
    }
  }
  return out;
};

/** Replaces tfjs-wasm's GatherV2 (idempotent). */
export function registerRowGather(): void {
  const current = tf.getKernel(tf.GatherV2, 'wasm');
  if (current === undefined || current.kernelFunc === gatherV2) return;
  builtin = replaceKernel(tf.GatherV2, 'wasm', gatherV2).kernelFunc;
}
