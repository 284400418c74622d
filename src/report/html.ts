/**
 * The static HTML report of a results profile (results/<profile>/report.html): Tables 2 and 3 beside
 * the paper, the charts (PNG, linked to their SVG, by relative path), the subspace analyses, and
 * links to the MLflow runs when the runs recorded a tracking server. No scripts, no server.
 *
 * Agreement colouring, so a reader sees at a glance where we match the paper: a cell "agrees" when
 * |Δ| ≤ tol = max(paper ±, our ±) + one unit of the last printed digit, is "close" up to 2·tol, and
 * "differs" beyond; cells without a paper value are not coloured.
 */
import type { SubspaceAnalysis } from '../analysis/analysis-schema.ts';
import { WEIGHT_LABEL, type WeightType } from '../analysis/lora-weights.ts';
import type { ChartEntry } from './charts/build.ts';
import type { ColumnDef } from './columns.ts';
import { allColumns, BASELINE_PARAMS, baselineCellsOf, baselineCellText, cellsOf, fmtNum, fmtSigned, oursText, paperText, paramsText } from './format-text.ts';
import { describeRunReport } from './protocol.ts';
import type { LoadedRun } from './results.ts';
import { mlflowUrl, type Cell, type TableModel } from './table-model.ts';

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function agreement(c: Cell, col: ColumnDef): 'agree' | 'close' | 'differs' | undefined {
  if (c.diff === undefined) return undefined;
  const tol = Math.max(c.paper?.std ?? 0, c.std ?? 0) + 10 ** -col.decimals;
  const d = Math.abs(c.diff);
  return d <= tol ? 'agree' : d <= 2 * tol ? 'close' : 'differs';
}

function cellHtml(c: Cell, col: ColumnDef): string {
  const cls = agreement(c, col);
  const ours = c.value === undefined ? `<span class="none">${esc(oursText(c, col.decimals))}</span>` : esc(oursText(c, col.decimals));
  const paper = paperText(c);
  const sub = paper !== undefined ? `<div class="paper">paper ${esc(paper)}${c.diff !== undefined ? `, Δ ${esc(fmtSigned(c.diff, col.decimals))}` : ''}</div>` : '';
  const note = c.paperNote ? `<div class="paper">${esc(c.paperNote)}</div>` : '';
  return `<td${cls ? ` class="${cls}"` : ''}>${ours}${sub}${note}</td>`;
}

export function tableHtml(t: TableModel): string {
  const cols = allColumns(t);
  const head = `<tr><th>Model &amp; Method</th><th># Trainable Parameters</th>${cols.map((c) => `<th>${esc(c.header)}</th>`).join('')}</tr>`;
  const body =
    t.rows.length === 0
      ? `<tr><td colspan="${cols.length + 2}" class="none">— no runs for Table ${t.table} in this profile</td></tr>`
      : t.rows.map((r) => `<tr><th scope="row">${esc(r.label)}</th><td>${esc(paramsText(r))}</td>${cellsOf(t, r).map((c, i) => cellHtml(c, cols[i])).join('')}</tr>`).join('\n');
  const baselines = t.baselines
    .map((b) => `<tr class="baseline"><th scope="row">${esc(b.label)}</th><td>${esc(BASELINE_PARAMS)}</td>${baselineCellsOf(t, b).map((c, i) => `<td>${c.value === undefined ? `<span class="none">${esc(baselineCellText(c, cols[i].decimals))}</span>` : esc(baselineCellText(c, cols[i].decimals))}</td>`).join('')}</tr>`)
    .join('\n');
  const notes = [...t.footnotes, ...t.notes];
  const runs = runsHtml(t);
  return [
    `<table class="results" id="table${t.table}">`,
    `<caption>${esc(t.caption)}</caption>`,
    `<thead>${head}</thead>`,
    `<tbody>${body}</tbody>`,
    baselines !== '' ? `<tbody class="baselines">${baselines}</tbody>` : '',
    '</table>',
    notes.length > 0 ? `<ol class="notes">${notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ol>` : '',
    runs,
  ].join('\n');
}

function runsHtml(t: TableModel): string {
  const items: string[] = [];
  for (const row of t.rows) {
    row.cells.forEach((cell, i) => {
      if (cell.runs.length === 0) return;
      const col = t.columns[i];
      const parts = cell.runs.map((r) => {
        const what = r.value !== undefined ? `${fmtNum(r.value, col.decimals)} (${describeRunReport(r.reported)})` : (r.problem ?? r.status);
        const link = r.mlflowUrl ? ` <a href="${esc(r.mlflowUrl)}">MLflow</a>` : '';
        return `seed ${r.seed} <code>${esc(r.runId)}</code>: ${esc(what)}${link}`;
      });
      items.push(`<li>${esc(row.label)} / ${esc(col.header)}: ${parts.join('; ')}</li>`);
    });
  }
  if (items.length === 0) return '';
  return `<details><summary>Runs behind each number (${items.length} cells)</summary><ul class="runs">${items.join('\n')}</ul></details>`;
}

function chartHtml(c: ChartEntry): string {
  return `<figure><a href="${esc(c.svg)}"><img src="${esc(c.png)}" width="${Math.round(c.width)}" alt="${esc(c.title)}"></a><figcaption>${esc(c.title)} (<a href="${esc(c.svg)}">SVG</a>)</figcaption></figure>`;
}

function analysisHtml(a: SubspaceAnalysis): string {
  const wl = (w: string) => WEIGHT_LABEL[w as WeightType] ?? w;
  const f = (x: number | null | undefined, d = 4) => (x === null || x === undefined ? '—' : x.toFixed(d));
  const parts: string[] = [`<h3>${esc(a.name)}</h3>`];
  for (const c of a.checkpoints) {
    parts.push(`<p>${esc(c.label)}: <code>${esc(c.source)}</code> (${esc(c.format)} names, lora_alpha ${c.alpha ?? '?'} from ${esc(c.alphaSource)})</p>`);
    const rows = c.modules
      .map((m) => `<tr><td>${m.layer}</td><td>${esc(wl(m.weight))}</td><td>${m.r}</td><td>${f(m.frobenius)}</td><td>${f(m.stableRank, 3)}</td><td>${m.relation ? f(m.relation.amplification, 2) : '—'}</td></tr>`)
      .join('');
    parts.push(`<table class="analysis"><thead><tr><th>layer</th><th>weight</th><th>r</th><th>‖ΔW‖<sub>F</sub></th><th>stable rank</th><th>amplification</th></tr></thead><tbody>${rows}</tbody></table>`);
  }
  if (a.skipped.length > 0) parts.push(`<ul class="notes">${a.skipped.map((s) => `<li>${esc(s)}</li>`).join('')}</ul>`);
  return parts.join('\n');
}

export interface ReportInput {
  profile: string;
  tables: TableModel[];
  charts: ChartEntry[];
  chartsSkipped: string[];
  analyses: SubspaceAnalysis[];
  runs: LoadedRun[];
  generatedAt: string;
  /** Further pages of the report in the same folder (section7.html, intrinsic.html), linked at the top. */
  pages?: { title: string; href: string }[];
}

export const CSS = `
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:2em;max-width:1500px;color:#222}
table.results{border-collapse:collapse;font-size:12px;margin:1em 0}
table.results th,table.results td{border:1px solid #ccc;padding:4px 6px;vertical-align:top;text-align:right}
table.results th[scope=row]{text-align:left;white-space:nowrap}
table.results caption{caption-side:top;text-align:left;font-size:13px;margin-bottom:.5em}
.agree{background:#e3f4e1} .close{background:#fff4d6} .differs{background:#fbe0e0} span.legend{padding:0 4px}
.paper{color:#555;font-size:11px} .none{color:#999}
tbody.baselines tr{font-style:italic;background:#f6f6f6} tbody.baselines tr:first-child th,tbody.baselines tr:first-child td{border-top:2px solid #999}
table.analysis{border-collapse:collapse;font-size:12px} table.analysis td,table.analysis th{border:1px solid #ddd;padding:2px 6px;text-align:right}
figure{display:inline-block;margin:1em;vertical-align:top} figure img{max-width:100%;height:auto;border:1px solid #eee}
ol.notes,ul.notes{font-size:12px;color:#444} code{font-size:11px}
`;

export function reportHtml(r: ReportInput): string {
  const commits = [...new Set(r.runs.map((x) => x.result.provenance.gitCommit + (x.result.provenance.gitDirty ? ' (dirty)' : '')))];
  const tracked = r.runs.filter((x) => x.mlflow !== undefined);
  const uris = [...new Set(tracked.map((x) => x.mlflow!.trackingUri))];
  const mlflow =
    tracked.length === 0
      ? '<p>No MLflow tracking URI was recorded for these runs (set MLFLOW_TRACKING_URI when running them).</p>'
      : `<p>Tracking server(s): ${uris.map((u) => `<a href="${esc(u)}">${esc(u)}</a>`).join(', ')}.</p><ul class="runs">${tracked
          .map((x) => {
            const url = mlflowUrl(x);
            const name = `${x.result.model} ${x.result.method} ${x.result.task} seed ${x.result.seed}`;
            const direct = x.mlflow!.runId !== undefined && x.mlflow!.experimentId !== undefined;
            return `<li><a href="${esc(url!)}">${esc(name)}</a> <code>${esc(x.result.runId)}</code>${direct ? '' : ` (logged to this server; find it by tag lora_repro.run_id = ${esc(x.result.runId)})`}</li>`;
          })
          .join('\n')}</ul>`;
  const groups = [...new Set(r.charts.map((c) => c.group))];
  const chartSections = groups.map((g) => `<h3>${esc(g)}</h3>\n${r.charts.filter((c) => c.group === g).map(chartHtml).join('\n')}`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>lora-repro report: ${esc(r.profile)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>lora-repro report: profile “${esc(r.profile)}”</h1>
<p>Reproduction of Hu et al. 2021, <i>LoRA: Low-Rank Adaptation of Large Language Models</i> (arXiv 2106.09685 v2). Generated ${esc(r.generatedAt)} from ${r.runs.length} run file(s); code commit(s) of the runs: ${commits.map((c) => `<code>${esc(c)}</code>`).join(', ') || '—'}.
Cell colours: <span class="legend agree">agrees</span> |Δ| ≤ max(±) + one last digit, <span class="legend close">close</span> ≤ twice that, <span class="legend differs">differs</span> beyond.</p>
${r.pages !== undefined && r.pages.length > 0 ? `<p>More pages: ${r.pages.map((p) => `<a href="${esc(p.href)}">${esc(p.title)}</a>`).join(', ')}.</p>\n` : ''}<h2>Tables</h2>
${r.tables.map(tableHtml).join('\n')}
<h2>Charts</h2>
${chartSections || '<p>No charts.</p>'}
${r.chartsSkipped.length > 0 ? `<ul class="notes">${r.chartsSkipped.map((s) => `<li>${esc(s)}</li>`).join('')}</ul>` : ''}
<h2>Subspace analyses (paper Section 7)</h2>
${r.analyses.length > 0 ? r.analyses.map(analysisHtml).join('\n') : '<p>None in this profile (lora-repro analyze subspace --profile … writes them).</p>'}
<h2>MLflow</h2>
${mlflow}
</body>
</html>
`;
}
