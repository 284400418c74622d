/**
 * UnsortedSegmentSum for the wasm and cpu backends.
 *
 * Why: it is the gradient of an embedding lookup (tf.gather's gradient), so full fine-tuning
 * cannot train without it. tfjs-backend-wasm 4.22 has no such kernel at all, and the pure-JS
 * cpu kernel loops over every segment (vocab × tokens × width: ~120 s per step at vocab 8000).
 * This is one pass over the rows: out[segmentIds[i], :] += x[i, :], in float32 like TensorFlow.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

interface SegmentSumArgs {
  x: Float32Array | Int32Array;
  ids: Int32Array | Float32Array;
  out: Float32Array | Int32Array;
  numSegments: number;
  rowSize: number;
}

/** out must be zero-filled; rows whose id is outside [0, numSegments) are dropped, as in TF. */
export function segmentSumInto({ x, ids, out, numSegments, rowSize }: SegmentSumArgs): void {
  for (let i = 0; i < ids.length; i++) {
    const seg = ids[i];
    if (seg < 0 || seg >= numSegments) continue;
    const src = i * rowSize;
    const dst = seg * rowSize;
    for (let j = 0; j < rowSize; j++) out[dst + j] += x[src + j];
  }
}

function outputShape(x: tf.TensorInfo, segmentIds: tf.TensorInfo, numSegments: number): number[] {
  return [numSegments, ...x.shape.slice(segmentIds.shape.length)];
}

const wasmKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, segmentIds } = inputs as unknown as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = attrs as unknown as { numSegments: number };
  const wasm = backend as BackendWasm;
  const shape = outputShape(x, segmentIds, numSegments);
  const rowSize = shape.slice(1).reduce((a, b) => a * b, 1);
  const out = wasm.makeOutput(shape, x.dtype);
  const outView = wasm.typedArrayFromHeap(out) as Float32Array | Int32Array;
  outView.fill(0);
  segmentSumInto({
    x: wasm.typedArrayFromHeap(x) as Float32Array | Int32Array,
    ids: wasm.typedArrayFromHeap(segmentIds) as Int32Array,
    out: outView,
    numSegments,
    rowSize,
  });
  return out;
};

const cpuKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, segmentIds } = inputs as unknown as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = attrs as unknown as { numSegments: number };
  const cpu = backend as MathBackendCPU;
  const shape = outputShape(x, segmentIds, numSegments);
  const rowSize = shape.slice(1).reduce((a, b) => a * b, 1);
  const out = x.dtype === 'int32' ? new Int32Array(numSegments * rowSize) : new Float32Array(numSegments * rowSize);
  segmentSumInto({
    x: cpu.data.get(x.dataId).values as Float32Array | Int32Array,
    ids: cpu.data.get(segmentIds.dataId).values as Int32Array,
    out,
    numSegments,
    rowSize,
  });
  return cpu.makeTensorInfo(shape, x.dtype, out);
};

/** Registers (or replaces) UnsortedSegmentSum for the named backend. */
export function registerSegmentSum(backendName: 'wasm' | 'cpu'): void {
  const existing = tf.getKernel(tf.UnsortedSegmentSum, backendName);
  if (existing !== undefined && (existing.kernelFunc === wasmKernel || existing.kernelFunc === cpuKernel)) return;
  if (existing !== undefined) tf.unregisterKernel(tf.UnsortedSegmentSum, backendName);
  tf.registerKernel({
    kernelName: tf.UnsortedSegmentSum,
    backendName,
    kernelFunc: backendName === 'wasm' ? wasmKernel : cpuKernel,
  });
}
