/**
 * The on-disk spool: what could not be delivered to MLflow, kept until `lora-repro mlflow sync`.
 *
 * One append-only JSONL file per run, `<spool-dir>/<run-key>.jsonl`:
 *   {"type":"run", ...}       header: experiment, run name, start time, create-time tags, parent,
 *                             and the server ids if the run was created before the server went away
 *   {"type":"batch", seq, ...}     params/tags/metrics (metric timestamps fixed when logged)
 *   {"type":"artifact", seq, ...}  a copy of the file under `<run-key>.files/`
 *   {"type":"end", seq, ...}       terminal status and end time
 *   {"type":"bound", ...}     written by sync: the server run this spool maps to
 *   {"type":"ack", seq}       written by sync: op `seq` is on the server; never resent
 * `inDoubt` marks ops whose delivery was attempted and may have been applied (response lost).
 * Every line is written with one write() on an O_APPEND descriptor followed by fsync, so a crash
 * leaves at most a torn last line, which readers ignore. Fully synced files are renamed to
 * `.jsonl.synced`, never deleted.
 */
import { copyFile, mkdir, open, readFile, readdir, rename } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../util/errors.ts';
import type { WireBatch } from './limits.ts';

const KV = z.object({ key: z.string(), value: z.string() });
const WireMetricRecord = z.object({
  key: z.string(),
  value: z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])]),
  timestamp: z.number(),
  step: z.number(),
});

const HeaderRecord = z.object({
  type: z.literal('run'),
  v: z.literal(1),
  runKey: z.string(),
  experimentName: z.string(),
  runName: z.string(),
  startTime: z.number(),
  userId: z.string(),
  tags: z.array(KV),
  parentRunKey: z.string().optional(),
  parentRunId: z.string().optional(),
  runId: z.string().optional(),
  experimentId: z.string().optional(),
  artifactUri: z.string().optional(),
});
const BatchRecord = z.object({
  type: z.literal('batch'),
  seq: z.number(),
  inDoubt: z.boolean(),
  metrics: z.array(WireMetricRecord),
  params: z.array(KV),
  tags: z.array(KV),
});
const ArtifactRecord = z.object({
  type: z.literal('artifact'),
  seq: z.number(),
  inDoubt: z.boolean(),
  file: z.string(),
  path: z.string(),
  contentType: z.string(),
});
const EndRecord = z.object({
  type: z.literal('end'),
  seq: z.number(),
  inDoubt: z.boolean(),
  status: z.enum(['FINISHED', 'FAILED', 'KILLED']),
  endTime: z.number(),
});
const BoundRecord = z.object({
  type: z.literal('bound'),
  runId: z.string(),
  experimentId: z.string(),
  artifactUri: z.string().optional(),
});
const AckRecord = z.object({ type: z.literal('ack'), seq: z.number() });
const AnyRecord = z.discriminatedUnion('type', [HeaderRecord, BatchRecord, ArtifactRecord, EndRecord, BoundRecord, AckRecord]);

export type SpoolHeader = z.output<typeof HeaderRecord>;
export type SpoolBatchOp = z.output<typeof BatchRecord>;
export type SpoolArtifactOp = z.output<typeof ArtifactRecord>;
export type SpoolEndOp = z.output<typeof EndRecord>;
export type SpoolOp = SpoolBatchOp | SpoolArtifactOp | SpoolEndOp;
export type SpoolBound = z.output<typeof BoundRecord>;
type SpoolRecord = z.output<typeof AnyRecord>;

const SPOOL_EXT = '.jsonl';
const SYNCED_EXT = '.jsonl.synced';

/** Appends one record as one line and fsyncs it. Creates the directory (and fsyncs it) on first use. */
async function appendRecord(path: string, record: SpoolRecord, isNew: boolean): Promise<void> {
  const line = `${JSON.stringify(record)}\n`;
  const fh = await open(path, 'a');
  try {
    await fh.write(line);
    await fh.sync();
  } finally {
    await fh.close();
  }
  if (isNew) await fsyncDir(join(path, '..'));
}

async function fsyncDir(dir: string): Promise<void> {
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // Some platforms cannot fsync a directory; the file itself is already durable.
  }
}

/** Writer for one run's spool file. Ops are numbered in the order they were logged. */
export class RunSpool {
  readonly path: string;
  private seq = 0;
  private created = false;

  constructor(
    readonly dir: string,
    readonly runKey: string,
  ) {
    this.path = join(dir, `${runKey}${SPOOL_EXT}`);
  }

  async writeHeader(h: Omit<SpoolHeader, 'type' | 'v'>): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await appendRecord(this.path, { type: 'run', v: 1, ...h }, !this.created);
    this.created = true;
  }

  async appendBatch(batch: WireBatch, inDoubt: boolean): Promise<void> {
    await this.append({ type: 'batch', seq: ++this.seq, inDoubt, metrics: batch.metrics, params: batch.params, tags: batch.tags });
  }

  /** Copies the file into the spool first (the original may change or vanish), then records it. */
  async appendArtifact(localPath: string, artifactPath: string, contentType: string, inDoubt: boolean): Promise<void> {
    const seq = ++this.seq;
    const rel = join(`${this.runKey}.files`, `${seq}-${basename(localPath)}`);
    await mkdir(join(this.dir, `${this.runKey}.files`), { recursive: true });
    await copyFile(localPath, join(this.dir, rel));
    const fh = await open(join(this.dir, rel), 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await this.append({ type: 'artifact', seq, inDoubt, file: rel, path: artifactPath, contentType });
  }

  async appendEnd(status: SpoolEndOp['status'], endTime: number, inDoubt: boolean): Promise<void> {
    await this.append({ type: 'end', seq: ++this.seq, inDoubt, status, endTime });
  }

  private async append(r: SpoolRecord): Promise<void> {
    if (!this.created) throw new Error(`spool ${this.path}: header must be written first`);
    await appendRecord(this.path, r, false);
  }
}

/** A spool file as read back by sync. */
export interface SpooledRun {
  path: string;
  dir: string;
  header: SpoolHeader;
  ops: SpoolOp[];
  acked: Set<number>;
  bound: SpoolBound | undefined;
}

/** Pending spool files (not yet fully synced) in `dir`, sorted by name; [] if the dir does not exist. */
export async function listSpoolFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names.filter((n) => n.endsWith(SPOOL_EXT)).sort().map((n) => join(dir, n));
}

export async function readSpoolFile(path: string): Promise<SpooledRun> {
  const text = await readFile(path, 'utf8');
  const lines = text.split('\n');
  const torn = !text.endsWith('\n') ? lines.length - 1 : -1;
  let header: SpoolHeader | undefined;
  const ops: SpoolOp[] = [];
  const acked = new Set<number>();
  let bound: SpoolBound | undefined;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    let rec: SpoolRecord;
    try {
      rec = AnyRecord.parse(JSON.parse(lines[i]));
    } catch (err) {
      if (i === torn) break; // a write interrupted by a crash: the op was never acknowledged to the caller
      throw new UserError(`spool file ${path} line ${i + 1} is corrupt (${(err as Error).message.split('\n')[0]}); fix or move the file`);
    }
    if (rec.type === 'run') header = rec;
    else if (rec.type === 'ack') acked.add(rec.seq);
    else if (rec.type === 'bound') bound = rec;
    else ops.push(rec);
  }
  if (header === undefined) throw new UserError(`spool file ${path} has no run header; it cannot be replayed`);
  return { path, dir: join(path, '..'), header, ops, acked, bound };
}

/** Records (durably) that this spool maps to `bound` on the server. */
export async function writeBound(run: SpooledRun, bound: Omit<SpoolBound, 'type'>): Promise<void> {
  await appendRecord(run.path, { type: 'bound', ...bound }, false);
  run.bound = { type: 'bound', ...bound };
}

export async function writeAck(run: SpooledRun, seq: number): Promise<void> {
  await appendRecord(run.path, { type: 'ack', seq }, false);
  run.acked.add(seq);
}

/** Renames a fully delivered spool to `.jsonl.synced` so later syncs skip it (it is kept, not deleted). */
export async function markSynced(run: SpooledRun): Promise<void> {
  await rename(run.path, run.path.slice(0, -SPOOL_EXT.length) + SYNCED_EXT);
  await fsyncDir(run.dir);
}
