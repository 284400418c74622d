/**
 * Crash injection for the kill-and-resume tests. A random external SIGKILL almost never lands in
 * the microseconds between a result's JSON rename and its CSV append, or inside the append; these
 * failpoints make the runner SIGKILL itself exactly there. Off unless LORA_REPRO_FAILPOINTS is set, e.g.
 * `after-json:0.2,torn-csv:0.1` (name:probability).
 */

export type Failpoint = 'after-json' | 'torn-csv';

let parsed: Map<string, number> | undefined;

function table(): Map<string, number> {
  if (parsed === undefined) {
    parsed = new Map();
    for (const item of (process.env.LORA_REPRO_FAILPOINTS ?? '').split(',')) {
      const [name, p] = item.split(':');
      if (name && Number.isFinite(Number(p))) parsed.set(name.trim(), Number(p));
    }
  }
  return parsed;
}

export function failpointHit(name: Failpoint): boolean {
  const p = table().get(name);
  return p !== undefined && Math.random() < p;
}

/**
 * SIGKILL to the runner itself: nothing after this line runs. Its workers lose the IPC channel and
 * exit on their own (worker.ts), as after `kill -9` of the runner's pid. (Not the process group:
 * that could be the caller's.)
 */
export function crashNow(): never {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
}

export function failpoint(name: Failpoint): void {
  if (failpointHit(name)) crashNow();
}
