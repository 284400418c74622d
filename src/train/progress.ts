/**
 * Training progress: on a terminal a one-line bar redrawn in place (step, loss, tokens/s, ETA); anywhere
 * else (a log file, CI, a test) plain lines at a steady rate, so logs stay readable and small.
 * Other messages (epoch summaries) go through `message`, which keeps the bar below them.
 */

export interface ProgressOptions {
  totalSteps: number;
  /** Plain lines (no bar) go here. */
  log: (line: string) => void;
  /** Draw a bar with `write` (a TTY stream's write) instead of logging lines. */
  tty?: { write: (text: string) => void; columns?: number };
  /** Plain mode: at most one line per this many ms (and always the first and last step). */
  intervalMs?: number;
  now?: () => number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(r).padStart(2, '0')}s`;
  return `${r}s`;
}

export class Progress {
  private readonly start: number;
  private lastLine = -Infinity;
  private barShown = false;
  private readonly now: () => number;
  private trainMs = 0;

  constructor(private readonly o: ProgressOptions) {
    this.now = o.now ?? (() => performance.now());
    this.start = this.now();
  }

  /**
   * After update `step` (1-based) with its loss; `tokensPerSecond` over the training time so far and
   * `trainMs` the time spent in training steps (evaluation excluded from the ETA).
   */
  update(step: number, loss: number, tokensPerSecond: number, trainMs: number): void {
    this.trainMs = trainMs;
    const eta = step > 0 ? ((this.o.totalSteps - step) * trainMs) / step / 1000 : NaN;
    const stats = `step ${step}/${this.o.totalSteps}  loss ${loss.toFixed(4)}  ${Math.round(tokensPerSecond)} tok/s  ETA ${formatDuration(eta)}`;
    if (this.o.tty) {
      const width = Math.max(10, Math.min(30, (this.o.tty.columns ?? 80) - stats.length - 4));
      const filled = Math.round((width * step) / Math.max(1, this.o.totalSteps));
      this.o.tty.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${stats}\x1b[K`);
      this.barShown = true;
      return;
    }
    const t = this.now();
    if (step === 1 || step === this.o.totalSteps || t - this.lastLine >= (this.o.intervalMs ?? 10_000)) {
      this.o.log(stats);
      this.lastLine = t;
    }
  }

  /** A line of its own (epoch results, warnings). */
  message(line: string): void {
    if (this.o.tty && this.barShown) {
      this.o.tty.write('\r\x1b[K');
      this.barShown = false;
    }
    this.o.log(line);
  }

  finish(): void {
    if (this.o.tty && this.barShown) this.o.tty.write('\n');
    this.barShown = false;
    const wall = (this.now() - this.start) / 1000;
    this.o.log(`done in ${formatDuration(wall)} (training ${formatDuration(this.trainMs / 1000)})`);
  }
}
