/**
 * The download progress line. On a terminal one line is redrawn in place (at most 10 times a second);
 * elsewhere (CI logs, pipes) a plain line is printed every few seconds and when a file completes, so a
 * log shows progress without thousands of lines.
 */
import type { FileProgress } from './download-file.ts';

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

export interface ProgressSink {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface ProgressPrinter {
  onProgress(p: FileProgress): void;
  /** Ends the current line, if one is being redrawn. */
  finish(): void;
}

export function progressPrinter(out: ProgressSink, now: () => number = Date.now): ProgressPrinter {
  const tty = out.isTTY === true;
  const interval = tty ? 100 : 5000;
  let current: string | undefined;
  let last = -Infinity;
  let startedAt = 0;
  let startBytes = 0;
  let drawn = false;

  const line = (p: FileProgress): string => {
    const pct = p.total > 0 ? Math.floor((100 * p.received) / p.total) : 100;
    const secs = (now() - startedAt) / 1000;
    const rate = secs > 0 ? `${formatBytes(Math.round((p.received - startBytes) / secs))}/s` : '';
    return `${p.label}  ${formatBytes(p.received)} / ${formatBytes(p.total)}  ${pct}%  ${rate}`.trimEnd();
  };

  return {
    onProgress(p) {
      if (p.label !== current) {
        this.finish();
        current = p.label;
        startedAt = now();
        startBytes = p.received;
        last = -Infinity;
      }
      const complete = p.received >= p.total;
      if (!complete && now() - last < interval) return;
      last = now();
      if (tty) {
        out.write(`\r\x1b[2K${line(p)}`);
        drawn = true;
        if (complete) this.finish();
      } else {
        out.write(`${line(p)}\n`);
      }
    },
    finish() {
      if (drawn) out.write('\n');
      drawn = false;
    },
  };
}
