/**
 * Doc-service configuration: the shared settings of `loadServiceConfig` (PORT defaults to 8081
 * here) plus the doc-service knobs below, all from environment variables.
 */
import { DEFAULT_MAX_WAIT_MS, DEFAULT_QUIET_MS } from '@diaryx-sync/bus';
import { loadServiceConfig, parseEnv, type ServiceConfig } from '@diaryx-sync/runtime';
import { z } from 'zod';
import { DEFAULT_FILE_EVENT_DEBOUNCE_MS } from './persistence/file-event-collector';

const int = (def: number) => z.coerce.number().int().positive().default(def);

/**
 * Defaults of the doc-service settings, stated once: the environment schema below and
 * `DocService`/`ShardLeaseManager` (when a caller leaves an option out) both use them.
 */
export const DOC_SERVICE_DEFAULTS = {
  leaseTtlMs: 1200,
  leaseRenewMs: 250,
  maxLoadedDocs: 5000,
  docIdleMs: 120_000,
  compactionThreshold: 500,
  compactKeepUpdates: 100,
} as const;

/** Doc-service specific environment variables (with defaults). */
export const docServiceEnvSchema = z.object({
  /** Instance id used in leases, heartbeats and logs (default: hostname + random suffix). */
  DOC_SERVICE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,100}$/)
    .optional(),
  LEASE_TTL_MS: int(DOC_SERVICE_DEFAULTS.leaseTtlMs),
  LEASE_RENEW_MS: int(DOC_SERVICE_DEFAULTS.leaseRenewMs),
  MAX_LOADED_DOCS: int(DOC_SERVICE_DEFAULTS.maxLoadedDocs),
  DOC_IDLE_MS: int(DOC_SERVICE_DEFAULTS.docIdleMs),
  COMPACTION_THRESHOLD: int(DOC_SERVICE_DEFAULTS.compactionThreshold),
  COMPACT_KEEP_UPDATES: z.coerce
    .number()
    .int()
    .nonnegative()
    .default(DOC_SERVICE_DEFAULTS.compactKeepUpdates),
  /**
   * `on`: compaction runs as the history worker's BullMQ `compaction` job and changed workspaces
   * are reported for quiet-period git commits. `off`: compact inline in this process, no history.
   */
  HISTORY_JOBS: z.enum(['on', 'off']).default('on'),
  /** Quiet period after a workspace's last change before its automatic git commit. */
  HISTORY_QUIET_MS: z.coerce.number().int().nonnegative().default(DEFAULT_QUIET_MS),
  /** Under constant editing, a workspace is committed at least this often. */
  HISTORY_MAX_WAIT_MS: z.coerce.number().int().nonnegative().default(DEFAULT_MAX_WAIT_MS),
  /** File events of change webhooks are debounced per file this long (docs/protocol.md#webhooks). */
  WEBHOOK_DEBOUNCE_MS: z.coerce.number().int().min(100).max(60_000).default(DEFAULT_FILE_EVENT_DEBOUNCE_MS),
});

/** All settings of a doc-service process. */
export type DocServiceConfig = ServiceConfig & z.infer<typeof docServiceEnvSchema>;

/** Parses the environment; PORT defaults to 8081. */
export function loadDocServiceConfig(env: NodeJS.ProcessEnv = process.env): DocServiceConfig {
  const base = loadServiceConfig({ ...env, PORT: env.PORT ?? '8081' });
  return { ...base, ...parseEnv(docServiceEnvSchema, env) };
}
