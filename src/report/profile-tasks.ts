/**
 * Which tasks a spec's profile runs, so that Table 2 of a profile that runs only some of the paper's
 * tasks (mini: sst2, mrpc, cola, rte, stsb; its data directory lacks the MNLI, QNLI and QQP training
 * sets) shows those columns and not a '—' for every task the profile never meant to run. The spec
 * is expanded exactly as `lora-repro run` expands it (src/spec/expand.ts), so the profile's `tasks`,
 * `taskMap` (synthetic stand-ins) and `rows` all count. The results folder alone cannot tell "not in
 * this profile" from "not run yet", which is why the spec is read.
 */
import { existsSync } from 'node:fs';
import { expandSpec, type Rehearsal } from '../spec/expand.ts';
import { loadSpecFile } from '../spec/load.ts';
import { rehearsedProfile } from '../spec/rehearsal.ts';
import { UserError } from '../util/errors.ts';

export interface ProfileTasks {
  /** Tasks of the profile's runs (after taskMap), sorted. */
  tasks: string[];
  /** Where they come from, for the caption: `profile "mini" of experiments/table2.yaml`. */
  source: string;
  /** A rehearsal's results (`paper-rehearsal`): the profile rehearsed and the rows it left out. */
  rehearsal?: Rehearsal;
}

/** The spec a table is rebuilt from by default: experiments/table<N>.yaml under the working directory. */
export function defaultSpecFile(table: 2 | 3): string {
  return `experiments/table${table}.yaml`;
}

export interface ProfileTasksLookup {
  found?: ProfileTasks;
  /** Why the columns were not narrowed, when a reader should know (an unreadable spec). */
  note?: string;
}

/**
 * The tasks profile `profile` of `specFile` runs. No spec file, or a spec that does not define the
 * profile (results of a custom profile): nothing, and the table keeps every column. A spec given
 * explicitly (`explicit`) must exist and define the profile; a broken default spec only costs the
 * narrowing, with a note, since the table itself does not need the spec.
 */
export function profileTasks(specFile: string, profile: string, explicit: boolean): ProfileTasksLookup {
  if (!existsSync(specFile)) {
    if (explicit) throw new UserError(`--spec ${specFile}: no such file`);
    return {};
  }
  try {
    const loaded = loadSpecFile(specFile);
    const names = Object.keys(loaded.spec.profiles ?? {});
    // `paper-rehearsal`: the runs of `run --profile paper --rehearse` (src/spec/rehearsal.ts).
    const rehearsed = names.includes(profile) ? undefined : rehearsedProfile(profile);
    if (!names.includes(profile) && (rehearsed === undefined || !names.includes(rehearsed))) {
      if (explicit) throw new UserError(`--spec ${specFile}: defines no profile '${profile}' (profiles: ${names.join(', ') || 'none'})`);
      return {};
    }
    const expansion = expandSpec(loaded, rehearsed === undefined ? { profile } : { profile: rehearsed, rehearse: true });
    const tasks = [...new Set(expansion.runs.map((r) => r.config.task))].sort();
    const source = rehearsed === undefined ? `profile "${profile}" of ${specFile}` : `the rehearsal of profile "${rehearsed}" of ${specFile}`;
    return { found: { tasks, source, ...(expansion.rehearsal ? { rehearsal: expansion.rehearsal } : {}) } };
  } catch (err) {
    if (explicit) throw err;
    return { note: `${specFile}: not read (${(err as Error).message.split('\n')[0]}); every task column is shown` };
  }
}
