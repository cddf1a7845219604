import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { BusPubSub, publishOnBus } from '@diaryx-sync/bus';
import type { Logger, RedisClient } from '@diaryx-sync/runtime';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { REDIS, ROOT_LOGGER } from '../infra/infra.tokens';
import { TokenStore } from '../tenancy/token.store';

/** Called with the id of each token revoked anywhere in the cluster (once per gateway). */
export type RevocationListener = (jti: string) => void;

/** How often the revoked ids are re-read from PostgreSQL (a missed pub/sub message heals then). */
export const REVOCATION_REFRESH_MS = 5000;

/**
 * Bus channel announcing revoked token ids to every gateway (classic pub/sub on one Redis or
 * Sentinel, sharded on Redis Cluster: docs/redis.md).
 */
export function tokenRevocationsChannel(prefix: string): string {
  return `${prefix}:token-revocations`;
}

/**
 * The revoked token ids of the cluster, held in memory so that checking a token costs no I/O
 * (docs/protocol.md#tokens). Source of truth: `api_tokens.revoked_at` in PostgreSQL, re-read every
 * {@link REVOCATION_REFRESH_MS}; a revocation is also published on Redis, so every gateway knows
 * it (and closes the sockets authenticated with it, via {@link onRevoked}) within milliseconds.
 */
@Injectable()
export class TokenRevocations implements OnApplicationBootstrap, OnApplicationShutdown {
  private revoked = new Set<string>();
  private readonly listeners: RevocationListener[] = [];
  private subscriber: BusPubSub | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly channel: string;
  private readonly logger: Logger;

  constructor(
    private readonly tokens: TokenStore,
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    @Inject(ROOT_LOGGER) rootLogger: Logger,
  ) {
    this.channel = tokenRevocationsChannel(config.REDIS_PREFIX);
    this.logger = rootLogger.child({ component: 'token-revocations' });
  }

  /** True when the token `jti` was revoked (and has not expired yet). */
  isRevoked(jti: string): boolean {
    return this.revoked.has(jti);
  }

  /** Registers a listener for revocations (this gateway's and the others'). */
  onRevoked(listener: RevocationListener): void {
    this.listeners.push(listener);
  }

  /** Announces revoked ids (already stored in PostgreSQL) to every gateway, this one included. */
  async announce(jtis: readonly string[]): Promise<void> {
    for (const jti of jtis) this.add(jti);
    if (jtis.length === 0) return;
    const message = Buffer.from(JSON.stringify(jtis));
    await publishOnBus(this.redis, this.channel, message).catch((err: Error) => {
      this.logger.warn(
        { err: err.message },
        'revocation not published; other gateways learn it from PostgreSQL',
      );
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.refresh();
    const subscriber = (this.subscriber = new BusPubSub({
      redis: this.redis,
      onMessage: (_channel, message) => {
        try {
          const ids: unknown = JSON.parse(message.toString('utf8'));
          if (Array.isArray(ids)) for (const id of ids) if (typeof id === 'string') this.add(id);
        } catch {
          // not ours: ignore
        }
      },
      // messages of the disrupted window may be lost: read the revoked ids again
      onResubscribed: () => {
        this.refresh().catch((err: Error) =>
          this.logger.warn({ err: err.message }, 'reading revoked tokens failed'),
        );
      },
      onError: (err) => this.logger.warn({ err: err.message }, 'revocation subscriber error'),
    }));
    await subscriber.subscribe(this.channel);
    this.timer = setInterval(() => {
      this.refresh().catch((err: Error) =>
        this.logger.warn({ err: err.message }, 'reading revoked tokens failed'),
      );
    }, REVOCATION_REFRESH_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.subscriber?.close();
  }

  private async refresh(): Promise<void> {
    const ids = await this.tokens.revokedIds();
    const fresh = new Set(ids);
    for (const id of fresh) if (!this.revoked.has(id)) this.notify(id);
    this.revoked = fresh;
  }

  private add(jti: string): void {
    if (this.revoked.has(jti)) return;
    this.revoked.add(jti);
    this.notify(jti);
  }

  private notify(jti: string): void {
    for (const listener of this.listeners) {
      try {
        listener(jti);
      } catch (err) {
        this.logger.error({ err: (err as Error).message }, 'revocation listener failed');
      }
    }
  }
}
