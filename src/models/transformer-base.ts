/**
 * What RoBERTa and GPT-2 share: named weights, the Linear modules adaptation methods attach to, the
 * block hooks, and the helpers that create and apply them in each checkpoint's own layout.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { BlockHooks } from './hooks.ts';
import { Linear, type WeightLayout } from './linear.ts';
import { layerNorm } from './ops.ts';
import { ParamStore, init } from './param-store.ts';
import type { Rng } from '../util/rng.ts';

export abstract class TransformerBase {
  readonly params = new ParamStore();
  readonly linears = new Map<string, Linear>();
  readonly hooks: BlockHooks[] = [];

  protected abstract readonly layerNormEps: number;

  /** `<name>.weight` (normal(0, std), [out, in] or [in, out] per layout) and a zero `<name>.bias`. */
  protected addLinear(name: string, inDim: number, outDim: number, std: number, layout: WeightLayout, rng: Rng): Linear {
    const shape = layout === 'out_in' ? [outDim, inDim] : [inDim, outDim];
    const w = this.params.add(`${name}.weight`, init.normal(shape, std, rng));
    const b = this.params.add(`${name}.bias`, init.zeros([outDim]));
    const lin = new Linear(name, w, b, layout);
    this.linears.set(name, lin);
    return lin;
  }

  protected addLayerNorm(name: string, width: number): void {
    this.params.add(`${name}.weight`, init.ones([width]));
    this.params.add(`${name}.bias`, init.zeros([width]));
  }

  protected lin(name: string): Linear {
    return this.linears.get(name)!;
  }

  protected ln(name: string, x: tf.Tensor): tf.Tensor {
    return layerNorm(x, this.params.get(`${name}.weight`), this.params.get(`${name}.bias`), this.layerNormEps);
  }

  dispose(): void {
    this.params.dispose();
  }
}
