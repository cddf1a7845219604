import { Injectable } from '@nestjs/common';
import { WorkspaceCrdt, workspaceAttachments, workspaceDocId, isAttachmentHash } from '@diaryx-sync/crdt';
import { AttachmentStore } from '@diaryx-sync/objstore';
import { WorkspaceDocumentsService } from '../api/workspace-documents.service';

/** One row of `GET /api/workspaces/{id}/attachments` (docs/protocol.md#attachments). */
export interface ReferencedAttachment {
  /** Markdown file whose `attachments` reference it. */
  file: string;
  path: string;
  hash: string;
  size: number;
  mime_type: string;
  /** True when the tenant's store holds bytes with this hash. */
  stored: boolean;
}

/** The attachments a workspace's stored state references, checked against the tenant's store. */
@Injectable()
export class WorkspaceAttachmentsService {
  constructor(
    private readonly documents: WorkspaceDocumentsService,
    private readonly store: AttachmentStore,
  ) {}

  async list(tenant: string, workspace: string): Promise<ReferencedAttachment[]> {
    const ws = WorkspaceCrdt.fromUpdate(
      await this.documents.storageFor(tenant).loadDoc(workspaceDocId(workspace)),
    );
    const stored = new Map<string, boolean>();
    const out: ReferencedAttachment[] = [];
    for (const { file, ref } of workspaceAttachments(ws)) {
      let has = false;
      if (isAttachmentHash(ref.hash)) {
        if (!stored.has(ref.hash)) stored.set(ref.hash, (await this.store.stat(tenant, ref.hash)) !== null);
        has = stored.get(ref.hash) === true;
      }
      out.push({
        file,
        path: ref.path,
        hash: ref.hash,
        size: ref.size,
        mime_type: ref.mime_type,
        stored: has,
      });
    }
    return out;
  }
}
