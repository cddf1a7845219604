/**
 * The PostgreSQL schema of `PostgresStorage` (numbered migrations, bookkeeping in
 * `crdt_migrations`).
 */
import type { Migration } from '../migrations';

/** Bookkeeping table of the crdt migrations. */
export const CRDT_MIGRATIONS_TABLE = 'crdt_migrations';

/**
 * The crdt tables: `crdt_updates` (update log), `crdt_snapshots` (one row per doc) and
 * `shard_fences` (current fencing token per shard, checked by fenced appends).
 */
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
  {
    id: 2,
    name: 'shard fences and fenced update rows',
    // The fence inside the database (docs/fencing.md): the current fencing token of each shard,
    // and on every update row the shard and token it was written under (NULL: written unfenced).
    sql: `
      CREATE TABLE shard_fences (
        shard integer PRIMARY KEY,
        token bigint NOT NULL,
        owner text NOT NULL,
        acquired_at timestamptz NOT NULL DEFAULT now()
      );
      ALTER TABLE crdt_updates ADD COLUMN fence_shard integer, ADD COLUMN fence_token bigint;
    `,
  },
  {
    id: 3,
    name: 'update authors',
    // Who changed what (docs/protocol.md#who-changed-what): the token subject of the connection
    // that sent the update, next to the existing device_id (connection id) and device_name.
    sql: `ALTER TABLE crdt_updates ADD COLUMN user_id text;`,
  },
];
