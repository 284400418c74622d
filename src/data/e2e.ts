/**
 * E2E NLG Challenge data (Novikova et al., 2017) in its two on-disk forms:
 *
 * (a) the challenge CSVs `mr,ref` (trainset.csv, devset.csv, testset_w_refs.csv): RFC 4180, quoted fields
 *     contain commas, CRLF (train/dev) or LF (test) line ends, and two train references contain a quoted
 *     CRLF line break. Parsed with the one CSV reader, src/util/csv.ts.
 * (b) the LoRA repository's line format (microsoft/LoRA examples/NLG/data/e2e/{valid,test}.txt):
 *     `name : X | Type : Y | ...||tokenized reference ` one pair per line. Read as
 *     examples/NLG/src/format_converting_e2e.py does: `line.strip().split('||')`, context = part 0,
 *     completion = part 1.
 *
 * Pairs are grouped into instances {mr, refs[]} by consecutive identical MRs, as e2e-metrics'
 * `measure_scores.py` (read_and_group_tsv) does for scoring. On dev/test this equals grouping by distinct
 * MR (547 / 630 instances); trainset.csv is not sorted by MR, so consecutive grouping there gives 42057
 * groups for 4862 distinct MRs (training uses pairs, never instances).
 */
import { UserError } from '../util/errors.ts';
import { parseCsv } from '../util/csv.ts';
import { dataFile, readDataText } from './data-dir.ts';

export interface E2ePair {
  /** CSV: the original MR (`name[X], eatType[Y]`); LoRA txt: the linearised context (`name : X | Type : Y`). */
  mr: string;
  /** CSV: the original reference text; LoRA txt: the tokenized completion. */
  ref: string;
  /** 1-based line in the source file where the record starts. */
  line: number;
}

export interface E2eInstance {
  mr: string;
  refs: string[];
}

export type E2eSplit = 'train' | 'dev' | 'test';
export type E2eFormat = 'csv' | 'lora';
/** The E2E challenge's metrics (their scorer: eval/e2e/, whose E2EScores has these keys). */
export type E2eMetricName = 'BLEU' | 'NIST' | 'METEOR' | 'ROUGE_L' | 'CIDEr';

/** File of each split, relative to the data directory (MANIFEST.md). */
export const E2E_FILES: Readonly<Record<E2eFormat, Readonly<Record<E2eSplit, string>>>> = {
  csv: { train: 'e2e/trainset.csv', dev: 'e2e/devset.csv', test: 'e2e/testset_w_refs.csv' },
  lora: { train: 'e2e/train.txt', dev: 'e2e/valid.txt', test: 'e2e/test.txt' },
};

/**
 * Official sizes: MR-reference pairs of the challenge release, and instances (consecutive-MR groups, as
 * e2e-metrics counts them) for the scored splits.
 */
const E2E_OFFICIAL_COUNTS: Readonly<Record<E2eSplit, { pairs: number; instances?: number }>> = {
  train: { pairs: 42061 },
  dev: { pairs: 4672, instances: 547 },
  test: { pairs: 4693, instances: 630 },
};

/** Parses an E2E challenge CSV (header `mr,ref`). */
export function parseE2eCsv(text: string, file: string): E2ePair[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const records = parseCsv(body, file);
  const header = records[0];
  if (header === undefined || header.fields.length !== 2 || header.fields[0] !== 'mr' || header.fields[1] !== 'ref') {
    const got = header === undefined ? 'an empty file' : `"${header.fields.join(',')}"`;
    throw new UserError(`${file}:1: expected the header "mr,ref", got ${got}: pass an E2E challenge CSV`);
  }
  const pairs: E2ePair[] = [];
  for (const rec of records.slice(1)) {
    // A blank line is no record (Python's csv.reader yields [] for it, pandas skips it).
    if (rec.fields.length === 1 && rec.fields[0] === '') continue;
    if (rec.fields.length !== 2) {
      throw new UserError(`${file}:${rec.line}: expected 2 fields, got ${rec.fields.length}: quote fields that contain commas`);
    }
    const mr = rec.fields[0] as string;
    // Checked here, where the file enters: a swapped or shifted column would otherwise train on text as MRs.
    if (mr !== pairs[pairs.length - 1]?.mr) mrToLoraContext(mr, `${file}:${rec.line}: mr column`);
    pairs.push({ mr, ref: rec.fields[1] as string, line: rec.line });
  }
  return pairs;
}

/**
 * Parses the LoRA line format. Like format_converting_e2e.py: each line is stripped of surrounding
 * whitespace (so the reference's trailing space goes), then split at `||`.
 */
export function parseLoraE2e(text: string, file: string): E2ePair[] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.map((raw, i) => {
    const parts = raw.trim().split('||');
    if (parts.length !== 2) {
      throw new UserError(
        `${file}:${i + 1}: expected one "||" between context and reference, found ${parts.length - 1}: use the format "name : X | Type : Y||reference"`,
      );
    }
    return { mr: parts[0] as string, ref: parts[1] as string, line: i + 1 };
  });
}

/** Groups references of consecutive identical MRs into instances (e2e-metrics read_and_group_tsv). */
export function groupConsecutive(pairs: readonly E2ePair[]): E2eInstance[] {
  const out: E2eInstance[] = [];
  let last: E2eInstance | undefined;
  for (const p of pairs) {
    if (last === undefined || last.mr !== p.mr) {
      last = { mr: p.mr, refs: [] };
      out.push(last);
    }
    last.refs.push(p.ref);
  }
  return out;
}

/**
 * Attribute names of the challenge MRs as the LoRA line format spells them (checked against every line
 * of valid.txt/test.txt: they are the same MRs in the same attribute order, only renamed and re-joined).
 */
const LORA_ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  name: 'name',
  eatType: 'Type',
  food: 'food',
  priceRange: 'price',
  'customer rating': 'customer rating',
  area: 'area',
  familyFriendly: 'family friendly',
  near: 'near',
};

const MR_ITEM = /^([A-Za-z ]+)\[([^\]]*)\]$/;

/**
 * The LoRA files also tokenize values: of the whole E2E value vocabulary only the three price ranges
 * change (`£20-25` -> `£ 20 - 25`, `less than £20` -> `less than £ 20`, `more than £30` -> `more than £ 30`),
 * found by comparing every aligned line of devset.csv/valid.txt and testset_w_refs.csv/test.txt.
 */
function loraValue(value: string): string {
  return value.replace(/£(?=\d)/g, '£ ').replace(/(\d)-(\d)/g, '$1 - $2');
}

/**
 * Converts a challenge MR (`name[The Eagle], eatType[coffee shop]`) to the LoRA context string
 * (`name : The Eagle | Type : coffee shop`), byte-identical to the contexts of valid.txt/test.txt.
 * Needed for training from trainset.csv, because the LoRA repository's train.txt is not in the shared data
 * (MANIFEST.md). Only the MR is converted: LoRA's references are additionally tokenized
 * (`family - friendly`, `isn 't`), which is not reproduced here.
 */
export function mrToLoraContext(mr: string, where = 'MR'): string {
  const items = mr.split(', ').map((item) => {
    const m = MR_ITEM.exec(item);
    const key = m?.[1];
    const lora = key !== undefined && Object.hasOwn(LORA_ATTRIBUTE_NAMES, key) ? LORA_ATTRIBUTE_NAMES[key] : undefined;
    if (m === null || lora === undefined) {
      throw new UserError(`${where}: cannot read MR item "${item.slice(0, 80)}": expected attribute[value] with a known E2E attribute (${Object.keys(LORA_ATTRIBUTE_NAMES).join(', ')})`);
    }
    return `${lora} : ${loraValue(m[2] as string)}`;
  });
  return items.join(' | ');
}

export interface E2eData {
  file: string;
  pairs: E2ePair[];
  instances: E2eInstance[];
}

/** Reads a split in the given format from the data directory. */
export function readE2eSplit(dataDir: string, split: E2eSplit, format: E2eFormat): E2eData {
  const file = dataFile(dataDir, E2E_FILES[format][split]);
  return readE2eFile(file, format);
}

export function readE2eFile(file: string, format: E2eFormat): E2eData {
  const text = readDataText(file);
  const pairs = format === 'csv' ? parseE2eCsv(text, file) : parseLoraE2e(text, file);
  return { file, pairs, instances: groupConsecutive(pairs) };
}

/** Differences between `data` and the official counts of `split`, one message each (empty when it matches). */
export function e2eCountMismatches(split: E2eSplit, data: E2eData): string[] {
  const want = E2E_OFFICIAL_COUNTS[split];
  const out: string[] = [];
  if (data.pairs.length !== want.pairs) out.push(`${data.file}: ${data.pairs.length} pairs, official ${split} has ${want.pairs}`);
  if (want.instances !== undefined && data.instances.length !== want.instances) {
    out.push(`${data.file}: ${data.instances.length} instances, official ${split} has ${want.instances}`);
  }
  return out;
}
