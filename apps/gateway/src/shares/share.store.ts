import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import type { ShareStatus } from '../auth/share-status';
import { PG_POOL } from '../infra/infra.tokens';

/** Roles a share link may grant (never `admin`). */
export const SHARE_ROLES = ['viewer', 'editor'] as const;
/** Role granted by a share link. */
export type ShareRole = (typeof SHARE_ROLES)[number];

/** A join code: `dxs_` + 32 random bytes in base64url (256 bits, docs/protocol.md#share-links). */
export const JOIN_CODE_PATTERN = /^dxs_[A-Za-z0-9_-]{43}$/;

/** A `workspace_shares` row. */
export interface Share {
  tenantId: string;
  id: string;
  workspaceId: string;
  role: ShareRole;
  createdBy: string;
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
}

interface ShareRow {
  tenant_id: string;
  id: string;
  workspace_id: string;
  role: ShareRole;
  created_by: string;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
}

const COLUMNS =
  's.tenant_id, s.id, s.workspace_id, s.role, s.created_by, s.created_at, s.expires_at, s.revoked_at';
/**
 * An active share: not revoked, not expired, and its workspace still exists and is not a newer
 * workspace of the same id (created after the share).
 */
const ACTIVE = `s.revoked_at IS NULL AND s.expires_at > now() AND EXISTS (
  SELECT 1 FROM workspaces w
  WHERE w.tenant_id = s.tenant_id AND w.id = s.workspace_id AND w.created_at <= s.created_at)`;
/** How long an {@link ShareStore.isActive} answer is reused (a revocation also closes sockets at once). */
const STATUS_CACHE_MS = 1000;
const MAX_CACHE_ENTRIES = 10_000;

/**
 * Share links of workspaces (`workspace_shares`, PostgreSQL). Only the SHA-256 of a join code is
 * stored; the code itself is returned once, by {@link create}.
 */
@Injectable()
export class ShareStore implements ShareStatus {
  private readonly statusCache = new Map<string, { active: boolean; until: number }>();

  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** Creates a share of `workspaceId` valid for `expiresInS` seconds; returns it with its join code. */
  async create(
    tenantId: string,
    workspaceId: string,
    input: { role: ShareRole; expiresInS: number; createdBy: string },
  ): Promise<{ share: Share; code: string }> {
    const code = `dxs_${randomBytes(32).toString('base64url')}`;
    const { rows } = await this.pool.query<ShareRow>(
      `INSERT INTO workspace_shares AS s (tenant_id, id, workspace_id, role, code_hash, created_by, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))
       RETURNING ${COLUMNS}`,
      [tenantId, randomUUID(), workspaceId, input.role, hashCode(code), input.createdBy, input.expiresInS],
    );
    return { share: toShare(rows[0]!), code };
  }

  /**
   * One page of the shares of a workspace in id order (revoked and expired ones included): at
   * most `limit` with an id after `afterId`.
   */
  async list(
    tenantId: string,
    workspaceId: string,
    page: { afterId?: string; limit: number },
  ): Promise<Share[]> {
    const { rows } = await this.pool.query<ShareRow>(
      `SELECT ${COLUMNS} FROM workspace_shares s
       WHERE s.tenant_id = $1 AND s.workspace_id = $2 AND ($3::text IS NULL OR s.id COLLATE "C" > $3)
       ORDER BY s.id COLLATE "C" LIMIT $4`,
      [tenantId, workspaceId, page.afterId ?? null, page.limit],
    );
    return rows.map(toShare);
  }

  /** Revokes a share; false when the workspace has no such share. Revoking twice is not an error. */
  async revoke(tenantId: string, workspaceId: string, shareId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE workspace_shares SET revoked_at = COALESCE(revoked_at, now())
       WHERE tenant_id = $1 AND workspace_id = $2 AND id = $3`,
      [tenantId, workspaceId, shareId],
    );
    this.statusCache.delete(`${tenantId}\n${shareId}`);
    return (rowCount ?? 0) > 0;
  }

  /** The active share a join code belongs to, or null (unknown, revoked, expired, workspace gone). */
  async findActiveByCode(code: string): Promise<Share | null> {
    if (!JOIN_CODE_PATTERN.test(code)) return null;
    const { rows } = await this.pool.query<ShareRow>(
      `SELECT ${COLUMNS} FROM workspace_shares s WHERE s.code_hash = $1 AND ${ACTIVE}`,
      [hashCode(code)],
    );
    return rows[0] ? toShare(rows[0]) : null;
  }

  /** {@link ShareStatus.forget}. */
  forget(tenantId: string, shareId: string): void {
    this.statusCache.delete(`${tenantId}\n${shareId}`);
  }

  /** {@link ShareStatus}: answers are cached for {@link STATUS_CACHE_MS} per gateway. */
  async isActive(tenantId: string, shareId: string): Promise<boolean> {
    const key = `${tenantId}\n${shareId}`;
    const cached = this.statusCache.get(key);
    if (cached && cached.until > Date.now()) return cached.active;
    const { rows } = await this.pool.query(
      `SELECT 1 FROM workspace_shares s WHERE s.tenant_id = $1 AND s.id = $2 AND ${ACTIVE}`,
      [tenantId, shareId],
    );
    if (this.statusCache.size >= MAX_CACHE_ENTRIES) this.statusCache.clear();
    this.statusCache.set(key, { active: rows.length > 0, until: Date.now() + STATUS_CACHE_MS });
    return rows.length > 0;
  }
}

function hashCode(code: string): Buffer {
  return createHash('sha256').update(code).digest();
}

function toShare(row: ShareRow): Share {
  return {
    tenantId: row.tenant_id,
    id: row.id,
    workspaceId: row.workspace_id,
    role: row.role,
    createdBy: row.created_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
  };
}
