/**
 * Connections to the backing services, with fail-fast checks that say what to start when a
 * dependency is down (DEVELOPERS.md: "fail fast with a message that says what to start").
 */
import { Pool, type PoolConfig } from 'pg';
import { createRedis, describeRedis, type RedisTopology } from './redis-topology';

export function createPgPool(connectionString: string, config: PoolConfig = {}): Pool {
  const pool = new Pool({ connectionString, max: 10, ...config });
  // An idle client error must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}

/** Error raised when a required backing service cannot be reached. */
export class DependencyUnavailableError extends Error {
  override readonly name = 'DependencyUnavailableError';
}

/**
 * Pings Redis once (on a cluster: once the slot map is loaded); throws
 * {@link DependencyUnavailableError} with a how-to-start hint.
 */
export async function assertRedisReachable(topology: RedisTopology, timeoutMs = 3000): Promise<void> {
  const redis = createRedis(topology, {
    redisOptions: {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      connectTimeout: timeoutMs,
      retryStrategy: () => null,
    },
  });
  redis.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect().then(() => redis.ping()),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    throw new DependencyUnavailableError(
      `Redis is not reachable at ${describeRedis(topology)} (${(err as Error).message}). Start it, e.g.:\n` +
        `  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no\n` +
        `or set REDIS_URL (or REDIS_CLUSTER_NODES / REDIS_SENTINELS, docs/redis.md).`,
    );
  } finally {
    clearTimeout(timer);
    redis.disconnect();
  }
}

/** Runs `SELECT 1`; throws {@link DependencyUnavailableError} with a how-to-start hint. */
export async function assertPostgresReachable(connectionString: string, timeoutMs = 3000): Promise<void> {
  const pool = new Pool({ connectionString, max: 1, connectionTimeoutMillis: timeoutMs });
  pool.on('error', () => undefined);
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    throw new DependencyUnavailableError(
      `PostgreSQL is not reachable at ${redactUrl(connectionString)} (${(err as Error).message}). Start it, e.g.:\n` +
        `  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n` +
        `or set DATABASE_URL.`,
    );
  } finally {
    await pool.end().catch(() => undefined);
  }
}

/** Hides the password part of a connection URL for logs and error messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@]+)@/, '//$1:***@');
}
