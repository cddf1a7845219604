/**
 * `rebuild` job (docs/self-healing.md): for a CRDT that cannot be read (a snapshot or update rows
 * that do not decode), never for validation findings.
 *
 * 1. Keep the pre-rebuild state: raw snapshot + every row in an S3 backup, and the readable state
 *    as a commit on `refs/backups/<time>` (reachable with `git fetch`).
 * 2. Make every doc loadable: what still decodes becomes its snapshot, undecodable rows go.
 * 3. Start from the last good commit and re-apply every body and workspace entry that can still be
 *    read, as forward updates through the owning shards: text written after the commit survives.
 * 4. Repair in place, validate, audit (`rebuild`), count (`diaryx_rebuilds_total`).
 */
import * as Y from 'yjs';
import type { RebuildJobData, RestoreJobResult } from '@diaryx-sync/bus';
import { isAttachmentPath } from '@diaryx-sync/crdt';
import { withWorkspaceLock } from '../workspace-lock';
import { applyFiles } from './apply-files';
import { backupWorkspace } from './backup';
import { lockOptions } from './commit';
import { recordHealingEvent } from './healing-events';
import type { JobContext } from './job-context';
import { healAndValidate } from './validation';

/** The state of an empty doc: replaces a snapshot none of which decodes. */
const EMPTY_STATE = Y.encodeStateAsUpdate(new Y.Doc());

export async function runRebuild(ctx: JobContext, data: RebuildJobData): Promise<RestoreJobResult> {
  const { tenant, workspace } = data;
  const actor = data.requestedBy ?? 'system';
  return withWorkspaceLock(lockOptions(ctx), tenant, workspace, async () => {
    const before = await ctx.model.load(tenant, workspace);
    const repo = ctx.git.repository(tenant, workspace);
    const health = await ctx.health.get(tenant, workspace);
    const commitId = health.lastGoodCommit ?? (await repo.head());

    // 1. keep the pre-rebuild state
    const docIds = [...new Set([...before.states.keys(), ...before.unreadable.map((u) => u.docId)])];
    const backupKey = await backupWorkspace(ctx, tenant, workspace, docIds, `rebuild: ${data.reason}`);
    const backup = await repo.writeBackupRef(ctx.model.materialize(before), {
      author: { name: ctx.config.GIT_AUTHOR_NAME, email: ctx.config.GIT_AUTHOR_EMAIL },
      reason: `${data.reason}\n\nRaw CRDT state (every update row): ${backupKey}`,
    });

    // 2. make every doc loadable (the readable parts were merged by load)
    const storage = ctx.storageFor(tenant);
    for (const u of before.unreadable) {
      await storage.saveDoc(u.docId, before.states.get(u.docId) ?? EMPTY_STATE);
      await storage.dropUpdates(u.docId, u.badUpdateIds);
    }

    // 3. last good commit + everything still readable
    const readable = await ctx.model.load(tenant, workspace);
    // Markdown only: attachment files of the commit stay in the attachment store.
    const commitFiles = (commitId ? await repo.readFiles(commitId) : []).filter(
      (f) => !isAttachmentPath(f.path),
    );
    const lostBase = new Set(before.unreadable.filter((u) => u.badSnapshot).map((u) => u.docId));
    const target = ctx.model.rebuildTarget(readable, commitFiles, lostBase);
    const updated = await applyFiles(ctx, readable, target, 'rebuild', { addOnly: true });

    // 4. repair in place, validate, tell operators
    const healed = await healAndValidate(ctx, await ctx.model.load(tenant, workspace), actor);
    const isReadable = healed.loaded.unreadable.length === 0;
    ctx.metrics.validation.rebuilds.inc({ outcome: isReadable ? 'succeeded' : 'failed' });
    await recordHealingEvent(ctx, {
      tenant,
      workspace,
      event: 'rebuild',
      actor,
      commit_id: commitId,
      backup_key: backupKey,
      details: {
        reason: data.reason,
        unreadable: before.unreadable,
        files: before.unreadable.map((u) => u.docId),
        backup_ref: backup.ref,
        backup_commit: backup.commitId,
        docs_updated: updated,
        repairs: healed.repairs,
        readable: isReadable,
        valid: healed.outcome.ok,
        issues: healed.outcome.issues.slice(0, 50),
      },
    });
    ctx.log.warn(
      {
        tenant,
        workspace,
        commit: commitId,
        backupKey,
        backupRef: backup.ref,
        updated,
        valid: healed.outcome.ok,
      },
      'rebuilt unreadable workspace CRDT',
    );
    if (updated > 0 || healed.repairs > 0) await ctx.queues.touchWorkspace(tenant, workspace);
    return {
      status: updated > 0 || before.unreadable.length > 0 ? 'restored' : 'unchanged',
      commit_id: commitId,
      docs_updated: updated,
      files: target.length,
      backup_key: backupKey,
      backup_ref: backup.ref,
      valid: healed.outcome.ok,
    };
  });
}
