/**
 * Kernels the WebGPU backend gets from us.
 *
 * The dropout mask (dropout-mask.ts) as a compute shader: the same counter-based hash
 * as the JavaScript and native paths, so a seed gives the same masks on every backend, and no
 * mask is built on the host and uploaded each step (that was one host→device copy per dropout
 * site per step). Registered under the native kernel's name, so ops.ts has one call for both.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { NATIVE_KERNELS } from './native-kernels.ts';
import { dropoutScale, dropoutThreshold, mix32 } from './dropout-mask.ts';

const WORKGROUP = 64;

/** tfjs-webgpu's flat layout: the global index spans x (and y past 65535 workgroups, see main()). */
function flatDispatch(size: number): [number, number, number] {
  const groups = Math.ceil(size / WORKGROUP);
  if (groups <= 65535) return [groups, 1, 1];
  const side = Math.ceil(Math.sqrt(groups));
  return [side, side, 1];
}

class DropoutMaskProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey = 'loraReproDropoutMask';
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[] = [];
  workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];
  size = true;
  uniforms = 'k1 : u32, k2 : u32, threshold : u32, scale : f32,';

  constructor(shape: number[]) {
    this.outputShape = shape;
    this.dispatchLayout = { x: shape.map((_, i) => i) };
    this.dispatch = flatDispatch(tf.util.sizeFromShape(shape));
  }

  getUserCode(): string {
    // mix32 of dropout-mask.ts (lowbias32); u32 arithmetic wraps like Math.imul.
    return `
      fn mix32(v : u32) -> u32 {
        var x = v;
        x = x ^ (x >> 16u);
        x = x * 0x7feb352du;
        x = x ^ (x >> 15u);
        x = x * 0x846ca68bu;
        x = x ^ (x >> 16u);
        return x;
      }
      fn main(index : i32) {
        if (index < uniforms.size) {
          let h = mix32(mix32(u32(index) ^ uniforms.k1) + uniforms.k2) >> 8u;
          setOutputAtIndex(index, select(0.0, uniforms.scale, h >= uniforms.threshold));
        }
      }
    `;
  }
}

const dropoutMask: tf.KernelFunc = ({ backend, attrs }) => {
  const { shape, rate, seed } = attrs as unknown as { shape: number[]; rate: number; seed: number };
  const program = new DropoutMaskProgram(shape);
  const uniforms = [
    { type: 'uint32', data: [mix32(seed >>> 0)] },
    { type: 'uint32', data: [mix32((seed ^ 0x9e3779b9) >>> 0)] },
    { type: 'uint32', data: [dropoutThreshold(rate)] },
    { type: 'float32', data: [dropoutScale(rate)] },
  ];
  return (backend as WebGPUBackend).runWebGPUProgram(program, [], 'float32', uniforms);
};

/** Registers our WebGPU kernels (once per process). */
export function registerWebGpuKernels(): void {
  if (tf.getKernel(NATIVE_KERNELS.dropoutMask, 'webgpu') !== undefined) return;
  tf.registerKernel({ kernelName: NATIVE_KERNELS.dropoutMask, backendName: 'webgpu', kernelFunc: dropoutMask });
}

/** Whether the active backend draws dropout masks on the device (native wasm kernels or WebGPU). */
export function deviceDropoutMask(): boolean {
  return tf.getKernel(NATIVE_KERNELS.dropoutMask, tf.getBackend()) !== undefined;
}
