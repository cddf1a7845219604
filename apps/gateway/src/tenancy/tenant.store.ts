import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { PG_POOL } from '../infra/infra.tokens';
import { isUniqueViolation } from './tenancy.errors';

/** A tenant row. */
export interface Tenant {
  id: string;
  name: string;
  createdAt: Date;
}

interface TenantRow {
  id: string;
  name: string;
  created_at: Date;
}

/** Generates a tenant id such as `t_3f9a1c2b7d4e`. */
export function newTenantId(): string {
  return `t_${randomBytes(6).toString('hex')}`;
}

/** The `tenants` table (PostgreSQL). */
@Injectable()
export class TenantStore {
  private readonly deletionHooks: ((tenant: string) => Promise<void>)[] = [];

  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /**
   * Registers cleanup of tenant-wide data outside PostgreSQL that must run when a tenant is
   * deleted (e.g. the attachments module deletes the tenant's attachment objects in S3). Hooks run
   * in {@link delete}, before the row goes.
   */
  addDeletionHook(hook: (tenant: string) => Promise<void>): void {
    this.deletionHooks.push(hook);
  }

  /**
   * Creates a tenant with a generated id. Names are labels: two tenants may share one (each
   * `POST /api/tenants` creates a new tenant, docs/protocol.md#http-api).
   */
  async create(name: string): Promise<Tenant> {
    for (let attempt = 0; ; attempt++) {
      try {
        const { rows } = await this.pool.query<TenantRow>(
          'INSERT INTO tenants (id, name) VALUES ($1, $2) RETURNING id, name, created_at',
          [newTenantId(), name],
        );
        return toTenant(rows[0]);
      } catch (err) {
        // A generated id collided (48 random bits): draw another.
        if (!isUniqueViolation(err) || attempt >= 5) throw err;
      }
    }
  }

  /** The tenant with this id, or null. */
  async get(id: string): Promise<Tenant | null> {
    const { rows } = await this.pool.query<TenantRow>(
      'SELECT id, name, created_at FROM tenants WHERE id = $1',
      [id],
    );
    return rows[0] ? toTenant(rows[0]) : null;
  }

  /** One page of tenants in id order, after `afterId`. */
  async listPage(page: { afterId?: string; limit: number }): Promise<Tenant[]> {
    const { rows } = await this.pool.query<TenantRow>(
      `SELECT id, name, created_at FROM tenants WHERE ($1::text IS NULL OR id COLLATE "C" > $1)
        ORDER BY id COLLATE "C" LIMIT $2`,
      [page.afterId ?? null, page.limit],
    );
    return rows.map(toTenant);
  }

  /** Runs the deletion hooks, then deletes the tenant row; true when it existed. */
  async delete(id: string): Promise<boolean> {
    for (const hook of this.deletionHooks) await hook(id);
    const result = await this.pool.query('DELETE FROM tenants WHERE id = $1', [id]);
    return (result.rowCount ?? 0) > 0;
  }

  /** The oldest tenant with this name (names are not unique), or null. */
  async findByName(name: string): Promise<Tenant | null> {
    const { rows } = await this.pool.query<TenantRow>(
      'SELECT id, name, created_at FROM tenants WHERE name = $1 ORDER BY created_at, id LIMIT 1',
      [name],
    );
    return rows[0] ? toTenant(rows[0]) : null;
  }
}

function toTenant(row: TenantRow): Tenant {
  return { id: row.id, name: row.name, createdAt: row.created_at };
}
