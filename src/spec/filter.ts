/**
 * `--filter` expressions, a deliberately small grammar:
 *
 *   filter := clause ( ',' clause )*          clauses are ANDed
 *   clause := key ( '=' | '!=' ) alt ( '|' alt )*   alternatives are ORed
 *   alt    := a value; '*' matches any characters, '?' one character
 *
 * Keys: row, label, model, method, variant, task, seed, any other TrainRunConfig field
 * (epochs, batchSize, …) and methodConfig.<key> / decoding.<key> / initFrom.<key> (initFrom.task=mnli). `model` matches the spec's model
 * name or the profile's (so `model=roberta-large` also selects its mini stand-in); `row`, `label`
 * and `model` also match the other rows a run is shared with (PlannedRun.sharedWith). Values compare
 * with the field's string form (numbers as JavaScript prints them: `learningRate=0.0005`).
 * Several --filter flags are ANDed. Examples: `task=rte,method=lora`, `task=rte|mrpc,seed!=4`,
 * `variant=bottleneck*`, `methodConfig.r=8`.
 */
import { trainRunConfigSchema } from '../train/run-config.ts';
import { UserError } from '../util/errors.ts';
import type { PlannedRun } from './expand.ts';

interface Clause {
  key: string;
  negate: boolean;
  patterns: ((value: string) => boolean)[];
}

const EXTRA_KEYS = ['row', 'label'];
const NESTED = ['methodConfig', 'decoding', 'initFrom'];

/**
 * Wildcard match without a regex: a glob turned into `.*` runs backtracks catastrophically (600 `*`
 * ran for minutes). Greedy two-pointer matching with one remembered star is O(|glob|·|s|) at worst.
 */
function globMatch(glob: string, s: string): boolean {
  let g = 0;
  let i = 0;
  let star = -1;
  let mark = 0;
  while (i < s.length) {
    if (g < glob.length && (glob[g] === '?' || (glob[g] !== '*' && glob[g] === s[i]))) {
      g++;
      i++;
    } else if (g < glob.length && glob[g] === '*') {
      star = g++;
      mark = i;
    } else if (star >= 0) {
      g = star + 1;
      i = ++mark;
    } else return false;
  }
  while (g < glob.length && glob[g] === '*') g++;
  return g === glob.length;
}

function knownKey(key: string): boolean {
  if (EXTRA_KEYS.includes(key) || key in trainRunConfigSchema.shape) return true;
  const [head, ...rest] = key.split('.');
  return NESTED.includes(head) && rest.length === 1 && rest[0] !== '';
}

export function parseFilter(expr: string): Clause[] {
  const clauses = expr.split(',').map((s) => s.trim());
  if (clauses.some((c) => c === '')) throw new UserError(`--filter '${expr}': empty clause (expected key=value[,key=value…])`);
  return clauses.map((c) => {
    const m = /^([A-Za-z][A-Za-z0-9_.]*)\s*(!=|=)\s*(.*)$/.exec(c);
    if (m === null) throw new UserError(`--filter '${expr}': '${c}' is not key=value or key!=value`);
    const [, key, op, value] = m;
    if (!knownKey(key)) {
      const keys = [...EXTRA_KEYS, ...Object.keys(trainRunConfigSchema.shape), 'methodConfig.<key>', 'decoding.<key>'];
      throw new UserError(`--filter '${expr}': unknown key '${key}' (expected one of ${keys.join(', ')})`);
    }
    const alts = value.split('|').map((v) => v.trim());
    if (alts.some((a) => a === '')) throw new UserError(`--filter '${expr}': '${c}' has an empty value`);
    return { key, negate: op === '!=', patterns: alts.map((alt) => (v: string) => globMatch(alt, v)) };
  });
}

function valueStrings(run: PlannedRun, key: string): string[] {
  const str = (v: unknown): string[] => (v === undefined ? [] : [typeof v === 'string' ? v : JSON.stringify(v)]);
  if (key === 'row') return [run.row, ...run.sharedWith.map((s) => s.row)];
  if (key === 'label') return [run.label, ...run.sharedWith.map((s) => s.label)];
  if (key === 'model') return [run.config.model, run.specModel, ...run.sharedWith.map((s) => s.specModel)];
  const [head, sub] = key.split('.');
  const config = run.config as unknown as Record<string, unknown>;
  if (sub !== undefined) {
    const obj = config[head];
    return typeof obj === 'object' && obj !== null ? str((obj as Record<string, unknown>)[sub]) : [];
  }
  return str(config[key]);
}

function runMatches(run: PlannedRun, clauses: Clause[]): boolean {
  return clauses.every((c) => {
    const values = valueStrings(run, c.key);
    const hit = values.some((v) => c.patterns.some((p) => p(v)));
    return c.negate ? !hit : hit;
  });
}

/** Runs matching every filter expression (none given: all runs). */
export function applyFilters(runs: PlannedRun[], exprs: readonly string[]): PlannedRun[] {
  const parsed = exprs.map(parseFilter);
  return runs.filter((r) => parsed.every((clauses) => runMatches(r, clauses)));
}
