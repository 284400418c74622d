/**
 * Sum over leading or trailing axes for tfjs-wasm as a matrix product with a ones vector.
 *
 * Why: bias gradients are column sums of [tokens, width] matrices, and tfjs-wasm's Sum over axis 0
 * took 21 ms where the same sum as a GEMM (1ᵀ·X) takes 0.64 ms (../shared/notes/cpu-performance.md).
 * Used on the pure wasm path; the native kernels (native-kernels.ts) replace it with a BLAS GEMV.
 * Other reductions (middle axes, int32) go to the built-in kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { replaceKernel } from './replace-kernel.ts';

let builtinSum: tf.KernelFunc | undefined;
let matMul: tf.KernelFunc | undefined;

/** Below this many rows the built-in kernel is as fast. */
const MIN_ROWS = 64;

const sum: tf.KernelFunc = (args) => {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
  const w = args.backend as BackendWasm;
  const r = x.shape.length;
  if (x.dtype !== 'float32' || r < 2) return builtinSum!(args);
  const axes = [...new Set(tf.util.parseAxisParam(axis, x.shape))].sort((p, q) => p - q);
  const leading = axes.length < r && axes.every((ax, i) => ax === i);
  const trailing = axes.length < r && axes.every((ax, i) => ax === r - axes.length + i);
  if (!leading && !trailing) return builtinSum!(args);
  const split = leading ? axes.length : r - axes.length;
  const rows = tf.util.sizeFromShape(x.shape.slice(0, split));
  const cols = tf.util.sizeFromShape(x.shape.slice(split));
  const reduced = leading ? rows : cols;
  if (reduced < MIN_ROWS) return builtinSum!(args);
  const ones = w.makeOutput(leading ? [1, rows] : [cols, 1], 'float32');
  (w.typedArrayFromHeap(ones) as Float32Array).fill(1);
  const matrix: tf.TensorInfo = { dataId: x.dataId, shape: [rows, cols], dtype: 'float32' };
  const inputs = leading ? { a: ones, b: matrix } : { a: matrix, b: ones };
  const out = matMul!({ inputs, backend: w, attrs: { transposeA: false, transposeB: false } }) as tf.TensorInfo;
  w.disposeData(ones.dataId);
  const shape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
  return { dataId: out.dataId, shape, dtype: 'float32' };
};

let registered = false;

/** Replaces tfjs-wasm's Sum once per process, before the native kernels (which replace it again). */
export function registerMatMulSum(): void {
  if (registered) return;
  registered = true;
  matMul = tf.getKernel(tf.BatchMatMul, 'wasm')!.kernelFunc;
  builtinSum = replaceKernel(tf.Sum, 'wasm', sum).kernelFunc;
}
