/**
 * Swapping a built-in tfjs kernel for our own while keeping the original callable.
 *
 * The original's setupFunc must stay registered: tfjs-wasm binds each kernel to its wasm function
 * in setupFunc when the backend initialises, and our kernels delegate the cases they do not cover
 * to the original (which fails with "wasmSum is not a function" without its setup).
 * Replacing is idempotent per kernel, across module instances too (the record lives on
 * globalThis): a second replacement returns the first one's original instead of wrapping our own
 * kernel, which would make it call itself.
 */
import * as tf from '@tensorflow/tfjs-core';

type Replaced = Map<string, tf.KernelConfig>;
const KEY = Symbol.for('lora-repro.replaced-kernels');
const replaced: Replaced = ((globalThis as Record<symbol, Replaced | undefined>)[KEY] ??= new Map());

/** Registers `kernelFunc` under the built-in's name and setup; returns the built-in config. */
export function replaceKernel(kernelName: string, backendName: string, kernelFunc: tf.KernelFunc): tf.KernelConfig {
  const key = `${backendName}/${kernelName}`;
  const current = tf.getKernel(kernelName, backendName);
  if (current === undefined) throw new Error(`${backendName} has no ${kernelName} kernel to replace`);
  const original = replaced.get(key) ?? current;
  replaced.set(key, original);
  tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ ...original, kernelFunc });
  return original;
}

/** Puts a config returned by replaceKernel back. */
export function restoreKernel(original: tf.KernelConfig): void {
  replaced.delete(`${original.backendName}/${original.kernelName}`);
  tf.unregisterKernel(original.kernelName, original.backendName);
  tf.registerKernel(original);
}
