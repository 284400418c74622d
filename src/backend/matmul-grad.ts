/**
 * The gradient of BatchMatMul (every tf.matMul) without transpose flags on the pure wasm path.
 *
 * Why: tfjs's own gradient uses flagged products (dy·bᵀ, aᵀ·dy), which tfjs-wasm runs at
 * 0.6–2.9 GFLOP/s against 25–40 unflagged (../shared/notes/cpu-performance.md). This gradient
 * transposes explicitly and multiplies unflagged. Being a registered gradient it is also lazy: the
 * product for an input that needs no gradient (a frozen weight under LoRA) is never computed.
 * With the native kernels, or on another backend, it is tfjs's own gradient (flags cost nothing
 * in BLAS). Same products, so the same values up to float32 rounding.
 */
import * as tf from '@tensorflow/tfjs-core';
import { nativeKernelsActive } from './native-kernels.ts';

/** Swaps the last two axes (an explicit copy). */
function t(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  const n = perm.length;
  [perm[n - 2], perm[n - 1]] = [perm[n - 1], perm[n - 2]];
  return tf.transpose(x, perm);
}

/** op(x) · op(y) with every transpose explicit. */
export function unflaggedMatMul(x: tf.Tensor, y: tf.Tensor, transposeX: boolean, transposeY: boolean): tf.Tensor {
  return tf.matMul(transposeX ? t(x) : x, transposeY ? t(y) : y);
}

let builtin: tf.GradConfig | undefined;

const config: tf.GradConfig = {
  kernelName: tf.BatchMatMul,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved, attrs) => {
    if (nativeKernelsActive() || tf.getBackend() !== 'wasm') return builtin!.gradFunc(dy, saved, attrs);
    const [a, b] = saved;
    const g = dy as tf.Tensor;
    const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    // c = op(a)·op(b): d op(a) = g·op(b)ᵀ, d op(b) = op(a)ᵀ·g, then undo each op.
    if (!transposeA && !transposeB) return { a: () => unflaggedMatMul(g, b, false, true), b: () => unflaggedMatMul(a, g, true, false) };
    if (!transposeA && transposeB) return { a: () => unflaggedMatMul(g, b, false, false), b: () => unflaggedMatMul(g, a, true, false) };
    if (transposeA && !transposeB) return { a: () => unflaggedMatMul(b, g, false, true), b: () => unflaggedMatMul(a, g, false, false) };
    return { a: () => unflaggedMatMul(b, g, true, true), b: () => unflaggedMatMul(g, a, true, true) };
  },
};

/** Installs this gradient once per process (tfjs's own stays available as its delegate). */
export function registerMatMulGradient(): void {
  if (builtin !== undefined) return;
  builtin = tf.getGradient(tf.BatchMatMul);
  tf.registerGradient(config);
}
