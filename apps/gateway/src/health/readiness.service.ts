import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { listInstances } from '@diaryx-sync/bus';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { REDIS } from '../infra/infra.tokens';
import type { RedisClient } from '@diaryx-sync/runtime';

/** Outcome of one readiness evaluation. */
export interface ReadinessReport {
  ready: boolean;
  checks: {
    redis: 'ok' | 'unreachable';
    doc_services: number;
    draining: boolean;
  };
}

const CHECK_TIMEOUT_MS = 1500;

/**
 * Readiness of the gateway: Redis answers PING, at least one doc-service heartbeat
 * (`${REDIS_PREFIX}:instance:doc-service:*`, written every 2 s with a ~6 s TTL) is alive, and
 * the app is not shutting down.
 */
@Injectable()
export class ReadinessService implements BeforeApplicationShutdown {
  private draining = false;
  private readonly prefix: string;

  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.prefix = config.REDIS_PREFIX;
  }

  /** From now on the gateway reports not ready (load balancers stop routing before sockets close). */
  beforeApplicationShutdown(): void {
    this.draining = true;
  }

  async check(): Promise<ReadinessReport> {
    let redis: ReadinessReport['checks']['redis'] = 'ok';
    let docServices = 0;
    try {
      await withTimeout(this.redis.ping(), CHECK_TIMEOUT_MS);
      docServices = await withTimeout(this.countDocServices(), CHECK_TIMEOUT_MS);
    } catch {
      redis = 'unreachable';
    }
    const ready = !this.draining && redis === 'ok' && docServices > 0;
    return { ready, checks: { redis, doc_services: docServices, draining: this.draining } };
  }

  private async countDocServices(): Promise<number> {
    return (await listInstances(this.redis, this.prefix, 'doc-service')).length;
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
