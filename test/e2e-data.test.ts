import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  e2eCountMismatches,
  groupConsecutive,
  mrToLoraContext,
  parseE2eCsv,
  parseLoraE2e,
  readE2eFile,
  readE2eSplit,
  type E2eData,
} from '../src/data/e2e.ts';
import { parseCsv } from '../src/util/csv.ts';
import { UserError } from '../src/util/errors.ts';
import { sharedOrSkip } from './helpers/skip.ts';

const DATA = fileURLToPath(new URL('../../shared/data/', import.meta.url));

describe('E2E data: real files against MANIFEST.md', () => {
  before(function () {
    sharedOrSkip(this, 'data/e2e');
  });
  const cache = new Map<string, E2eData>();
  const load = (split: 'train' | 'dev' | 'test', format: 'csv' | 'lora'): E2eData => {
    const key = `${split}/${format}`;
    if (!cache.has(key)) cache.set(key, readE2eSplit(DATA, split, format));
    return cache.get(key) as E2eData;
  };

  it('trainset.csv: 42061 pairs, 4862 distinct MRs (42057 consecutive groups: the file is not sorted by MR)', () => {
    const train = load('train', 'csv');
    assert.equal(train.pairs.length, 42061);
    assert.equal(new Set(train.pairs.map((p) => p.mr)).size, 4862);
    assert.equal(train.instances.length, 42057);
    assert.deepEqual(e2eCountMismatches('train', train), []);
  });

  it('devset.csv: 4672 pairs / 547 instances; testset_w_refs.csv: 4693 pairs / 630 instances', () => {
    const dev = load('dev', 'csv');
    const test = load('test', 'csv');
    assert.equal(dev.pairs.length, 4672);
    assert.equal(dev.instances.length, 547);
    assert.equal(test.pairs.length, 4693);
    assert.equal(test.instances.length, 630);
    assert.equal(dev.instances.reduce((s, i) => s + i.refs.length, 0), 4672);
    assert.equal(new Set(dev.pairs.map((p) => p.mr)).size, 547);
    assert.deepEqual(e2eCountMismatches('dev', dev), []);
    assert.deepEqual(e2eCountMismatches('test', test), []);
  });

  it('quoted commas, "" escapes and quoted CRLF line breaks are read as RFC 4180 says', () => {
    const dev = load('dev', 'csv');
    assert.deepEqual(dev.pairs[0], {
      mr: 'name[Alimentum], area[city centre], familyFriendly[no]',
      ref: 'There is a place in the city centre, Alimentum, that is not family-friendly.',
      line: 2,
    });
    const quoted = dev.pairs.filter((p) => p.ref.includes('"'));
    assert.equal(quoted.length, 1);
    assert.ok(quoted[0]?.ref.startsWith('A highly rated coffee shop "The Punter" serving'));
    const train = load('train', 'csv');
    const multiline = train.pairs.filter((p) => p.ref.includes('\n'));
    assert.equal(multiline.length, 2);
    for (const p of multiline) {
      assert.ok(p.ref.includes('near The Bakers.\r\n  This coffee shop'), JSON.stringify(p.ref));
    }
    // A record spanning two lines shifts the line numbers of every later record.
    const last = train.pairs[train.pairs.length - 1];
    assert.equal(last?.line, 42061 + 1 + 2);
  });

  it('LoRA valid.txt / test.txt: 4672 / 4693 pairs, 547 / 630 instances, trailing space stripped', () => {
    const valid = load('dev', 'lora');
    const test = load('test', 'lora');
    assert.equal(valid.pairs.length, 4672);
    assert.equal(test.pairs.length, 4693);
    assert.equal(valid.instances.length, 547);
    assert.equal(test.instances.length, 630);
    assert.deepEqual(valid.pairs[0], {
      mr: 'name : Alimentum | area : city centre | family friendly : no',
      ref: 'There is a place in the city centre , Alimentum , that is not family - friendly .',
      line: 1,
    });
    assert.deepEqual(e2eCountMismatches('dev', valid), []);
  });

  it('mrToLoraContext turns every challenge MR into the LoRA context of the aligned line', () => {
    for (const split of ['dev', 'test'] as const) {
      const csv = load(split, 'csv');
      const lora = load(split, 'lora');
      assert.equal(csv.pairs.length, lora.pairs.length);
      csv.pairs.forEach((p, i) => assert.equal(mrToLoraContext(p.mr), lora.pairs[i]?.mr, `${split} line ${i + 1}`));
    }
    // Every training MR converts too (train.txt itself is missing).
    for (const p of load('train', 'csv').pairs) mrToLoraContext(p.mr);
  });

  it('the LoRA train.txt is reported missing with a pointer to MANIFEST.md', () => {
    assert.throws(() => readE2eSplit(DATA, 'train', 'lora'), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /e2e\/train\.txt not found \(this split is not in the shared data, see MANIFEST\.md/);
      return true;
    });
  });
});

describe('E2E parsing rules and errors', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, content: string): string => {
    const p = join(dir, name);
    writeFileSync(p, content);
    return p;
  };
  const userError = (fn: () => unknown, pattern: RegExp) =>
    assert.throws(fn, (err: unknown) => {
      assert.ok(err instanceof UserError, `not a UserError: ${String(err)}`);
      assert.ok(!err.message.includes('\n'), 'message must be one line');
      assert.match(err.message, pattern);
      return true;
    });

  it('parseCsv: quoted commas, "" escapes, empty quoted fields, CRLF/LF, no final newline', () => {
    const recs = parseCsv('a,"b,c"\r\n"x ""y""",\n"",z\n"multi\nline",end', 'm.csv');
    assert.deepEqual(
      recs.map((r) => [r.fields, r.line]),
      [
        [['a', 'b,c'], 1],
        [['x "y"', ''], 2],
        [['', 'z'], 3],
        [['multi\nline', 'end'], 4],
      ],
    );
    // A quote inside an unquoted field is text, as in Python's csv module.
    assert.deepEqual(parseCsv('5 "star",x\n', 'q.csv')[0]?.fields, ['5 "star"', 'x']);
  });

  it('LF and CRLF files give the same pairs', () => {
    const lf = 'mr,ref\n"name[A], food[B]","A serves B, cheaply."\n"name[A], food[B]",Second.\n';
    const crlf = lf.replace(/\n/g, '\r\n');
    const a = parseE2eCsv(lf, 'lf.csv');
    assert.deepEqual(a, parseE2eCsv(crlf, 'crlf.csv'));
    assert.deepEqual(groupConsecutive(a), [{ mr: 'name[A], food[B]', refs: ['A serves B, cheaply.', 'Second.'] }]);
  });

  it('consecutive grouping starts a new instance when an MR comes back later', () => {
    const pairs = [
      { mr: 'a', ref: '1', line: 2 },
      { mr: 'b', ref: '2', line: 3 },
      { mr: 'a', ref: '3', line: 4 },
    ];
    assert.equal(groupConsecutive(pairs).length, 3);
  });

  it('an unclosed quote names the line where it opened', () => {
    const p = write('open.csv', 'mr,ref\n"name[A]",fine\n"name[B]","never closed\nmore text\n');
    userError(() => readE2eFile(p, 'csv'), /open\.csv:3: quoted field is never closed/);
  });

  it('text after a closing quote', () => {
    const p = write('after.csv', 'mr,ref\n"name[A]"x,ref\n');
    userError(() => readE2eFile(p, 'csv'), /after\.csv:2: text after a closing quote/);
  });

  it('wrong field count -> file:line: expected 2 fields, got M', () => {
    const p = write('fields.csv', 'mr,ref\n"name[A]",ok\nname[A], eatType[pub],unquoted comma\n');
    userError(() => readE2eFile(p, 'csv'), /fields\.csv:3: expected 2 fields, got 3/);
  });

  it('wrong header', () => {
    const p = write('header.csv', 'meaning,text\na,b\n');
    userError(() => readE2eFile(p, 'csv'), /header\.csv:1: expected the header "mr,ref", got "meaning,text"/);
  });

  it('LoRA line without "||"', () => {
    const p = write('bad.txt', 'name : A||Ref one \nname : B | Ref two\n');
    userError(() => readE2eFile(p, 'lora'), /bad\.txt:2: expected one "\|\|" between context and reference, found 0/);
    assert.deepEqual(parseLoraE2e('  name : A||Ref one \n', 'ok.txt'), [{ mr: 'name : A', ref: 'Ref one', line: 1 }]);
  });

  it('mrToLoraContext: renamed attributes; unknown attribute is a UserError', () => {
    assert.equal(
      mrToLoraContext('name[The Eagle], eatType[coffee shop], priceRange[£20-25], customer rating[3 out of 5], familyFriendly[yes], near[Burger King]'),
      'name : The Eagle | Type : coffee shop | price : £ 20 - 25 | customer rating : 3 out of 5 | family friendly : yes | near : Burger King',
    );
    userError(() => mrToLoraContext('name[X], colour[red]', 'trainset.csv:7'), /^trainset\.csv:7: cannot read MR item "colour\[red\]"/);
    assert.throws(() => mrToLoraContext('constructor[x]'), UserError);
  });
});
