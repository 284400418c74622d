/**
 * Reads a spec file: YAML → zod-validated Spec, and keeps the parsed document so that any later
 * error (expansion, method config) can still point at `file:line:col`. Every failure is one
 * UserError line: `<file>:<line>:<col>: <key path>: <what was expected>`.
 */
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { isMap, isNode, isPair, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { UserError } from '../util/errors.ts';
import { KNOWN_KEYS, specSchema, type Spec } from './schema.ts';

export type KeyPath = readonly (string | number)[];

const FORMAT_DOC = 'src/spec/README.md';

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length][b.length];
}

/** A known key the typo is probably meant to be (case-insensitive equal, or ≤ 2 edits). */
function closest(key: string): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const k of KNOWN_KEYS) {
    const d = k.toLowerCase() === key.toLowerCase() ? 0 : editDistance(k, key);
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  return best;
}

/** `grid[2].tasks.mnli.epochs` */
function formatPath(path: KeyPath): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`;
  return out === '' ? '(top level)' : out;
}

export class SpecSource {
  constructor(
    readonly file: string,
    private readonly doc: Document | undefined,
    private readonly lines: LineCounter | undefined,
  ) {}

  /** `file:line:col` of the deepest node that exists along `path` (or of the key itself). */
  where(path: KeyPath, pointAtKey = false): string {
    if (this.doc === undefined || this.lines === undefined) return this.file;
    let node: unknown = this.doc.contents;
    let offset: number | undefined = isNode(node) ? node.range?.[0] : undefined;
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
        if (pair === undefined) break;
        const target = pointAtKey && seg === path[path.length - 1] ? pair.key : pair.value;
        if (isNode(target) && target.range) offset = target.range[0];
        node = pair.value;
      } else if (isNode(node) && 'items' in node && Array.isArray((node as { items: unknown[] }).items) && typeof seg === 'number') {
        const item = (node as { items: unknown[] }).items[seg];
        if (item === undefined) break;
        if (isNode(item) && item.range) offset = item.range[0];
        node = item;
      } else break;
    }
    if (offset === undefined) return this.file;
    const { line, col } = this.lines.linePos(offset);
    return `${this.file}:${line}:${col}`;
  }

  /** A one-line error at `path`. */
  error(path: KeyPath, message: string, pointAtKey = false): UserError {
    return new UserError(`${this.where(path, pointAtKey)}: ${formatPath(path)}: ${message}`);
  }
}

export interface LoadedSpec {
  spec: Spec;
  /** Experiment name: the spec's `experiment`, else the file name without extension. */
  experiment: string;
  source: SpecSource;
}

interface FlatIssue {
  code: string;
  path: (string | number)[];
  message: string;
  keys?: string[];
}

/**
 * A union's failure as the issue of the branch that got furthest (longest path), so `tasks:
 * {rte: {epochs: x}}` reports `tasks.rte.epochs` rather than "invalid input"; when no branch got
 * anywhere, the expected forms are listed.
 */
function flatten(issue: z.core.$ZodIssue): FlatIssue {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) {
    return { code: issue.code, path: issue.path as (string | number)[], message: issue.message, keys: issue.code === 'unrecognized_keys' ? issue.keys : undefined };
  }
  const branches = issue.errors.filter((b) => b.length > 0).map((b) => flatten(b[0]));
  const best = branches.reduce((a, b) => (b.path.length > a.path.length ? b : a), branches[0]);
  const prefix = issue.path as (string | number)[];
  if (best.path.length > 0) return { ...best, path: [...prefix, ...best.path] };
  const expected = branches.map((b) => /expected (\w+)/.exec(b.message)?.[1]).filter((x): x is string => x !== undefined);
  const received = /received (\w+)/.exec(branches[0]?.message ?? '')?.[1];
  const text = expected.length > 0 ? `expected ${[...new Set(expected)].join(' or ')}${received ? `, received ${received}` : ''}` : 'invalid value';
  return { code: 'invalid_union', path: prefix, message: `${text} (the format: ${FORMAT_DOC})` };
}

/** The first zod issue as a one-line error, with an unknown key pointed at directly. */
function zodError(source: SpecSource, err: z.ZodError, prefix: KeyPath = []): UserError {
  const issue = flatten(err.issues[0]);
  let path: KeyPath = [...prefix, ...issue.path];
  let message = issue.message;
  if (issue.code === 'unrecognized_keys' && issue.keys !== undefined && issue.keys.length > 0) {
    const keys = issue.keys;
    path = [...path, keys[0]];
    const hint = closest(keys[0]);
    message = `unknown key '${keys[0]}'${keys.length > 1 ? ` (and ${keys.slice(1).map((k) => `'${k}'`).join(', ')})` : ''}${hint ? `; did you mean '${hint}'?` : ''} (the format: ${FORMAT_DOC})`;
    return source.error(path, message, true);
  }
  return source.error(path, message.replace(/^Invalid input: /, ''));
}

export function parseSpecText(text: string, file: string): LoadedSpec {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, merge: true });
  const first = doc.errors[0];
  if (first !== undefined) {
    const pos = first.linePos?.[0] ?? (first.pos ? lines.linePos(first.pos[0]) : undefined);
    const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
    const msg = first.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw new UserError(`${where}: YAML syntax error: ${msg}`);
  }
  const source = new SpecSource(file, doc, lines);
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    // The yaml library refuses alias bombs (and alias cycles) with a ReferenceError: input, not a bug.
    throw new UserError(`${file}: YAML aliases expand too far (${(err as Error).message.split('\n')[0]}): write the values out or use fewer nested aliases`);
  }
  if (raw === null || raw === undefined) throw new UserError(`${file}: the spec is empty (expected a mapping with at least 'grid')`);
  const parsed = specSchema.safeParse(raw);
  if (!parsed.success) throw zodError(source, parsed.error);
  const experiment = parsed.data.experiment ?? basename(file, extname(file));
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(experiment)) {
    throw new UserError(`${file}: the file name '${experiment}' cannot be an experiment name; set 'experiment:' (letters, digits, '.', '_', '-')`);
  }
  return { spec: parsed.data, experiment, source };
}

export function loadSpecFile(file: string): LoadedSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(`${file}: cannot read the spec (${code === 'ENOENT' ? 'no such file' : code ?? (err as Error).message})`);
  }
  return parseSpecText(text, file);
}
