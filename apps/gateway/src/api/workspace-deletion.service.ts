import { Injectable } from '@nestjs/common';
import { SyncService } from '../sync/sync.service';
import { WorkspaceStore } from '../tenancy/workspace.store';
import { WorkspaceDocumentsService } from './workspace-documents.service';

/**
 * The one deletion path of a workspace (docs/workspace-deletion.md), used by
 * `DELETE /api/workspaces/{id}` and, for each of its workspaces, by `DELETE /api/tenants/{id}`.
 */
@Injectable()
export class WorkspaceDeletionService {
  constructor(
    private readonly workspaces: WorkspaceStore,
    private readonly documents: WorkspaceDocumentsService,
    private readonly sync: SyncService,
  ) {}

  /**
   * Removes the row first: from then on the database refuses every append of the workspace
   * (generation guard) and new WebSocket docs are refused. Then ends it in the cluster
   * (connections to its docs closed with 4403 on every gateway, its docs dropped from every doc
   * service), then deletes its persisted documents, S3 objects and git refs (deletion hooks), so a
   * later workspace with the same id starts empty. False when the workspace did not exist.
   */
  async delete(tenantId: string, workspaceId: string): Promise<boolean> {
    if (!(await this.workspaces.delete(tenantId, workspaceId))) return false;
    await this.sync.endWorkspace(tenantId, workspaceId);
    await this.documents.deleteWorkspaceDocs(tenantId, workspaceId);
    return true;
  }
}
