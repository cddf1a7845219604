/**
 * Connections to the backing services, with fail-fast checks that say what to start when a
 * dependency is down (DEVELOPERS.md: "fail fast with a message that says what to start").
 */
import { Redis, type RedisOptions } from 'ioredis';
import { Pool, type PoolConfig } from 'pg';

export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, ...options });
}

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

/** Pings Redis once; throws {@link DependencyUnavailableError} with a how-to-start hint. */
export async function assertRedisReachable(url: string, timeoutMs = 3000): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new DependencyUnavailableError(
      `Redis is not reachable at ${redactUrl(url)} (${(err as Error).message}). Start it, e.g.:\n` +
        `  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no\n` +
        `or set REDIS_URL.`,
    );
  } finally {
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
