/**
 * The one-shot `migrate` command (`docker run <image> migrate`, the Kubernetes migrate Job, the
 * compose `migrate` service): applies every service's schema migrations (infra/schema.ts) once,
 * before new pods start, so no service has to migrate at start-up in production
 * (deploy/README.md "Upgrade").
 *
 *   migrate                      apply pending migrations; exit 0 when the schema is current
 *   migrate --check              exit 0 when current, 3 when migrations are pending (no changes)
 *   migrate --wait [--timeout-s N]
 *                                poll (read-only, no lock) until current; exit 3 after N s (600)
 *
 * Reads `DATABASE_URL`, `LOG_LEVEL` and `MIGRATION_LOCK_TIMEOUT_MS`. A migration that cannot take
 * its table lock within the timeout fails (exit 1); the Job's retries run it again.
 */
import { pendingMigrations, runMigrations } from '@diaryx-sync/crdt/postgres';
import {
  ConfigError,
  DependencyUnavailableError,
  assertPostgresReachable,
  createLogger,
  createPgPool,
  loadMigrationSettings,
  loadServiceConfig,
  redactUrl,
} from '@diaryx-sync/runtime';
import type { Pool } from 'pg';
import { ALL_SCHEMA_SETS } from './infra/schema';

/** Exit code of `--check`/`--wait` when migrations are pending. */
export const EXIT_PENDING = 3;

/** Pending migrations per bookkeeping table (empty when the schema is current). */
async function pendingByTable(pool: Pool): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const set of ALL_SCHEMA_SETS) {
    const pending = await pendingMigrations(pool, set);
    if (pending.length > 0) out[set.table] = pending;
  }
  return out;
}

async function main(argv: string[]): Promise<number> {
  const mode = argv.includes('--check') ? 'check' : argv.includes('--wait') ? 'wait' : 'apply';
  const timeoutIdx = argv.indexOf('--timeout-s');
  const timeoutS = timeoutIdx >= 0 ? Number(argv[timeoutIdx + 1]) : 600;
  if (!Number.isFinite(timeoutS) || timeoutS < 0)
    throw new ConfigError('--timeout-s needs a number of seconds');
  const config = loadServiceConfig(process.env);
  const settings = loadMigrationSettings(process.env);
  const log = createLogger('migrate', config.LOG_LEVEL);
  await assertPostgresReachable(config.DATABASE_URL);
  const pool = createPgPool(config.DATABASE_URL, { max: 2 });
  try {
    if (mode === 'apply') {
      const before = await pendingByTable(pool);
      for (const set of ALL_SCHEMA_SETS)
        await runMigrations(pool, { ...set, lockTimeoutMs: settings.lockTimeoutMs });
      log.info({ database: redactUrl(config.DATABASE_URL), applied: before }, 'schema is current');
      return 0;
    }
    const deadline = Date.now() + timeoutS * 1000;
    for (;;) {
      const pending = await pendingByTable(pool);
      if (Object.keys(pending).length === 0) {
        log.info({ database: redactUrl(config.DATABASE_URL) }, 'schema is current');
        return 0;
      }
      if (mode === 'check' || Date.now() >= deadline) {
        log.warn({ pending }, 'schema has pending migrations: run `migrate`');
        return EXIT_PENDING;
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  } finally {
    await pool.end();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const known = err instanceof ConfigError || err instanceof DependencyUnavailableError;
    process.stderr.write(
      `migrate: ${known || !(err instanceof Error) ? String((err as Error).message ?? err) : (err.stack ?? err.message)}\n`,
    );
    process.exit(1);
  },
);
