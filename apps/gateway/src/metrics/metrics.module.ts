import {
  Global,
  Inject,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  createMetrics,
  startMetricsServer,
  type DiaryxMetrics,
  type MetricsServer,
} from '@diaryx-sync/runtime';
import { Registry } from 'prom-client';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { GATEWAY_INSTANCE_ID } from '../infra/infra.tokens';
import { HttpMetricsMiddleware } from './http-metrics.middleware';
import { MetricsController } from './metrics.controller';
import { DIARYX_METRICS } from './metrics.tokens';

/**
 * Global metrics: one prom-client `Registry` per app (injectable by class), carrying default
 * process metrics and the shared `diaryx_*` catalogue of `@diaryx-sync/runtime` (inject
 * {@link DIARYX_METRICS} for the typed handles). Serves `GET /metrics` on the main port, or, with
 * `METRICS_PORT` set, on a separate listener of that port only (deploy/README.md "Metrics").
 */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [
    { provide: Registry, useFactory: () => new Registry() },
    {
      provide: DIARYX_METRICS,
      inject: [Registry, GATEWAY_INSTANCE_ID],
      useFactory: (registry: Registry, instanceId: string): DiaryxMetrics =>
        createMetrics(registry, { service: 'gateway', instanceId }),
    },
    HttpMetricsMiddleware,
  ],
  exports: [Registry, DIARYX_METRICS],
})
export class MetricsModule implements NestModule, OnApplicationBootstrap, OnApplicationShutdown {
  private server: MetricsServer | undefined;

  constructor(
    @Inject(DIARYX_METRICS) private readonly metrics: DiaryxMetrics,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.METRICS_PORT > 0)
      this.server = await startMetricsServer({
        port: this.config.METRICS_PORT,
        host: this.config.BIND_HOST,
        registry: this.metrics.registry,
      });
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes('*');
  }

  async onApplicationShutdown(): Promise<void> {
    this.metrics.stop();
    await this.server?.close();
  }
}
