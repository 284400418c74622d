/**
 * Spec + profile → the list of fully resolved runs (TrainRunConfig, validated), each keyed by
 * runKeys(config). Layer order, later wins (merge.ts):
 *
 *   defaults → block.set → method entry's config (as methodConfig) → block.tasks[task]
 *   → block.cells (matching) → overrides (matching) → profile.set → profile.cells (matching)
 *   [→ the rehearsal's caps, with --rehearse (rehearsal.ts)]
 *
 * `where` selectors match the spec's own names (the model before the profile maps it), so one
 * override serves every profile. A selector that matches no cell is an error (a typo would
 * otherwise silently change nothing). Seeds: profile.seeds, else block.seeds, else top-level seeds.
 */
import { getMethod } from '../methods/registry.ts';
import { selectionProblem } from '../train/eval-protocol.ts';
import { trainRunConfigSchema, type TrainRunConfig } from '../train/run-config.ts';
import { UserError } from '../util/errors.ts';
import type { KeyPath, LoadedSpec, SpecSource } from './load.ts';
import { resolveCandidates, type CellCandidate } from './init-from.ts';
import { mergeLayers, type Plain } from './merge.ts';
import { notRehearsable, rehearsalLayer, rehearsalProfileName } from './rehearsal.ts';
import type { Block, Spec, Where } from './schema.ts';

export interface PlannedRun {
  runId: string;
  cellKey: string;
  config: TrainRunConfig;
  /** Block id (`row:` or the block index) and display label. */
  row: string;
  label: string;
  blockIndex: number;
  /** The model as the spec names it, before the profile's mapping. */
  specModel: string;
  /** The paper-table row the block reproduces, and the hyperparameter sources it cites. */
  paper: Record<string, string> | undefined;
  cite: Record<string, string>[];
  /**
   * Other cells that expand to exactly this run: a profile that maps two spec models to one
   * (GPT-2 M and L both to mini-gpt2) can make two table rows the same computation. The run is
   * done once and belongs to all of them.
   */
  sharedWith: { row: string; label: string; specModel: string; paper: Record<string, string> | undefined }[];
}

export interface Expansion {
  file: string;
  experiment: string;
  profile: string;
  profiles: string[];
  runs: PlannedRun[];
  cost: Spec['cost'];
  /** Set for `--rehearse` (rehearsal.ts): `profile` is then `<of>-rehearsal`. */
  rehearsal?: Rehearsal;
}

export interface Rehearsal {
  /** The profile rehearsed (`paper`). */
  of: string;
  /** Rows (per model) the rehearsal leaves out, and why. */
  leftOut: { row: string; label: string; model: string; reason: string }[];
}

interface CellContext {
  row: string;
  model: string;
  method: string;
  variant: string;
  task: string;
}

function matches(where: Where, cell: CellContext): boolean {
  return (Object.entries(where) as [keyof CellContext, string | string[]][]).every(([k, v]) =>
    (Array.isArray(v) ? v : [v]).includes(cell[k]),
  );
}

/** The profile to use: --profile, else defaultProfile, else `paper` if defined, else the first; `default` without profiles. */
export function chooseProfile(spec: Spec, source: SpecSource, requested: string | undefined): string {
  const names = Object.keys(spec.profiles ?? {});
  if (spec.defaultProfile !== undefined && !names.includes(spec.defaultProfile)) {
    throw source.error(['defaultProfile'], `profile '${spec.defaultProfile}' is not defined (profiles: ${names.join(', ') || 'none'})`);
  }
  const chosen = requested ?? spec.defaultProfile ?? (names.includes('paper') ? 'paper' : names[0]) ?? 'default';
  if (names.length === 0 ? chosen !== 'default' : !names.includes(chosen)) {
    throw new UserError(`${source.file}: --profile '${chosen}' is not defined in the spec (profiles: ${names.join(', ') || 'none; use the default'})`);
  }
  return chosen;
}

interface Selector {
  where: Where;
  set: Plain;
  path: KeyPath;
  hits: number;
}

function selectors(list: { where: Where; set: Plain }[] | undefined, path: KeyPath): Selector[] {
  return (list ?? []).map((c, i) => ({ where: c.where, set: c.set, path: [...path, i], hits: 0 }));
}

function taskEntries(block: Block): [string, Plain | null][] {
  return Array.isArray(block.tasks) ? block.tasks.map((t) => [t, null]) : Object.entries(block.tasks as Record<string, Plain | null>);
}

function describeIssue(issue: { path: PropertyKey[]; message: string; code: string }): string {
  const field = issue.path.map(String).join('.');
  if (issue.code === 'invalid_type' && / received undefined$/.test(issue.message)) {
    return `missing '${field}' (set it in defaults, the block's set, per task or in the profile)`;
  }
  return `${field}: ${issue.message.replace(/^Invalid input: /, '')}`;
}

export function expandSpec(loaded: LoadedSpec, opts: { profile?: string; rehearse?: boolean } = {}): Expansion {
  const { spec, source, experiment } = loaded;
  const chosen = chooseProfile(spec, source, opts.profile);
  const profile = spec.profiles?.[chosen];
  // A rehearsal's runs are a profile of their own (their results folder, ids and captions say so).
  const profileName = opts.rehearse ? rehearsalProfileName(chosen) : chosen;
  const rehearsal: Rehearsal | undefined = opts.rehearse ? { of: chosen, leftOut: [] } : undefined;
  const overrides = selectors(spec.overrides as { where: Where; set: Plain }[] | undefined, ['overrides']);
  const profileCells = selectors(profile?.cells as { where: Where; set: Plain }[] | undefined, ['profiles', chosen, 'cells']);
  const runs: PlannedRun[] = [];
  const seen = new Map<string, { path: KeyPath; cell: string; run: PlannedRun }>();
  const rowIds = new Map<string, number>();
  const cands: CellCandidate[] = [];
  const meta: { block: Block; b: number; specModel: string; blockPath: KeyPath; cellName: string }[] = [];

  spec.grid.forEach((block, b) => {
    const blockPath: KeyPath = ['grid', b];
    const row = block.row ?? String(b);
    if (rowIds.has(row)) throw source.error([...blockPath, 'row'], `row id '${row}' is already used by grid[${rowIds.get(row)}]`);
    rowIds.set(row, b);
    const blockCells = selectors(block.cells as { where: Where; set: Plain }[] | undefined, [...blockPath, 'cells']);
    const rowExcluded = profile?.rows !== undefined && !profile.rows.includes(row);
    const allSeeds = profile?.seeds ?? block.seeds ?? spec.seeds;
    if (allSeeds === undefined) throw source.error(blockPath, "no seeds: set 'seeds' at the top level, in this block or in the profile");
    const seeds = rehearsal ? allSeeds.slice(0, 1) : allSeeds;

    block.models.forEach((specModel) => {
      const model =
        profile?.model === undefined ? specModel : typeof profile.model === 'string' ? profile.model : (profile.model[specModel] ?? specModel);
      const cannotRehearse = rehearsal && !rowExcluded ? notRehearsable(model) : undefined;
      if (cannotRehearse !== undefined) rehearsal?.leftOut.push({ row, label: block.label ?? row, model, reason: cannotRehearse });
      block.methods.forEach((entry, m) => {
        const methodPath: KeyPath = [...blockPath, 'methods', m];
        for (const [task, taskFields] of taskEntries(block)) {
          const cell: CellContext = { row, model: specModel, method: entry.method, variant: entry.variant ?? '', task };
          const pick = (list: Selector[]): Plain[] =>
            list.filter((s) => matches(s.where, cell)).map((s) => {
              s.hits++;
              return s.set;
            });
          const merged = mergeLayers(
            spec.defaults as Plain | undefined,
            block.set as Plain | undefined,
            { methodConfig: entry.config ?? {} },
            taskFields,
            ...pick(blockCells),
            ...pick(overrides),
            profile?.set as Plain | undefined,
            ...pick(profileCells),
          );
          // The rehearsal's caps go over everything: they only lower sizes (rehearsal.ts).
          const fields = rehearsal ? mergeLayers(merged, rehearsalLayer(merged)) : merged;
          const cellName = `${specModel}/${entry.method}${cell.variant ? ` (${cell.variant})` : ''}/${task}`;
          let methodConfig: Record<string, unknown>;
          try {
            methodConfig = { ...getMethod(entry.method).configure(fields.methodConfig ?? {}, `method '${entry.method}'`).config };
          } catch (err) {
            if (!(err instanceof UserError)) throw err;
            throw source.error([...methodPath, 'config'], `cell ${cellName}: ${err.message}`);
          }
          // Excluded by the profile only now, so selectors and method configs are checked for every cell.
          if (rowExcluded || cannotRehearse !== undefined || (profile?.tasks !== undefined && !profile.tasks.includes(task))) continue;
          for (const seed of seeds) {
            const candidate = {
              ...fields,
              experiment,
              profile: profileName,
              model,
              task: profile?.taskMap?.[task] ?? task,
              method: entry.method,
              variant: cell.variant,
              methodConfig,
              seed,
            };
            // Ids wait until every cell is known: a cell that starts from another (initFrom) hashes its parent's id.
            cands.push({ row, specModel, method: entry.method, variant: cell.variant, task, seed, fields: candidate, name: `cell ${cellName} seed ${seed}`, path: blockPath });
            meta.push({ block, b, specModel, blockPath, cellName: `${cellName} seed ${seed}` });
          }
        }
      });
    });
    for (const s of blockCells) if (s.hits === 0) throw source.error([...s.path, 'where'], 'matches no cell of this block (check the names)');
  });
  profile?.rows?.forEach((r, i) => {
    if (!rowIds.has(r)) throw source.error(['profiles', chosen, 'rows', i], `row '${r}' is not in the grid (rows: ${[...rowIds.keys()].join(', ')})`);
  });
  const resolved = resolveCandidates(
    cands,
    (c, fields) => {
      const parsed = trainRunConfigSchema.safeParse(fields);
      if (!parsed.success) throw source.error(c.path, `${c.name}: ${describeIssue(parsed.error.issues[0])}`);
      const problem = selectionProblem(parsed.data);
      if (problem !== undefined) throw source.error(c.path, `${c.name}: ${problem}`);
      return parsed.data;
    },
    source,
    chosen,
  );
  resolved.forEach(({ config, runId, cellKey }, i) => {
    const { block, b, specModel, blockPath, cellName } = meta[i];
    const row = cands[i].row;
    const paper = block.paper as Record<string, string> | undefined;
    const dup = seen.get(runId);
    if (dup !== undefined) {
      // Legitimate only when the profile mapped two different spec models to one model.
      if (dup.run.specModel === specModel) {
        throw source.error(blockPath, `cell ${cellName} is the same run as ${dup.cell} (${source.where(dup.path)}); give one a different variant or config`);
      }
      dup.run.sharedWith.push({ row, label: block.label ?? row, specModel, paper });
      return;
    }
    const planned: PlannedRun = {
      runId,
      cellKey,
      config,
      row,
      label: block.label ?? row,
      blockIndex: b,
      specModel,
      paper,
      cite: (block.cite ?? []) as Record<string, string>[],
      sharedWith: [],
    };
    seen.set(runId, { path: blockPath, cell: cellName, run: planned });
    runs.push(planned);
  });
  for (const s of [...overrides, ...profileCells]) if (s.hits === 0) throw source.error([...s.path, 'where'], 'matches no cell of the grid (check the names)');
  const gridTasks = new Set(spec.grid.flatMap((b) => taskEntries(b).map(([t]) => t)));
  for (const t of Object.keys(profile?.taskMap ?? {})) {
    if (!gridTasks.has(t)) throw source.error(['profiles', chosen, 'taskMap', t], `task '${t}' is not in the grid`);
  }
  profile?.tasks?.forEach((t, i) => {
    if (!gridTasks.has(t)) throw source.error(['profiles', chosen, 'tasks', i], `task '${t}' is not in the grid`);
  });
  if (runs.length === 0) throw source.error(['profiles', chosen], `selects no run of the grid${rehearsal?.leftOut.length ? ' that can be rehearsed' : ''}`);

  return { file: source.file, experiment, profile: profileName, profiles: Object.keys(spec.profiles ?? {}), runs, cost: spec.cost, ...(rehearsal ? { rehearsal } : {}) };
}
