/**
 * `git-commit` job: repair in place → validate → materialize → commit on the branch head
 * (compare-and-swap). What repair cannot fix skips the commit (and alerts at the threshold); an
 * unreadable CRDT queues a rebuild (docs/self-healing.md). Content is never reverted.
 */
import { dirtyKey, type CommitJobResult, type WorkspaceJobData } from '@diaryx-sync/bus';
import { workspaceDocId } from '@diaryx-sync/crdt';
import { type CommitSummary, type GitAuthor, withAttachmentFiles } from '@diaryx-sync/git-store';
import { AttachmentStore } from '@diaryx-sync/objstore';
import { withWorkspaceLock } from '../workspace-lock';
import type { JobContext } from './job-context';
import { healAndValidate } from './validation';
import { emitWebhookEventSafely } from './webhook-events';

const CLEAR_IF_EQUAL = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** Lock options of the context. */
export function lockOptions(ctx: JobContext) {
  return {
    redis: ctx.redis,
    prefix: ctx.config.REDIS_PREFIX,
    ttlMs: ctx.config.HISTORY_LOCK_TTL_MS,
    waitMs: ctx.config.HISTORY_LOCK_WAIT_MS,
    shouldAbort: () => ctx.shuttingDown(),
  };
}

/**
 * The users whose updates reached the workspace's docs since the head commit (all of them when
 * there is none), as git identities: name `sub (device, …)`, the configured email
 * (docs/protocol.md#who-changed-what).
 */
async function changedBySinceLastCommit(
  ctx: JobContext,
  tenant: string,
  workspace: string,
  headLog: CommitSummary[],
): Promise<GitAuthor[]> {
  const storage = ctx.storageFor(tenant);
  const docs = [workspaceDocId(workspace), ...(await storage.listDocs(`body:${workspace}/`))];
  const sinceMs = headLog[0] ? Date.parse(headLog[0].timestamp) : 0;
  const authors = await storage.getAuthorsSince(docs, sinceMs);
  return authors.map((a) => ({
    name: a.deviceNames.length > 0 ? `${a.userId} (${a.deviceNames.join(', ')})` : a.userId,
    email: ctx.config.GIT_AUTHOR_EMAIL,
  }));
}

/** The latest update id of every doc of the workspace (its workspace doc and body docs). */
async function latestUpdateIds(
  ctx: JobContext,
  tenant: string,
  workspace: string,
): Promise<Map<string, number>> {
  const storage = ctx.storageFor(tenant);
  const docs = [workspaceDocId(workspace), ...(await storage.listDocs(`body:${workspace}/`))];
  const ids = new Map<string, number>();
  for (const doc of docs) ids.set(doc, await storage.getLatestUpdateId(doc));
  return ids;
}

/**
 * Git is the authoritative history (docs/protocol.md#compaction-after-commit): after a commit, each
 * doc's updates up to what the commit captured are folded into its snapshot, keeping the newest
 * `HISTORY_KEEP_UPDATES` for fine-grained undo. `compact` runs in one transaction under the doc's
 * lock, so concurrent appends are never lost; a failure only leaves the log longer.
 */
async function compactCommitted(
  ctx: JobContext,
  tenant: string,
  captured: Map<string, number>,
): Promise<void> {
  const storage = ctx.storageFor(tenant);
  for (const [doc, throughId] of captured) {
    try {
      await storage.compact(doc, ctx.config.HISTORY_KEEP_UPDATES, throughId);
    } catch (err) {
      ctx.log.warn({ tenant, doc, err: (err as Error).message }, 'compaction after commit failed');
    }
  }
}

/** Commits the workspace's current state. Idempotent: an unchanged tree makes no commit. */
export async function runCommit(ctx: JobContext, data: WorkspaceJobData): Promise<CommitJobResult> {
  const { tenant, workspace } = data;
  return withWorkspaceLock(lockOptions(ctx), tenant, workspace, async () => {
    // Edits from now on open a new dirty period (and a new quiet-period job).
    if (data.dirtySince !== undefined) {
      await ctx.redis.eval(
        CLEAR_IF_EQUAL,
        1,
        dirtyKey(ctx.config.REDIS_PREFIX, tenant, workspace),
        String(data.dirtySince),
      );
    }
    // What the commit will capture at least: read before the load (later updates stay in the log).
    const captured = await latestUpdateIds(ctx, tenant, workspace);
    const healed = await healAndValidate(ctx, await ctx.model.load(tenant, workspace), data.requestedBy);
    const { outcome, decision } = healed;
    if (!outcome.ok) {
      return {
        status: 'validation_failed',
        issues: outcome.issues,
        action: decision.action === 'commit' ? 'skip_commit' : decision.action,
      };
    }
    // Markdown plus the attachment bytes at their paths (docs/protocol.md#attachments).
    const files = await withAttachmentFiles(
      new AttachmentStore(ctx.objects),
      tenant,
      workspace,
      healed.loaded.states,
      ctx.model.materialize(healed.loaded),
    );
    const repo = ctx.git.repository(tenant, workspace);
    const result = await repo.commitFiles(files, {
      author: { name: ctx.config.GIT_AUTHOR_NAME, email: ctx.config.GIT_AUTHOR_EMAIL },
      changedBy: await changedBySinceLastCommit(ctx, tenant, workspace, await repo.log(1)),
    });
    if (result.status === 'nothing_to_commit') {
      if (result.head) {
        await ctx.health.setLastGoodCommit(tenant, workspace, result.head);
        await compactCommitted(ctx, tenant, captured);
      }
      return { status: 'nothing_to_commit', commit_id: result.head };
    }
    await ctx.health.setLastGoodCommit(tenant, workspace, result.commitId);
    await compactCommitted(ctx, tenant, captured);
    ctx.metrics.validation.gitCommits.inc();
    ctx.log.info({ tenant, workspace, commit: result.commitId, files: result.files }, 'committed workspace');
    const committed = {
      status: 'committed' as const,
      commit_id: result.commitId,
      files: result.files,
      added: result.diff.added.length,
      changed: result.diff.changed.length,
      removed: result.diff.removed.length,
    };
    // The event id is the commit id: a retried job emits the same deliveries (de-duplicated).
    await emitWebhookEventSafely(
      ctx,
      tenant,
      workspace,
      'commit.created',
      {
        commit_id: committed.commit_id,
        files: committed.files,
        added: result.diff.added,
        changed: result.diff.changed,
        removed: result.diff.removed,
      },
      `commit-${result.commitId}`,
    );
    return committed;
  });
}
