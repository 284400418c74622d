/**
 * The Section 7 page's tables as Markdown, LaTeX and CSV (section7.md / .tex / .csv; the model
 * itself is section7.json): Tables 5, 6 and 7 with the paper's GPT-3 rows beneath ours, the φ
 * summary of Figures 3/4, and the closing note, the paper's findings beside ours with verdicts.
 */
import { formatCount } from '../analysis/intrinsic-dim.ts';
import { texEscape } from './format-tex.ts';
import type { Section7Model, TaskInfo } from './section7.ts';
import { PAPER_TABLE5, PAPER_TABLE6, PAPER_TABLE7, PAPER_TABLE7_WNORM, TABLE5_SETS, TABLE6_RANKS, setLabel } from './section7-paper.ts';
import { aggText } from './section7-runs.ts';
import { csvLine } from '../util/csv.ts';

const TASK_NAMES: Readonly<Record<string, string>> = { sst2: 'SST-2', e2e: 'E2E', mnli: 'MNLI', mrpc: 'MRPC', rte: 'RTE', cola: 'CoLA', stsb: 'STS-B', qnli: 'QNLI', qqp: 'QQP' };

export function taskName(t: string): string {
  return TASK_NAMES[t] ?? t;
}

function metricName(m: string): string {
  return m === 'accuracy' ? 'accuracy %' : m === 'BLEU' ? 'BLEU ×100' : m;
}

/** "profile mini: mini-roberta on SST-2 (accuracy %, seeds 0, 1, 2, 1500 training examples, …)". */
export function taskCaption(profile: string, t: TaskInfo): string {
  const n = t.trainExamples !== undefined ? `, ${t.trainExamples} training examples` : '';
  return `profile ${profile}: ${t.model} on ${taskName(t.task)} (${metricName(t.metric)}${n}, seeds ${t.seeds.join(', ')}; each run reports ${t.reported})`;
}

export function captionOf(m: Section7Model): string {
  const scale = m.profile === 'paper' ? '' : ' A scaled-down stand-in: its numbers are not the paper’s.';
  return `Paper Section 7 from our runs, ${m.tasks.map((t) => taskCaption(m.profile, t)).join('; ')}. Cells: mean ± sample std over seeds. The paper’s rows (GPT-3 175B on WikiSQL and MultiNLI, ../shared/reference/paper-other.md) stand beneath ours for orientation: other model, other tasks.${scale}`;
}

/** A Markdown table, the first column left-aligned and the others right (the study pages' md files). */
export function mdTable(head: string[], rows: string[][]): string {
  const line = (c: string[]) => `| ${c.join(' | ')} |`;
  return [line(head), line(head.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

export interface PlainTable {
  title: string;
  head: string[];
  rows: string[][];
}

/** Every table of the page as plain cells (what md, tex and the HTML page render). */
export function section7Tables(m: Section7Model): PlainTable[] {
  const out: PlainTable[] = [];
  const t5head = ['', ...TABLE5_SETS.map(setLabel)];
  const t5rows: string[][] = [];
  for (const row of m.table5) {
    t5rows.push([`${taskName(row.task)}: rank r`, ...row.cells.map((c) => String(c.r))]);
    t5rows.push([`${taskName(row.task)}: # trainable`, ...row.cells.map((c) => (c.params === undefined ? '—' : formatCount(c.params)))]);
    t5rows.push([`${taskName(row.task)} (ours)`, ...row.cells.map((c) => `${aggText(c)}${c.n > 0 ? ` (${c.n})` : ''}`)]);
  }
  for (const p of PAPER_TABLE5) t5rows.push([`paper: ${p.dataset} (±${p.pm}), r 8/8/8/8/4/4/2`, ...TABLE5_SETS.map((s) => p.values[s].toFixed(1))]);
  out.push({ title: 'Table 5: which weight types to adapt under one budget (r = 8 on one type of d×d matrix)', head: t5head, rows: t5rows });

  const t6rows: string[][] = m.table6.map((row) => [`${taskName(row.task)} (ours)`, setLabel(row.set), ...row.cells.map((c) => `${aggText(c)}${c.n > 0 ? ` (${c.n})` : ''}`)]);
  for (const p of PAPER_TABLE6) t6rows.push([`paper: ${p.dataset} (±${p.pm})`, setLabel(p.set), ...TABLE6_RANKS.map((r) => p.values[r].toFixed(1))]);
  out.push({ title: 'Table 6: the rank r', head: ['task', 'weight types', ...TABLE6_RANKS.map((r) => `r=${r}`)], rows: t6rows });

  const phiRows = m.phi.map((p) => [
    taskName(p.task),
    p.comparison === 'ranks' ? 'A_{r=8} vs A_{r=64} (next seed)' : 'A_{r=64} of two seeds',
    `W_${p.weight}`,
    `${p.top.value.toFixed(3)} (${p.top.random.toFixed(3)})`,
    `${p.rest.value.toFixed(3)} (${p.rest.random.toFixed(3)})`,
    p.perLayer.map((l) => `L${l.layer} ${l.top.toFixed(2)}/${l.rest.toFixed(2)}`).join(', '),
    p.pairs.join('; '),
  ]);
  out.push({
    title: 'Figures 3/4 in numbers: φ of the top direction and of directions 2–8, random-subspace expectation in brackets (means over layers and pairs)',
    head: ['task', 'comparison', 'weight', 'φ(1,1) (random)', 'φ dirs 2–8 (random)', 'per layer: top/2–8', 'pairs'],
    rows: phiRows,
  });

  const t7rows: string[][] = m.table7.map((t) => {
    const x = t.mean;
    return [taskName(t.task), `W_${t.weight}`, String(t.r), x.wNorm.toFixed(2), x.deltaNorm.toFixed(3), x.projDelta.toFixed(3), x.projW.toFixed(2), `${x.projRandom.toFixed(3)} (${x.randomExpected.toFixed(3)})`, x.amplification.toFixed(1), t.seeds.join(', ')];
  });
  for (const p of PAPER_TABLE7) t7rows.push(['paper: GPT-3 layer 48', 'W_q', String(p.r), PAPER_TABLE7_WNORM.toFixed(2), p.deltaNorm.toFixed(2), p.projDelta.toFixed(2), p.projW.toFixed(2), p.projRandom.toFixed(2), (p.deltaNorm / p.projDelta).toFixed(1), '—']);
  out.push({
    title: 'Table 7: ‖UᵀWVᵀ‖_F for the top-r directions of ΔW, of W and random ones, and the amplification ‖ΔW‖_F / ‖UᵀWVᵀ‖_F (ours: mean over layers and seeds)',
    head: ['task', 'weight', 'r', '‖W‖_F', '‖ΔW‖_F', 'ΔW dirs', 'W dirs', 'random (expected)', 'amplification', 'seeds'],
    rows: t7rows,
  });
  const perLayer = m.table7.flatMap((t) => t.perLayer.map((l) => [taskName(t.task), `W_${t.weight}`, String(t.r), String(l.layer), l.deltaNorm.toFixed(3), l.projDelta.toFixed(3), l.projW.toFixed(2), l.projRandom.toFixed(3), l.amplification.toFixed(1)]));
  if (perLayer.length > 0) out.push({ title: 'Table 7 per layer (mean over seeds)', head: ['task', 'weight', 'r', 'layer', '‖ΔW‖_F', 'ΔW dirs', 'W dirs', 'random', 'amplification'], rows: perLayer });
  return out;
}

function findingsLines(m: Section7Model): string[] {
  return m.findings.flatMap((f) => [`- **${f.verdict}** — paper: ${f.paper}`, ...(f.ours.length > 0 ? f.ours.map((o) => `  - ours: ${o}`) : ['  - ours: no runs for it in this profile'])]);
}

export function section7Markdown(m: Section7Model): string {
  const parts = [`# Paper Section 7 from our runs (profile ${m.profile})`, '', captionOf(m), ''];
  for (const t of section7Tables(m)) parts.push(`## ${t.title}`, '', mdTable(t.head, t.rows), '');
  parts.push('## The paper’s findings beside ours', '', ...findingsLines(m), '');
  parts.push(`Verdicts: "within seed noise" is a difference within 2 standard errors of the two means, from the seed std pooled over the table row; the top direction counts as shared above φ = 0.5 (the paper’s reading of Figure 3) and as above chance at 10× its random expectation, directions 2–8 as random-like within twice their random expectation. Reproduced: every comparison as the paper; partly: some.`, '');
  if (m.figures.length > 0) parts.push('Figures (subspace.json of the first seed or pair; charts in charts/):', '', ...m.figures.map((f) => `- ${taskName(f.task)}, ${f.what}: ${f.file}`), '');
  if (m.skipped.length > 0) parts.push('Not computed:', '', ...m.skipped.map((s) => `- ${s}`), '');
  return parts.join('\n');
}

export function section7Tex(m: Section7Model): string {
  return texTables(captionOf(m), section7Tables(m));
}

/** A study page's tables as booktabs LaTeX, the caption as a comment above them (section7.tex, intrinsic.tex). */
export function texTables(caption: string, tables: PlainTable[]): string {
  const parts = [`% ${texEscape(caption)}`, '% Needs \\usepackage{booktabs}.'];
  for (const t of tables) {
    parts.push(
      '\\begin{table}[t]\\centering\\small',
      `\\caption{${texEscape(t.title)}}`,
      `\\begin{tabular}{l${'r'.repeat(t.head.length - 1)}}`,
      '\\toprule',
      `${t.head.map(texEscape).join(' & ')} \\\\`,
      '\\midrule',
      ...t.rows.map((r) => `${r.map(texEscape).join(' & ')} \\\\`),
      '\\bottomrule',
      '\\end{tabular}',
      '\\end{table}',
      '',
    );
  }
  return parts.join('\n');
}

/** Long format: one line per number, with its table, row and column. */
export function section7Csv(m: Section7Model): string {
  const lines = ['table,task,row,column,mean,std,n,run_ids'];
  const push = (...c: (string | number | undefined)[]) => lines.push(csvLine(c.map((x) => (x === undefined ? '' : String(x)))));
  for (const row of m.table5) for (const c of row.cells) push('table5', row.task, `r=${c.r}`, c.set, c.mean, c.std, c.n, c.runIds.join(' '));
  for (const row of m.table6) for (const c of row.cells) push('table6', row.task, row.set, `r=${c.r}`, c.mean, c.std, c.n, c.runIds.join(' '));
  for (const p of m.phi) {
    push('phi', p.task, `${p.comparison} W_${p.weight}`, 'top', p.top.value, undefined, p.pairs.length, '');
    push('phi', p.task, `${p.comparison} W_${p.weight}`, 'directions 2-8', p.rest.value, undefined, p.pairs.length, '');
  }
  for (const t of m.table7) for (const [k, v] of Object.entries(t.mean)) push('table7', t.task, `W_${t.weight} r=${t.r}`, k, v, undefined, t.seeds.length, '');
  return lines.join('\n') + '\n';
}
