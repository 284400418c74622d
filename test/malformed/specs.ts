/** `run` specs and filters, MLflow servers that are slow or wrong (127.0.0.1), caches, the boundary itself. */
import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Case } from '../helpers/malformed.ts';
import type { Fixtures } from '../helpers/malformed-fixtures.ts';

type C = Case<Fixtures>;

const MINI_SPEC = (extra = ''): string => `
experiment: bad
grid:
  - row: r1
${extra}    models: [mini-roberta]
    methods: [{ method: lora, config: { r: 2 } }]
    tasks: [synthetic-sst2]
    seeds: [0]
`;

const specCase = (kind: C['kind'], title: string, text: string, line: RegExp, spawn = false): C => ({
  command: 'run', kind, title, spawn,
  setup: (d) => writeFileSync(join(d, 'spec.yaml'), text),
  argv: (d) => ['run', join(d, 'spec.yaml'), '--dry-run', '--results', join(d, 'results')],
  line,
  maxMs: 15_000,
});

const BOMB = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefghi'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(', ')}]`), 'grid: *i', ''].join('\n');

const specCases: C[] = [
  specCase('missing', 'spec file does not exist', '', /nope\.yaml/),
  specCase('empty', 'empty spec', '', /empty/),
  specCase('truncated', 'spec cut in the middle of a mapping', MINI_SPEC().slice(0, 60), /spec\.yaml/),
  specCase('wrong type', 'YAML syntax error', 'grid: [\n  - row: r1\n  models: ]]\n', /spec\.yaml:\d+:\d+/),
  specCase('pathological size', 'defect: YAML alias bomb', BOMB, /alias/, true),
  specCase('wrong type', 'grid is a string', 'grid: hello\n', /grid/),
  specCase('unknown name', 'misspelt key gets a did-you-mean', MINI_SPEC().replace('models:', 'modles:'), /models/),
  specCase('unknown name', 'defect: cite: names a CSV that does not exist', MINI_SPEC('    cite:\n      - { file: hyperparams-nope.csv, model: X }\n'), /hyperparams-nope\.csv.*not found/),
  specCase('unknown name', 'defect: paper: names a row of no table', MINI_SPEC('    paper: { model: RoBERTa-base, method: LoRA, variant: r=999 }\n'), /no row .*r=999/),
  specCase('unknown name', 'cite: without a file', MINI_SPEC('    cite:\n      - { model: X }\n'), /file/),
  specCase('out of range', 'seeds negative', MINI_SPEC().replace('seeds: [0]', 'seeds: [-1]'), /seed/),
  specCase('wrong type', 'r is a string', MINI_SPEC().replace('r: 2 ', 'r: two '), /spec\.yaml/),
].map((c) => (c.title === 'spec file does not exist' ? { ...c, setup: undefined, argv: (d: string) => ['run', join(d, 'nope.yaml'), '--dry-run'] } : c));

const STARS = '*'.repeat(600);
const filterCases: C[] = [
  { command: 'run', kind: 'pathological size', title: 'defect: --filter with 600 stars ends at once (no backtracking regex)', argv: (d) => ['run', 'experiments/table2.yaml', '--dry-run', '--results', join(d, 'r'), '--filter', `label=${STARS}x`], maxMs: 8_000, exit: 2, line: /match|no run/i },
  { command: 'run', kind: 'pathological size', title: '--filter with 600 "*a" pairs', argv: (d) => ['run', 'experiments/table2.yaml', '--dry-run', '--results', join(d, 'r'), '--filter', `row=${'*a'.repeat(600)}!`], maxMs: 8_000, exit: 2, line: /match|no run/i },
  { command: 'run', kind: 'unknown name', title: '--filter with an unknown key', argv: () => ['run', 'experiments/table2.yaml', '--dry-run', '--filter', 'colour=red'], line: /unknown key 'colour'/ },
  { command: 'run', kind: 'empty', title: '--filter with an empty clause', argv: () => ['run', 'experiments/table2.yaml', '--dry-run', '--filter', 'task=rte,,'], line: /empty clause/ },
  { command: 'run', kind: 'unknown name', title: '--executor-module that does not exist', argv: (d) => ['run', 'experiments/table2.yaml', '--profile', 'mini', '--filter', 'row=rob-base-lora,task=sst2,seed=1', '--executor-module', join(d, 'nope.ts'), '--results', join(d, 'r')], line: /nope\.ts/ },
  { command: 'run', kind: 'unknown name', title: '--profile that the spec lacks', argv: () => ['run', 'experiments/table2.yaml', '--profile', 'huge', '--dry-run'], line: /huge/ },
];

/** A local server that misbehaves in one way; closed after the case. */
export function badServer(kind: 'silent' | 'html' | 'drip'): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    if (kind === 'silent') return; // accepts, never answers
    if (kind === 'html') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>Sign in</body></html>');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    const t = setInterval(() => res.write(' '), 200);
    req.on('close', () => clearInterval(t));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    resolve({ url: `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`, server });
  }));
}

export const CASES: C[] = [...specCases, ...filterCases];
