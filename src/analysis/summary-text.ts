/** Plain-text summary of a subspace analysis, what `lora-repro analyze subspace` prints. */
import type { SubspaceAnalysis } from './analysis-schema.ts';
import { WEIGHT_LABEL, type WeightType } from './lora-weights.ts';
import { expectedRandomPhi } from './subspace.ts';

function wl(w: string): string {
  return WEIGHT_LABEL[w as WeightType] ?? w;
}

function f(x: number | null | undefined, d = 4): string {
  return x === null || x === undefined ? '—' : x.toFixed(d);
}

export function summaryText(a: SubspaceAnalysis): string {
  const out: string[] = [];
  for (const c of a.checkpoints) {
    out.push(`== ${c.label}: ${c.source} (${c.format} names, ${c.modelType}, ${c.modules.length} LoRA modules; lora_alpha ${c.alpha ?? '?'} from ${c.alphaSource})`);
    out.push('layer weight    r  scaling  ‖ΔW‖_F   stable-rank  σ_1..σ_r of ΔW');
    for (const m of c.modules) {
      const sv = m.singularValues ? m.singularValues.slice(0, 8).map((s) => s.toFixed(2)).join(' ') + (m.singularValues.length > 8 ? ' …' : '') : '—';
      out.push(`${String(m.layer).padStart(5)} ${wl(m.weight).padEnd(8)} ${String(m.r).padStart(3)}  ${f(m.scaling, 3).padStart(7)}  ${f(m.frobenius).padStart(8)}  ${f(m.stableRank, 3).padStart(11)}  ${sv}`);
    }
    const rel = c.modules.filter((m) => m.relation);
    if (rel.length > 0) {
      out.push('Table 7 (‖UᵀWV‖_F with the top-r directions of ΔW / W / random; amplification ‖ΔW‖_F / ‖UᵀWV‖_F(ΔW)):');
      out.push('layer weight    r   ‖W‖_F    ΔW dirs    W dirs     random (expected)    amplification');
      for (const m of rel) {
        const r = m.relation!;
        out.push(
          `${String(m.layer).padStart(5)} ${wl(m.weight).padEnd(8)} ${String(r.r).padStart(3)} ${f(r.wNorm, 2).padStart(8)} ${f(r.projDelta).padStart(9)} ${f(r.projW, 3).padStart(9)}   ${f(r.projRandom.mean)} (${f(r.randomExpected)})   ${f(r.amplification, 2)}`,
        );
      }
    }
    for (const x of c.crossLayer) {
      const adj = x.layers.slice(1).map((l, k) => `${x.layers[k]}-${l} ${x.phiFull[k][k + 1].toFixed(3)}`);
      const off = x.phiFull.flatMap((row, i) => row.filter((_, j) => j !== i));
      const meanOff = off.length > 0 ? off.reduce((s, v) => s + v, 0) / off.length : NaN;
      out.push(`φ(A_l, A_m, ${x.i}, ${x.j}) between layers, ${wl(x.weight)}: mean over l≠m ${meanOff.toFixed(4)} (random subspaces: ${x.randomExpected.toFixed(4)}); adjacent layers: ${adj.join(', ')}`);
    }
    if (c.crossType.length > 0) {
      out.push(`φ between weight types of one layer (top-1 / full rank): ${c.crossType.map((t) => `L${t.layer} ${wl(t.weights[0])}-${wl(t.weights[1])} ${t.phiTop1.toFixed(3)}/${t.phiFull.toFixed(3)}`).join(', ')}`);
    }
  }
  if (a.pair) {
    const [l1, l2] = a.pair.labels;
    out.push(`== φ(A_${l1}, A_${l2}, i, j) per module (Figures 3/4): φ(1,1) and φ(r1,r2); random subspaces give E[φ] = max(i,j)/d`);
    for (const m of a.pair.modules) {
      out.push(
        `layer ${String(m.layer).padStart(3)} ${wl(m.weight).padEnd(8)} r ${m.r1}/${m.r2}: φ(1,1) = ${m.phiTop1.toFixed(4)} (random ${expectedRandomPhi(1, 1, m.d).toFixed(4)}), φ(${m.r1},${m.r2}) = ${m.phiFull.toFixed(4)} (random ${expectedRandomPhi(m.r1, m.r2, m.d).toFixed(4)})`,
      );
    }
  }
  for (const s of a.skipped) out.push(`skipped: ${s}`);
  out.push(`analysis took ${a.seconds.toFixed(2)} s`);
  return out.join('\n');
}
