/**
 * Identity and same-dtype Cast for tfjs-wasm without a copy.
 *
 * Why: tfjs saves every tensor a gradient needs through `clone` (the Identity kernel), and the
 * gradient of that clone is a Cast to float32; tfjs-wasm copies the data in both. A training step
 * does ~470 such copies (../shared/notes/cpu-performance.md). Tensors are immutable, so the output
 * can share the input's data, exactly as tfjs-wasm's own Reshape does (one more reference on the
 * data id, freed when the last tensor using it is disposed).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { replaceKernel } from './replace-kernel.ts';

let builtinCast: tf.KernelFunc | undefined;
let builtinIdentity: tf.KernelFunc | undefined;

function share(x: tf.TensorInfo, backend: BackendWasm): tf.TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

const identity: tf.KernelFunc = (args) => {
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (x.dtype === 'string') return builtinIdentity!(args);
  return share(x, args.backend as BackendWasm);
};

const cast: tf.KernelFunc = (args) => {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { dtype } = args.attrs as unknown as { dtype: tf.DataType };
  if (x.dtype === dtype && dtype !== 'string') return share(x, args.backend as BackendWasm);
  return builtinCast!(args);
};

/** Replaces tfjs-wasm's Identity and Cast (idempotent). */
export function registerZeroCopyIdentity(): void {
  const current = tf.getKernel(tf.Identity, 'wasm');
  if (current?.kernelFunc === identity) return;
  builtinIdentity = replaceKernel(tf.Identity, 'wasm', identity).kernelFunc;
  builtinCast = replaceKernel(tf.Cast, 'wasm', cast).kernelFunc;
}
