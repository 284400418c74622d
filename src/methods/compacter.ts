/**
 * Compacter (Mahabadi et al. 2021), discussed in the paper's related work: bottleneck adapters whose
 * projections are parameterised hypercomplex multiplication (PHM) layers,
 * W = Σᵢ₌₁ⁿ Aᵢ ⊗ Bᵢ with Aᵢ ∈ ℝ^{n×n} shared by every Compacter layer of the model and
 * Bᵢ = sᵢ·tᵢᵀ rank one and layer-specific (sᵢ ∈ ℝ^{in/n}, tᵢ ∈ ℝ^{out/n}). One PHM layer then holds
 * n·(in/n + out/n) = in + out weights plus its bias, so one adapter (d→r and r→d) holds
 * (d + r) + r + (r + d) + d = 3d + 3r, and |Θ| = L̂·(3·d_model + 3r) + n³.
 *
 * Placement as Houlsby (after attention and after the FFN; Mahabadi et al.'s Compacter) or only
 * after the FFN (their Compacter++). The up-projection's tᵢ start at zero: W_up = 0, so each
 * adapter is the identity at initialisation. Init scales (ours): A ~ N(0, 1/√n), s, t ~ N(0, √σ),
 * so W has the model's initializer std σ.
 */
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { matMul } from '../models/matmul.ts';
import type { TransformerModel } from '../models/model.ts';
import { init } from '../models/param-store.ts';
import { makeVariable } from '../models/shape-only.ts';
import { UserError } from '../util/errors.ts';
import type { Rng } from '../util/rng.ts';
import { ADAPTER_ACTIVATIONS, AppliedSiteModules, activate, adapterModuleName, siteKey, type AdapterActivation, type AdapterPlacement, type SiteModule } from './adapter-module.ts';
import { defineMethod, fmt } from './method.ts';

const schema = z
  .object({
    r: z.number().int().positive().default(8),
    /** n: the number of Kronecker summands (divides d_model and r). */
    phmDim: z.number().int().positive().default(4),
    placement: z.enum(['houlsby', 'pfeiffer']).default('houlsby'),
    activation: z.enum(ADAPTER_ACTIVATIONS).default('gelu'),
  })
  .strict();

type Config = z.infer<typeof schema>;

/** W = Σᵢ Aᵢ ⊗ (sᵢ tᵢᵀ) as an [in, out] matrix, via one 2-D product (no batched matmul on wasm). */
function phmWeight(A: tf.Tensor, s: tf.Tensor, t: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const n = (A.shape as number[])[0];
    const bi = (s.shape as number[])[1];
    const bo = (t.shape as number[])[1];
    const B = tf.mul(tf.reshape(s, [n, bi, 1]), tf.reshape(t, [n, 1, bo])); // Bᵢ = sᵢ tᵢᵀ
    // M[(p,q'),(q,u)] = Σᵢ A[i,p,q'] · B[i,q,u]; W[p·bi + q, q'·bo + u] = M[(p,q'),(q,u)].
    const M = matMul(tf.transpose(tf.reshape(A, [n, n * n])), tf.reshape(B, [n, bi * bo]));
    return tf.reshape(tf.transpose(tf.reshape(M, [n, n, bi, bo]), [0, 2, 1, 3]), [n * bi, n * bo]) as tf.Tensor2D;
  });
}

class PhmLayer {
  readonly s: tf.Variable;
  readonly t: tf.Variable;
  readonly bias: tf.Variable;

  constructor(n: number, inDim: number, outDim: number, zeroT: boolean, std: number, rng: Rng) {
    this.s = makeVariable(init.normal([n, inDim / n], Math.sqrt(std), rng));
    this.t = makeVariable(zeroT ? init.zeros([n, outDim / n]) : init.normal([n, outDim / n], Math.sqrt(std), rng));
    this.bias = makeVariable(init.zeros([outDim]));
  }

  apply(x: tf.Tensor, A: tf.Tensor): tf.Tensor {
    return tf.add(matMul(x, phmWeight(A, this.s, this.t)), this.bias);
  }
}

class CompacterAdapter implements SiteModule {
  readonly down: PhmLayer;
  readonly up: PhmLayer;

  constructor(
    readonly name: string,
    private readonly A: tf.Variable,
    d: number,
    r: number,
    private readonly activation: AdapterActivation,
    std: number,
    rng: Rng,
  ) {
    const n = (A.shape as number[])[0];
    this.down = new PhmLayer(n, d, r, false, std, rng);
    this.up = new PhmLayer(n, r, d, true, std, rng);
  }

  parameters(): { name: string; v: tf.Variable }[] {
    return [
      { name: `${this.name}.phm_down.s`, v: this.down.s },
      { name: `${this.name}.phm_down.t`, v: this.down.t },
      { name: `${this.name}.phm_down.bias`, v: this.down.bias },
      { name: `${this.name}.phm_up.s`, v: this.up.s },
      { name: `${this.name}.phm_up.t`, v: this.up.t },
      { name: `${this.name}.phm_up.bias`, v: this.up.bias },
    ];
  }

  forward(h: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const [b, l, d] = h.shape;
      const x = activate(this.activation, this.down.apply(tf.reshape(h, [b * l, d]), this.A));
      return tf.add(h, tf.reshape(this.up.apply(x, this.A), [b, l, d])) as tf.Tensor3D;
    });
  }

  dispose(): void {
    for (const p of this.parameters()) p.v.dispose();
  }
}

/** One Compacter per placement, all sharing the PHM rule Aᵢ (the first trainable tensor); hook wiring: adapter-module.ts. */
function applyCompacter(model: TransformerModel, config: Config, rng: Rng): AppliedSiteModules {
  const n = config.phmDim;
  const rule = makeVariable(init.normal([n, n, n], 1 / Math.sqrt(n), rng));
  const placements: AdapterPlacement[] = [];
  for (let layer = 0; layer < model.config.layers; layer++) {
    if (config.placement === 'houlsby') placements.push({ layer, site: 'afterAttention' });
    placements.push({ layer, site: 'afterFfn' });
  }
  const at = new Map<string, SiteModule>();
  for (const p of placements) {
    at.set(siteKey(p), new CompacterAdapter(adapterModuleName(model, p), rule, model.config.hidden, config.r, config.activation, model.config.initializerRange, rng));
  }
  return new AppliedSiteModules(model, 'compacter', config, at, [{ name: 'compacter.phm_rule', v: rule }]);
}

const adaptersOf = (layers: number, c: Config): number => (c.placement === 'houlsby' ? 2 : 1) * layers;

export const compacterMethod = defineMethod({
  name: 'compacter',
  summary: 'Compacter: adapters with Kronecker-sum (PHM) projections, shared Aᵢ, rank-one Bᵢ',
  schema,
  check(m, c) {
    if (m.hidden % c.phmDim !== 0 || c.r % c.phmDim !== 0) {
      throw new UserError(`compacter: phmDim ${c.phmDim} must divide d_model ${m.hidden} and r ${c.r}`);
    }
  },
  apply: applyCompacter,
  formula: (m, c) => adaptersOf(m.layers, c) * (3 * m.hidden + 3 * c.r) + c.phmDim ** 3,
  formulaText(m, c) {
    const k = adaptersOf(m.layers, c);
    return `|Θ| = L̂·(3·d_model + 3r) + n³ = ${k}·(3·${m.hidden} + 3·${c.r}) + ${c.phmDim}³ = ${fmt(k * (3 * m.hidden + 3 * c.r) + c.phmDim ** 3)}`;
  },
});
