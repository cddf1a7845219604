import { Inject, Injectable } from '@nestjs/common';
import type { Role } from '@diaryx-sync/protocol';
import type { Pool } from 'pg';
import { PG_POOL } from '../infra/infra.tokens';

/** A minted token as recorded in `api_tokens` (the JWT itself is never stored). */
export interface TokenRecord {
  tenantId: string;
  jti: string;
  sub: string;
  ws: string[];
  role: Role;
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
}

interface TokenRow {
  tenant_id: string;
  jti: string;
  sub: string;
  ws: string[];
  role: Role;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
}

const COLUMNS = 'tenant_id, jti, sub, ws, role, created_at, expires_at, revoked_at';

/**
 * The `api_tokens` table (PostgreSQL): one row per token minted through the HTTP API, keyed by
 * its `jti`, so a tenant admin can list and revoke them (docs/protocol.md#tokens). Rows of
 * expired tokens are useless and deleted by {@link purgeExpired}.
 */
@Injectable()
export class TokenStore {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** Records a freshly minted token. */
  async record(token: Omit<TokenRecord, 'createdAt' | 'revokedAt'>): Promise<void> {
    await this.pool.query(
      'INSERT INTO api_tokens (tenant_id, jti, sub, ws, role, expires_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [token.tenantId, token.jti, token.sub, JSON.stringify(token.ws), token.role, token.expiresAt],
    );
  }

  /** One page of the tenant's unexpired tokens in `jti` order, after `afterJti`. */
  async listPage(tenantId: string, page: { afterJti?: string; limit: number }): Promise<TokenRecord[]> {
    const { rows } = await this.pool.query<TokenRow>(
      `SELECT ${COLUMNS} FROM api_tokens
        WHERE tenant_id = $1 AND expires_at > now() AND ($2::text IS NULL OR jti COLLATE "C" > $2)
        ORDER BY jti COLLATE "C" LIMIT $3`,
      [tenantId, page.afterJti ?? null, page.limit],
    );
    return rows.map(toRecord);
  }

  /** Marks the tenant's token `jti` revoked (idempotent); null when the tenant has no such token. */
  async revoke(tenantId: string, jti: string): Promise<TokenRecord | null> {
    const { rows } = await this.pool.query<TokenRow>(
      `UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, now())
        WHERE tenant_id = $1 AND jti = $2 RETURNING ${COLUMNS}`,
      [tenantId, jti],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** Revokes every unexpired token of the tenant; returns their ids. */
  async revokeTenant(tenantId: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ jti: string }>(
      `UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, now())
        WHERE tenant_id = $1 AND expires_at > now() RETURNING jti`,
      [tenantId],
    );
    return rows.map((r) => r.jti);
  }

  /** Ids of revoked tokens that have not expired yet (the ones that must still be refused). */
  async revokedIds(): Promise<string[]> {
    const { rows } = await this.pool.query<{ jti: string }>(
      'SELECT jti FROM api_tokens WHERE revoked_at IS NOT NULL AND expires_at > now()',
    );
    return rows.map((r) => r.jti);
  }

  /** Deletes rows of tokens expired more than a day ago; returns how many. */
  async purgeExpired(): Promise<number> {
    const result = await this.pool.query(
      "DELETE FROM api_tokens WHERE expires_at < now() - interval '1 day'",
    );
    return result.rowCount ?? 0;
  }
}

function toRecord(row: TokenRow): TokenRecord {
  return {
    tenantId: row.tenant_id,
    jti: row.jti,
    sub: row.sub,
    ws: row.ws,
    role: row.role,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
  };
}
