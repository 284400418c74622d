/**
 * The README's results block of a profile, generated from the tables `lora-repro table 2|3` wrote
 * (results/<profile>/table{2,3}.json, read by table-json.ts), so the numbers a reader sees first
 * cannot drift from the results: `lora-repro summary --write README.md` replaces the text between
 * `<!-- results:<profile>:begin -->` and `<!-- results:<profile>:end -->`, and `--check` (and
 * test/readme-results.test.ts) fails when the two disagree.
 *
 * Per table: a compact Markdown table (ours only: the paper's values, Δ and the parameter formulas
 * stay in table<N>.md, which the block links), one line with the caption's account of the protocol,
 * and the runs behind every cell (run ids are hashes of the run config, so they identify the runs
 * without any git state). Every number and display string is the table's own (its values, `decimals`,
 * `params.display`, caption and baseline verdict), formatted by format-text.ts as the other formats are.
 */
import { join } from 'node:path';
import { AVG, BASELINE_PARAMS, baselineCellText, mdEscape, oursText } from './format-text.ts';
import { describeRunReport } from './protocol.ts';
import { readTableJson, type TableJson, type TableJsonCell } from './table-json.ts';
import { UserError } from '../util/errors.ts';

export const beginMarker = (profile: string): string => `<!-- results:${profile}:begin -->`;
export const endMarker = (profile: string): string => `<!-- results:${profile}:end -->`;

/**
 * The caption up to where it turns to the paper's values: profile, model, data and subsampling,
 * split and checkpoint, seeds, and what a cell is. The whole caption if that point moved (a caption
 * rewritten in table-model.ts), so nothing is lost; the tests pin the cut on real captions.
 */
export function protocolEssentials(caption: string): string {
  const cut = caption.indexOf(', then [paper value');
  return cut < 0 ? caption : `${caption.slice(0, cut)}.`;
}

/** The table's own verdict on the baseline row (baseline-row.ts compareRows), if it has one. */
export function baselineVerdict(footnotes: readonly string[]): string | undefined {
  return footnotes.find((f) => /^(Every one of the \d+ cells with a value is above the baseline|Not above baseline)/.test(f));
}

const dash = (text: string): string => (text.startsWith('—') ? '—' : text);

function columnsOf(t: TableJson): { key: string; header: string; decimals: number }[] {
  return t.hasAverage ? [...t.columns, AVG] : t.columns;
}

function markdownTable(t: TableJson): { lines: string[]; missing: string[] } {
  const cols = columnsOf(t);
  const missing: string[] = [];
  const lines = [`| Model & Method | # Trainable Parameters | ${cols.map((c) => mdEscape(c.header)).join(' | ')} |`, `|---|---:|${cols.map(() => '---:').join('|')}|`];
  if (t.rows.length === 0) lines.push(`| — (no runs for Table ${t.table} in profile "${t.profile}") | | ${cols.map(() => '').join(' | ')} |`);
  for (const row of t.rows) {
    const cells = [...row.cells, ...(t.hasAverage && row.avg ? [row.avg] : [])].map((c: TableJsonCell, i) => {
      const text = oursText(c, cols[i].decimals);
      // A missing average only follows from a missing column: said once, there.
      if (c.value === undefined && c.column !== AVG.key) missing.push(`${row.label} / ${cols[i].header}: ${c.reason ?? 'no value'}`);
      return mdEscape(dash(text));
    });
    lines.push(`| ${mdEscape(row.label)} | ${mdEscape(row.params.display)} | ${cells.join(' | ')} |`);
  }
  for (const b of t.baselines) {
    const cells = [...b.cells, ...(t.hasAverage && b.avg ? [b.avg] : [])].map((c, i) => {
      if (c.value === undefined && c.column !== AVG.key) missing.push(`${b.label} / ${cols[i].header}: ${c.reason ?? 'no value'}`);
      return mdEscape(dash(baselineCellText(c, cols[i].decimals)));
    });
    lines.push(`| ${mdEscape(b.label)} | ${BASELINE_PARAMS} | ${cells.join(' | ')} |`);
  }
  return { lines, missing };
}

/** One line per row (per column where the columns' runs differ, as Table 2's tasks do): seed, run id, checkpoint. */
function runLines(t: TableJson): { lines: string[]; runs: number } {
  const ids = new Set<string>();
  const lines: string[] = [];
  for (const row of t.rows) {
    const groups = new Map<string, string[]>();
    row.cells.forEach((c, i) => {
      if (c.runs.length === 0) return;
      for (const r of c.runs) ids.add(r.runId);
      const text = c.runs.map((r) => `seed ${r.seed} \`${r.runId}\` (${r.status === 'finished' ? describeRunReport(r.reported) : r.status})`).join('; ');
      groups.set(text, [...(groups.get(text) ?? []), t.columns[i].header]);
    });
    for (const [text, headers] of groups) {
      const where = headers.length === t.columns.length && t.columns.length > 1 ? '' : ` / ${headers.join(', ')}`;
      lines.push(`- ${mdEscape(row.label)}${where}: ${text}`);
    }
  }
  return { lines, runs: ids.size };
}

/** Each column's baseline value (the first baseline row with one). */
function baselineByColumn(t: TableJson): Map<string, number> {
  const out = new Map<string, number>();
  for (const b of t.baselines) for (const c of b.cells) if (c.value !== undefined && !out.has(c.column)) out.set(c.column, c.value);
  return out;
}

/**
 * What the table shows against the bars issue 18 sets the mini tables (never typed by hand):
 * which cells clear their baseline by more than two standard deviations of their seeds, and LoRA's
 * average beside full fine-tuning's. Cells with one seed have no spread and are counted apart.
 */
export function evidenceLines(t: TableJson): string[] {
  const base = baselineByColumn(t);
  let clear = 0;
  let total = 0;
  const notClear = new Map<string, string[]>();
  t.rows.forEach((row) =>
    row.cells.forEach((c, i) => {
      const b = base.get(c.column);
      if (c.value === undefined || b === undefined) return;
      total++;
      if (c.std !== undefined && c.value - b > 2 * c.std) clear++;
      else {
        const header = t.columns[i].header;
        notClear.set(header, [...(notClear.get(header) ?? []), row.label]);
      }
    }),
  );
  const lines: string[] = [];
  if (total > 0) {
    const misses = [...notClear].map(([h, rows]) => `${h} (${rows.length === t.rows.length ? 'every row' : rows.join(', ')})`);
    lines.push(`Above the baseline by more than 2 standard deviations of the seeds: ${clear} of ${total} cells${misses.length > 0 ? `; not: ${misses.join('; ')}` : ''}.`);
  }
  // LoRA beside full fine-tuning of the same model (Table 2 has two families: RoBERTa and DeBERTa).
  const models = [...new Set(t.rows.map((r) => r.model))];
  for (const model of models) {
    const ft = t.rows.find((r) => r.model === model && r.method === 'ft');
    const lora = t.rows.find((r) => r.model === model && r.method === 'lora');
    if (!t.hasAverage || ft?.avg?.value === undefined || lora?.avg?.value === undefined) continue;
    const gap = lora.avg.value - ft.avg.value;
    const d = AVG.decimals;
    const whose = models.length > 1 ? ` (${ft.modelDescription})` : '';
    lines.push(
      `LoRA's average over the ${t.columns.length} task columns${whose}: ${lora.avg.value.toFixed(d)} against full fine-tuning's ${ft.avg.value.toFixed(d)} (${gap >= 0 ? '+' : '−'}${Math.abs(gap).toFixed(d)} points).`,
    );
  }
  return lines;
}

function tableSection(t: TableJson, shownDir: string): string[] {
  const md = `${shownDir}/table${t.table}.md`;
  const { lines: table, missing } = markdownTable(t);
  const protocol = [protocolEssentials(t.caption)];
  if (t.droppedColumns.length > 0) protocol.push(`Not run in this profile: ${t.droppedColumns.join(', ')}.`);
  const verdict = baselineVerdict(t.footnotes);
  if (verdict !== undefined) protocol.push(verdict);
  const out = [`**Table ${t.table}** (ours; the paper's values beside them, Δ, parameter formulas and notes: [${md}](${md}))`, '', ...table, ''];
  out.push(mdEscape(protocol.join(' ')), '');
  const evidence = evidenceLines(t);
  if (evidence.length > 0) out.push(mdEscape(evidence.join(' ')), '');
  if (missing.length > 0) out.push(`Cells without a value (—): ${mdEscape(missing.join('; '))}.`, '');
  const runs = runLines(t);
  out.push(`<details><summary>The ${runs.runs} run(s) behind Table ${t.table} (run id = hash of the run config; result: ${shownDir}/runs/&lt;id&gt;.json)</summary>`, '');
  out.push(...runs.lines);
  for (const n of t.notes) out.push(`- Results folder: ${mdEscape(n)}`);
  out.push('', '</details>', '');
  return out;
}

/** The block for `profile` from its tables (Table 2, then 3), `shownDir` being how it names their folder. */
export function renderResultsBlock(profile: string, tables: readonly TableJson[], shownDir: string): string {
  const files = tables.map((t) => `${shownDir}/table${t.table}.json`).join(' and ');
  const lines = [
    `<!-- Generated by \`make readme-results\` (lora-repro summary --profile ${profile} --write README.md) from ${files}: edit those, not this block; test/readme-results.test.ts fails when they disagree. -->`,
    '',
  ];
  for (const t of [...tables].sort((a, b) => a.table - b.table)) lines.push(...tableSection(t, shownDir));
  return lines.join('\n');
}

/** Reads <dir>/table2.json and table3.json of `profile` and renders the block (`shownDir`: dir as the README names it). */
export function resultsBlockFrom(dir: string, profile: string, shownDir = dir): string {
  const tables = ([2, 3] as const).map((n) => readTableJson(join(dir, `table${n}.json`), n, profile));
  return renderResultsBlock(profile, tables, shownDir.split('\\').join('/').replace(/\/+$/, ''));
}

/** Where the block of `profile` sits in `text` (between the markers), or a UserError naming `file`. */
function blockSpan(text: string, profile: string, file: string): { from: number; to: number } {
  const begin = beginMarker(profile);
  const end = endMarker(profile);
  const b = text.indexOf(begin);
  const e = text.indexOf(end);
  const fix = `put the lines ${begin} and ${end} where the ${profile} results belong`;
  if (b < 0 || e < 0) throw new UserError(`${file}: no ${b < 0 ? begin : end} marker; ${fix}`);
  if (text.indexOf(begin, b + 1) >= 0 || text.indexOf(end, e + 1) >= 0) throw new UserError(`${file}: the results:${profile} markers occur more than once; keep one pair`);
  if (e < b) throw new UserError(`${file}: ${end} comes before ${begin}; ${fix}`);
  return { from: b + begin.length, to: e };
}

/** The text between the markers now. */
export function currentBlock(text: string, profile: string, file: string): string {
  const { from, to } = blockSpan(text, profile, file);
  return text.slice(from, to);
}

/** Lines of `text` before the begin marker's (the block's first line is the rest of the marker's). */
export function linesBeforeBlock(text: string, profile: string, file: string): number {
  return text.slice(0, blockSpan(text, profile, file).from).split('\n').length - 1;
}

/** `text` with the block between the markers replaced by `block` (on lines of its own). */
export function withBlock(text: string, profile: string, block: string, file: string): string {
  const { from, to } = blockSpan(text, profile, file);
  return `${text.slice(0, from)}${markerBody(block)}${text.slice(to)}`;
}

/** What stands between the markers for `block`: it starts and ends on lines of its own. */
export function markerBody(block: string): string {
  return `\n${block.endsWith('\n') ? block : `${block}\n`}`;
}
