/** pendingMigrations / assertMigrated / prepareSchema and the migration lock timeout (real PostgreSQL). */
import {
  SchemaNotMigratedError,
  assertMigrated,
  pendingMigrations,
  prepareSchema,
  runMigrations,
} from '../src/postgres';
import { createTestSchema, type TestSchema } from './helpers/pg-schema';

let db: TestSchema;
beforeAll(async () => {
  db = await createTestSchema();
});
afterAll(async () => {
  await db.drop();
});

const set = {
  table: 'status_migrations',
  migrations: [
    { id: 1, name: 'create', sql: 'CREATE TABLE st_a (x int)' },
    { id: 2, name: 'column', sql: 'ALTER TABLE st_a ADD COLUMN y int' },
  ],
};

test('pending ids before, between and after runs; assertMigrated names them; prepareSchema checks or applies', async () => {
  expect(await pendingMigrations(db.pool, set)).toEqual([1, 2]);
  await expect(assertMigrated(db.pool, [set])).rejects.toThrow(SchemaNotMigratedError);
  await expect(assertMigrated(db.pool, [set])).rejects.toThrow(/status_migrations #1, #2.*migrate/);
  await expect(prepareSchema(db.pool, [set], { migrate: false })).rejects.toThrow(SchemaNotMigratedError);
  expect(await pendingMigrations(db.pool, set)).toEqual([1, 2]); // checking changed nothing
  await runMigrations(db.pool, { ...set, migrations: [set.migrations[0]] });
  expect(await pendingMigrations(db.pool, set)).toEqual([2]);
  await prepareSchema(db.pool, [set], { migrate: true });
  expect(await pendingMigrations(db.pool, set)).toEqual([]);
  await assertMigrated(db.pool, [set]);
});

test('a migration waiting on a table lock gives up after lockTimeoutMs; readers are not queued behind it', async () => {
  await db.pool.query('CREATE TABLE lock_t (x int); INSERT INTO lock_t VALUES (1)');
  const holder = await db.extraPool(1).connect();
  // The running version holds a lock (e.g. a long transaction reading the table).
  await holder.query('BEGIN; SELECT * FROM lock_t');
  const migration = {
    table: 'lock_migrations',
    migrations: [{ id: 1, name: 'alter', sql: 'ALTER TABLE lock_t ADD COLUMN y int' }],
    lockTimeoutMs: 300,
  };
  const started = Date.now();
  await expect(runMigrations(db.pool, migration)).rejects.toThrow(/lock timeout/);
  expect(Date.now() - started).toBeLessThan(5000);
  // Other readers of the table were never blocked for long, and the status check needs no lock.
  const read = await db.pool.query('SELECT count(*)::int AS n FROM lock_t');
  expect(read.rows[0].n).toBe(1);
  expect(await pendingMigrations(db.pool, migration)).toEqual([1]);
  await holder.query('COMMIT');
  holder.release();
  await runMigrations(db.pool, migration);
  expect(await pendingMigrations(db.pool, migration)).toEqual([]);
});
