/**
 * MLflow system tags the UI understands (mlflow/utils/mlflow_tags.py): run name, user, source
 * name/type and git commit. The UI shows runs tagged `mlflow.parentRunId` nested under their parent.
 */
import { execFileSync } from 'node:child_process';
import { userInfo } from 'node:os';
import { UserError } from '../util/errors.ts';
import type { WireKV } from './limits.ts';

const TAG_RUN_NAME = 'mlflow.runName';
export const TAG_PARENT_RUN_ID = 'mlflow.parentRunId';
const TAG_USER = 'mlflow.user';
const TAG_SOURCE_NAME = 'mlflow.source.name';
const TAG_SOURCE_TYPE = 'mlflow.source.type';
const TAG_GIT_COMMIT = 'mlflow.source.git.commit';
/** Client-generated idempotency key of a run: makes runs/create safe to retry and replay. */
export const RUN_KEY_TAG = 'lora_repro.run_key';
/** The parent's run key on a child, so a spooled child can find a parent created later. */
export const PARENT_RUN_KEY_TAG = 'lora_repro.parent_run_key';

/** Why a run's artifact was not uploaded (the run's data is complete otherwise). */
export const ARTIFACT_WARNING_TAG = 'lora_repro.warning';

// Set by the tracker; a caller overriding them would break nesting or idempotency (and a
// different mlflow.runName than run_name makes runs/create fail).
const RESERVED = new Set([RUN_KEY_TAG, PARENT_RUN_KEY_TAG, TAG_PARENT_RUN_ID, TAG_RUN_NAME]);

export function checkNotReserved(tags: WireKV[]): void {
  const bad = tags.find((t) => RESERVED.has(t.key));
  if (bad !== undefined) throw new UserError(`tag '${bad.key}' is set by lora-repro itself and cannot be given by the caller`);
}

/** Later entries win; runs/create must not see one key twice (the SQL store's tag primary key). */
export function dedupeTags(tags: WireKV[]): WireKV[] {
  return [...new Map(tags.map((t) => [t.key, t])).values()];
}

export interface SystemInfo {
  user: string;
  /** mlflow.source.name: what produced the run. */
  sourceName: string;
  /** mlflow.source.type: one of service.proto's SourceType (NOTEBOOK, JOB, PROJECT, LOCAL, UNKNOWN). */
  sourceType: 'LOCAL' | 'JOB' | 'PROJECT' | 'NOTEBOOK' | 'UNKNOWN';
  gitCommit: string | undefined;
}

function detectUser(env: NodeJS.ProcessEnv): string {
  if (env.MLFLOW_TRACKING_USERNAME) return env.MLFLOW_TRACKING_USERNAME;
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? env.USERNAME ?? 'unknown';
  }
}

/** HEAD of the git checkout in cwd, or undefined outside git (never fails). */
function detectGitCommit(cwd: string = process.cwd()): string | undefined {
  try {
    const out = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, timeout: 3000, stdio: ['ignore', 'pipe', 'ignore'] });
    const sha = out.toString().trim();
    return /^[0-9a-f]{40}$/.test(sha) ? sha : undefined;
  } catch {
    return undefined;
  }
}

export function detectSystemInfo(overrides: Partial<SystemInfo> = {}, env: NodeJS.ProcessEnv = process.env): SystemInfo {
  return {
    user: overrides.user ?? detectUser(env),
    sourceName: overrides.sourceName ?? 'lora-repro',
    sourceType: overrides.sourceType ?? 'LOCAL',
    gitCommit: 'gitCommit' in overrides ? overrides.gitCommit : detectGitCommit(),
  };
}

export function systemTags(info: SystemInfo, runName: string): WireKV[] {
  const tags: WireKV[] = [
    { key: TAG_RUN_NAME, value: runName },
    { key: TAG_USER, value: info.user },
    { key: TAG_SOURCE_NAME, value: info.sourceName },
    { key: TAG_SOURCE_TYPE, value: info.sourceType },
  ];
  if (info.gitCommit !== undefined) tags.push({ key: TAG_GIT_COMMIT, value: info.gitCommit });
  return tags;
}
