/**
 * Shapes-only builds. `lora-repro params` must count what a method really marks trainable on the
 * paper's architectures, but roberta-large and gpt2-large hold 1.4 GB and 3.1 GB of float32, more
 * than the wasm heap (and minutes of random init). Inside `shapesOnly(fn)`, every initialiser of
 * `init` (param-store.ts) returns a *stand-in*: a tf.Tensor that carries a shape and no data, which
 * the engine never registers (no memory, no tensor count). ParamStore and the adaptation methods turn
 * stand-ins into stand-in variables through `makeVariable`, so the model constructors and
 * `method.apply` run unchanged: the counted build is the training build minus the numbers.
 *
 * A stand-in must never reach a kernel: shapes-only models are for counting, not for forward passes.
 * Disposing one is a no-op (the engine does not know its data id).
 */
import * as tf from '@tensorflow/tfjs-core';

let depth = 0;
let counter = 0;
const standIns = new WeakSet<tf.Tensor>();

/** Runs `fn` with every initialiser returning stand-ins; nests; restores the mode on throw. */
export function shapesOnly<T>(fn: () => T): T {
  depth++;
  try {
    return fn();
  } finally {
    depth--;
  }
}

export function isShapesOnlyActive(): boolean {
  return depth > 0;
}

/** True for stand-in tensors and variables (shape, no data). */
function isStandIn(t: tf.Tensor): boolean {
  return standIns.has(t);
}

/** A float32 tensor with a shape and no data; the engine never sees it. */
export function standInTensor(shape: number[]): tf.Tensor {
  // The public Tensor constructor only records shape, dtype and data id; nothing is allocated.
  const t = new tf.Tensor(shape, 'float32', { shapesOnly: ++counter }, -1);
  standIns.add(t);
  return t;
}

/**
 * A non-trainable (in tfjs terms) variable holding `value`, or a stand-in variable when `value` is
 * a stand-in. Methods decide what trains by passing variable lists to the optimiser, as ParamStore does.
 * Takes ownership of `value` (disposes the handle; the variable keeps the data).
 */
export function makeVariable(value: tf.Tensor): tf.Variable {
  if (!isStandIn(value)) {
    const v = tf.variable(value, false);
    value.dispose();
    return v;
  }
  const v = new tf.Variable(value, false, `shapes-only-${++counter}`, -1);
  standIns.add(v);
  return v;
}

/** A copy of `t` (its own data), or a stand-in of the same shape for a stand-in. */
export function copyOf(t: tf.Tensor): tf.Tensor {
  return isStandIn(t) ? standInTensor(t.shape) : tf.clone(t);
}
