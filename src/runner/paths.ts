/**
 * Layout of one profile's results directory (default `results/<profile>/`):
 *
 *   runs/<runId>.json      one result record per run: THE source of truth (written atomically)
 *   runs/<runId>/          the run's own outputs (adapter files, predictions); wiped when a run restarts
 *   runs.csv               one row per result JSON (a derived index, repaired on every start)
 *   mlflow-logged.json     which finished runs/cells were fully logged to which MLflow server
 *   mlflow-spool/          tracker spool when the server was unreachable (`lora-repro mlflow sync`)
 *   .runner.lock           the pid of the runner using this directory
 */
import { join } from 'node:path';

export interface ResultsPaths {
  root: string;
  runsDir: string;
  csv: string;
  lock: string;
  mlflowState: string;
  mlflowSpool: string;
  json(runId: string): string;
  outDir(runId: string): string;
}

export function resultsPaths(root: string): ResultsPaths {
  const runsDir = join(root, 'runs');
  return {
    root,
    runsDir,
    csv: join(root, 'runs.csv'),
    lock: join(root, '.runner.lock'),
    mlflowState: join(root, 'mlflow-logged.json'),
    mlflowSpool: join(root, 'mlflow-spool'),
    json: (runId) => join(runsDir, `${runId}.json`),
    outDir: (runId) => join(runsDir, runId),
  };
}

/** `--results DIR` is the parent of the per-profile directories (default `results`). */
export function profileResultsDir(resultsRoot: string, profile: string): string {
  return join(resultsRoot, profile);
}
