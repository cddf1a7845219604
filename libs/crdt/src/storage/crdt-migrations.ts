/**
 * The PostgreSQL schema of `PostgresStorage` (numbered migrations, bookkeeping in
 * `crdt_migrations`).
 */
import type { Migration } from '../migrations';

/** Bookkeeping table of the crdt migrations. */
export const CRDT_MIGRATIONS_TABLE = 'crdt_migrations';

/** The crdt tables: `crdt_updates` (update log) and `crdt_snapshots` (one row per doc). */
export const CRDT_MIGRATIONS: Migration[] = [
  {
    id: 1,
    name: 'update log and snapshots',
    sql: `
      CREATE TABLE crdt_updates (
        id bigserial PRIMARY KEY,
        tenant text NOT NULL,
        doc text NOT NULL,
        data bytea NOT NULL,
        origin text NOT NULL DEFAULT 'local',
        device_id text,
        device_name text,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX crdt_updates_tenant_doc_id_idx ON crdt_updates (tenant, doc, id);
      CREATE TABLE crdt_snapshots (
        tenant text NOT NULL,
        doc text NOT NULL,
        snapshot bytea NOT NULL,
        state_vector bytea NOT NULL,
        last_update_id bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant, doc)
      );
    `,
  },
];
