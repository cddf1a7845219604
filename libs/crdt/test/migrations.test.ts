import { runMigrations } from '../src/postgres';
import { createTestSchema, type TestSchema } from './helpers/pg-schema';

let db: TestSchema;
beforeAll(async () => {
  db = await createTestSchema();
});
afterAll(async () => {
  await db.drop();
});

const m1 = { id: 1, name: 'create a', sql: 'CREATE TABLE mig_a (x int)' };
const m2 = { id: 2, name: 'add y', sql: 'ALTER TABLE mig_a ADD COLUMN y int' };

test('applies pending migrations once, in id order, recording them', async () => {
  await runMigrations(db.pool, { table: 'test_migrations', migrations: [m2, m1] });
  await runMigrations(db.pool, { table: 'test_migrations', migrations: [m1, m2] });
  const r = await db.pool.query('SELECT id, name FROM test_migrations ORDER BY id');
  expect(r.rows).toEqual([
    { id: 1, name: 'create a' },
    { id: 2, name: 'add y' },
  ]);
  await db.pool.query('INSERT INTO mig_a (x, y) VALUES (1, 2)');
});

test('concurrent runners apply each migration exactly once', async () => {
  const pools = [db.extraPool(1), db.extraPool(1), db.extraPool(1), db.extraPool(1)];
  const counter = {
    id: 1,
    name: 'counter',
    sql: 'CREATE TABLE mig_counter (n int); INSERT INTO mig_counter VALUES (1)',
  };
  await Promise.all(pools.map((p) => runMigrations(p, { table: 'conc_migrations', migrations: [counter] })));
  const r = await db.pool.query('SELECT count(*)::int AS n FROM mig_counter');
  expect(r.rows[0].n).toBe(1);
});

test('a failing migration is rolled back and reported; earlier ones stay', async () => {
  const bad = { id: 2, name: 'bad', sql: 'CREATE TABLE mig_b (x int); SELECT * FROM no_such_table' };
  await expect(
    runMigrations(db.pool, {
      table: 'fail_migrations',
      migrations: [{ id: 1, name: 'ok', sql: 'CREATE TABLE mig_ok (x int)' }, bad],
    }),
  ).rejects.toThrow(/fail_migrations#2 \(bad\)/);
  const r = await db.pool.query('SELECT id FROM fail_migrations');
  expect(r.rows).toEqual([{ id: 1 }]);
  const t = await db.pool.query("SELECT to_regclass('mig_b') AS t");
  expect(t.rows[0].t).toBeNull();
});

test('rejects bad table names and duplicate ids', async () => {
  await expect(runMigrations(db.pool, { table: 'x; DROP TABLE y', migrations: [] })).rejects.toThrow(
    /table name/,
  );
  await expect(runMigrations(db.pool, { table: 'dup_migrations', migrations: [m1, m1] })).rejects.toThrow(
    /duplicate/,
  );
  await expect(
    runMigrations(db.pool, { table: 'dup_migrations', migrations: [{ ...m1, id: 0 }] }),
  ).rejects.toThrow(/invalid/);
});
