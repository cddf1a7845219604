import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { ClusterClient } from '@diaryx-sync/bus';
import {
  createLogger,
  createPgPool,
  createRedis,
  redisTopologyOf,
  type Logger,
  type RedisClient,
} from '@diaryx-sync/runtime';
import type { Pool } from 'pg';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { GATEWAY_INSTANCE_ID, PG_POOL, REDIS, ROOT_LOGGER } from './infra.tokens';

/** A process-unique id such as `gw-myhost-1234-a1b2c3`. */
export function newGatewayInstanceId(): string {
  return `gw-${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/**
 * Global connections shared by the gateway's modules: {@link PG_POOL}, {@link REDIS} (commands
 * only), {@link ROOT_LOGGER}, {@link GATEWAY_INSTANCE_ID} and a `ClusterClient` (server-side
 * forward updates through the owning shard; inject it by class). Closed when the app shuts down.
 */
@Global()
@Module({
  providers: [
    {
      provide: PG_POOL,
      inject: [GATEWAY_CONFIG],
      useFactory: (config: GatewayConfig): Pool => createPgPool(config.DATABASE_URL),
    },
    {
      provide: REDIS,
      inject: [GATEWAY_CONFIG],
      useFactory: (config: GatewayConfig): RedisClient => {
        const redis = createRedis(redisTopologyOf(config));
        redis.on('error', () => undefined); // reconnects by itself; /readyz reports the outage
        return redis;
      },
    },
    {
      provide: ROOT_LOGGER,
      inject: [GATEWAY_CONFIG],
      useFactory: (config: GatewayConfig): Logger => createLogger('gateway', config.LOG_LEVEL),
    },
    { provide: GATEWAY_INSTANCE_ID, useFactory: newGatewayInstanceId },
    {
      provide: ClusterClient,
      inject: [REDIS, GATEWAY_CONFIG],
      useFactory: (redis: RedisClient, config: GatewayConfig): ClusterClient =>
        new ClusterClient({
          redis,
          prefix: config.REDIS_PREFIX,
          shardCount: config.SHARD_COUNT,
          timeoutMs: config.RESTORE_TIMEOUT_MS,
        }),
    },
  ],
  exports: [PG_POOL, REDIS, ROOT_LOGGER, GATEWAY_INSTANCE_ID, ClusterClient],
})
export class InfraModule implements OnApplicationShutdown {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly cluster: ClusterClient,
  ) {}

  /** Runs after every other module's shutdown hooks, so they can still use the connections. */
  async onApplicationShutdown(): Promise<void> {
    await this.cluster.close().catch(() => undefined);
    await this.redis.quit().catch(() => this.redis.disconnect());
    await this.pool.end().catch(() => undefined);
  }
}
