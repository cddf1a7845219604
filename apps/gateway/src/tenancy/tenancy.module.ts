import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { runMigrations } from '@diaryx-sync/crdt';
import type { Pool } from 'pg';
import { PG_POOL } from '../infra/infra.tokens';
import { TENANCY_MIGRATIONS, TENANCY_MIGRATIONS_TABLE } from './tenancy.migrations';
import { TenantStore } from './tenant.store';
import { WorkspaceStore } from './workspace.store';

/**
 * Tenants and workspaces in PostgreSQL. Runs the gateway's numbered migrations on start-up
 * (before the app listens). Needs the global `InfraModule` (PG pool) and config.
 */
@Module({
  providers: [TenantStore, WorkspaceStore],
  exports: [TenantStore, WorkspaceStore],
})
export class TenancyModule implements OnModuleInit {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async onModuleInit(): Promise<void> {
    await runMigrations(this.pool, { table: TENANCY_MIGRATIONS_TABLE, migrations: TENANCY_MIGRATIONS });
  }
}
