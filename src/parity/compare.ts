/**
 * Tolerances of `lora-repro parity`: logits and losses within 2e-5 absolute; gradients and merged
 * weights within 1e-4 of the expected tensor's largest absolute value; beam tokens identical.
 * GPT-2 logits are compared only where attention_mask = 1: the reference runs without a mask,
 * so padded positions are not meaningful outputs. DeBERTa-v2's bucketed relative positions (inputs.json
 * `relative_positions`, when given) must agree exactly.
 */
import type { SafetensorsFile } from '../io/safetensors.ts';
import { toFloat32 } from '../io/safetensors.ts';
import type { ParityComputation } from './compute.ts';
import type { ParityFixture } from './fixture.ts';

export interface TensorCheck {
  name: string;
  maxAbsDiff: number;
  tolerance: number;
  /** 'abs' or 'rel-to-max' (tolerance already multiplied by max |expected|). */
  kind: 'abs' | 'rel-to-max';
  pass: boolean;
}

export interface BeamCheck {
  case: number;
  expected: number[];
  computed: number[];
  pass: boolean;
}

export interface ParityReport {
  fixture: string;
  tensors: TensorCheck[];
  beam: BeamCheck[];
  pass: boolean;
}

function positionMask(fx: ParityFixture, name: string, shape: number[]): Uint8Array | undefined {
  if (fx.config.modelType !== 'gpt2' || !name.startsWith('logits.') || shape.length !== 3) return undefined;
  const [b, l, v] = shape;
  const m = new Uint8Array(b * l * v);
  for (let i = 0; i < b; i++) for (let t = 0; t < l; t++) if (fx.inputs.attention_mask[i][t] === 1) m.fill(1, (i * l + t) * v, (i * l + t + 1) * v);
  return m;
}

export function compareParity(fx: ParityFixture, expected: SafetensorsFile, got: ParityComputation): ParityReport {
  const tensors: TensorCheck[] = [];
  for (const [name, entry] of expected.tensors) {
    const want = toFloat32(entry);
    const have = got.tensors.get(name);
    const relative = name.startsWith('grad.') || name.startsWith('merged.');
    let maxExp = 0;
    for (const x of want) maxExp = Math.max(maxExp, Math.abs(x));
    const tolerance = relative ? 1e-4 * maxExp : 2e-5;
    if (have === undefined || have.data.length !== want.length || have.shape.join() !== entry.shape.join()) {
      tensors.push({ name, maxAbsDiff: Infinity, tolerance, kind: relative ? 'rel-to-max' : 'abs', pass: false });
      continue;
    }
    const mask = positionMask(fx, name, entry.shape);
    let diff = 0;
    for (let i = 0; i < want.length; i++) {
      if (mask && mask[i] === 0) continue;
      const d = Math.abs(want[i] - have.data[i]);
      diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
    }
    tensors.push({ name, maxAbsDiff: diff, tolerance, kind: relative ? 'rel-to-max' : 'abs', pass: diff <= tolerance });
  }
  const rel = fx.inputs.relative_positions;
  if (rel !== undefined) {
    // Integers: the bucket arithmetic must agree exactly.
    const want = rel.flat();
    const have = got.tensors.get('inputs.relative_positions');
    let diff = have === undefined || have.data.length !== want.length ? Infinity : 0;
    if (have !== undefined) for (let i = 0; i < want.length && diff !== Infinity; i++) diff = Math.max(diff, Math.abs(want[i] - have.data[i]));
    tensors.push({ name: 'inputs.relative_positions', maxAbsDiff: diff, tolerance: 0, kind: 'abs', pass: diff === 0 });
  }
  const beam: BeamCheck[] = (fx.beam?.cases ?? []).map((c, i) => {
    const computed = got.beamTokens[i] ?? [];
    const exp = c.tokens ?? [];
    return { case: i, expected: exp, computed, pass: c.tokens === undefined || exp.join() === computed.join() };
  });
  return { fixture: fx.dir, tensors, beam, pass: tensors.every((t) => t.pass) && beam.every((b) => b.pass) };
}
