/**
 * Which row of the paper's Table 2/3 a row of ours stands beside, and what our model is.
 *
 * Rows are matched through src/report/paper-rows.ts (every paper row with our model name, our
 * method name and the configuration it counts): same method, and every key of the paper row's
 * config equal to ours after the method's schema fills in defaults. Our paper-scale models
 * (roberta-base/large, gpt2-medium/large) match their own rows; any other RoBERTa (e.g. the CPU
 * profile's mini-roberta) is compared with the RoBERTa rows (RoBERTa-base first), any other DeBERTa-v2
 * (mini-deberta) with the DeBERTa XXL rows and any other GPT-2 with the GPT-2 rows (GPT-2 M first),
 * marked as an analogue. When no row has our configuration, the method's first row is used and the
 * difference is named in a footnote, never hidden.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { namedConfig, parseHfConfig, readHfConfig, type ModelConfig } from '../models/config.ts';
import { PAPER_ROWS, type PaperRow } from './paper-rows.ts';
import { getMethod } from '../methods/registry.ts';
import { canonicalJson } from '../util/canonical-json.ts';

export interface ModelInfo {
  name: string;
  config: ModelConfig | undefined;
  family: 'roberta' | 'gpt2' | 'deberta-v2' | undefined;
  /** One of the paper's models (same architecture and size). */
  paperScale: boolean;
}

const PAPER_MODELS = ['roberta-base', 'roberta-large', 'gpt2-medium', 'gpt2-large'];

/** The paper's models a stand-in of each family is compared with, in the paper's order. */
const FAMILY_PAPER_MODELS: Record<NonNullable<ModelInfo['family']>, string[]> = {
  roberta: ['roberta-base', 'roberta-large'],
  'deberta-v2': ['deberta-v2-xxlarge'],
  gpt2: ['gpt2-medium', 'gpt2-large'],
};

/**
 * `recorded` is the run's own `modelConfig` (train/result-schema.ts): the architecture it built, so
 * it wins. Results written before it existed fall back to `provenance`, a run's provenance.model
 * ("<weights dir> (model.safetensors sha256:…)"): when that directory still holds its config.json,
 * it is the architecture the run really trained; else the config the name stands for
 * (models/config.ts `namedConfig`: the stand-ins' own for `mini-*`).
 */
export function modelInfo(name: string, provenance?: string, recorded?: Record<string, unknown>): ModelInfo {
  const dir = provenance?.replace(/ \(.*\)$/, '');
  let config: ModelConfig | undefined;
  if (recorded !== undefined) {
    try {
      config = parseHfConfig(recorded, `modelConfig of ${name}`);
    } catch {
      config = undefined;
    }
  }
  if (config === undefined && dir !== undefined && existsSync(join(dir, 'config.json'))) {
    try {
      config = readHfConfig(dir);
    } catch {
      config = undefined;
    }
  }
  config ??= namedConfig(name);
  if (config === undefined && existsSync(name)) {
    try {
      config = readHfConfig(name);
    } catch {
      config = undefined;
    }
  }
  const family = config?.modelType ?? (/roberta/i.test(name) ? 'roberta' : /gpt-?2/i.test(name) ? 'gpt2' : /deberta/i.test(name) ? 'deberta-v2' : undefined);
  return { name, config, family, paperScale: PAPER_MODELS.includes(name) };
}

/** "mini-roberta (d_model 128, 4 layers)". */
export function describeModel(m: ModelInfo): string {
  return m.config ? `${m.name} (d_model ${m.config.hidden}, ${m.config.layers} layers)` : m.name;
}

/** The method's config with its defaults filled in (the raw one if the method rejects it). */
export function normalisedMethodConfig(method: string, raw: Record<string, unknown>): Record<string, unknown> {
  try {
    return { ...getMethod(method).configure(raw).config };
  } catch {
    return raw;
  }
}

function configMatches(paper: Record<string, unknown>, ours: Record<string, unknown>): boolean {
  return Object.entries(paper).every(([k, v]) => canonicalJson(v) === canonicalJson(ours[k]));
}

export interface PaperMatch {
  row: PaperRow;
  /** Our model is the paper's model (not a scaled-down analogue). */
  sameScale: boolean;
  /** Our configuration equals the one the paper row counts. */
  sameConfig: boolean;
}

export function matchPaperRow(table: 2 | 3, model: ModelInfo, method: string, config: Record<string, unknown>, variant: string): PaperMatch | undefined {
  // A stand-in model is compared with its family's rows (RoBERTa-base first, as the paper orders them).
  const targets = model.paperScale ? [model.name] : model.family !== undefined ? FAMILY_PAPER_MODELS[model.family] : [];
  const candidates = PAPER_ROWS.filter((p) => p.table === table && p.model !== undefined && targets.includes(p.model) && p.method === method);
  if (candidates.length === 0) return undefined;
  const same = candidates.filter((p) => configMatches(p.config, config));
  const pool = same.length > 0 ? same : candidates;
  // The run's variant may name the paper row (e.g. "Wq+Wv r=8 restricted-setup"); else prefer the
  // authors' own setup over the restricted (†) one.
  const row = pool.find((p) => p.csv.variant === variant) ?? pool.find((p) => !p.label.includes('†')) ?? pool[0];
  return { row, sameScale: model.paperScale, sameConfig: same.length > 0 };
}

/** The paper's way of writing method names (superscripts spelled with ^). */
const METHOD_DISPLAY: Readonly<Record<string, string>> = {
  ft: 'FT',
  'ft-top2': 'FT^Top2',
  bitfit: 'BitFit',
  'adapter-h': 'Adapter^H',
  'adapter-p': 'Adapter^P',
  'adapter-l': 'Adapter^L',
  'adapter-d': 'Adapter^D',
  'prefix-embed': 'PreEmbed',
  'prefix-layer': 'PreLayer',
  lora: 'LoRA',
  compacter: 'Compacter',
  intrinsic: 'Intrinsic',
};

export function methodDisplay(method: string): string {
  return METHOD_DISPLAY[method] ?? method;
}
