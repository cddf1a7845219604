import {
  Global,
  Inject,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { createMetrics, type DiaryxMetrics } from '@diaryx-sync/runtime';
import { Registry } from 'prom-client';
import { GATEWAY_INSTANCE_ID } from '../infra/infra.tokens';
import { HttpMetricsMiddleware } from './http-metrics.middleware';
import { MetricsController } from './metrics.controller';
import { DIARYX_METRICS } from './metrics.tokens';

/**
 * Global metrics: one prom-client `Registry` per app (injectable by class), carrying default
 * process metrics and the shared `diaryx_*` catalogue of `@diaryx-sync/runtime` (inject
 * {@link DIARYX_METRICS} for the typed handles). Serves `GET /metrics`.
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
export class MetricsModule implements NestModule, OnApplicationShutdown {
  constructor(@Inject(DIARYX_METRICS) private readonly metrics: DiaryxMetrics) {}

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes('*');
  }

  onApplicationShutdown(): void {
    this.metrics.stop();
  }
}
