/**
 * A generic numbered-migration runner for PostgreSQL, shared by every service.
 */
import type { Pool, PoolClient } from 'pg';

/** One schema migration: applied once, in ascending `id` order, in its own transaction. */
export interface Migration {
  /** Positive integer, unique within one bookkeeping table. */
  id: number;
  /** Human-readable name, recorded in the bookkeeping table. */
  name: string;
  /** SQL to run (may contain several statements). Use unqualified table names. */
  sql: string;
}

/** Options of {@link runMigrations}. */
export interface RunMigrationsOptions {
  /** Name of the bookkeeping table (an unqualified SQL identifier, e.g. `crdt_migrations`). */
  table: string;
  /** The migrations; order does not matter (they are sorted by id). */
  migrations: Migration[];
  /**
   * `lock_timeout` of each migration transaction (ms; default none). A migration that waits
   * longer than this for a table lock fails (and is retried by the next `migrate` run) instead of
   * queueing every query of the running version behind it (deploy/README.md "Upgrade").
   */
  lockTimeoutMs?: number;
}

/** Error of {@link assertMigrated}: the database schema is older than this code. */
export class SchemaNotMigratedError extends Error {
  override readonly name = 'SchemaNotMigratedError';
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Applies the migrations not yet recorded in `opts.table`, each in its own transaction.
 *
 * Safe when several processes start at once: the run holds a session advisory lock keyed by the
 * current schema and the table name, so concurrent runners wait and then find nothing to do.
 * Table names are unqualified, so `search_path` decides the schema (tests isolate that way).
 *
 * @throws Error for an invalid table name or duplicate/invalid migration ids; rethrows the SQL
 *   error of a failing migration (that migration is rolled back, earlier ones stay applied).
 */
export async function runMigrations(pool: Pool, opts: RunMigrationsOptions): Promise<void> {
  if (!IDENTIFIER.test(opts.table)) throw new Error(`invalid migration table name: ${opts.table}`);
  const sorted = [...opts.migrations].sort((a, b) => a.id - b.id);
  for (let i = 0; i < sorted.length; i++) {
    const m = sorted[i];
    if (!Number.isInteger(m.id) || m.id <= 0) throw new Error(`invalid migration id: ${m.id}`);
    if (i > 0 && sorted[i - 1].id === m.id) throw new Error(`duplicate migration id: ${m.id}`);
  }
  const client = await pool.connect();
  let broken = false;
  try {
    const lockKey = `migrations:${opts.table}`;
    await client.query('SELECT pg_advisory_lock(hashtext(current_schema()), hashtext($1))', [lockKey]);
    try {
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${opts.table} (
           id integer PRIMARY KEY,
           name text NOT NULL,
           applied_at timestamptz NOT NULL DEFAULT now()
         )`,
      );
      const done = await client.query<{ id: number }>(`SELECT id FROM ${opts.table}`);
      const applied = new Set(done.rows.map((r) => Number(r.id)));
      for (const m of sorted) {
        if (applied.has(m.id)) continue;
        await applyOne(client, opts.table, m, opts.lockTimeoutMs);
      }
    } finally {
      await client
        .query('SELECT pg_advisory_unlock(hashtext(current_schema()), hashtext($1))', [lockKey])
        .catch(() => {
          broken = true;
        });
    }
  } catch (err) {
    broken = true;
    throw err;
  } finally {
    // A client whose session state is uncertain is destroyed rather than returned to the pool.
    client.release(broken ? true : undefined);
  }
}

async function applyOne(
  client: PoolClient,
  table: string,
  m: Migration,
  lockTimeoutMs: number | undefined,
): Promise<void> {
  await client.query('BEGIN');
  try {
    if (lockTimeoutMs !== undefined)
      await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))}`);
    await client.query(m.sql);
    await client.query(`INSERT INTO ${table} (id, name) VALUES ($1, $2)`, [m.id, m.name]);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    const e = err instanceof Error ? err : new Error(String(err));
    e.message = `migration ${table}#${m.id} (${m.name}) failed: ${e.message}`;
    throw e;
  }
}

/**
 * Ids of the migrations of `opts` not yet recorded in its bookkeeping table (all of them when the
 * table does not exist). Reads only: takes no advisory lock and waits for no running migration,
 * so it is safe in start-up checks and init containers.
 */
export async function pendingMigrations(pool: Pool, opts: RunMigrationsOptions): Promise<number[]> {
  if (!IDENTIFIER.test(opts.table)) throw new Error(`invalid migration table name: ${opts.table}`);
  const exists = await pool.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [opts.table]);
  const applied = new Set<number>();
  if (exists.rows[0]?.t) {
    const done = await pool.query<{ id: number }>(`SELECT id FROM ${opts.table}`);
    for (const r of done.rows) applied.add(Number(r.id));
  }
  return opts.migrations
    .map((m) => m.id)
    .filter((id) => !applied.has(id))
    .sort((a, b) => a - b);
}

/**
 * Throws {@link SchemaNotMigratedError} naming every pending migration when the database is
 * behind any of `sets`. Used at start-up by services that do not migrate themselves
 * (`MIGRATE_ON_START=false`): run the `migrate` command first.
 */
export async function assertMigrated(pool: Pool, sets: RunMigrationsOptions[]): Promise<void> {
  const behind: string[] = [];
  for (const set of sets) {
    const pending = await pendingMigrations(pool, set);
    if (pending.length > 0) behind.push(`${set.table} #${pending.join(', #')}`);
  }
  if (behind.length > 0)
    throw new SchemaNotMigratedError(
      `database schema is not migrated (pending: ${behind.join('; ')}); run the migrate command first ` +
        '(`docker run <image> migrate`, the Kubernetes migrate Job, or MIGRATE_ON_START=true)',
    );
}

/**
 * Start-up step of a service: applies `sets` in order when `opts.migrate` (development, tests),
 * otherwise only checks them with {@link assertMigrated} (production, where the one-shot
 * `migrate` command applied them before the service started).
 */
export async function prepareSchema(
  pool: Pool,
  sets: RunMigrationsOptions[],
  opts: { migrate: boolean; lockTimeoutMs?: number },
): Promise<void> {
  if (!opts.migrate) return assertMigrated(pool, sets);
  for (const set of sets) await runMigrations(pool, { ...set, lockTimeoutMs: opts.lockTimeoutMs });
}
