import {
  loadServiceConfig,
  migrationSettingsShape,
  parseEnv,
  serviceConfigSchema,
} from '@diaryx-sync/runtime';
import { z } from 'zod';
import { historyConfigSchema } from '../history/history-config';
import { syncEnvSchema } from '../sync/sync-config';

const positiveInt = (def: number) => z.coerce.number().int().positive().default(def);

/**
 * Gateway settings, all with defaults: the shared service variables (`loadServiceConfig`), the
 * gateway's own below, the real-time endpoints' `SYNC_*` (`syncEnvSchema`) and the history
 * features' (`historyConfigSchema`). Parsed once at start-up; nothing else reads the environment.
 */
export const gatewayConfigSchema = serviceConfigSchema
  .merge(syncEnvSchema)
  .merge(historyConfigSchema)
  .extend({
    /** How long `WorkspaceStore.exists` answers are cached (ms). */
    WORKSPACE_CACHE_MS: positiveInt(2000),
    /** Lifetime of the `admin_token` returned by `POST /api/tenants` (s). Default 365 days. */
    TENANT_ADMIN_TOKEN_TTL_S: positiveInt(365 * 24 * 3600),
    /** Default and maximum `ttl_s` of `POST /api/tokens` (s). */
    TOKEN_DEFAULT_TTL_S: positiveInt(3600),
    TOKEN_MAX_TTL_S: positiveInt(365 * 24 * 3600),
    /**
     * The secret before the last rotation: tokens signed with it are still accepted (new tokens are
     * always signed with `JWT_SECRET`), so `JWT_SECRET` can be rotated without cutting anyone off.
     * Empty = no previous secret.
     */
    JWT_PREVIOUS_SECRET: z.string().default(''),
    /**
     * Reverse proxies in front of the gateway whose `X-Forwarded-For` is trusted (Express
     * `trust proxy` hop count): the client address of per-address limits such as the `/ops/login`
     * throttle. 0 = the socket's peer address (no proxy).
     */
    TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
    /**
     * Browser origins allowed to call the HTTP API (CORS), comma-separated exact origins such as
     * `https://app.example.com,http://localhost:5173`. Empty (default): no CORS headers at all.
     */
    CORS_ORIGINS: z
      .string()
      .default('')
      .transform((v) =>
        v
          .split(',')
          .map((o) => o.trim())
          .filter((o) => o.length > 0),
      )
      .pipe(
        z.array(z.string().url('each CORS_ORIGINS entry must be an origin such as https://app.example.com')),
      ),
    /** Timeout of a restore's forward update through the cluster (ms). */
    RESTORE_TIMEOUT_MS: positiveInt(10000),
    /**
     * Port of a separate listener serving only `GET /metrics`; when set (non-zero), the main PORT
     * answers 404 on `/metrics`, so the public proxy/Ingress never exposes it. 0 = on PORT.
     */
    METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
    /**
     * `true` lets Bull Board at `/ops/queues` change jobs (retry, clean, promote, remove); by default
     * it is read-only: its UI hides the actions and the gateway refuses every non-GET request there.
     */
    OPS_QUEUES_WRITE: z.enum(['true', 'false']).default('false'),
    /** MIGRATE_ON_START, MIGRATION_LOCK_TIMEOUT_MS (libs/runtime/src/migration-settings.ts). */
    ...migrationSettingsShape,
  });

/** Parsed gateway configuration. */
export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

/** Injection token of the parsed {@link GatewayConfig}. */
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

/**
 * Parses the gateway configuration from `env`; throws `ConfigError` with every bad setting.
 * The shared part is checked by `loadServiceConfig` first so both report identically.
 */
export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  loadServiceConfig(env);
  return parseEnv(gatewayConfigSchema, env);
}
