/**
 * `lora-repro tokenize <spm.model | dir> [text …] [--check encodings.json] [--json]`: SentencePiece unigram
 * encoding (DeBERTa-v2's tokenizer, src/tokenizers/spm-unigram.ts), and a check against reference encodings.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { SPM_MODEL_FILE } from '../../tokenizers/load.ts';
import { SentencePieceUnigram } from '../../tokenizers/spm-unigram.ts';
import { UserError } from '../../util/errors.ts';
import { parseCommandArgs } from '../args.ts';
import type { Command } from '../command.ts';

const casesSchema = z.object({
  cases: z.array(z.object({ text: z.string(), ids: z.array(z.number().int()), pieces: z.array(z.string()).optional() })),
});

function modelPath(arg: string): string {
  const path = existsSync(arg) && statSync(arg).isDirectory() ? join(arg, SPM_MODEL_FILE) : arg;
  if (!existsSync(path)) throw new UserError(`${path}: not found (expected a SentencePiece spm.model or a directory holding one)`);
  return path;
}

function readCases(path: string): z.infer<typeof casesSchema>['cases'] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UserError(`${path}: cannot read reference encodings (${(err as Error).message.split('\n')[0]})`);
  }
  const r = casesSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new UserError(`${path}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return r.data.cases;
}

export const tokenizeCommand: Command = {
  name: 'tokenize',
  summary: 'encode text with a SentencePiece unigram model (DeBERTa-v2) or check it against reference encodings',
  usage: [
    'Usage: lora-repro tokenize <spm.model | dir> [text …] [--check <encodings.json>] [--json]',
    '',
    'Encodes each text argument as SentencePieceProcessor.encode does (no special tokens added): normalisation',
    "with the model's precompiled map, whitespace rules and dummy prefix, then the best unigram segmentation.",
    'Prints one line per text: the ids, then the pieces. --json prints {text, ids, pieces} objects instead.',
    '--check reads reference encodings ({"cases": [{text, ids, pieces?}]}), reports every mismatch and exits 1',
    'unless all cases match.',
  ].join('\n'),
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, { check: { type: 'string' }, json: { type: 'boolean', default: false } });
    if (positionals.length === 0) throw new UserError('expects a SentencePiece model (spm.model or its directory) first (see --help)');
    const tok = SentencePieceUnigram.fromFile(modelPath(positionals[0]));
    if (values.check !== undefined) {
      if (positionals.length > 1) throw new UserError('--check takes its texts from the encodings file: give no text arguments');
      const cases = readCases(values.check);
      const failures: string[] = [];
      for (const [i, c] of cases.entries()) {
        const got = tok.encodeWithPieces(c.text);
        const idsOk = got.ids.join() === c.ids.join();
        const piecesOk = c.pieces === undefined || JSON.stringify(got.pieces) === JSON.stringify(c.pieces);
        if (!idsOk || !piecesOk) failures.push(`case ${i} ${JSON.stringify(c.text)}: got ${JSON.stringify(got.ids)} ${JSON.stringify(got.pieces)}, expected ${JSON.stringify(c.ids)} ${JSON.stringify(c.pieces ?? null)}`);
      }
      if (values.json) console.log(JSON.stringify({ cases: cases.length, matched: cases.length - failures.length, failures }, null, 2));
      else {
        for (const f of failures) console.log(f);
        console.log(`${cases.length - failures.length}/${cases.length} cases match`);
      }
      return failures.length === 0 ? 0 : 1;
    }
    for (const text of positionals.slice(1)) {
      const r = tok.encodeWithPieces(text);
      console.log(values.json ? JSON.stringify({ text, ...r }) : `${r.ids.join(' ')}\t${r.pieces.join(' ')}`);
    }
    return 0;
  },
};
