/**
 * Checks that a document belongs to an existing workspace of its tenant before it is loaded
 * (the gateway's `workspaces` table, keyed by `(tenant_id, id)`), and tells the workspace's
 * generation (`created_at` as exact text): the doc's appends are guarded by it, so a deleted (or
 * deleted and re-created) workspace never receives them (docs/workspace-deletion.md).
 * Authorization itself is the gateway's job; this is defense in depth against loading docs of
 * deleted or unknown workspaces. Answers are cached (positive 30 s, negative 2 s) until
 * {@link WorkspaceDirectory.forget} (a `workspace_deleted` envelope); the docs of one workspace
 * loading at once share one query (`LookupCache`). When the table does not
 * exist (the gateway has not migrated this database yet) every workspace is accepted, unguarded,
 * and a warning is logged once.
 */
import { tenantKey } from '@diaryx-sync/bus';
import { LookupCache, type Logger } from '@diaryx-sync/runtime';
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
  private readonly cache: LookupCache<WorkspaceGeneration | null>;
  private warned = false;

  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
    positiveTtlMs = 30000,
    negativeTtlMs = 2000,
  ) {
    this.cache = new LookupCache({
      // an unguarded answer (no table yet) is not kept: the table may appear any time
      ttlMs: (generation) =>
        generation === UNGUARDED ? 0 : generation !== null ? positiveTtlMs : negativeTtlMs,
    });
  }

  generation(tenant: string, workspace: string): Promise<WorkspaceGeneration | null> {
    return this.cache.get(tenantKey(tenant, workspace), () => this.lookup(tenant, workspace));
  }

  forget(tenant: string, workspace: string): void {
    this.cache.invalidate(tenantKey(tenant, workspace));
  }

  private async lookup(tenant: string, workspace: string): Promise<WorkspaceGeneration | null> {
    try {
      const r = await this.pool.query<{ generation: string }>(
        'SELECT created_at::text AS generation FROM workspaces WHERE tenant_id = $1 AND id = $2',
        [tenant, workspace],
      );
      return r.rows[0]?.generation ?? null;
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
  }
}
