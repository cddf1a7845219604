import { tenantKey } from '@diaryx-sync/bus';
import { LookupCache } from '@diaryx-sync/runtime';
import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { PG_POOL } from '../infra/infra.tokens';
import { WorkspaceIdTakenError, isUniqueViolation } from './tenancy.errors';

/** A workspace row. `id` is unique within its tenant only. */
export interface Workspace {
  tenantId: string;
  id: string;
  name: string;
  createdAt: Date;
}

interface WorkspaceRow {
  tenant_id: string;
  id: string;
  name: string;
  created_at: Date;
}

/** Generates a workspace id such as `ws_7f3a91c2` (matches `[A-Za-z0-9_-]{1,64}`). */
export function newWorkspaceId(): string {
  return `ws_${randomBytes(4).toString('hex')}`;
}

/** Upper bound of how long a "does not exist" answer is cached (a workspace just created on another gateway shows up fast). */
const MAX_NEGATIVE_CACHE_MS = 500;
const COLUMNS = 'tenant_id, id, name, created_at';

/**
 * The `workspaces` table (PostgreSQL), always addressed by `(tenant, id)`. {@link exists} is
 * cached because the WebSocket path asks it per doc: positive answers for `WORKSPACE_CACHE_MS`
 * (default 2 s), negative ones for at most 500 ms. This instance's own create/delete invalidate
 * the cache at once, other instances' after the TTL. Concurrent misses for one workspace share
 * one query (a thousand clients connecting at once to a workspace cost one lookup, not a
 * thousand).
 */
@Injectable()
export class WorkspaceStore {
  private readonly existsCache: LookupCache<boolean>;

  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    const cacheMs = config.WORKSPACE_CACHE_MS;
    this.existsCache = new LookupCache<boolean>({
      ttlMs: (exists) => (exists ? cacheMs : Math.min(cacheMs, MAX_NEGATIVE_CACHE_MS)),
    });
  }

  /**
   * Creates a workspace; a missing `id` is generated, a missing `name` defaults to the id.
   * @throws WorkspaceIdTakenError when the id exists in this tenant.
   */
  async create(tenantId: string, input: { id?: string; name?: string }): Promise<Workspace> {
    const explicit = input.id !== undefined;
    for (let attempt = 0; ; attempt++) {
      const id = input.id ?? newWorkspaceId();
      try {
        const { rows } = await this.pool.query<WorkspaceRow>(
          `INSERT INTO workspaces (tenant_id, id, name) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`,
          [tenantId, id, input.name ?? id],
        );
        this.existsCache.invalidate(tenantKey(tenantId, id));
        return toWorkspace(rows[0]);
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        if (explicit || attempt >= 5) throw new WorkspaceIdTakenError(id);
      }
    }
  }

  /** The workspace, or null when it does not exist in this tenant. */
  async get(tenantId: string, id: string): Promise<Workspace | null> {
    const { rows } = await this.pool.query<WorkspaceRow>(
      `SELECT ${COLUMNS} FROM workspaces WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    );
    return rows[0] ? toWorkspace(rows[0]) : null;
  }

  /** Every workspace of the tenant, oldest first (ties by id). */
  async list(tenantId: string): Promise<Workspace[]> {
    const { rows } = await this.pool.query<WorkspaceRow>(
      `SELECT ${COLUMNS} FROM workspaces WHERE tenant_id = $1 ORDER BY created_at, id`,
      [tenantId],
    );
    return rows.map(toWorkspace);
  }

  /**
   * One page of the tenant's workspaces in id order: at most `limit` with an id after `afterId`,
   * restricted to `only` when given (a token's `ws`).
   */
  async listPage(
    tenantId: string,
    page: { afterId?: string; limit: number; only?: readonly string[] },
  ): Promise<Workspace[]> {
    const { rows } = await this.pool.query<WorkspaceRow>(
      `SELECT ${COLUMNS} FROM workspaces
        WHERE tenant_id = $1 AND ($2::text IS NULL OR id COLLATE "C" > $2) AND ($3::text[] IS NULL OR id = ANY($3))
        ORDER BY id COLLATE "C" LIMIT $4`,
      [tenantId, page.afterId ?? null, page.only ?? null, page.limit],
    );
    return rows.map(toWorkspace);
  }

  /** Renames; returns the updated workspace or null when absent. */
  async rename(tenantId: string, id: string, name: string): Promise<Workspace | null> {
    const { rows } = await this.pool.query<WorkspaceRow>(
      `UPDATE workspaces SET name = $3 WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
      [tenantId, id, name],
    );
    return rows[0] ? toWorkspace(rows[0]) : null;
  }

  /** Deletes the row; true when it existed. */
  async delete(tenantId: string, id: string): Promise<boolean> {
    const result = await this.pool.query('DELETE FROM workspaces WHERE tenant_id = $1 AND id = $2', [
      tenantId,
      id,
    ]);
    this.existsCache.invalidate(tenantKey(tenantId, id));
    return (result.rowCount ?? 0) > 0;
  }

  /** Whether the workspace exists in this tenant; answers are cached briefly (see class doc). */
  exists(tenantId: string, id: string): Promise<boolean> {
    return this.existsCache.get(tenantKey(tenantId, id), async () => {
      const { rowCount } = await this.pool.query(
        'SELECT 1 FROM workspaces WHERE tenant_id = $1 AND id = $2',
        [tenantId, id],
      );
      return (rowCount ?? 0) > 0;
    });
  }
}

function toWorkspace(row: WorkspaceRow): Workspace {
  return { tenantId: row.tenant_id, id: row.id, name: row.name, createdAt: row.created_at };
}
