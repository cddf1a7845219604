/**
 * Checks that a document belongs to an existing workspace of its tenant before it is loaded
 * (the gateway's `workspaces` table, keyed by `(tenant_id, id)`), and tells the workspace's
 * generation (`created_at` as exact text): the doc's appends are guarded by it, so a deleted (or
 * deleted and re-created) workspace never receives them (docs/workspace-deletion.md).
 * Authorization itself is the gateway's job; this is defense in depth against loading docs of
 * deleted or unknown workspaces. Answers are cached (positive 30 s, negative 2 s) until
 * {@link WorkspaceDirectory.forget} (a `workspace_deleted` envelope). When the table does not
 * exist (the gateway has not migrated this database yet) every workspace is accepted, unguarded,
 * and a warning is logged once.
 */
import { tenantKey } from '@diaryx-sync/bus';
import type { Logger } from '@diaryx-sync/runtime';
import type { Pool } from 'pg';

/**
 * Generation of an existing workspace: `created_at::text` of its row, or {@link UNGUARDED} when it
 * is accepted without a row (writes are then not guarded).
 */
export type WorkspaceGeneration = string;

/** Generation of a workspace accepted without a `workspaces` row: its writes carry no guard. */
export const UNGUARDED: WorkspaceGeneration = '';

/** Answers whether a workspace exists, and with which generation. */
export interface WorkspaceDirectory {
  /** The workspace's generation, or `null` when it does not exist. */
  generation(tenant: string, workspace: string): Promise<WorkspaceGeneration | null>;
  /** Drops any cached answer for the workspace (it was deleted). */
  forget(tenant: string, workspace: string): void;
}

/** Accepts every workspace, unguarded (tests, or when the check is disabled). */
export const ANY_WORKSPACE: WorkspaceDirectory = {
  generation: async () => UNGUARDED,
  forget: () => undefined,
};

/** {@link WorkspaceDirectory} over the gateway's `workspaces` table. */
export class PgWorkspaceDirectory implements WorkspaceDirectory {
  private readonly cache = new Map<string, { generation: WorkspaceGeneration | null; until: number }>();
  private warned = false;

  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
    private readonly positiveTtlMs = 30000,
    private readonly negativeTtlMs = 2000,
  ) {}

  async generation(tenant: string, workspace: string): Promise<WorkspaceGeneration | null> {
    const key = tenantKey(tenant, workspace);
    const hit = this.cache.get(key);
    const now = Date.now();
    if (hit && hit.until > now) return hit.generation;
    let generation: WorkspaceGeneration | null;
    try {
      const r = await this.pool.query<{ generation: string }>(
        'SELECT created_at::text AS generation FROM workspaces WHERE tenant_id = $1 AND id = $2',
        [tenant, workspace],
      );
      generation = r.rows[0]?.generation ?? null;
    } catch (err) {
      if ((err as { code?: string }).code !== '42P01') throw err;
      if (!this.warned) {
        this.warned = true;
        this.logger.warn(
          'table "workspaces" does not exist (gateway not migrated yet): workspace existence is not checked',
        );
      }
      return UNGUARDED;
    }
    if (this.cache.size > 10000) this.cache.clear();
    this.cache.set(key, {
      generation,
      until: now + (generation !== null ? this.positiveTtlMs : this.negativeTtlMs),
    });
    return generation;
  }

  forget(tenant: string, workspace: string): void {
    this.cache.delete(tenantKey(tenant, workspace));
  }
}
