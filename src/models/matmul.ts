/**
 * Matrix products whose gradients never use tfjs's transpose flags.
 *
 * Why: on tfjs-wasm 4.22, MatMul with transposeA/transposeB runs at 0.6–2.9 GFLOP/s against
 * 25–40 GFLOP/s without them (../shared/notes/cpu-performance.md). The built-in gradient of
 * a·b uses flagged products (dy·bᵀ, aᵀ·dy); here every transpose is an explicit copy followed
 * by an unflagged product, in the forward pass and in both gradients. Results are the same
 * float32 products, only computed faster.
 */
import * as tf from '@tensorflow/tfjs-core';
import { nativeKernelsActive } from '../backend/native-kernels.ts';

function t(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  const n = perm.length;
  [perm[n - 2], perm[n - 1]] = [perm[n - 1], perm[n - 2]];
  return tf.transpose(x, perm);
}

/**
 * a · b (b transposed first when transposeB), for rank-2 or equal-batch rank-3 operands.
 * With the native kernels (BLAS reads transposed operands in place) this is plain tf.matMul, whose
 * registered gradient is also lazy: no gradient is computed for a frozen weight.
 */
export const matMul = (a: tf.Tensor, b: tf.Tensor, transposeB = false): tf.Tensor => {
  if (nativeKernelsActive()) return tf.matMul(a, b, false, transposeB);
  const f = tf.customGrad(((x: tf.Tensor, y: tf.Tensor, save: tf.GradSaveFunc) => {
    save([x, y]);
    const value = tf.matMul(x as tf.Tensor3D, (transposeB ? t(y) : y) as tf.Tensor3D);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ys] = saved;
        // value = x · y' with y' = transposeB ? yᵀ : y; dx = dy · y'ᵀ; dy' = xᵀ · dy.
        const dx = tf.matMul(dy as tf.Tensor3D, (transposeB ? ys : t(ys)) as tf.Tensor3D);
        const dyPrime = tf.matMul(t(xs) as tf.Tensor3D, dy as tf.Tensor3D);
        return [dx, transposeB ? t(dyPrime) : dyPrime];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(a, b);
};
