/**
 * The workspace guard of update-log appends (docs/workspace-deletion.md): a guarded batch is
 * written only while its workspace row exists with the generation the writer loaded.
 */
import * as Y from 'yjs';
import { WorkspaceGoneError } from '../src';
import { PostgresStorage } from '../src/postgres';
import { createTestSchema, type TestSchema } from './helpers/pg-schema';

let db: TestSchema;
let storage: PostgresStorage;
const T = 'tenant-g';

function update(text: string): Uint8Array {
  const doc = new Y.Doc();
  doc.getText('body').insert(0, text);
  return Y.encodeStateAsUpdate(doc);
}

async function generationOf(id: string): Promise<string> {
  const r = await db.pool.query<{ g: string }>(
    'SELECT created_at::text AS g FROM workspaces WHERE tenant_id = $1 AND id = $2',
    [T, id],
  );
  return r.rows[0]!.g;
}

beforeAll(async () => {
  db = await createTestSchema();
  storage = await PostgresStorage.open({ pool: db.pool, tenant: T });
  // the gateway's table (tenancy migration 1)
  await db.pool.query(`CREATE TABLE workspaces (
    tenant_id text NOT NULL, id text NOT NULL, name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (tenant_id, id))`);
  await db.pool.query(
    `INSERT INTO workspaces (tenant_id, id, name) VALUES ($1, 'w', 'w'), ($1, 'other', 'o')`,
    [T],
  );
});
afterAll(async () => {
  await db.drop();
});

test('a guarded append with the current generation is written', async () => {
  const generation = await generationOf('w');
  await storage.batchAppendUpdates([
    { doc: 'body:w/a.md', data: update('a'), workspace: { id: 'w', generation } },
  ]);
  expect(await storage.getUpdateCount('body:w/a.md')).toBe(1);
});

test('another generation (deleted and re-created) is refused and nothing of the batch is written', async () => {
  const generation = await generationOf('other');
  await expect(
    storage.batchAppendUpdates([
      { doc: 'body:other/b.md', data: update('b'), workspace: { id: 'other', generation } },
      { doc: 'body:w/c.md', data: update('c'), workspace: { id: 'w', generation: '2000-01-01 00:00:00+00' } },
    ]),
  ).rejects.toEqual(new WorkspaceGoneError(['w']));
  expect(await storage.getUpdateCount('body:other/b.md')).toBe(0);
  expect(await storage.getUpdateCount('body:w/c.md')).toBe(0);
});

test('after the row is deleted every guarded append is refused; unguarded ones still pass', async () => {
  const generation = await generationOf('w');
  await db.pool.query(`DELETE FROM workspaces WHERE tenant_id = $1 AND id = 'w'`, [T]);
  await expect(
    storage.batchAppendUpdates([
      { doc: 'body:w/a.md', data: update('late'), workspace: { id: 'w', generation } },
    ]),
  ).rejects.toBeInstanceOf(WorkspaceGoneError);
  expect(await storage.getUpdateCount('body:w/a.md')).toBe(1);
  await storage.batchAppendUpdates([{ doc: 'body:w/a.md', data: update('unguarded') }]);
  expect(await storage.getUpdateCount('body:w/a.md')).toBe(2);
});

test('the row delete waits for a guarded append in flight (FOR SHARE), so it never lands after', async () => {
  await db.pool.query(`INSERT INTO workspaces (tenant_id, id, name) VALUES ($1, 'race', 'r')`, [T]);
  const generation = await generationOf('race');
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT 1 FROM workspaces WHERE tenant_id = $1 AND id = 'race' FOR UPDATE`, [T]);
    // an append while the deleter holds the row: it waits, then sees the row gone
    const append = storage.batchAppendUpdates([
      { doc: 'body:race/a.md', data: update('x'), workspace: { id: 'race', generation } },
    ]);
    await new Promise((r) => setTimeout(r, 200));
    await client.query(`DELETE FROM workspaces WHERE tenant_id = $1 AND id = 'race'`, [T]);
    await client.query('COMMIT');
    await expect(append).rejects.toBeInstanceOf(WorkspaceGoneError);
  } finally {
    client.release();
  }
  expect(await storage.getUpdateCount('body:race/a.md')).toBe(0);
});
