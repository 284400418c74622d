/**
 * Spec + profile → the list of fully resolved runs (TrainRunConfig, validated), each keyed by
 * runKeys(config). Read top to bottom, one step per function:
 *
 *   expandSpec
 *     openScope        the chosen profile and the selectors whose hits are counted
 *     openBlock        a grid block under that profile: row id, seeds, excluded or not
 *     cellsOfBlock     its cells: model × method entry × task
 *     cellFields       a cell's fields, merged in the layer order below
 *     seedCandidates   one candidate per seed (ids wait for initFrom: init-from.ts)
 *     plannedRuns      validated configs and ids; cells that expand to one run are shared
 *
 * Layer order, later wins (merge.ts); src/spec/README.md "Layers" has an example:
 *
 *   spec defaults
 *   → the block's word on the cell: block.set → method entry's config (as methodConfig)
 *                                   → block.tasks[task] → block.cells (matching)
 *   → spec overrides (matching)
 *   → the profile's word: profile.set → profile.cells (matching)
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
import type { Block, Profile, Spec, Where } from './schema.ts';

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

/** The names a `where` selector matches: the spec's own (the model before the profile maps it). */
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
function chooseProfile(spec: Spec, source: SpecSource, requested: string | undefined): string {
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

/** A `cells:` / `overrides:` entry, counting the cells it matched (none at the end is an error). */
interface Selector {
  where: Where;
  set: Plain;
  path: KeyPath;
  hits: number;
}

function selectors(list: { where: Where; set: Plain }[] | undefined, path: KeyPath): Selector[] {
  return (list ?? []).map((c, i) => ({ where: c.where, set: c.set, path: [...path, i], hits: 0 }));
}

/** The `set` of every selector matching the cell, in order; each counts the hit. */
function pick(list: Selector[], cell: CellContext): Plain[] {
  return list.filter((s) => matches(s.where, cell)).map((s) => {
    s.hits++;
    return s.set;
  });
}

function failUnmatched(source: SpecSource, list: Selector[], what: string): void {
  for (const s of list) if (s.hits === 0) throw source.error([...s.path, 'where'], `matches no cell of ${what} (check the names)`);
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

/** What one expansion works with: the spec, the chosen profile, and the selectors across blocks. */
interface Scope {
  spec: Spec;
  source: SpecSource;
  experiment: string;
  /** The profile's name in the spec. */
  chosen: string;
  profile: Profile | undefined;
  /** The profile the runs record: `chosen`, or `<chosen>-rehearsal`. */
  profileName: string;
  rehearsal: Rehearsal | undefined;
  overrides: Selector[];
  profileCells: Selector[];
}

function openScope(loaded: LoadedSpec, opts: { profile?: string; rehearse?: boolean }): Scope {
  const { spec, source, experiment } = loaded;
  const chosen = chooseProfile(spec, source, opts.profile);
  const profile = spec.profiles?.[chosen];
  return {
    spec, source, experiment, chosen, profile,
    // A rehearsal's runs are a profile of their own (their results folder, ids and captions say so).
    profileName: opts.rehearse ? rehearsalProfileName(chosen) : chosen,
    rehearsal: opts.rehearse ? { of: chosen, leftOut: [] } : undefined,
    overrides: selectors(spec.overrides as { where: Where; set: Plain }[] | undefined, ['overrides']),
    profileCells: selectors(profile?.cells as { where: Where; set: Plain }[] | undefined, ['profiles', chosen, 'cells']),
  };
}

/** A grid block under the profile. */
interface OpenBlock {
  block: Block;
  index: number;
  path: KeyPath;
  row: string;
  label: string;
  cells: Selector[];
  /** Left out by the profile's `rows` (its cells are still checked). */
  excluded: boolean;
  seeds: number[];
}

function openBlock(scope: Scope, block: Block, index: number, rowIds: Map<string, number>): OpenBlock {
  const { spec, source, profile, rehearsal } = scope;
  const path: KeyPath = ['grid', index];
  const row = block.row ?? String(index);
  if (rowIds.has(row)) throw source.error([...path, 'row'], `row id '${row}' is already used by grid[${rowIds.get(row)}]`);
  rowIds.set(row, index);
  const allSeeds = profile?.seeds ?? block.seeds ?? spec.seeds;
  if (allSeeds === undefined) throw source.error(path, "no seeds: set 'seeds' at the top level, in this block or in the profile");
  return {
    block, index, path, row,
    label: block.label ?? row,
    cells: selectors(block.cells as { where: Where; set: Plain }[] | undefined, [...path, 'cells']),
    excluded: profile?.rows !== undefined && !profile.rows.includes(row),
    seeds: rehearsal ? allSeeds.slice(0, 1) : allSeeds,
  };
}

/** One cell of a block: a model × method entry × task. */
interface Cell {
  names: CellContext;
  /** The model the profile maps the spec model to. */
  model: string;
  entry: Block['methods'][number];
  methodPath: KeyPath;
  taskFields: Plain | null;
  /** Why a rehearsal leaves the cell's model out. */
  cannotRehearse: string | undefined;
  /** `model/method (variant)/task`, for errors. */
  name: string;
}

/** The block's cells in grid order (models, then methods, then tasks); notes the models a rehearsal leaves out. */
function cellsOfBlock(scope: Scope, ob: OpenBlock): Cell[] {
  const { profile, rehearsal } = scope;
  const { block, row } = ob;
  return block.models.flatMap((specModel) => {
    const model = profile?.model === undefined ? specModel : typeof profile.model === 'string' ? profile.model : (profile.model[specModel] ?? specModel);
    const cannotRehearse = rehearsal && !ob.excluded ? notRehearsable(model) : undefined;
    if (cannotRehearse !== undefined) rehearsal?.leftOut.push({ row, label: ob.label, model, reason: cannotRehearse });
    return block.methods.flatMap((entry, m) =>
      taskEntries(block).map(([task, taskFields]): Cell => {
        const variant = entry.variant ?? '';
        return {
          names: { row, model: specModel, method: entry.method, variant, task },
          model,
          entry,
          methodPath: [...ob.path, 'methods', m],
          taskFields,
          cannotRehearse,
          name: `${specModel}/${entry.method}${variant ? ` (${variant})` : ''}/${task}`,
        };
      }),
    );
  });
}

/** A cell's fields: spec defaults, the block's word, spec overrides, the profile's word (the order in the header). */
function cellFields(scope: Scope, ob: OpenBlock, cell: Cell): Plain {
  const { spec, profile, rehearsal } = scope;
  const blockLayers = [ob.block.set as Plain | undefined, { methodConfig: cell.entry.config ?? {} }, cell.taskFields, ...pick(ob.cells, cell.names)];
  const profileLayers = [profile?.set as Plain | undefined, ...pick(scope.profileCells, cell.names)];
  const merged = mergeLayers(spec.defaults as Plain | undefined, ...blockLayers, ...pick(scope.overrides, cell.names), ...profileLayers);
  // The rehearsal's caps go over everything: they only lower sizes (rehearsal.ts).
  return rehearsal ? mergeLayers(merged, rehearsalLayer(merged)) : merged;
}

/** The method's config normalised by its own schema (so equal configurations get equal run ids). */
function methodConfigOf(scope: Scope, cell: Cell, fields: Plain): Record<string, unknown> {
  const method = cell.entry.method;
  try {
    return { ...getMethod(method).configure(fields.methodConfig ?? {}, `method '${method}'`).config };
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    throw scope.source.error([...cell.methodPath, 'config'], `cell ${cell.name}: ${err.message}`);
  }
}

/** Whether the profile runs the cell; decided after its fields, so selectors and method configs are checked for every cell. */
function selected(scope: Scope, ob: OpenBlock, cell: Cell): boolean {
  const tasks = scope.profile?.tasks;
  return !ob.excluded && cell.cannotRehearse === undefined && (tasks === undefined || tasks.includes(cell.names.task));
}

/** What plannedRuns needs of a candidate besides its fields. */
interface CandidateMeta {
  ob: OpenBlock;
  specModel: string;
  /** `model/method (variant)/task seed n`. */
  cellName: string;
}

function seedCandidates(scope: Scope, ob: OpenBlock, cell: Cell, fields: Plain, methodConfig: Record<string, unknown>): { cand: CellCandidate; meta: CandidateMeta }[] {
  const { names } = cell;
  return ob.seeds.map((seed) => ({
    cand: {
      row: ob.row, specModel: names.model, method: names.method, variant: names.variant, task: names.task, seed,
      fields: {
        ...fields,
        experiment: scope.experiment, profile: scope.profileName, model: cell.model,
        task: scope.profile?.taskMap?.[names.task] ?? names.task,
        method: names.method, variant: names.variant, methodConfig, seed,
      },
      name: `cell ${cell.name} seed ${seed}`,
      path: ob.path,
    },
    meta: { ob, specModel: names.model, cellName: `${cell.name} seed ${seed}` },
  }));
}

/**
 * Validates every candidate (initFrom resolved first, init-from.ts) into a run with its ids. Two
 * cells with one run id are one run, shared, when the profile mapped two spec models to one model;
 * the same cell twice under one spec model is an error.
 */
function plannedRuns(scope: Scope, cands: CellCandidate[], meta: CandidateMeta[]): PlannedRun[] {
  const { source } = scope;
  const parse = (c: CellCandidate, fields: Plain): TrainRunConfig => {
    const parsed = trainRunConfigSchema.safeParse(fields);
    if (!parsed.success) throw source.error(c.path, `${c.name}: ${describeIssue(parsed.error.issues[0])}`);
    const problem = selectionProblem(parsed.data);
    if (problem !== undefined) throw source.error(c.path, `${c.name}: ${problem}`);
    return parsed.data;
  };
  const runs: PlannedRun[] = [];
  const seen = new Map<string, { path: KeyPath; cell: string; run: PlannedRun }>();
  resolveCandidates(cands, parse, source, scope.chosen).forEach(({ config, runId, cellKey }, i) => {
    const { ob, specModel, cellName } = meta[i];
    const paper = ob.block.paper as Record<string, string> | undefined;
    const dup = seen.get(runId);
    if (dup !== undefined) {
      if (dup.run.specModel === specModel) {
        throw source.error(ob.path, `cell ${cellName} is the same run as ${dup.cell} (${source.where(dup.path)}); give one a different variant or config`);
      }
      dup.run.sharedWith.push({ row: ob.row, label: ob.label, specModel, paper });
      return;
    }
    const cite = (ob.block.cite ?? []) as Record<string, string>[];
    const planned: PlannedRun = { runId, cellKey, config, row: ob.row, label: ob.label, blockIndex: ob.index, specModel, paper, cite, sharedWith: [] };
    seen.set(runId, { path: ob.path, cell: cellName, run: planned });
    runs.push(planned);
  });
  return runs;
}

/** The profile's `rows` must name rows of the grid. */
function checkProfileRows(scope: Scope, rowIds: Map<string, number>): void {
  const { source, chosen, profile } = scope;
  profile?.rows?.forEach((r, i) => {
    if (!rowIds.has(r)) throw source.error(['profiles', chosen, 'rows', i], `row '${r}' is not in the grid (rows: ${[...rowIds.keys()].join(', ')})`);
  });
}

/** The profile's `taskMap` and `tasks` must name tasks of the grid. */
function checkProfileTasks(scope: Scope): void {
  const { spec, source, chosen, profile } = scope;
  const gridTasks = new Set(spec.grid.flatMap((b) => taskEntries(b).map(([t]) => t)));
  for (const t of Object.keys(profile?.taskMap ?? {})) {
    if (!gridTasks.has(t)) throw source.error(['profiles', chosen, 'taskMap', t], `task '${t}' is not in the grid`);
  }
  profile?.tasks?.forEach((t, i) => {
    if (!gridTasks.has(t)) throw source.error(['profiles', chosen, 'tasks', i], `task '${t}' is not in the grid`);
  });
}

export function expandSpec(loaded: LoadedSpec, opts: { profile?: string; rehearse?: boolean } = {}): Expansion {
  const scope = openScope(loaded, opts);
  const { spec, source, chosen, rehearsal } = scope;
  const rowIds = new Map<string, number>();
  const cands: CellCandidate[] = [];
  const meta: CandidateMeta[] = [];
  spec.grid.forEach((block, index) => {
    const ob = openBlock(scope, block, index, rowIds);
    for (const cell of cellsOfBlock(scope, ob)) {
      const fields = cellFields(scope, ob, cell);
      const methodConfig = methodConfigOf(scope, cell, fields);
      if (!selected(scope, ob, cell)) continue;
      for (const c of seedCandidates(scope, ob, cell, fields, methodConfig)) {
        cands.push(c.cand);
        meta.push(c.meta);
      }
    }
    failUnmatched(source, ob.cells, 'this block');
  });
  // The checks after the blocks, in this order: a spec with several mistakes is told the same one first as before.
  checkProfileRows(scope, rowIds);
  const runs = plannedRuns(scope, cands, meta);
  failUnmatched(source, [...scope.overrides, ...scope.profileCells], 'the grid');
  checkProfileTasks(scope);
  if (runs.length === 0) throw source.error(['profiles', chosen], `selects no run of the grid${rehearsal?.leftOut.length ? ' that can be rehearsed' : ''}`);
  return { file: source.file, experiment: loaded.experiment, profile: scope.profileName, profiles: Object.keys(spec.profiles ?? {}), runs, cost: spec.cost, ...(rehearsal ? { rehearsal } : {}) };
}
