/**
 * Which Redis the cluster runs on, and the ONE factory that builds every ioredis client for it
 * (docs/redis.md):
 *
 * - `single`: one Redis node, `REDIS_URL`.
 * - `cluster`: Redis Cluster, `REDIS_CLUSTER_NODES` (comma-separated `host:port` seed nodes).
 *   The bus then uses sharded pub/sub (`@diaryx-sync/bus` `BusPubSub`).
 * - `sentinel`: a Sentinel-managed primary/replica set, `REDIS_SENTINELS` (comma-separated
 *   `host:port` of the sentinels) + `REDIS_SENTINEL_NAME` (the monitored master's name).
 *
 * `REDIS_PASSWORD` and `REDIS_TLS` apply to the data nodes of a cluster or sentinel set (a
 * single node takes them from its `REDIS_URL`, `rediss://user:pass@…`).
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { ServiceConfig } from './config';

/** A command or subscriber client of any topology. */
export type RedisClient = Redis | Cluster;

/** `host:port` of one Redis node or sentinel. */
export interface RedisNodeAddress {
  host: string;
  port: number;
}

/** The Redis deployment the services talk to. */
export type RedisTopology =
  | { kind: 'single'; url: string }
  | { kind: 'cluster'; nodes: RedisNodeAddress[]; password?: string; tls: boolean }
  | {
      kind: 'sentinel';
      sentinels: RedisNodeAddress[];
      name: string;
      password?: string;
      tls: boolean;
    };

/** The settings {@link redisTopologyOf} reads (a subset of `ServiceConfig`). */
export type RedisSettings = Pick<
  ServiceConfig,
  | 'REDIS_URL'
  | 'REDIS_CLUSTER_NODES'
  | 'REDIS_SENTINELS'
  | 'REDIS_SENTINEL_NAME'
  | 'REDIS_PASSWORD'
  | 'REDIS_TLS'
>;

/** Error for contradictory Redis settings (both cluster and sentinel, sentinel without a name). */
export class RedisTopologyError extends Error {
  override readonly name = 'RedisTopologyError';
}

/** The topology the settings select (see module doc). */
export function redisTopologyOf(cfg: RedisSettings): RedisTopology {
  const tls = cfg.REDIS_TLS === 'true';
  const password = cfg.REDIS_PASSWORD;
  if (cfg.REDIS_CLUSTER_NODES && cfg.REDIS_SENTINELS)
    throw new RedisTopologyError('set REDIS_CLUSTER_NODES or REDIS_SENTINELS, not both');
  if (cfg.REDIS_CLUSTER_NODES)
    return { kind: 'cluster', nodes: cfg.REDIS_CLUSTER_NODES, tls, ...(password ? { password } : {}) };
  if (cfg.REDIS_SENTINELS) {
    if (!cfg.REDIS_SENTINEL_NAME)
      throw new RedisTopologyError('REDIS_SENTINELS needs REDIS_SENTINEL_NAME (the monitored master name)');
    return {
      kind: 'sentinel',
      sentinels: cfg.REDIS_SENTINELS,
      name: cfg.REDIS_SENTINEL_NAME,
      tls,
      ...(password ? { password } : {}),
    };
  }
  return { kind: 'single', url: cfg.REDIS_URL };
}

/** The topology's environment variables (to hand to a child process). */
export function redisTopologyEnv(t: RedisTopology): Record<string, string> {
  const list = (a: RedisNodeAddress[]) => a.map((n) => `${n.host}:${n.port}`).join(',');
  switch (t.kind) {
    case 'single':
      return { REDIS_URL: t.url };
    case 'cluster':
      return {
        REDIS_CLUSTER_NODES: list(t.nodes),
        REDIS_TLS: String(t.tls),
        ...(t.password ? { REDIS_PASSWORD: t.password } : {}),
      };
    case 'sentinel':
      return {
        REDIS_SENTINELS: list(t.sentinels),
        REDIS_SENTINEL_NAME: t.name,
        REDIS_TLS: String(t.tls),
        ...(t.password ? { REDIS_PASSWORD: t.password } : {}),
      };
  }
}

/** Human-readable, password-free description (logs, errors). */
export function describeRedis(t: RedisTopology): string {
  switch (t.kind) {
    case 'single':
      return withoutPassword(t.url);
    case 'cluster':
      return `cluster ${t.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
    case 'sentinel':
      return `sentinel ${t.name}@${t.sentinels.map((n) => `${n.host}:${n.port}`).join(',')}`;
  }
}

/** Options of {@link createRedis}. */
export interface CreateRedisOptions {
  /** Extra ioredis options (per node on a cluster). */
  redisOptions?: RedisOptions;
}

/**
 * Builds a client for `topology`. Commands never give up while Redis is away
 * (`maxRetriesPerRequest: null`, as BullMQ requires).
 */
export function createRedis(topology: RedisTopology, options: CreateRedisOptions = {}): RedisClient {
  const base: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: true, ...options.redisOptions };
  switch (topology.kind) {
    case 'single':
      return new Redis(topology.url, base);
    case 'sentinel':
      return new Redis({
        ...base,
        sentinels: topology.sentinels,
        name: topology.name,
        ...(topology.password ? { password: topology.password } : {}),
        ...(topology.tls ? { tls: {}, enableTLSForSentinelMode: true } : {}),
      });
    case 'cluster': {
      const clusterOptions: ClusterOptions = {
        // BullMQ (blocking commands) and the bus need commands to wait through a failover.
        maxRedirections: 64,
        retryDelayOnFailover: 200,
        retryDelayOnClusterDown: 200,
        retryDelayOnTryAgain: 200,
        slotsRefreshTimeout: 2000,
        slotsRefreshInterval: 2000,
        lazyConnect: base.lazyConnect === true,
        redisOptions: {
          ...base,
          ...(topology.password ? { password: topology.password } : {}),
          ...(topology.tls ? { tls: {} } : {}),
        },
      };
      return new Cluster(topology.nodes, clusterOptions);
    }
  }
}

function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}
