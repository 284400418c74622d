/**
 * MLflow's request limits and key rules, checked on the client so that a bad key fails at the
 * call site (one line, no network) instead of poisoning a spool that could never be replayed,
 * and so that large batches are split into requests the server accepts.
 *
 * The rules are the strictest common form of every server version we talk to (2.x and 3.x), from
 * mlflow/utils/validation.py of each:
 * - names: `_VALID_PARAM_AND_METRIC_NAMES` is ^[/\w.\- ]*$ in 2.x; 3.x adds `:`. We accept the 2.x
 *   set. A name must also not change under posixpath.normpath (`path_not_unique`);
 *   MAX_ENTITY_KEY_LENGTH = 250 in both.
 * - values: MAX_PARAM_VAL_LENGTH is 500 up to 2.2 (over-long values rejected) and 6000 from 2.3
 *   (truncated by `_validate_length_limit(..., truncate=True)` when MLFLOW_TRUNCATE_LONG_VALUES,
 *   the default); MAX_TAG_VAL_LENGTH is 5000 in 2.x and 8000 in 3.x. We truncate to 500 / 5000
 *   ourselves, as the newer servers do, so no server rejects a value and the stored value is the
 *   same whichever server got it (params are immutable: a resend must be identical).
 * - batches (all versions): MAX_PARAMS_TAGS_PER_BATCH = 100, MAX_METRICS_PER_BATCH = 1000,
 *   MAX_ENTITIES_PER_BATCH = 1000, MAX_BATCH_LOG_REQUEST_SIZE = int(1e6),
 *   MAX_EXPERIMENT_NAME_LENGTH = 500.
 * test/mlflow-keys.test.ts checks every key the code produces against each version's rules.
 */
import { UserError } from '../util/errors.ts';

export const MLFLOW_LIMITS = {
  maxMetricsPerBatch: 1000,
  maxParamsPerBatch: 100,
  maxTagsPerBatch: 100,
  maxEntitiesPerBatch: 1000,
  /** validation.py compares len(request body) to 1e6; we count UTF-8 bytes, which is never less. */
  maxRequestBytes: 1_000_000,
  maxKeyLength: 250,
  maxParamValueLength: 500,
  maxTagValueLength: 5000,
  maxExperimentNameLength: 500,
} as const;

export type MlflowLimits = { [K in keyof typeof MLFLOW_LIMITS]: number };

/** A metric value as the proto3 JSON mapping of `double` allows: a number or one of three strings. */
export type WireMetricValue = number | 'NaN' | 'Infinity' | '-Infinity';

/** One metric as sent in runs/log-batch (service.proto `Metric`; timestamp in ms, step int64). */
export interface WireMetric {
  key: string;
  value: WireMetricValue;
  timestamp: number;
  step: number;
}

/** A param or run tag as sent in runs/log-batch. */
export interface WireKV {
  key: string;
  value: string;
}

export interface WireBatch {
  metrics: WireMetric[];
  params: WireKV[];
  tags: WireKV[];
}

function emptyBatch(): WireBatch {
  return { metrics: [], params: [], tags: [] };
}

export function batchSize(b: WireBatch): number {
  return b.metrics.length + b.params.length + b.tags.length;
}

/**
 * JSON has no NaN/Infinity (JSON.stringify would send null, which the server rejects);
 * protobuf's JSON mapping, which MLflow's server parses with, accepts these strings for doubles.
 */
export function encodeMetricValue(v: number): WireMetricValue {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

export function decodeMetricValue(v: WireMetricValue): number {
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return v;
}

// \w in Python 3 `re` on str is Unicode-aware: letters, digits and underscore of any script.
// No `:` (3.x only; 2.x rejects it).
const VALID_NAME = /^[/\p{L}\p{N}\p{Mn}\p{Pc}.\- ]*$/u;

/** Why `key` would be rejected by the server, or undefined if it is fine. */
export function keyProblem(key: string, limits: MlflowLimits = MLFLOW_LIMITS): string | undefined {
  if (typeof key !== 'string' || key.length === 0) return 'a key name must be provided';
  if (key.length > limits.maxKeyLength) return `it is ${key.length} characters long (limit ${limits.maxKeyLength})`;
  if (!VALID_NAME.test(key)) {
    return 'names may only contain alphanumerics, underscores, dashes, periods, spaces and slashes (MLflow 2.x rules)';
  }
  // posixpath.normpath(name) != name, '.', '..*' or '/*' -> "must not resolve to other names".
  if (key.startsWith('/') || key.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    return 'it would resolve to a different path (leading/trailing/double slash or a . or .. segment)';
  }
  return undefined;
}

/**
 * `name` made valid under the rules above: every character outside them becomes `_` (so a legacy
 * result key `accuracy@dev_mismatched` becomes `accuracy_dev_mismatched`, the key such results are
 * written with now), and empty, `.` and `..` path segments are dropped. For names built from data
 * (result metric names, config fields); fixed names are checked with checkKey instead.
 */
export function validMlflowKey(name: string): string {
  const chars = [...name].map((ch) => (VALID_NAME.test(ch) ? ch : '_')).join('');
  const segments = chars.split('/').filter((s) => s !== '' && s !== '.' && s !== '..');
  const key = segments.join('/');
  return key === '' ? '_' : key.slice(0, MLFLOW_LIMITS.maxKeyLength);
}

function checkKey(kind: 'metric' | 'param' | 'tag', key: string): void {
  const problem = keyProblem(key);
  if (problem !== undefined) throw new UserError(`invalid MLflow ${kind} name '${clip(key)}': ${problem}`);
}

export function checkExperimentName(name: string): void {
  if (typeof name !== 'string' || name.trim() === '') throw new UserError('MLflow experiment name must not be empty');
  if (name.length > MLFLOW_LIMITS.maxExperimentNameLength) {
    throw new UserError(`MLflow experiment name is ${name.length} characters (limit ${MLFLOW_LIMITS.maxExperimentNameLength})`);
  }
}

export type ParamValue = string | number | boolean;

/** Called once per value cut to the server limit (the tracker warns). */
export type OnTruncate = (kind: 'param' | 'tag', key: string, length: number, limit: number) => void;

function fitValue(kind: 'param' | 'tag', key: string, value: string, limit: number, onTruncate: OnTruncate | undefined): string {
  if (value.length <= limit) return value;
  onTruncate?.(kind, key, value.length, limit);
  // value[:limit], exactly what a truncating server (validation.py, _validate_length_limit) stores.
  return value.slice(0, limit);
}

/** Validates and converts params; values over the limit are truncated (see the file comment). */
export function toWireParams(params: Record<string, ParamValue>, onTruncate?: OnTruncate): WireKV[] {
  return Object.entries(params).map(([key, raw]) => {
    checkKey('param', key);
    return { key, value: fitValue('param', key, String(raw), MLFLOW_LIMITS.maxParamValueLength, onTruncate) };
  });
}

export function toWireTags(tags: Record<string, string>, onTruncate?: OnTruncate): WireKV[] {
  return Object.entries(tags).map(([key, raw]) => {
    checkKey('tag', key);
    return { key, value: fitValue('tag', key, String(raw), MLFLOW_LIMITS.maxTagValueLength, onTruncate) };
  });
}

export interface MetricInput {
  key: string;
  value: number;
  step: number;
  timestamp?: number;
}

/** Validates metrics and fixes their timestamps now, so a retry or replay resends identical rows. */
export function toWireMetrics(points: MetricInput[], now: number): WireMetric[] {
  return points.map((p) => {
    checkKey('metric', p.key);
    if (typeof p.value !== 'number') throw new UserError(`MLflow metric '${p.key}' value must be a number, got ${typeof p.value}`);
    if (!Number.isSafeInteger(p.step)) throw new UserError(`MLflow metric '${p.key}' step must be an integer, got ${p.step}`);
    const timestamp = p.timestamp ?? now;
    if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
      throw new UserError(`MLflow metric '${p.key}' timestamp must be a non-negative integer of milliseconds, got ${timestamp}`);
    }
    return { key: p.key, value: encodeMetricValue(p.value), timestamp, step: p.step };
  });
}

/** Exact serialized size of one entity inside a JSON array, plus its separating comma. */
function entityBytes(e: WireMetric | WireKV): number {
  return Buffer.byteLength(JSON.stringify(e)) + 1;
}

/**
 * Splits a batch into log-batch requests that respect every per-request limit. Params and tags go
 * first (the docs allow any interleaving across kinds), metric order is preserved. Param keys are
 * unique within one request because MLflow rejects duplicates ("Duplicate parameter keys").
 */
export function chunkBatch(runId: string, batch: WireBatch, limits: MlflowLimits = MLFLOW_LIMITS): WireBatch[] {
  const overhead = Buffer.byteLength(JSON.stringify({ run_id: runId, metrics: [], params: [], tags: [] }));
  const chunks: WireBatch[] = [];
  let cur = emptyBatch();
  let bytes = overhead;
  let paramKeys = new Set<string>();
  const flush = (): void => {
    if (batchSize(cur) > 0) chunks.push(cur);
    cur = emptyBatch();
    bytes = overhead;
    paramKeys = new Set();
  };
  const add = (kind: 'metrics' | 'params' | 'tags', e: WireMetric | WireKV): void => {
    const size = entityBytes(e);
    if (overhead + size > limits.maxRequestBytes) {
      throw new UserError(`MLflow ${kind.slice(0, -1)} '${clip(e.key)}' alone exceeds the ${limits.maxRequestBytes}-byte request limit`);
    }
    const full =
      bytes + size > limits.maxRequestBytes ||
      batchSize(cur) + 1 > limits.maxEntitiesPerBatch ||
      (kind === 'metrics' && cur.metrics.length + 1 > limits.maxMetricsPerBatch) ||
      (kind === 'params' && (cur.params.length + 1 > limits.maxParamsPerBatch || paramKeys.has(e.key))) ||
      (kind === 'tags' && cur.tags.length + 1 > limits.maxTagsPerBatch);
    if (full) flush();
    if (kind === 'metrics') cur.metrics.push(e as WireMetric);
    else if (kind === 'params') {
      cur.params.push(e as WireKV);
      paramKeys.add(e.key);
    } else cur.tags.push(e as WireKV);
    bytes += size;
  };
  for (const p of batch.params) add('params', p);
  for (const t of batch.tags) add('tags', t);
  for (const m of batch.metrics) add('metrics', m);
  flush();
  return chunks;
}

/** Concatenates batches (used to fold the undelivered tail of a batch into one spool record). */
export function mergeBatches(batches: WireBatch[]): WireBatch {
  const out = emptyBatch();
  for (const b of batches) {
    out.metrics.push(...b.metrics);
    out.params.push(...b.params);
    out.tags.push(...b.tags);
  }
  return out;
}

function clip(s: string): string {
  return typeof s === 'string' && s.length > 60 ? `${s.slice(0, 57)}...` : String(s);
}
