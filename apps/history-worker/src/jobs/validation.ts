/**
 * Heal, then validate, with a persisted health tracker (docs/self-healing.md):
 * - an unreadable CRDT (parts that do not decode) queues a `rebuild`;
 * - validation findings are repaired in place as forward updates through the owning shards
 *   (audit row `repair`, `diaryx_repairs_total`); young orphan bodies are left alone;
 * - what repair cannot fix is a failure: success resets the tracker, failures count up and at the
 *   threshold raise an alert (audit row `validation_alert`, `diaryx_validation_alerts_total`, an
 *   error log). Commits stay stopped; content is never reverted.
 */
import type { ValidationJobResult } from '@diaryx-sync/bus';
import type {
  HealthDecision,
  LoadedWorkspace,
  ValidationOutcome,
  WorkspaceRepairPlan,
} from '../workspace/workspace-model';
import { withWorkspaceLock } from '../workspace-lock';
import { lockOptions } from './commit';
import { recordHealingEvent } from './healing-events';
import type { JobContext } from './job-context';

/** Rounds of plan → apply → reload (a second round only when edits raced the first). */
const MAX_REPAIR_ROUNDS = 3;

export interface HealedValidation {
  /** The workspace as it is after the repairs (what a commit materializes). */
  loaded: LoadedWorkspace;
  outcome: ValidationOutcome;
  /** `rebuild`: the CRDT is unreadable and a rebuild was queued (or is cooling down). */
  decision: HealthDecision | { action: 'rebuild'; consecutiveFailures: number };
  /** Repairs applied. */
  repairs: number;
}

/** Applies a repair plan through the owning shards (bodies first) and audits it. */
async function applyRepairPlan(
  ctx: JobContext,
  loaded: LoadedWorkspace,
  plan: WorkspaceRepairPlan,
  actor: string,
): Promise<void> {
  const { tenant, workspace } = loaded;
  for (const [docId, update] of plan.updates) {
    await ctx.applyUpdate({ tenant, docId, update, origin: 'repair' });
  }
  for (const r of plan.repairs) ctx.metrics.validation.repairs.inc({ kind: r.kind });
  await recordHealingEvent(ctx, {
    tenant,
    workspace,
    event: 'repair',
    actor,
    commit_id: null,
    backup_key: null,
    details: {
      repairs: plan.repairs.slice(0, 100),
      files: [...new Set(plan.repairs.flatMap((r) => r.files))].slice(0, 200),
      docs_updated: plan.updates.map(([docId]) => docId),
      remaining: plan.remaining.slice(0, 50),
    },
  });
  ctx.log.warn(
    { tenant, workspace, repairs: plan.repairs.map((r) => `${r.kind} ${r.files.join(' ')}`) },
    'repaired workspace in place',
  );
}

/** Repairs `loaded` in place, validates the result and records the outcome. */
export async function healAndValidate(
  ctx: JobContext,
  loaded: LoadedWorkspace,
  actor = 'system',
): Promise<HealedValidation> {
  const { tenant, workspace } = loaded;
  if (loaded.unreadable.length > 0) return unreadable(ctx, loaded, actor);

  let current = loaded;
  let repairs = 0;
  let outcome: ValidationOutcome | null = null;
  for (let round = 0; round < MAX_REPAIR_ROUNDS; round++) {
    const plan = await ctx.model.planRepairs(current, Date.now(), ctx.config.HISTORY_ORPHAN_GRACE_MS);
    if (plan.repairs.length === 0) {
      outcome = { ok: plan.remaining.length === 0, issues: plan.remaining };
      break;
    }
    await applyRepairPlan(ctx, current, plan, actor);
    repairs += plan.repairs.length;
    current = await ctx.model.load(tenant, workspace);
    if (current.unreadable.length > 0) return unreadable(ctx, current, actor);
  }
  outcome ??= ctx.model.validate(current);

  const previous = await ctx.health.get(tenant, workspace);
  const decision = ctx.model.decide(previous.tracker, outcome.ok, ctx.config.HISTORY_ALERT_THRESHOLD);
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
      'workspace failed validation after repair',
    );
    await recordHealingEvent(ctx, {
      tenant,
      workspace,
      event: 'validation_failed',
      actor,
      commit_id: null,
      backup_key: null,
      details: { consecutive_failures: decision.consecutiveFailures, issues: outcome.issues.slice(0, 50) },
    });
    if (decision.action === 'alert') {
      ctx.metrics.validation.alerts.inc();
      ctx.log.error(
        { tenant, workspace, failures: decision.consecutiveFailures, issues: outcome.issues.slice(0, 10) },
        'workspace still fails validation after repair: commits are stopped until it is fixed',
      );
      await recordHealingEvent(ctx, {
        tenant,
        workspace,
        event: 'validation_alert',
        actor,
        commit_id: null,
        backup_key: null,
        details: {
          consecutive_failures: decision.consecutiveFailures,
          issues: outcome.issues.slice(0, 50),
          note: 'repair in place could not fix these findings; nothing was reverted',
        },
      });
    }
  }
  return { loaded: current, outcome, decision, repairs };
}

/** The CRDT cannot be read: queue a rebuild (unless the last one failed recently). */
async function unreadable(
  ctx: JobContext,
  loaded: LoadedWorkspace,
  actor: string,
): Promise<HealedValidation> {
  const { tenant, workspace } = loaded;
  const outcome: ValidationOutcome = {
    ok: false,
    issues: loaded.unreadable.map((u) => ({
      kind: 'unreadable_doc',
      file: u.docId,
      message: `${u.badSnapshot ? 'snapshot' : ''}${u.badSnapshot && u.badUpdateIds.length ? ' and ' : ''}${u.badUpdateIds.length ? `${u.badUpdateIds.length} update row(s)` : ''} do not decode`,
    })),
  };
  ctx.log.error({ tenant, workspace, unreadable: loaded.unreadable }, 'workspace CRDT is unreadable');
  if (!(await recentFailedRebuild(ctx, tenant, workspace))) {
    await ctx.queues.enqueueRebuild({
      tenant,
      workspace,
      reason: `unreadable: ${loaded.unreadable.map((u) => u.docId).join(', ')}`.slice(0, 500),
      requestedBy: actor === 'system' ? undefined : actor,
    });
  }
  const previous = await ctx.health.get(tenant, workspace);
  return {
    loaded,
    outcome,
    decision: { action: 'rebuild', consecutiveFailures: previous.consecutiveFailures },
    repairs: 0,
  };
}

/**
 * True when the last rebuild of the workspace did not make it readable and is younger than the
 * cooldown: rebuilding again would only pile up backups.
 */
async function recentFailedRebuild(ctx: JobContext, tenant: string, workspace: string): Promise<boolean> {
  const [last] = await ctx.audit.list({ tenant, workspace, event: 'rebuild', limit: 1 });
  if (!last || (last.details as { readable?: unknown }).readable === true) return false;
  const recent = Date.now() - Date.parse(last.created_at) < ctx.config.HISTORY_REBUILD_COOLDOWN_MS;
  if (recent)
    ctx.log.warn(
      { tenant, workspace },
      'rebuild due but the last one failed recently: waiting for the cooldown',
    );
  return recent;
}

/**
 * `validation` job: heals and validates (the same pass a commit runs first), under the workspace
 * lock so that two passes never repair the same finding twice.
 */
export async function runValidation(
  ctx: JobContext,
  tenant: string,
  workspace: string,
): Promise<ValidationJobResult> {
  return withWorkspaceLock(lockOptions(ctx), tenant, workspace, async () => {
    const loaded = await ctx.model.load(tenant, workspace);
    const { outcome } = await healAndValidate(ctx, loaded);
    return { ok: outcome.ok, issues: outcome.issues };
  });
}
