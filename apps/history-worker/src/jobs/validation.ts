/**
 * Validation with a persisted health tracker: success resets it, failures count up; at the
 * threshold the tracker answers "rebuild" and a `rebuild` job is queued.
 */
import type { ValidationJobResult } from '@diaryx-sync/git-store';
import type { LoadedWorkspace, HealthDecision, ValidationOutcome } from '../workspace/workspace-model';
import type { JobContext } from './job-context';

export interface RecordedValidation {
  outcome: ValidationOutcome;
  decision: HealthDecision;
}

/** Validates `loaded` and records the outcome; queues a rebuild when the tracker says so. */
export async function validateAndRecord(
  ctx: JobContext,
  loaded: LoadedWorkspace,
): Promise<RecordedValidation> {
  const { tenant, workspace } = loaded;
  const outcome = ctx.model.validate(loaded);
  const previous = await ctx.health.get(tenant, workspace);
  const decision = ctx.model.decide(previous.tracker, outcome.ok, ctx.config.HISTORY_REBUILD_THRESHOLD);
  await ctx.health.record(tenant, workspace, {
    ok: outcome.ok,
    consecutiveFailures: decision.consecutiveFailures,
    tracker: decision.tracker,
    issues: outcome.issues,
  });
  if (!outcome.ok) {
    for (const issue of outcome.issues) ctx.metrics.validation.failures.inc({ check: issue.kind });
    ctx.log.warn(
      { tenant, workspace, issues: outcome.issues.length, failures: decision.consecutiveFailures },
      'workspace failed validation',
    );
    await ctx.audit.record({
      tenant,
      workspace,
      event: 'validation_failed',
      actor: 'system',
      commit_id: null,
      backup_key: null,
      details: { consecutive_failures: decision.consecutiveFailures, issues: outcome.issues.slice(0, 50) },
    });
    if (decision.action === 'rebuild' && !(await recentFailedRebuild(ctx, tenant, workspace))) {
      await ctx.queues.enqueueRebuild({
        tenant,
        workspace,
        reason: `${decision.consecutiveFailures} consecutive validation failures`,
      });
    }
  }
  return { outcome, decision };
}

/**
 * True when the last rebuild of the workspace did not make it valid and is younger than the
 * cooldown: rebuilding again would only pile up backups.
 */
async function recentFailedRebuild(ctx: JobContext, tenant: string, workspace: string): Promise<boolean> {
  const [last] = await ctx.audit.list({ tenant, workspace, event: 'rebuild', limit: 1 });
  if (!last || (last.details as { valid?: unknown }).valid === true) return false;
  const recent = Date.now() - Date.parse(last.created_at) < ctx.config.HISTORY_REBUILD_COOLDOWN_MS;
  if (recent)
    ctx.log.warn(
      { tenant, workspace },
      'rebuild due but the last one failed recently: waiting for the cooldown',
    );
  return recent;
}

/** `validation` job. */
export async function runValidation(
  ctx: JobContext,
  tenant: string,
  workspace: string,
): Promise<ValidationJobResult> {
  const loaded = await ctx.model.load(tenant, workspace);
  const { outcome } = await validateAndRecord(ctx, loaded);
  return { ok: outcome.ok, issues: outcome.issues };
}
