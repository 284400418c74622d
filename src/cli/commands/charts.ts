/** `lora-repro charts`: every chart of a results profile as SVG + PNG (vega-lite, rendered headless). */
import { buildCharts } from '../../report/charts/build.ts';
import { buildTable } from '../../report/table-model.ts';
import { parseProfileArgs } from '../profile-args.ts';
import type { Command } from '../command.ts';

export const chartsCommand: Command = {
  name: 'charts',
  summary: 'charts of a results profile as SVG and PNG (scores vs paper, score vs params, training curves, subspace heatmaps)',
  usage: [
    'Usage: lora-repro charts [--profile P] [--results DIR] [--agg mean|median]',
    '',
    'Renders vega-lite charts headless (no browser) to <results>/<profile>/charts/*.svg, *.png (and the',
    'spec, *.vl.json): per task/metric scores with error bars beside the paper\'s value, score against',
    'trainable parameters (log x) per method, the training curves of every table cell, and the subspace',
    'heatmaps of each analysis in <results>/<profile>/analysis/*/ (written next to it).',
    'Text uses the DejaVu Sans files in assets/fonts/.',
  ].join('\n'),
  async run(argv) {
    const { folder, agg, dataDir } = parseProfileArgs('charts', argv);
    const tables = ([2, 3] as const).map((t) => buildTable(t, folder, { agg, dataDir }));
    const t0 = performance.now();
    const { charts, skipped } = await buildCharts(folder, tables);
    for (const c of charts) console.log(`${c.svg}  ${c.png}  ${c.width}×${c.height}  ${c.ms.toFixed(0)} ms`);
    for (const s of skipped) console.error(`skipped: ${s}`);
    console.error(`${charts.length} chart(s) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return 0;
  },
};
