/**
 * The one CSV reader and writer (src/util/csv.ts) on hand-written cases: what Python's csv module
 * reads from them, and line numbers counted by hand.
 */
import assert from 'node:assert/strict';
import { csvField, csvLine, parseCsv } from '../src/util/csv.ts';
import { UserError } from '../src/util/errors.ts';

const read = (text: string): [string[], number][] => parseCsv(text, 'f.csv').map((r) => [r.fields, r.line]);

describe('util/csv: parseCsv', () => {
  it('LF, CRLF and both in one file; a blank line is the record [""]; no record after the final line end', () => {
    assert.deepEqual(read('a,b\r\nc,d\n\ne,f'), [[['a', 'b'], 1], [['c', 'd'], 2], [[''], 3], [['e', 'f'], 4]]);
    assert.deepEqual(read('a\n'), [[['a'], 1]]);
    assert.deepEqual(read(''), []);
  });

  it('quoted fields keep commas, doubled quotes and line breaks (CRLF inside quotes too); lines count from the record start', () => {
    assert.deepEqual(read('"x,y","say ""hi""","two\r\nlines"\r\nnext,"a\nb"\nlast'), [
      [['x,y', 'say "hi"', 'two\r\nlines'], 1],
      [['next', 'a\nb'], 3],
      [['last'], 5],
    ]);
  });

  it('a CR is text except in a CRLF line end: at the end of a quoted field before CRLF, and at the end of the file', () => {
    assert.deepEqual(read('"y\r"\r\nz,w\r'), [[['y\r'], 1], [['z', 'w\r'], 2]]);
    assert.deepEqual(read('5 "star",x\r\n'), [[['5 "star"', 'x'], 1]]);
  });

  it('drops a UTF-8 byte order mark', () => {
    assert.deepEqual(read('\ufeffmr,ref\n'), [[['mr', 'ref'], 1]]);
  });

  it('malformed quoting is a one-line UserError naming file:line', () => {
    const fails = (text: string, pattern: RegExp) =>
      assert.throws(() => parseCsv(text, 'f.csv'), (e: unknown) => e instanceof UserError && pattern.test(e.message) && !e.message.includes('\n'));
    fails('a,b\nc,"never closed\n', /^f\.csv:2: quoted field is never closed/);
    fails('a\n\n"x"y,z\n', /^f\.csv:3: text after a closing quote/);
  });
});

describe('util/csv: csvField, csvLine', () => {
  it('quotes only what must be quoted, and reads back to the same fields', () => {
    assert.equal(csvField('plain text'), 'plain text');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    const fields = ['', 'a,b', 'q"q', 'cr\r', 'two\nlines', ' spaced '];
    assert.deepEqual(parseCsv(`${csvLine(fields)}\n`, 'w.csv')[0]?.fields, fields);
  });
});
