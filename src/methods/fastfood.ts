/**
 * The Fastfood transform (Le et al. 2013) as a random d → n projection, the structured projection
 * Li et al. (2018) and Aghajanyan et al. (2020) use for intrinsic-dimension fine-tuning when a dense
 * D×d Gaussian matrix does not fit (mini-roberta's 0.79M block weights × d = 4096 would be 13 GB):
 *
 *   P z = s · (H G Π H B [z; 0])[0:n],   with ℓ = 2^⌈log₂ max(n, d)⌉,
 *
 * H the unnormalised ℓ×ℓ Walsh–Hadamard matrix, B a random ±1 diagonal, Π a random permutation, G a
 * Gaussian diagonal, z zero-padded to ℓ and the first n entries kept. ‖H G Π H B y‖² ≈ ℓ·ΣG²·‖y‖²,
 * so with s = 1/√(D·ΣG²) a block's output has squared norm ≈ (n/D)·‖z‖²: over the blocks of a
 * D-dimensional parameter vector, ‖P z‖ ≈ ‖z‖, the unit-norm columns of the dense N(0, 1/D) variant
 * (intrinsic.ts), so the two variants take the same learning rates. Costs O(ℓ log ℓ) time and O(ℓ)
 * memory instead of O(n·d).
 *
 * H is applied as a Kronecker product of small Sylvester matrices (H_ℓ = H_f1 ⊗ … ⊗ H_fk): each factor
 * is a matmul on the minor axis followed by a transpose that rotates the axes, so every op is one
 * tfjs kernel with a registered gradient.
 */
import * as tf from '@tensorflow/tfjs-core';
import { isShapesOnlyActive } from '../models/shape-only.ts';
import type { Rng } from '../util/rng.ts';

/**
 * Largest Hadamard factor applied by one matmul. Up to two factors (ℓ ≤ 2^16) the transform is
 * H_a·X·H_b on X = x viewed as a×b (Sylvester matrices are symmetric): four kernels, no transpose;
 * on wasm the per-kernel cost outweighs the extra flops of 256-wide factors (ℓ·(a + b) MACs).
 */
const MAX_FACTOR_LOG2 = 8;

/** Sylvester's H_n (n a power of two), entries ±1, row-major. */
export function hadamardMatrix(n: number): Float32Array {
  if (!Number.isInteger(Math.log2(n))) throw new Error(`hadamardMatrix: ${n} is not a power of two`);
  const h = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) h[i * n + j] = popcount(i & j) % 2 === 0 ? 1 : -1;
  return h;
}

function popcount(x: number): number {
  let c = 0;
  for (let v = x; v !== 0; v &= v - 1) c++;
  return c;
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** The factor sizes (powers of two, each ≤ 2^MAX_FACTOR_LOG2, as even as possible) whose product is ℓ. */
export function hadamardFactors(l: number): number[] {
  const k = Math.log2(l);
  const parts = Math.max(1, Math.ceil(k / MAX_FACTOR_LOG2));
  const out: number[] = [];
  for (let i = 0, left = k; i < parts; i++) {
    const m = Math.ceil(left / (parts - i));
    out.push(2 ** m);
    left -= m;
  }
  return out.filter((f) => f > 1);
}

/** H_ℓ x (unnormalised) for x of length ℓ = 2^k; `mats` holds H_f for every factor size f of ℓ. */
export function walshHadamard(x: tf.Tensor1D, mats: ReadonlyMap<number, tf.Tensor2D>): tf.Tensor1D {
  const l = x.shape[0];
  const fs = hadamardFactors(l);
  if (fs.length === 0) return x;
  return tf.tidy(() => {
    if (fs.length === 1) return tf.reshape(tf.matMul(mats.get(l)!, tf.reshape(x, [l, 1])), [l]) as tf.Tensor1D;
    if (fs.length === 2) return tf.reshape(tf.matMul(tf.matMul(mats.get(fs[0])!, tf.reshape(x, [fs[0], fs[1]])), mats.get(fs[1])!), [l]) as tf.Tensor1D;
    // More factors: the minor axis times H_f, then a transpose rotating it to the major position.
    let y: tf.Tensor = x;
    for (const f of [...fs].reverse()) y = tf.transpose(tf.matMul(tf.reshape(y, [l / f, f]), mats.get(f)!), [1, 0]);
    return tf.reshape(y, [l]) as tf.Tensor1D;
  });
}

/** One Fastfood block: z ∈ ℝ^d → ℝ^n. Its randomness comes from `rng` only (an artifact stores z alone). */
export class FastfoodProjection {
  readonly l: number;
  private readonly b: Float32Array;
  private readonly perm: Int32Array;
  private readonly g: Float32Array;
  readonly scale: number;
  private consts: { b: tf.Tensor1D; perm: tf.Tensor1D; g: tf.Tensor1D; mats: Map<number, tf.Tensor2D> } | undefined;

  /** `total`: D, the size of the whole projected parameter vector (sets the scale, see above). */
  constructor(
    readonly n: number,
    readonly d: number,
    total: number,
    rng: Rng,
  ) {
    this.l = nextPow2(Math.max(n, d));
    this.b = new Float32Array(this.l);
    for (let i = 0; i < this.l; i++) this.b[i] = rng.next() < 0.5 ? -1 : 1;
    this.perm = Int32Array.from(rng.shuffle(Array.from({ length: this.l }, (_, i) => i)));
    this.g = new Float32Array(this.l);
    let g2 = 0;
    for (let i = 0; i < this.l; i += 2) {
      // Box–Muller, two normals per draw.
      const rad = Math.sqrt(-2 * Math.log(Math.max(rng.next(), 1e-300)));
      const th = 2 * Math.PI * rng.next();
      this.g[i] = rad * Math.cos(th);
      if (i + 1 < this.l) this.g[i + 1] = rad * Math.sin(th);
    }
    for (const v of this.g) g2 += v * v;
    this.scale = 1 / Math.sqrt(total * g2);
    // Made now, so apply() owns every tensor it will free; a shapes-only (counting) build makes none.
    if (!isShapesOnlyActive()) this.tensors();
  }

  /** The constants as tensors (kept: a first use inside a tidy must not free them). */
  private tensors(): NonNullable<FastfoodProjection['consts']> {
    if (this.consts === undefined) {
      const mats = new Map<number, tf.Tensor2D>();
      for (const f of new Set(hadamardFactors(this.l))) mats.set(f, tf.keep(tf.tensor2d(hadamardMatrix(f), [f, f])));
      // B only ever meets the d entries of z (the padding is zero); s folds into G.
      this.consts = {
        b: tf.keep(tf.tensor1d(this.b.subarray(0, this.d))),
        perm: tf.keep(tf.tensor1d(this.perm, 'int32')),
        g: tf.keep(tf.tensor1d(this.g.map((v) => v * this.scale))),
        mats,
      };
    }
    return this.consts;
  }

  /** P z, length n. */
  project(z: tf.Tensor1D): tf.Tensor1D {
    if (z.shape[0] !== this.d) throw new Error(`FastfoodProjection: z has ${z.shape[0]} entries, expected ${this.d}`);
    const c = this.tensors();
    // Few kernels per call (each layer calls it once or twice per forward pass): see walshHadamard.
    return tf.tidy(() => {
      const bz = tf.mul(z, c.b) as tf.Tensor1D;
      const padded = this.l > this.d ? (tf.pad(bz, [[0, this.l - this.d]]) as tf.Tensor1D) : bz;
      const mixed = tf.mul(tf.gather(walshHadamard(padded, c.mats), c.perm), c.g) as tf.Tensor1D;
      const out = walshHadamard(mixed, c.mats);
      return this.n < this.l ? (tf.slice(out, [0], [this.n]) as tf.Tensor1D) : out;
    });
  }

  dispose(): void {
    if (this.consts === undefined) return;
    this.consts.b.dispose();
    this.consts.perm.dispose();
    this.consts.g.dispose();
    for (const m of this.consts.mats.values()) m.dispose();
    this.consts = undefined;
  }
}
