/**
 * The PostgreSQL schema the gateway reads and writes: the crdt tables (doc services' update log),
 * its own tenancy tables and the history tables. Each start-up hook calls {@link prepareGatewaySchema}
 * for the set it owns; the one-shot `migrate` command (src/migrate.ts) applies {@link ALL_SCHEMA_SETS}.
 */
import {
  CRDT_MIGRATIONS,
  CRDT_MIGRATIONS_TABLE,
  prepareSchema,
  type RunMigrationsOptions,
} from '@diaryx-sync/crdt/postgres';
import { HISTORY_MIGRATIONS, HISTORY_MIGRATIONS_TABLE } from '@diaryx-sync/git-store';
import { migrationSettingsOf } from '@diaryx-sync/runtime';
import type { Pool } from 'pg';
import type { GatewayConfig } from '../config/gateway-config';
import { TENANCY_MIGRATIONS, TENANCY_MIGRATIONS_TABLE } from '../tenancy/tenancy.migrations';

/** `crdt_migrations`: updates, snapshots (libs/crdt). */
export const CRDT_SCHEMA: RunMigrationsOptions = {
  table: CRDT_MIGRATIONS_TABLE,
  migrations: CRDT_MIGRATIONS,
};
/** `gateway_migrations`: tenants, workspaces. */
export const TENANCY_SCHEMA: RunMigrationsOptions = {
  table: TENANCY_MIGRATIONS_TABLE,
  migrations: TENANCY_MIGRATIONS,
};
/** `history_migrations`: git refs, workspace health, audit log (libs/git-store). */
export const HISTORY_SCHEMA: RunMigrationsOptions = {
  table: HISTORY_MIGRATIONS_TABLE,
  migrations: HISTORY_MIGRATIONS,
};
/** Every migration of every service, in the order `migrate` applies them. */
export const ALL_SCHEMA_SETS: RunMigrationsOptions[] = [CRDT_SCHEMA, TENANCY_SCHEMA, HISTORY_SCHEMA];

/**
 * Applies `set` when `MIGRATE_ON_START` says so (development, tests), otherwise checks it and
 * fails start-up with a message naming the pending migrations (production).
 */
export async function prepareGatewaySchema(
  pool: Pool,
  config: GatewayConfig,
  set: RunMigrationsOptions,
): Promise<void> {
  const settings = migrationSettingsOf(config);
  await prepareSchema(pool, [set], {
    migrate: settings.migrateOnStart,
    lockTimeoutMs: settings.lockTimeoutMs,
  });
}
