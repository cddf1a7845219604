/**
 * `rebuild` job (self-healing): back up the current CRDT state to S3, then rebuild the workspace
 * doc and body docs from the last good commit as forward updates, re-validate and audit.
 */
import { UnrecoverableError } from 'bullmq';
import type { RebuildJobData, RestoreJobResult } from '@diaryx-sync/git-store';
import { withWorkspaceLock } from '../workspace-lock';
import { applyFiles } from './apply-files';
import { backupWorkspace } from './backup';
import { lockOptions } from './commit';
import type { JobContext } from './job-context';

export async function runRebuild(ctx: JobContext, data: RebuildJobData): Promise<RestoreJobResult> {
  const { tenant, workspace } = data;
  return withWorkspaceLock(lockOptions(ctx), tenant, workspace, async () => {
    const loaded = await ctx.model.load(tenant, workspace);
    const repo = ctx.git.repository(tenant, workspace);
    const health = await ctx.health.get(tenant, workspace);
    const commitId = health.lastGoodCommit ?? (await repo.head());
    if (!commitId) {
      ctx.metrics.validation.rebuilds.inc({ outcome: 'failed' });
      await ctx.audit.record({
        tenant,
        workspace,
        event: 'rebuild',
        actor: data.requestedBy ?? 'system',
        commit_id: null,
        backup_key: null,
        details: { reason: data.reason, error: 'no commit to rebuild from' },
      });
      throw new UnrecoverableError(`workspace ${tenant}/${workspace} has no good commit to rebuild from`);
    }
    const backupKey = await backupWorkspace(
      ctx,
      tenant,
      workspace,
      [...loaded.states.keys()],
      `rebuild: ${data.reason}`,
    );
    const files = await repo.readFiles(commitId);
    const updated = await applyFiles(ctx, loaded, files, 'rebuild');
    const after = await ctx.model.load(tenant, workspace);
    const outcome = ctx.model.validate(after);
    const decision = ctx.model.decide(
      outcome.ok ? {} : health.tracker,
      outcome.ok,
      ctx.config.HISTORY_REBUILD_THRESHOLD,
    );
    await ctx.health.record(tenant, workspace, {
      ok: outcome.ok,
      consecutiveFailures: decision.consecutiveFailures,
      tracker: decision.tracker,
      issues: outcome.issues,
    });
    ctx.metrics.validation.rebuilds.inc({ outcome: outcome.ok ? 'succeeded' : 'failed' });
    await ctx.audit.record({
      tenant,
      workspace,
      event: 'rebuild',
      actor: data.requestedBy ?? 'system',
      commit_id: commitId,
      backup_key: backupKey,
      details: {
        reason: data.reason,
        docs_updated: updated,
        valid: outcome.ok,
        issues: outcome.issues.slice(0, 50),
      },
    });
    ctx.log.warn(
      { tenant, workspace, commit: commitId, backupKey, updated, valid: outcome.ok },
      'rebuilt workspace from git',
    );
    return {
      status: updated > 0 ? 'restored' : 'unchanged',
      commit_id: commitId,
      docs_updated: updated,
      files: files.length,
      backup_key: backupKey,
      valid: outcome.ok,
    };
  });
}
