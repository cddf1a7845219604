import * as Y from 'yjs';
import { PostgresStorage, type PostgresStorageOptions } from '../src/postgres';
import { CRDT_MIGRATIONS } from '../src/storage/crdt-migrations';
import { createTestSchema, type TestSchema } from './helpers/pg-schema';
import { bodyOf, describeStorageContract, edit } from './helpers/storage-contract';

let db: TestSchema;
let base: PostgresStorage;
let n = 0;

beforeAll(async () => {
  db = await createTestSchema();
  base = await PostgresStorage.open({ pool: db.pool, tenant: 't0' });
});
afterAll(async () => {
  await db.drop();
});

// Each contract test gets a fresh tenant: tenants never see each other's rows.
describeStorageContract('PostgresStorage', { storage: () => base.forTenant(`tenant_${++n}`) });

describe('PostgresStorage specifics', () => {
  test('init is idempotent and safe when several processes start concurrently', async () => {
    const pools = [db.extraPool(2), db.extraPool(2), db.extraPool(2)];
    await Promise.all(pools.map((pool) => new PostgresStorage({ pool, tenant: 'x' }).init()));
    await base.init();
    // Every migration recorded exactly once, whatever the number of concurrent starters.
    const r = await db.pool.query('SELECT id FROM crdt_migrations ORDER BY id');
    expect(r.rows.map((x: { id: number }) => x.id)).toEqual(CRDT_MIGRATIONS.map((m) => m.id));
  });

  test('tenant column isolates equal doc ids', async () => {
    const a = base.forTenant('tenant_a');
    const b = base.forTenant('tenant_b');
    await a.appendUpdate('workspace:ws1', edit(new Y.Doc(), 'A'));
    await b.appendUpdate('workspace:ws1', edit(new Y.Doc(), 'B'));
    expect(bodyOf(await a.loadDoc('workspace:ws1'))).toBe('A');
    expect(bodyOf(await b.loadDoc('workspace:ws1'))).toBe('B');
    await a.deleteDoc('workspace:ws1');
    expect(bodyOf(await b.loadDoc('workspace:ws1'))).toBe('B');
    const rows = await db.pool.query('SELECT DISTINCT tenant FROM crdt_updates WHERE doc = $1', [
      'workspace:ws1',
    ]);
    expect(rows.rows).toEqual([{ tenant: 'tenant_b' }]);
  });

  test('snapshot row carries state vector and last_update_id', async () => {
    const s = base.forTenant('tenant_sv');
    const d = new Y.Doc();
    await s.appendUpdate('body:ws/a.md', edit(d, 'a'));
    const last = await s.appendUpdate('body:ws/a.md', edit(d, 'b'));
    await s.compact('body:ws/a.md', 0);
    const r = await db.pool.query(
      'SELECT state_vector, last_update_id FROM crdt_snapshots WHERE tenant = $1',
      ['tenant_sv'],
    );
    expect(Number(r.rows[0].last_update_id)).toBe(last);
    expect(new Uint8Array(r.rows[0].state_vector)).toEqual(Y.encodeStateVector(d));
  });

  test('concurrent appends and compaction never lose an update', async () => {
    const s = base.forTenant('tenant_conc');
    const d = new Y.Doc();
    const updates = Array.from({ length: 60 }, (_, i) => edit(d, String(i % 10)));
    await Promise.all([
      ...updates.map((u) => s.appendUpdate('body:ws/c.md', u)),
      s.compact('body:ws/c.md', 0),
      s.compact('body:ws/c.md', 5),
    ]);
    await s.compact('body:ws/c.md', 3);
    expect(bodyOf(await s.loadDoc('body:ws/c.md'))).toBe(d.getText('body').toString());
  });

  test('batch appends use one prepared statement per connection (planned once, not per batch)', async () => {
    const pool = db.extraPool(1);
    try {
      const s = new PostgresStorage({ pool, tenant: 'tenant_prepared' });
      const d = new Y.Doc();
      for (let i = 0; i < 3; i++) await s.batchAppendUpdates([{ doc: 'body:ws/p.md', data: edit(d, 'p') }]);
      const r = await pool.query<{ name: string }>('SELECT name FROM pg_prepared_statements');
      expect(r.rows.map((x) => x.name)).toEqual(['diaryx-batch-append']);
      expect(bodyOf(await s.loadDoc('body:ws/p.md'))).toBe('ppp');
    } finally {
      await pool.end();
    }
  });

  test('loadDoc is consistent while compactions commit', async () => {
    const s = base.forTenant('tenant_loadcompact');
    const d = new Y.Doc();
    for (let round = 0; round < 5; round++) {
      await s.batchAppendUpdates(
        Array.from({ length: 40 }, (_, i) => ({ doc: 'body:ws/l.md', data: edit(d, String(i % 10)) })),
      );
      const expected = d.getText('body').toString();
      const loads = Array.from({ length: 6 }, () => s.loadDoc('body:ws/l.md'));
      await Promise.all([s.compact('body:ws/l.md', round % 2), ...loads]);
      for (const l of await Promise.all(loads)) expect(bodyOf(l)).toBe(expected);
    }
  });

  test('deleteDoc racing a compaction never resurrects the doc', async () => {
    const s = base.forTenant('tenant_delrace');
    for (let round = 0; round < 5; round++) {
      const d = new Y.Doc();
      await s.batchAppendUpdates(
        Array.from({ length: 50 }, () => ({ doc: 'body:ws/d.md', data: edit(d, 'x') })),
      );
      await Promise.all([s.compact('body:ws/d.md', 0), s.deleteDoc('body:ws/d.md')]);
      expect(await s.loadDoc('body:ws/d.md')).toBeNull();
      expect(await s.listDocs()).toEqual([]);
    }
  });

  test('rejects an empty tenant', () => {
    expect(() => new PostgresStorage({ pool: db.pool, tenant: '' })).toThrow(TypeError);
  });
});

describe('PostgresStorage: tenancy and construction', () => {
  test('PostgresStorage: tenants are isolated; rows carry the tenant', async () => {
    const s1 = await PostgresStorage.open({ pool: db.pool, tenant: 'tenant-a' });
    const s2 = s1.forTenant('tenant-b');
    await s1.appendUpdate('doc', edit(new Y.Doc(), 'a'));
    expect(await s2.listDocs()).toEqual([]);
    expect(await s2.loadDoc('doc')).toBeNull();
    const cols = await db.pool.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.columns WHERE table_schema = $1 AND column_name = 'tenant'`,
      [db.schema],
    );
    expect(cols.rows.map((r) => r.table_name).sort()).toEqual(
      expect.arrayContaining(['crdt_snapshots', 'crdt_updates']),
    );
    const type = await db.pool.query<{ data_type: string }>(
      `SELECT data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'crdt_updates' AND column_name = 'data'`,
      [db.schema],
    );
    expect(type.rows[0].data_type).toBe('bytea');
  });

  test('open({ pool, tenant }); a missing or empty tenant is a TypeError', async () => {
    const a = await PostgresStorage.open({ pool: db.pool, tenant: 'ta' });
    expect(a.tenant).toBe('ta');
    await a.appendUpdate('doc', edit(new Y.Doc(), 'x'));
    expect(await new PostgresStorage({ pool: db.pool, tenant: 'ta' }).listDocs()).toEqual(['doc']);
    expect(() => new PostgresStorage({ pool: db.pool } as unknown as PostgresStorageOptions)).toThrow(
      TypeError,
    );
    expect(() => new PostgresStorage({ pool: db.pool, tenant: '' })).toThrow(TypeError);
  });
});
