/** `lora-repro parity <fixture-dir>`: our models against the reference code's outputs. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../../backend/select.ts';
import { writeSafetensors, f32 } from '../../io/safetensors.ts';
import { compareParity, type ParityReport } from '../../parity/compare.ts';
import { computeParity } from '../../parity/compute.ts';
import { readParityFixture } from '../../parity/fixture.ts';
import { UserError } from '../../util/errors.ts';
import { parseCommandArgs } from '../args.ts';
import type { Command } from '../command.ts';

function formatReport(r: ParityReport): string {
  const width = Math.max(...r.tensors.map((t) => t.name.length), 10);
  const lines = [`parity: ${r.fixture}`, `  ${'tensor'.padEnd(width)}  ${'max |diff|'.padStart(11)}  ${'tolerance'.padStart(11)}  result`];
  for (const t of r.tensors) {
    lines.push(`  ${t.name.padEnd(width)}  ${t.maxAbsDiff.toExponential(3).padStart(11)}  ${t.tolerance.toExponential(3).padStart(11)}  ${t.pass ? 'ok' : 'FAIL'}`);
  }
  for (const b of r.beam) {
    lines.push(`  beam case ${b.case}: ${b.pass ? 'ok' : 'FAIL'} [${b.computed.join(' ')}]${b.pass ? '' : ` expected [${b.expected.join(' ')}]`}`);
  }
  lines.push(r.pass ? 'PASS' : 'FAIL');
  return lines.join('\n');
}

export const parityCommand: Command = {
  name: 'parity',
  summary: 'check models, LoRA, losses, gradients and beam search against a reference fixture',
  usage: [
    'Usage: lora-repro parity <fixture-dir> [--dump <out-dir>] [--json] [--backend B]',
    '',
    'Computes every tensor named in <fixture-dir>/expected.safetensors (logits.*, loss.*, grad.*, merged.*)',
    'and the beam-search cases of expected.json, and compares them with the reference values:',
    'logits/losses within 2e-5, gradients/merged weights within 1e-4 of the tensor max, beam tokens identical.',
    'Exit 0 only if everything passes. --dump writes computed.safetensors and beam.json to <out-dir>.',
  ].join('\n'),
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      dump: { type: 'string' },
      json: { type: 'boolean', default: false },
      backend: { type: 'string' },
    });
    if (positionals.length !== 1) throw new UserError('expects exactly one fixture directory (see --help)');
    await initBackend(values.backend);
    const fx = readParityFixture(positionals[0]);
    const computed = await computeParity(fx);
    const report = compareParity(fx, fx.expected, computed);
    if (values.dump !== undefined) {
      mkdirSync(values.dump, { recursive: true });
      const tensors = Object.fromEntries([...computed.tensors].map(([n, t]) => [n, f32(t.shape, t.data)]));
      writeSafetensors(join(values.dump, 'computed.safetensors'), tensors);
      writeFileSync(join(values.dump, 'beam.json'), JSON.stringify({ cases: computed.beamTokens.map((tokens) => ({ tokens })) }, null, 2) + '\n');
    }
    console.log(values.json ? JSON.stringify(report, (_k, v) => (v === Infinity ? 'Infinity' : v), 2) : formatReport(report));
    return report.pass ? 0 : 1;
  },
};
