import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import type { Pool } from 'pg';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { PG_POOL } from '../infra/infra.tokens';
import { TENANCY_SCHEMA, prepareGatewaySchema } from '../infra/schema';
import { TenantStore } from './tenant.store';
import { TokenStore } from './token.store';
import { WorkspaceStore } from './workspace.store';

/**
 * Tenants and workspaces in PostgreSQL. Runs the gateway's numbered migrations on start-up
 * (before the app listens), or only checks them when `MIGRATE_ON_START=false` (infra/schema.ts).
 * Needs the global `InfraModule` (PG pool) and config.
 */
@Module({
  providers: [TenantStore, WorkspaceStore, TokenStore],
  exports: [TenantStore, WorkspaceStore, TokenStore],
})
export class TenancyModule implements OnModuleInit {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    await prepareGatewaySchema(this.pool, this.config, TENANCY_SCHEMA);
  }
}
