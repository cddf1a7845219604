import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { PostgresStorage } from '@diaryx-sync/crdt';
import type { Pool } from 'pg';
import { PG_POOL } from '../infra/infra.tokens';

/**
 * Tenant-scoped access to the persisted Yjs documents (`PostgresStorage` of `@diaryx-sync/crdt`,
 * the tables the doc services write). Runs the crdt migrations at start-up so that reads work on
 * a fresh database even before a doc service has started.
 */
@Injectable()
export class WorkspaceDocumentsService implements OnModuleInit {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async onModuleInit(): Promise<void> {
    await PostgresStorage.migrate(this.pool);
  }

  /** The storage of one tenant (cheap; shares the pool). */
  storageFor(tenantId: string): PostgresStorage {
    return new PostgresStorage({ pool: this.pool, tenant: tenantId });
  }

  /**
   * Deletes every persisted doc of a workspace (`workspace:{id}` and `body:{id}/…`) in the tenant.
   * Returns how many docs were deleted.
   */
  async deleteWorkspaceDocs(tenantId: string, workspaceId: string): Promise<number> {
    const storage = this.storageFor(tenantId);
    const docs = (await storage.listDocs()).filter(
      (doc) => doc === `workspace:${workspaceId}` || doc.startsWith(`body:${workspaceId}/`),
    );
    for (const doc of docs) await storage.deleteDoc(doc);
    return docs.length;
  }
}
