/**
 * Checks that a document belongs to an existing workspace of its tenant before it is loaded
 * (the gateway's `workspaces` table, keyed by `(tenant_id, id)`). Authorization itself is the
 * gateway's job; this is defense in depth against loading docs of deleted or unknown workspaces.
 * Answers are cached (positive 30 s, negative 2 s). When the table does not exist (the gateway
 * has not migrated this database yet) every workspace is accepted and a warning is logged once.
 */
import type { Logger } from '@diaryx-sync/runtime';
import type { Pool } from 'pg';

/** Answers whether a workspace exists. */
export interface WorkspaceDirectory {
  exists(tenant: string, workspace: string): Promise<boolean>;
}

/** Accepts every workspace (tests, or when the check is disabled). */
export const ANY_WORKSPACE: WorkspaceDirectory = { exists: async () => true };

/** {@link WorkspaceDirectory} over the gateway's `workspaces` table. */
export class PgWorkspaceDirectory implements WorkspaceDirectory {
  private readonly cache = new Map<string, { exists: boolean; until: number }>();
  private warned = false;

  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
    private readonly positiveTtlMs = 30000,
    private readonly negativeTtlMs = 2000,
  ) {}

  async exists(tenant: string, workspace: string): Promise<boolean> {
    const key = `${tenant}\u0000${workspace}`;
    const hit = this.cache.get(key);
    const now = Date.now();
    if (hit && hit.until > now) return hit.exists;
    let exists: boolean;
    try {
      const r = await this.pool.query('SELECT 1 FROM workspaces WHERE tenant_id = $1 AND id = $2', [
        tenant,
        workspace,
      ]);
      exists = (r.rowCount ?? 0) > 0;
    } catch (err) {
      if ((err as { code?: string }).code !== '42P01') throw err;
      if (!this.warned) {
        this.warned = true;
        this.logger.warn(
          'table "workspaces" does not exist (gateway not migrated yet): workspace existence is not checked',
        );
      }
      return true;
    }
    if (this.cache.size > 10000) this.cache.clear();
    this.cache.set(key, { exists, until: now + (exists ? this.positiveTtlMs : this.negativeTtlMs) });
    return exists;
  }
}
