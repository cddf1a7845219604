/**
 * PostgreSQL schema owned by the history side (git refs, workspace health, audit log), as
 * numbered migrations run with `runMigrations` from `@diaryx-sync/crdt` (bookkeeping table
 * `history_migrations`). Table names are unqualified: the connection's `search_path` decides.
 */
import type { Pool } from 'pg';
import { runMigrations, type Migration } from '@diaryx-sync/crdt/postgres';

/** Bookkeeping table of the history migrations. */
export const HISTORY_MIGRATIONS_TABLE = 'history_migrations';

/** `git_refs`, `workspace_health`, `history_audit`, `webhooks`, `webhook_deliveries`. */
export const HISTORY_MIGRATIONS: Migration[] = [
  {
    id: 1,
    name: 'git refs',
    sql: `CREATE TABLE git_refs (
            tenant text NOT NULL,
            workspace text NOT NULL,
            name text NOT NULL,
            value text NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant, workspace, name)
          )`,
  },
  {
    id: 2,
    name: 'workspace health',
    sql: `CREATE TABLE workspace_health (
            tenant text NOT NULL,
            workspace text NOT NULL,
            consecutive_failures integer NOT NULL DEFAULT 0,
            tracker jsonb NOT NULL DEFAULT '{}'::jsonb,
            last_issues jsonb NOT NULL DEFAULT '[]'::jsonb,
            last_checked_at timestamptz,
            last_ok_at timestamptz,
            last_good_commit text,
            PRIMARY KEY (tenant, workspace)
          )`,
  },
  {
    id: 3,
    name: 'history audit',
    sql: `CREATE TABLE history_audit (
            id bigserial PRIMARY KEY,
            tenant text NOT NULL,
            workspace text NOT NULL,
            event text NOT NULL,
            actor text NOT NULL,
            commit_id text,
            backup_key text,
            details jsonb NOT NULL DEFAULT '{}'::jsonb,
            created_at timestamptz NOT NULL DEFAULT now()
          );
          CREATE INDEX history_audit_ws_idx ON history_audit (tenant, workspace, id DESC);
          CREATE INDEX history_audit_created_idx ON history_audit (created_at DESC)`,
  },
  {
    id: 4,
    name: 'webhooks',
    sql: `CREATE TABLE webhooks (
            id text PRIMARY KEY,
            tenant text NOT NULL,
            workspace text NOT NULL,
            url text NOT NULL,
            events text[] NOT NULL,
            secret text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
          );
          CREATE INDEX webhooks_ws_idx ON webhooks (tenant, workspace)`,
  },
  {
    id: 5,
    name: 'webhook deliveries',
    sql: `CREATE TABLE webhook_deliveries (
            id bigserial PRIMARY KEY,
            tenant text NOT NULL,
            workspace text NOT NULL,
            webhook_id text NOT NULL,
            event_type text NOT NULL,
            event_id text NOT NULL,
            url_host text NOT NULL,
            attempt integer NOT NULL,
            outcome text NOT NULL,
            http_status integer,
            error text,
            duration_ms integer NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
          );
          CREATE INDEX webhook_deliveries_created_idx ON webhook_deliveries (created_at)`,
  },
];

/** Applies the history migrations (idempotent; safe when processes start concurrently). */
export async function ensureGitStoreSchema(pool: Pool): Promise<void> {
  await runMigrations(pool, { table: HISTORY_MIGRATIONS_TABLE, migrations: HISTORY_MIGRATIONS });
}
