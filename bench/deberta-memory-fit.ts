/**
 * The activation-memory model of bench/deberta-memory.ts: the bytes a DeBERTa-v2 training step holds
 * beyond weights, optimizer state and gradients, as a linear combination of monomials of the shape
 * (batch B, length S, width d, FFN width f, heads H, position-table rows 2k, vocabulary V, layers L),
 * fitted by least squares to measured steps of scaled-down models and evaluated at XXL's shape.
 *
 * Why monomials and a linear fit: tfjs holds every tensor the forward saves and every gradient of the
 * backward until the backward ends (engine.gradients disposes nothing earlier), so the memory at the
 * end of the backward is a sum over the step's tensors, each of one of these shapes. The peak adds the
 * temporaries of whichever gradient kernel runs late with the most of them, which depends on the shape:
 * the fit is close, not exact (its error is reported), and a coefficient / 4 reads as "about that many
 * float32 tensors of this shape", not as an exact count.
 */
import { Matrix, solve } from 'ml-matrix';

/** One step's shape. `k2` is the relative-position table's rows, 2·position_buckets. */
export interface StepShape {
  layers: number;
  hidden: number;
  intermediate: number;
  heads: number;
  k2: number;
  vocab: number;
  batch: number;
  seq: number;
}

interface Feature {
  name: string;
  /** Repeated in every layer (multiplied by L) or once per step. */
  perLayer: boolean;
  value: (s: StepShape) => number;
}

/**
 * Per layer: the hidden states and their gradients (B·S·d), the FFN's (B·S·f), the attention scores,
 * probabilities, masks and their gradients (B·H·S²), the pair mask (B·S²), the position terms before
 * they are lined up with the keys (B·H·S·2k when a [B·S, 2k] table is gathered, B·H·S when it is
 * shifted over 2S − 1 distances), LoRA's rank-r products (B·S, r fixed), index tensors (S²), the
 * projected position table (2k·d) and a table gathered per distance (S·d). Per step: the embedding
 * stage (B·S·d, B·S), the position index and table, the embedding matrix's gradient path (V·d), the
 * ConvLayer's weight slices (d²), the pooler and classifier (B·d), a constant. Terms the code does
 * not have fit to about zero; keeping them lets the same model follow a rewrite of the attention.
 */
export const FEATURES: readonly Feature[] = [
  { name: 'B·S·d', perLayer: true, value: (s) => s.batch * s.seq * s.hidden },
  { name: 'B·S·f', perLayer: true, value: (s) => s.batch * s.seq * s.intermediate },
  { name: 'B·H·S²', perLayer: true, value: (s) => s.batch * s.heads * s.seq * s.seq },
  { name: 'B·S²', perLayer: true, value: (s) => s.batch * s.seq * s.seq },
  { name: 'B·H·S·2k', perLayer: true, value: (s) => s.batch * s.heads * s.seq * s.k2 },
  { name: 'B·H·S', perLayer: true, value: (s) => s.batch * s.heads * s.seq },
  { name: 'B·S', perLayer: true, value: (s) => s.batch * s.seq },
  { name: 'S²', perLayer: true, value: (s) => s.seq * s.seq },
  { name: '2k·d', perLayer: true, value: (s) => s.k2 * s.hidden },
  { name: 'S·d', perLayer: true, value: (s) => s.seq * s.hidden },
  { name: 'B·S·d', perLayer: false, value: (s) => s.batch * s.seq * s.hidden },
  { name: 'B·S', perLayer: false, value: (s) => s.batch * s.seq },
  { name: 'S²', perLayer: false, value: (s) => s.seq * s.seq },
  { name: '2k·d', perLayer: false, value: (s) => s.k2 * s.hidden },
  { name: 'V·d', perLayer: false, value: (s) => s.vocab * s.hidden },
  { name: 'd²', perLayer: false, value: (s) => s.hidden * s.hidden },
  { name: 'B·d', perLayer: false, value: (s) => s.batch * s.hidden },
  { name: '1', perLayer: false, value: () => 1 },
];

export function featureRow(s: StepShape): number[] {
  return FEATURES.map((f) => (f.perLayer ? s.layers : 1) * f.value(s));
}

export interface FitPoint {
  shape: StepShape;
  /** Measured activation bytes of the step. */
  bytes: number;
}

export interface ActivationFit {
  /** Bytes per unit of each feature, in FEATURES' order. */
  coefficients: { name: string; perLayer: boolean; bytes: number }[];
  points: number;
  /** max |predicted − measured| / measured over the fitted points. */
  maxRelError: number;
}

/**
 * Least squares on the relative error (each point's row divided by its bytes: a 3 MB and a 300 MB step
 * count alike), on columns scaled to unit max (the monomials span ten orders of magnitude), through
 * the SVD so that a feature the points cannot tell apart from others gets the minimum-norm share
 * instead of a division by zero.
 */
export function fitActivations(points: readonly FitPoint[]): ActivationFit {
  if (points.length < FEATURES.length) throw new Error(`fitActivations: ${points.length} points for ${FEATURES.length} features; need at least as many points`);
  const rows = points.map((p) => featureRow(p.shape).map((v) => v / p.bytes));
  const scale = FEATURES.map((_, j) => Math.max(...rows.map((r) => Math.abs(r[j]))) || 1);
  const a = new Matrix(rows.map((r) => r.map((v, j) => v / scale[j])));
  const b = Matrix.columnVector(points.map(() => 1));
  const x = solve(a, b, true).to1DArray();
  const coefficients = FEATURES.map((f, j) => ({ name: f.name, perLayer: f.perLayer, bytes: x[j] / scale[j] }));
  const fit: ActivationFit = { coefficients, points: points.length, maxRelError: 0 };
  fit.maxRelError = Math.max(...points.map((p) => relError(predictActivations(fit, p.shape), p.bytes)));
  return fit;
}

export function predictActivations(fit: Pick<ActivationFit, 'coefficients'>, s: StepShape): number {
  const row = featureRow(s);
  return fit.coefficients.reduce((sum, c, j) => sum + c.bytes * row[j], 0);
}

/** The per-layer part alone (what gradient checkpointing recomputes instead of keeping, per layer). */
export function predictOneLayer(fit: Pick<ActivationFit, 'coefficients'>, s: StepShape): number {
  return FEATURES.reduce((sum, f, j) => sum + (f.perLayer ? fit.coefficients[j].bytes * f.value(s) : 0), 0);
}

export function relError(predicted: number, measured: number): number {
  return Math.abs(predicted - measured) / Math.max(Math.abs(measured), 1);
}
