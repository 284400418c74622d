/** `lora-repro download`: fetch the paper profile's models and datasets from the Hugging Face hub. */
import { UserError } from '../../util/errors.ts';
import { intFlag, parseCommandArgs } from '../args.ts';
import type { Command } from '../command.ts';
import { hubCacheDir, resolveCacheRoot } from '../../hub/cache.ts';
import { MODEL_NOTES, parseModelList } from '../../hub/catalog.ts';
import { parseDatasetList } from '../../data/hub-datasets.ts';
import { formatBytes, progressPrinter } from '../../hub/progress.ts';
import { describeRepo } from '../../hub/repo.ts';
import { withHubSession } from '../../hub/session.ts';
import { fetchSnapshot, planSnapshot, type SnapshotRequest } from '../../hub/snapshot.ts';

export const downloadCommand: Command = {
  name: 'download',
  summary: 'fetch models and datasets from the Hugging Face hub into the cache (paper profile)',
  usage: [
    'Usage: lora-repro download [--models LIST] [--datasets LIST] [--cache DIR] [--revision R] [--dry-run]',
    '',
    'Downloads into <cache>/hub/<repo>/snapshots/<commit>/, resuming partial files and checking every',
    "file against the hub's checksum (sha256 for LFS files, git sha1 otherwise). Files already cached",
    'are not asked for again.',
    '  --models    comma-separated: roberta-base, roberta-large, gpt2-medium, gpt2-large, deberta-v2-xxlarge or',
    '              owner/name; each fetches config.json, model.safetensors and tokenizer.json',
    '              (spm.model for deberta-v2-xxlarge, whose model.safetensors the user converts: docs/paper-scale.md)',
    '  --datasets  comma-separated: glue (all eight tasks), glue:<task> (mnli, sst2, mrpc, cola, qnli, qqp,',
    '              rte, stsb: train + validation parquet of nyu-mll/glue), e2e (tuetschek/e2e_nlg parquet)',
    '  --cache     cache root (default $LORA_REPRO_CACHE, else .cache/lora-repro in the checkout)',
    '  --revision  branch, tag or commit for every item without its own NAME@REVISION',
    '  --dry-run   list the files, their sizes and whether they are cached; download nothing',
    '  --retries   retries of a failed hub request or interrupted transfer (resuming; default 3)',
    'The hub URL is HF_ENDPOINT (default https://huggingface.co).',
  ].join('\n'),
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      {
        models: { type: 'string' },
        datasets: { type: 'string' },
        cache: { type: 'string' },
        revision: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        retries: { type: 'string' },
      },
      false,
    );
    if (positionals.length > 0) throw new UserError(`unexpected argument '${positionals[0]}' (see --help)`);
    const requests: SnapshotRequest[] = [
      ...(values.models === undefined ? [] : parseModelList(values.models, values.revision)),
      ...(values.datasets === undefined ? [] : parseDatasetList(values.datasets, values.revision)),
    ];
    if (requests.length === 0) throw new UserError('nothing to download: pass --models and/or --datasets (see --help)');
    const cacheRoot = resolveCacheRoot({ flag: values.cache });
    const retries = intFlag('retries', values.retries, 3);
    const progress = progressPrinter(process.stderr);

    return withHubSession({ cacheRoot, retries, onProgress: (p) => progress.onProgress(p) }, async (session) => {
      if (values['dry-run']) {
        let toFetch = 0;
        let unknown = 0;
        console.log(`cache: ${hubCacheDir(cacheRoot)}  hub: ${session.endpoint}`);
        for (const req of requests) {
          console.log(`${describeRepo(req.repo)} @ ${req.revision}`);
          for (const f of await planSnapshot(session, req)) {
            const size = f.size === undefined ? `size unknown (${f.problem ?? 'not told'})` : formatBytes(f.size);
            console.log(`  ${f.repoPath}  ${size}${f.cached ? '  cached' : ''}`);
            if (!f.cached && f.size !== undefined) toFetch += f.size;
            if (!f.cached && f.size === undefined) unknown++;
          }
        }
        console.log(`would download ${formatBytes(toFetch)}${unknown > 0 ? ` plus ${unknown} file(s) of unknown size` : ''}`);
        return 0;
      }
      for (const req of requests) {
        const snap = await fetchSnapshot(session, req).catch((err: unknown) => {
          // A repository that ships no model.safetensors (MODEL_NOTES): say how to get one, on the same line.
          const note = MODEL_NOTES[req.repo.id];
          if (err instanceof UserError && note !== undefined && /model\.safetensors: file not found/.test(err.message)) throw new UserError(`${err.message}; ${note}`);
          throw err;
        });
        progress.finish();
        const fetched = snap.files.filter((f) => !f.cached);
        const bytes = fetched.reduce((n, f) => n + f.size, 0);
        const what = fetched.length === 0 ? 'cached' : `${fetched.length} file(s), ${formatBytes(bytes)} downloaded`;
        console.log(`${describeRepo(req.repo)} @ ${req.revision} = ${snap.commit}: ${snap.dir} (${what})`);
      }
      return 0;
    });
  },
};
