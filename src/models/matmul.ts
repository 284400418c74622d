/**
 * Matrix products that never run tfjs's transpose flags on the pure wasm path.
 *
 * Why: on tfjs-wasm 4.22, MatMul with transposeA/transposeB runs at 0.6–2.9 GFLOP/s against
 * 25–40 GFLOP/s without them (../shared/notes/cpu-performance.md). Here the forward transpose is an
 * explicit copy followed by an unflagged product; the gradients are BatchMatMul's registered
 * gradient, which src/backend/matmul-grad.ts replaces on wasm with an unflagged and lazy one (no
 * product for an input that needs no gradient, e.g. a frozen weight under LoRA). With the native
 * kernels (BLAS reads transposed operands in place) it is plain tf.matMul with the flag.
 */
import * as tf from '@tensorflow/tfjs-core';
import { nativeKernelsActive } from '../backend/native-kernels.ts';
import { unflaggedMatMul } from '../backend/matmul-grad.ts';

/** a · b (b transposed first when transposeB), for rank-2 or equal-batch rank-3 operands. */
export const matMul = (a: tf.Tensor, b: tf.Tensor, transposeB = false): tf.Tensor => {
  if (nativeKernelsActive() || tf.getBackend() !== 'wasm') return tf.matMul(a, b, false, transposeB);
  return unflaggedMatMul(a, b, false, transposeB);
};
