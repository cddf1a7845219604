/**
 * `restore` job: make the workspace equal to a git commit, or import an uploaded zip
 * (`replace`: the zip becomes the workspace; `merge`: zip files override, others stay), as
 * forward updates. History is kept; the change is audited and committed after the quiet period.
 */
import { UnrecoverableError } from 'bullmq';
import { readWorkspaceZip, UnknownCommitError, ZipImportError, type RepoFile } from '@diaryx-sync/git-store';
import { type RestoreJobData, type RestoreJobResult } from '@diaryx-sync/bus';
import { isAttachmentPath } from '@diaryx-sync/crdt';
import { withWorkspaceLock } from '../workspace-lock';
import { applyFiles } from './apply-files';
import { linkAttachmentRefs, storeAttachmentFiles } from './restore-attachments';
import { lockOptions } from './commit';
import type { JobContext } from './job-context';

export async function runRestore(ctx: JobContext, data: RestoreJobData): Promise<RestoreJobResult> {
  const { tenant, workspace, source } = data;
  return withWorkspaceLock(lockOptions(ctx), tenant, workspace, async () => {
    const loaded = await ctx.model.load(tenant, workspace);
    let target: RepoFile[];
    let commitId: string | null = null;
    if (source.kind === 'commit') {
      commitId = source.commitId;
      try {
        target = await ctx.git.repository(tenant, workspace).readFiles(commitId);
      } catch (err) {
        if (err instanceof UnknownCommitError) throw new UnrecoverableError(err.message);
        throw err;
      }
    } else {
      const zip = await ctx.objects.get(source.key);
      if (!zip) throw new UnrecoverableError(`uploaded zip ${source.key} is gone (already imported?)`);
      let imported: RepoFile[];
      try {
        imported = await readWorkspaceZip(zip);
      } catch (err) {
        if (err instanceof ZipImportError) {
          await ctx.objects.delete(source.key);
          throw new UnrecoverableError(`${err.code}: ${err.message}`);
        }
        throw err;
      }
      if (source.mode === 'replace') target = imported;
      else {
        const merged = new Map(ctx.model.materialize(loaded).map((f) => [f.path, f] as const));
        for (const f of imported) merged.set(f.path, f);
        target = [...merged.values()];
      }
    }
    // Attachment files go back to the tenant's content-addressed store; the refs (with their
    // hashes) come back with the markdown frontmatter (docs/protocol.md#attachments).
    const restored = await storeAttachmentFiles(ctx, tenant, target);
    const markdown = target.filter((f) => !isAttachmentPath(f.path));
    const origin = source.kind === 'commit' ? 'restore' : 'import';
    const updated = await applyFiles(ctx, loaded, markdown, origin);
    await linkAttachmentRefs(ctx, tenant, workspace, restored, origin);
    const outcome = ctx.model.validate(await ctx.model.load(tenant, workspace));
    await ctx.audit.record({
      tenant,
      workspace,
      event: source.kind === 'commit' ? 'restore' : 'import',
      actor: data.requestedBy ?? 'system',
      commit_id: commitId,
      backup_key: null,
      details:
        source.kind === 'commit'
          ? { docs_updated: updated }
          : { docs_updated: updated, mode: source.mode, files: target.length },
    });
    if (source.kind === 'import') await ctx.objects.delete(source.key);
    if (updated > 0) await ctx.queues.touchWorkspace(tenant, workspace);
    return {
      status: updated > 0 ? 'restored' : 'unchanged',
      commit_id: commitId,
      docs_updated: updated,
      files: target.length,
      valid: outcome.ok,
    };
  });
}
