/**
 * When schema migrations run (deploy/README.md "Upgrade"):
 *
 * - `MIGRATE_ON_START` — `true`: a service applies its migrations while starting (what `npm start`
 *   and the tests rely on); `false`: it only checks that the schema is current and refuses to start
 *   otherwise, and migrations run once in the one-shot `migrate` command (compose service, Kubernetes
 *   Job). Default: `false` when `NODE_ENV=production`, else `true`.
 * - `MIGRATION_LOCK_TIMEOUT_MS` — `lock_timeout` of each migration transaction (default 5000): a
 *   migration that cannot get its table lock fails and is retried instead of queueing the running
 *   version's queries behind it.
 */
import { z } from 'zod';
import { parseEnv } from './config';

/** The two settings as zod fields, for services that extend their own config schema with them. */
export const migrationSettingsShape = {
  MIGRATE_ON_START: z.enum(['true', 'false']).optional(),
  MIGRATION_LOCK_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),
};

const migrationSettingsSchema = z.object({
  NODE_ENV: z.string().default('development'),
  ...migrationSettingsShape,
});

/** Parsed migration settings. */
export interface MigrationSettings {
  /** Apply migrations at service start-up (otherwise only check them). */
  migrateOnStart: boolean;
  /** `lock_timeout` of each migration transaction (ms). */
  lockTimeoutMs: number;
}

/** Reads {@link MigrationSettings} from `env`; throws `ConfigError` for a bad value. */
export function loadMigrationSettings(env: NodeJS.ProcessEnv = process.env): MigrationSettings {
  return migrationSettingsOf(parseEnv(migrationSettingsSchema, env));
}

/** {@link MigrationSettings} of an already parsed config carrying {@link migrationSettingsShape}. */
export function migrationSettingsOf(s: z.infer<typeof migrationSettingsSchema>): MigrationSettings {
  return {
    migrateOnStart:
      s.MIGRATE_ON_START === undefined ? s.NODE_ENV !== 'production' : s.MIGRATE_ON_START === 'true',
    lockTimeoutMs: s.MIGRATION_LOCK_TIMEOUT_MS,
  };
}
