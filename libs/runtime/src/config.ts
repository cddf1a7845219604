/**
 * Service configuration from environment variables, the same variables in every service
 * (docs/architecture.md#configuration). Defaults point at localhost so `npm start` works on a
 * developer machine. Parsed once with `zod`; a bad value fails start-up with a clear message.
 */
import { z } from 'zod';
import type { RedisNodeAddress } from './redis-topology';

/** Development defaults of the secrets (deployments must override them; see deploy/README.md). */
export const DEV_JWT_SECRET = 'dev-only-jwt-secret-change-me';
export const DEV_ADMIN_TOKEN = 'dev-admin-token';

const intFromEnv = (def: number) => z.coerce.number().int().nonnegative().default(def);

/** An empty variable (`VAR=` in a compose .env file) counts as unset. */
const emptyAsUnset = (v: unknown) => (v === '' ? undefined : v);

/** Comma-separated `host:port` list (Redis Cluster seed nodes, sentinels). */
const hostPortList = z.string().transform((s, ctx): RedisNodeAddress[] => {
  const out: RedisNodeAddress[] = [];
  for (const part of s
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(part);
    const port = m ? Number(m[2]) : NaN;
    if (!m || port < 1 || port > 65535) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${part}" is not host:port` });
      return z.NEVER;
    }
    out.push({ host: m[1]!.replace(/^\[|\]$/g, ''), port });
  }
  if (out.length === 0) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'needs at least one host:port' });
    return z.NEVER;
  }
  return out;
});

export const serviceConfigSchema = z.object({
  NODE_ENV: z.string().default('development'),
  /** One Redis node (docs/redis.md: REDIS_CLUSTER_NODES or REDIS_SENTINELS select the others). */
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  /** Comma-separated `host:port` seed nodes: selects Redis Cluster. */
  REDIS_CLUSTER_NODES: z.preprocess(emptyAsUnset, hostPortList.optional()),
  /** Comma-separated `host:port` of the sentinels: selects Sentinel (with REDIS_SENTINEL_NAME). */
  REDIS_SENTINELS: z.preprocess(emptyAsUnset, hostPortList.optional()),
  /** Name of the master the sentinels monitor. */
  REDIS_SENTINEL_NAME: z.preprocess(emptyAsUnset, z.string().min(1).optional()),
  /** Password of the Redis Cluster / sentinel-managed data nodes. */
  REDIS_PASSWORD: z.preprocess(emptyAsUnset, z.string().min(1).optional()),
  /** `true`: TLS to the Redis Cluster / sentinel-managed data nodes. */
  REDIS_TLS: z.enum(['true', 'false']).default('false'),
  /** Prefix of every Redis key, channel and BullMQ queue: lets several clusters share one Redis. */
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/)
    .default('dx'),
  DATABASE_URL: z.string().default('postgres://postgres@127.0.0.1:5432/test'),
  S3_ENDPOINT: z.string().url().default('http://127.0.0.1:9000'),
  S3_ACCESS_KEY: z.string().default('S3RVER'),
  S3_SECRET_KEY: z.string().default('S3RVER'),
  S3_BUCKET: z.string().default('diaryx-sync'),
  S3_REGION: z.string().default('us-east-1'),
  JWT_SECRET: z.string().min(1).default(DEV_JWT_SECRET),
  ADMIN_TOKEN: z.string().min(1).default(DEV_ADMIN_TOKEN),
  SHARD_COUNT: intFromEnv(64).pipe(z.number().min(1).max(4096)),
  PORT: intFromEnv(8080),
  /**
   * Interface every listener of the service binds (main port, ops/metrics port). Loopback by
   * default, so `npm start` exposes nothing to the network; the container image sets `0.0.0.0`
   * (docs/architecture.md#configuration).
   */
  BIND_HOST: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type ServiceConfig = z.infer<typeof serviceConfigSchema>;

/** Error thrown when the environment holds an invalid setting. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Parses the common settings from `env`. Unknown variables are ignored; each app may parse its
 * own extra settings with {@link parseEnv}.
 */
export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  return parseEnv(serviceConfigSchema, env);
}

/** Parses `env` with any zod object schema, turning failures into one readable {@link ConfigError}. */
export function parseEnv<S extends z.ZodTypeAny>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return result.data;
}
