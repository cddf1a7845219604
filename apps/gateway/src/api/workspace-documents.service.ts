import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { bodyDocIdPrefix, workspaceDocId } from '@diaryx-sync/crdt';
import { PostgresStorage } from '@diaryx-sync/crdt/postgres';
import type { Pool } from 'pg';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { PG_POOL } from '../infra/infra.tokens';
import { CRDT_SCHEMA, prepareGatewaySchema } from '../infra/schema';

/** Cleanup run after a workspace's documents were deleted. */
export type WorkspaceDeletionHook = (tenantId: string, workspaceId: string) => Promise<void>;

/**
 * Tenant-scoped access to the persisted Yjs documents (`PostgresStorage` of `@diaryx-sync/crdt`,
 * the tables the doc services write). Runs (or checks, infra/schema.ts) the crdt migrations at
 * start-up so that reads work on a fresh database even before a doc service has started.
 */
@Injectable()
export class WorkspaceDocumentsService implements OnModuleInit {
  private readonly deletionHooks: WorkspaceDeletionHook[] = [];

  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /**
   * Registers cleanup that must run when a workspace is deleted (e.g. the history module drops the
   * workspace's git refs and objects), so a later workspace with the same id starts empty.
   */
  addDeletionHook(hook: WorkspaceDeletionHook): void {
    this.deletionHooks.push(hook);
  }

  async onModuleInit(): Promise<void> {
    await prepareGatewaySchema(this.pool, this.config, CRDT_SCHEMA);
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
      (doc) => doc === workspaceDocId(workspaceId) || doc.startsWith(bodyDocIdPrefix(workspaceId)),
    );
    for (const doc of docs) await storage.deleteDoc(doc);
    for (const hook of this.deletionHooks) await hook(tenantId, workspaceId);
    return docs.length;
  }
}
