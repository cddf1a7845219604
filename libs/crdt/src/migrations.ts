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
        await applyOne(client, opts.table, m);
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

async function applyOne(client: PoolClient, table: string, m: Migration): Promise<void> {
  await client.query('BEGIN');
  try {
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
