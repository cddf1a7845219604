import { type DynamicModule, Module } from '@nestjs/common';
import { ApiModule } from './api/api.module';
import { AttachmentsModule } from './attachments/attachments.module';
import { AuthModule } from './auth/auth.module';
import type { GatewayConfig } from './config/gateway-config';
import { GatewayConfigModule } from './config/gateway-config.module';
import { HealthModule } from './health/health.module';
import { HistoryModule } from './history/history.module';
import { InfraModule } from './infra/infra.module';
import { MetricsModule } from './metrics/metrics.module';
import { OpsModule } from './ops/ops.module';
import { PlaygroundModule } from './playground/playground.module';
import { ShareStoreModule } from './shares/share-store.module';
import { SharesModule } from './shares/shares.module';
import { SyncModule } from './sync/sync.module';
import { TenancyModule } from './tenancy/tenancy.module';

/**
 * Root module of the gateway. Global: configuration ({@link GatewayConfigModule}), connections
 * ({@link InfraModule}: PG pool, Redis, logger, instance id) and metrics ({@link MetricsModule}).
 * Feature modules: HTTP API, share links, health, WebSocket sync, history, ops, the `/play` playground.
 */
@Module({})
export class AppModule {
  /** The module tree for `config` (the only source of settings; process.env is not read here). */
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        GatewayConfigModule.forRoot(config),
        InfraModule,
        MetricsModule,
        AuthModule,
        TenancyModule,
        ShareStoreModule,
        ApiModule,
        SharesModule,
        HealthModule,
        SyncModule,
        HistoryModule,
        AttachmentsModule,
        OpsModule,
        PlaygroundModule,
      ],
    };
  }
}
