/**
 * `attachment-gc` job (docs/protocol.md#attachments): deletes the tenant's attachment objects that
 * nothing references; and the scheduled sweep that queues one per tenant with attachments. Referenced = a live `BinaryRef` (with a hash) of a live file in any of the
 * tenant's workspace docs (read from PostgreSQL, which holds every acknowledged update), or a
 * non-markdown blob reachable from any git ref of any of the tenant's repositories. An object
 * younger than the grace period, or touched within it (a client found it with `HEAD` or re-uploaded
 * it and is about to reference it), is kept.
 */
import { z } from 'zod';
import {
  ATTACHMENT_GC_GRACE_MS,
  attachmentTouchKey,
  type AttachmentGcJobData,
  type AttachmentGcJobResult,
  type AttachmentGcSweepResult,
} from '@diaryx-sync/bus';
import {
  isAttachmentHash,
  WORKSPACE_DOC_PREFIX,
  WorkspaceCrdt,
  workspaceAttachments,
} from '@diaryx-sync/crdt';
import { committedAttachmentHashes } from '@diaryx-sync/git-store';
import { AttachmentStore } from '@diaryx-sync/objstore';
import type { JobContext } from './job-context';

const payload = z.object({
  tenant: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  graceMs: z.number().int().nonnegative().optional(),
});

/** Validates an `attachment-gc` payload (throws on a malformed one). */
export function parseAttachmentGcJob(data: unknown): AttachmentGcJobData {
  return payload.parse(data);
}

export async function runAttachmentGc(
  ctx: JobContext,
  data: AttachmentGcJobData,
): Promise<AttachmentGcJobResult> {
  const { tenant } = data;
  const graceMs = data.graceMs ?? ATTACHMENT_GC_GRACE_MS;
  const store = new AttachmentStore(ctx.objects);
  // Listed first: an object stored after this list is not a candidate of this run.
  const stored = await store.list(tenant);
  if (stored.length === 0) return { stored: 0, referenced: 0, kept_recent: 0, deleted: [] };
  const referenced = await committedAttachmentHashes(ctx.git, tenant);
  const storage = ctx.storageFor(tenant);
  for (const docId of await storage.listDocs()) {
    if (!docId.startsWith(WORKSPACE_DOC_PREFIX)) continue;
    const ws = WorkspaceCrdt.fromUpdate(await storage.loadDoc(docId));
    for (const { ref } of workspaceAttachments(ws)) if (isAttachmentHash(ref.hash)) referenced.add(ref.hash);
  }
  const now = Date.now();
  const deleted: string[] = [];
  let keptRecent = 0;
  for (const o of stored) {
    if (referenced.has(o.hash)) continue;
    const touched = await ctx.redis.exists(attachmentTouchKey(ctx.config.REDIS_PREFIX, tenant, o.hash));
    if (now - o.lastModified.getTime() < graceMs || touched === 1) {
      keptRecent++;
      continue;
    }
    await store.delete(tenant, o.hash);
    deleted.push(o.hash);
  }
  ctx.log.info(
    { tenant, stored: stored.length, referenced: referenced.size, deleted: deleted.length },
    'attachment gc',
  );
  return { stored: stored.length, referenced: referenced.size, kept_recent: keptRecent, deleted };
}

/**
 * The scheduled sweep (`ATTACHMENT_GC_INTERVAL_MS`): queues an `attachment-gc` job, with the
 * configured grace period, for every tenant that has attachment objects.
 */
export async function runAttachmentGcSweep(ctx: JobContext): Promise<AttachmentGcSweepResult> {
  const store = new AttachmentStore(ctx.objects);
  const tenants: string[] = [];
  for (const tenant of await ctx.tenantIds()) {
    if (!(await store.hasAny(tenant))) continue;
    await ctx.queues.enqueueAttachmentGc({ tenant, graceMs: ctx.config.ATTACHMENT_GC_GRACE_MS });
    tenants.push(tenant);
  }
  ctx.log.info({ tenants: tenants.length }, 'attachment gc sweep');
  return { tenants };
}
