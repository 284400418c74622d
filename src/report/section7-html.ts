/**
 * A static page of the HTML report for one study (section7.html, intrinsic.html in the profile
 * folder): caption, tables, charts (PNG linked to SVG, by relative path) and the closing notes, in
 * the style of report.html (its CSS and escaping, html.ts).
 */
import type { ChartEntry } from './charts/build.ts';
import { CSS, esc } from './html.ts';
import type { PlainTable } from './section7-format.ts';

export interface StudyPage {
  title: string;
  caption: string;
  tables: PlainTable[];
  charts: ChartEntry[];
  /** Closing note: a heading and its items, each item a headline and sub-lines. */
  closing?: { heading: string; items: { head: string; lines: string[] }[]; footer?: string };
  notes: string[];
  generatedAt: string;
}

function tableHtml(t: PlainTable): string {
  const head = `<tr>${t.head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`;
  const body = t.rows.map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<th scope="row">${esc(c)}</th>` : `<td>${esc(c)}</td>`)).join('')}</tr>`).join('\n');
  return `<table class="results"><caption>${esc(t.title)}</caption><thead>${head}</thead><tbody>${body}</tbody></table>`;
}

function chartHtml(c: ChartEntry): string {
  return `<figure><a href="${esc(c.svg)}"><img src="${esc(c.png)}" width="${Math.round(c.width)}" alt="${esc(c.title)}"></a><figcaption>${esc(c.title)} (<a href="${esc(c.svg)}">SVG</a>)</figcaption></figure>`;
}

export function studyPageHtml(p: StudyPage): string {
  const closing =
    p.closing === undefined
      ? ''
      : `<h2>${esc(p.closing.heading)}</h2>\n<ul class="findings">${p.closing.items.map((i) => `<li>${esc(i.head)}<ul>${i.lines.map((l) => `<li>${esc(l)}</li>`).join('')}</ul></li>`).join('\n')}</ul>${p.closing.footer ? `<p class="paper">${esc(p.closing.footer)}</p>` : ''}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(p.title)}</title>
<style>${CSS}ul.findings{font-size:13px} ul.findings>li{margin-bottom:.6em}</style>
</head>
<body>
<h1>${esc(p.title)}</h1>
<p>${esc(p.caption)}</p>
<p class="paper">Generated ${esc(p.generatedAt)}.</p>
${closing}
<h2>Tables</h2>
${p.tables.map(tableHtml).join('\n')}
<h2>Charts</h2>
${p.charts.length > 0 ? p.charts.map(chartHtml).join('\n') : '<p>No charts.</p>'}
${p.notes.length > 0 ? `<h2>Notes</h2><ul class="notes">${p.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}
</body>
</html>
`;
}
