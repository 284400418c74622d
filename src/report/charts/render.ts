/**
 * Headless chart rendering: a vega-lite spec → vega (compile) → SVG (vega View, no DOM, no canvas)
 * → PNG (resvg). resvg is given the DejaVu Sans files shipped in assets/fonts/ and no system
 * fonts, so text renders the same on any machine (a machine without fonts would otherwise get
 * charts without a single label). vega measures text without canvas by estimate; the font size
 * it lays out with is what resvg draws.
 *
 * Besides the images, `renderChart` returns where vega placed each text and mark item (the
 * scenegraph bounds, in SVG pixels), so tests can check that pixels are drawn exactly there.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

const FONT_FAMILY = 'DejaVu Sans';
const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => fileURLToPath(new URL(`../../../assets/fonts/${f}`, import.meta.url)));

/** The config every chart shares: our font everywhere, white background. */
const BASE_CONFIG = {
  font: FONT_FAMILY,
  background: 'white',
  title: { font: FONT_FAMILY, fontSize: 14 },
  axis: { labelFont: FONT_FAMILY, titleFont: FONT_FAMILY },
  legend: { labelFont: FONT_FAMILY, titleFont: FONT_FAMILY },
  header: { labelFont: FONT_FAMILY, titleFont: FONT_FAMILY },
} as const;

export interface Region {
  marktype: string;
  role: string;
  /** Absolute bounds in SVG pixels. */
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  text?: string;
}

export interface RenderedChart {
  svg: string;
  png: Buffer;
  /** SVG size (CSS pixels); the PNG is `scale` times larger. */
  width: number;
  height: number;
  scale: number;
  regions: Region[];
  ms: number;
}

interface SceneItem {
  bounds?: { x1: number; y1: number; x2: number; y2: number };
  x?: number;
  y?: number;
  text?: unknown;
  opacity?: number;
  items?: SceneNode[];
}
interface SceneNode {
  marktype?: string;
  role?: string;
  items?: SceneItem[];
}

function collect(node: SceneNode, ox: number, oy: number, out: Region[]): void {
  for (const item of node.items ?? []) {
    if (node.marktype === 'group') {
      for (const child of item.items ?? []) collect(child, ox + (item.x ?? 0), oy + (item.y ?? 0), out);
      continue;
    }
    const b = item.bounds;
    // Labels hidden by vega's overlap removal stay in the scene with opacity 0: not drawn.
    if (b === undefined || !Number.isFinite(b.x1) || b.x2 < b.x1 || item.opacity === 0) continue;
    out.push({
      marktype: node.marktype ?? '',
      role: node.role ?? '',
      x1: b.x1 + ox,
      y1: b.y1 + oy,
      x2: b.x2 + ox,
      y2: b.y2 + oy,
      text: typeof item.text === 'string' ? item.text : Array.isArray(item.text) ? item.text.join(' ') : undefined,
    });
  }
}

/** Merges BASE_CONFIG under the spec's own config. */
export function withBaseConfig(spec: TopLevelSpec): TopLevelSpec {
  const own = (spec as { config?: Record<string, unknown> }).config ?? {};
  return { ...spec, config: { ...BASE_CONFIG, ...own } } as TopLevelSpec;
}

export async function renderChart(spec: TopLevelSpec, opts: { scale?: number } = {}): Promise<RenderedChart> {
  const t0 = performance.now();
  const scale = opts.scale ?? 2;
  const vgSpec = compile(withBaseConfig(spec)).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none' });
  await view.runAsync();
  const svg = await view.toSVG();
  // The SVG renderer translates the scene by origin + padding; read the offset it actually used.
  const m = /<g[^>]*transform="translate\(([-\d.]+),([-\d.]+)\)"/.exec(svg);
  const [ox, oy] = m ? [Number(m[1]), Number(m[2])] : view.origin();
  const regions: Region[] = [];
  collect((view.scenegraph() as unknown as { root: SceneNode }).root, ox, oy, regions);
  view.finalize();
  const resvg = new Resvg(svg, {
    font: { fontFiles: FONT_FILES, loadSystemFonts: false, defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY },
    background: 'white',
    fitTo: { mode: 'zoom', value: scale },
  });
  const svgSize = { width: resvg.width, height: resvg.height };
  const png = resvg.render().asPng();
  return { svg, png, width: svgSize.width, height: svgSize.height, scale, regions, ms: performance.now() - t0 };
}

export interface WrittenChart {
  name: string;
  svgPath: string;
  pngPath: string;
  specPath: string;
  width: number;
  height: number;
  ms: number;
}

/** Renders and writes `<dir>/<name>.{svg,png,vl.json}`. */
export async function writeChart(dir: string, name: string, spec: TopLevelSpec): Promise<WrittenChart & { rendered: RenderedChart }> {
  mkdirSync(dir, { recursive: true });
  const rendered = await renderChart(spec);
  const svgPath = join(dir, `${name}.svg`);
  const pngPath = join(dir, `${name}.png`);
  const specPath = join(dir, `${name}.vl.json`);
  writeFileSync(svgPath, rendered.svg);
  writeFileSync(pngPath, rendered.png);
  writeFileSync(specPath, JSON.stringify(withBaseConfig(spec), null, 1) + '\n');
  return { name, svgPath, pngPath, specPath, width: rendered.width, height: rendered.height, ms: rendered.ms, rendered };
}
