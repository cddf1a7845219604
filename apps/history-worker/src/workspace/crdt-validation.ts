/**
 * Validation and health decisions with `validateWorkspace` and `HealthTracker` of `@diaryx-sync/crdt`.
 *
 * Body docs of tombstoned files are not reported as orphans: deleting a file keeps its body doc
 * (history), which is normal. An orphan is a body doc with no workspace entry at all.
 */
import { checkedBodyPaths, HealingAction, HealthTracker, validateWorkspace } from '@diaryx-sync/crdt';
import { bodyPaths, workspaceOf } from './crdt-workspace-model';
import type { HealthDecision, LoadedWorkspace, ValidationOutcome } from './workspace-model';

/** Runs the sanity checks on a loaded workspace. */
export function validateLoaded(ws: LoadedWorkspace): ValidationOutcome {
  const workspace = workspaceOf(ws);
  const report = validateWorkspace(workspace, checkedBodyPaths(workspace, bodyPaths(ws).values()));
  return {
    ok: report.ok,
    issues: report.issues.map((i) => ({ kind: i.kind, file: i.file, message: i.message })),
  };
}

/** Feeds one validation outcome into the persisted tracker state. */
export function decideHealth(state: Record<string, unknown>, ok: boolean, threshold: number): HealthDecision {
  const tracker = HealthTracker.fromJSON({ ...state, threshold });
  if (ok) {
    tracker.recordSuccess();
    return { action: 'commit', consecutiveFailures: 0, tracker: { ...tracker.toJSON() } };
  }
  const action = tracker.recordFailure();
  return {
    action: action === HealingAction.RepairThenAlert ? 'alert' : 'skip_commit',
    consecutiveFailures: tracker.consecutiveFailures,
    tracker: { ...tracker.toJSON() },
  };
}
