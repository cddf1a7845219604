/**
 * Attachment files of a restore or zip import (docs/protocol.md#attachments): their bytes go to the
 * tenant's content-addressed store, and refs that name one of them by path without its hash (a
 * zip written by hand: `attachments: [img.png]`) get its hash, size and MIME type.
 */
import * as Y from 'yjs';
import {
  isAttachmentPath,
  mimeTypeOf,
  WorkspaceCrdt,
  workspaceDocId,
  type BinaryRef,
} from '@diaryx-sync/crdt';
import type { RepoFile } from '@diaryx-sync/git-store';
import { AttachmentStore } from '@diaryx-sync/objstore';
import type { JobContext } from './job-context';

/** Stored attachment of a restore, by path. */
export type RestoredAttachments = Map<string, { hash: string; size: number; mime_type: string }>;

/** Uploads the attachment files of `files` (markdown is left alone). */
export async function storeAttachmentFiles(
  ctx: JobContext,
  tenant: string,
  files: RepoFile[],
): Promise<RestoredAttachments> {
  const store = new AttachmentStore(ctx.objects);
  const out: RestoredAttachments = new Map();
  for (const f of files) {
    if (!isAttachmentPath(f.path) || typeof f.content === 'string') continue;
    const mime = mimeTypeOf(f.path);
    out.set(f.path, {
      hash: await store.putBytes(tenant, f.content, mime),
      size: f.content.length,
      mime_type: mime,
    });
  }
  return out;
}

/** Fills the refs whose bytes a restore brought by path; one forward update of the workspace doc. */
export async function linkAttachmentRefs(
  ctx: JobContext,
  tenant: string,
  workspace: string,
  restored: RestoredAttachments,
  origin: string,
): Promise<void> {
  if (restored.size === 0) return;
  const docId = workspaceDocId(workspace);
  const ws = WorkspaceCrdt.fromUpdate(await ctx.storageFor(tenant).loadDoc(docId));
  const before = Y.encodeStateVector(ws.doc);
  for (const f of ws.listFiles()) {
    let changed = false;
    const next = f.metadata.attachments.map((ref): BinaryRef => {
      const got = restored.get(ref.path);
      if (!got || ref.deleted || ref.hash === got.hash) return ref;
      changed = true;
      return { ...ref, source: 'sha256', ...got, uploaded_at: Date.now() };
    });
    if (changed) ws.setFile(f.key, { attachments: next });
  }
  const update = Y.encodeStateAsUpdate(ws.doc, before);
  if (update.length > 2) await ctx.applyUpdate({ tenant, docId, update, origin });
}
