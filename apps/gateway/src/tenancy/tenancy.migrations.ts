import type { Migration } from '@diaryx-sync/crdt/postgres';

/** Bookkeeping table of the gateway's own migrations. */
export const TENANCY_MIGRATIONS_TABLE = 'gateway_migrations';

/**
 * Numbered migrations of the tables the gateway owns (`tenants`, `workspaces`, `workspace_shares`). Append only:
 * never edit an applied migration, add a new id instead. Workspaces are keyed by
 * `(tenant_id, id)`: equal workspace ids in two tenants are two workspaces. No foreign key to
 * `tenants`: a token signed with the cluster secret may name a tenant created elsewhere.
 */
export const TENANCY_MIGRATIONS: Migration[] = [
  {
    id: 1,
    name: 'tenants and workspaces',
    sql: `
      CREATE TABLE IF NOT EXISTS tenants (
        id         text PRIMARY KEY,
        name       text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE IF NOT EXISTS workspaces (
        tenant_id  text NOT NULL,
        id         text NOT NULL,
        name       text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id)
      );
    `,
  },
  {
    id: 2,
    name: 'tenant names are labels, not keys',
    // docs/protocol.md#http-api: every POST /api/tenants creates a tenant (201); only the generated id is unique.
    sql: `
      ALTER TABLE tenants DROP CONSTRAINT IF EXISTS tenants_name_key;
      CREATE INDEX IF NOT EXISTS tenants_name_idx ON tenants (name);
    `,
  },
  {
    id: 3,
    name: 'share links',
    // docs/protocol.md#share-links: only the SHA-256 of a join code is stored.
    sql: `
      CREATE TABLE IF NOT EXISTS workspace_shares (
        tenant_id    text NOT NULL,
        id           text NOT NULL,
        workspace_id text NOT NULL,
        role         text NOT NULL CHECK (role IN ('viewer', 'editor')),
        code_hash    bytea NOT NULL UNIQUE,
        created_by   text NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        expires_at   timestamptz NOT NULL,
        revoked_at   timestamptz,
        PRIMARY KEY (tenant_id, id)
      );
      CREATE INDEX IF NOT EXISTS workspace_shares_workspace_idx ON workspace_shares (tenant_id, workspace_id);
    `,
  },
  {
    id: 4,
    name: 'minted tokens (jti) and their revocation',
    // docs/protocol.md#tokens: tokens minted through the API, listed and revoked by jti.
    sql: `
      CREATE TABLE IF NOT EXISTS api_tokens (
        tenant_id  text NOT NULL,
        jti        text PRIMARY KEY,
        sub        text NOT NULL,
        ws         jsonb NOT NULL,
        role       text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz
      );
      CREATE INDEX IF NOT EXISTS api_tokens_tenant_idx ON api_tokens (tenant_id, jti);
      CREATE INDEX IF NOT EXISTS api_tokens_revoked_idx ON api_tokens (expires_at) WHERE revoked_at IS NOT NULL;
    `,
  },
];
