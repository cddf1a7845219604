/**
 * `GET /api/workspaces/{id}/versions` and `POST …/versions/{updateId}/restore` against real
 * PostgreSQL and Redis. Part 1 (no doc service): listing, validation, roles, tenancy, and a
 * restore that no shard owner answers (503, nothing written). Part 2: a doc service runs
 * in-process and a y-websocket client is connected to the doc while it is restored.
 */
import { DocService } from '@diaryx-sync/doc-service';
import { WorkspaceCrdt, BodyDoc } from '@diaryx-sync/crdt';
import { PostgresStorage } from '@diaryx-sync/crdt/postgres';
import { createLogger } from '@diaryx-sync/runtime';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { ADMIN_TOKEN, type GatewayHarness, REDIS_URL, api, dropSchema, startGateway } from './api-harness';

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

async function createTenant(url: string, name: string): Promise<{ id: string; admin_token: string }> {
  const res = await api(url, 'POST', '/api/tenants', { token: ADMIN_TOKEN, body: { name } });
  expect(res.status).toBe(201);
  return res.body;
}

async function mint(url: string, admin: string, role: string, ws: string[] = ['*']): Promise<string> {
  const res = await api(url, 'POST', '/api/tokens', {
    token: admin,
    body: { sub: role, ws, role, ttl_s: 600 },
  });
  expect(res.status).toBe(201);
  return res.body.token;
}

/** Appends workspace-doc updates produced by `edit` to the storage; returns the new update id. */
async function appendWorkspaceEdit(
  storage: PostgresStorage,
  ws: WorkspaceCrdt,
  edit: (w: WorkspaceCrdt) => void,
  meta: { origin: string; deviceId?: string },
): Promise<number> {
  const sv = Y.encodeStateVector(ws.doc);
  edit(ws);
  return storage.appendUpdate(`workspace:${'journal'}`, Y.encodeStateAsUpdate(ws.doc, sv), meta);
}

async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('versions without a doc service', () => {
  let gw: GatewayHarness;
  let url: string;
  let tenant: { id: string; admin_token: string };
  let storage: PostgresStorage;
  const ids: number[] = [];

  beforeAll(async () => {
    gw = await startGateway({ RESTORE_TIMEOUT_MS: '700' });
    url = gw.baseUrl;
    tenant = await createTenant(url, 'versions');
    expect(
      (await api(url, 'POST', '/api/workspaces', { token: tenant.admin_token, body: { id: 'journal' } }))
        .status,
    ).toBe(201);
    storage = new PostgresStorage({ pool: gw.pool, tenant: tenant.id });
    const ws = new WorkspaceCrdt();
    ids.push(
      await appendWorkspaceEdit(storage, ws, (w) => w.setFile('a.md', { title: 'A' }), {
        origin: 'sync2',
        deviceId: 'dev-1',
      }),
    );
    ids.push(
      await appendWorkspaceEdit(storage, ws, (w) => w.setFile('b.md', { title: 'B' }), {
        origin: 'sync2',
        deviceId: 'dev-2',
      }),
    );
    ids.push(
      await appendWorkspaceEdit(storage, ws, (w) => w.setFile('a.md', { title: 'A2' }), { origin: 'yjs' }),
    );
    const body = new BodyDoc('body:journal/a.md');
    body.setBody('first');
    ids.push(
      await storage.appendUpdate('body:journal/a.md', Y.encodeStateAsUpdate(body.doc), { origin: 'sync2' }),
    );
  });

  afterAll(async () => {
    await gw?.close();
    if (gw) await dropSchema(gw.schema);
  });

  it('lists the workspace doc versions newest first with the documented fields', async () => {
    const res = await api(url, 'GET', '/api/workspaces/journal/versions', { token: tenant.admin_token });
    expect(res.status).toBe(200);
    const versions = res.body.versions;
    expect(versions.map((v: { update_id: number }) => v.update_id)).toEqual([ids[2], ids[1], ids[0]]);
    for (const v of versions) {
      expect(Object.keys(v).sort()).toEqual([
        'device_id',
        'device_name',
        'files_changed',
        'origin',
        'timestamp',
        'update_id',
        'user',
      ]);
      expect(v.timestamp).toMatch(RFC3339);
      expect(Math.abs(Date.parse(v.timestamp) - Date.now())).toBeLessThan(60_000);
    }
    expect(versions[2]).toMatchObject({ origin: 'sync2', device_id: 'dev-1', files_changed: ['a.md'] });
    expect(versions[1]).toMatchObject({ device_id: 'dev-2', files_changed: ['b.md'] });
    expect(versions[0]).toMatchObject({ origin: 'yjs', device_id: null, files_changed: ['a.md'] });
    const limited = await api(url, 'GET', '/api/workspaces/journal/versions?limit=1', {
      token: tenant.admin_token,
    });
    expect(limited.body.versions.map((v: { update_id: number }) => v.update_id)).toEqual([ids[2]]);
  });

  it('lists a body doc with ?doc= (URL-encoded), and an unknown doc as empty', async () => {
    const viewer = await mint(url, tenant.admin_token, 'viewer');
    const res = await api(
      url,
      'GET',
      `/api/workspaces/journal/versions?doc=${encodeURIComponent('body:journal/a.md')}`,
      { token: viewer },
    );
    expect(res.status).toBe(200);
    expect(res.body.versions).toEqual([
      expect.objectContaining({ update_id: ids[3], origin: 'sync2', files_changed: ['a.md'] }),
    ]);
    const empty = await api(
      url,
      'GET',
      `/api/workspaces/journal/versions?doc=${encodeURIComponent('body:journal/none.md')}`,
      { token: viewer },
    );
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ versions: [], next_cursor: null, compacted_through: 0 });
  });

  it('rejects docs that are malformed or of another workspace (400 invalid_doc)', async () => {
    for (const doc of [
      'nonsense',
      'workspace:other',
      'body:other/a.md',
      'body:journal/../x.md',
      'body:journal/./a.md',
    ]) {
      const res = await api(url, 'GET', `/api/workspaces/journal/versions?doc=${encodeURIComponent(doc)}`, {
        token: tenant.admin_token,
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_doc');
    }
    expect(
      (await api(url, 'GET', '/api/workspaces/journal/versions?limit=0', { token: tenant.admin_token }))
        .status,
    ).toBe(400);
  });

  it("isolates tenants: another tenant's same workspace id has its own (empty) history; uncovered → 404", async () => {
    const other = await createTenant(url, 'versions-other');
    expect(
      (await api(url, 'POST', '/api/workspaces', { token: other.admin_token, body: { id: 'journal' } }))
        .status,
    ).toBe(201);
    const res = await api(url, 'GET', '/api/workspaces/journal/versions', { token: other.admin_token });
    expect(res.status).toBe(200);
    expect(res.body.versions).toEqual([]);
    const restore = await api(url, 'POST', `/api/workspaces/journal/versions/${ids[0]}/restore`, {
      token: other.admin_token,
    });
    expect(restore.status).toBe(404);
    expect(restore.body.error.code).toBe('version_not_found');
    // Minting needs an existing workspace (404 otherwise): one the token covers, not journal.
    await api(url, 'POST', '/api/workspaces', { token: tenant.admin_token, body: { id: 'elsewhere' } });
    const outside = await mint(url, tenant.admin_token, 'editor', ['elsewhere']);
    expect((await api(url, 'GET', '/api/workspaces/journal/versions', { token: outside })).status).toBe(404);
    expect(
      (await api(url, 'POST', `/api/workspaces/journal/versions/${ids[0]}/restore`, { token: outside }))
        .status,
    ).toBe(404);
    expect((await api(url, 'GET', '/api/workspaces/journal/versions')).status).toBe(401);
  });

  it('pages versions newest first by cursor; a forged cursor is 400 invalid_cursor', async () => {
    const token = await mint(url, tenant.admin_token, 'viewer');
    const all = (await api(url, 'GET', '/api/workspaces/journal/versions', { token })).body.versions.map(
      (v: { update_id: number }) => v.update_id,
    );
    expect(all.length).toBeGreaterThanOrEqual(2);
    const paged: number[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=1&cursor=${cursor}` : '?limit=1';
      const res = await api(url, 'GET', `/api/workspaces/journal/versions${query}`, { token });
      expect(res.body.versions.length).toBe(1);
      paged.push(res.body.versions[0].update_id);
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(paged).toEqual(all);
    const forged = Buffer.from('["x"]').toString('base64url');
    const bad = await api(url, 'GET', `/api/workspaces/journal/versions?cursor=${forged}`, { token });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_cursor');
  });

  it('restore: viewer 403, bad id 400, unknown version 404', async () => {
    const viewer = await mint(url, tenant.admin_token, 'viewer');
    const forbidden = await api(url, 'POST', `/api/workspaces/journal/versions/${ids[0]}/restore`, {
      token: viewer,
    });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.code).toBe('forbidden');
    for (const bad of ['abc', '0', '-1', '1.5', '99999999999999999999']) {
      expect(
        (
          await api(url, 'POST', `/api/workspaces/journal/versions/${bad}/restore`, {
            token: tenant.admin_token,
          })
        ).status,
      ).toBe(400);
    }
    const unknown = await api(url, 'POST', `/api/workspaces/journal/versions/${ids[3] + 1000}/restore`, {
      token: tenant.admin_token,
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('version_not_found');
  });

  it('restore with no shard owner answers 503 and writes nothing; a no-op restore answers changed=false', async () => {
    const editor = await mint(url, tenant.admin_token, 'editor', ['journal']);
    const before = await storage.getAllUpdates('workspace:journal');
    const res = await api(url, 'POST', `/api/workspaces/journal/versions/${ids[0]}/restore`, {
      token: editor,
    });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('unavailable');
    expect(await storage.getAllUpdates('workspace:journal')).toHaveLength(before.length);
    // restoring to the latest version changes nothing and needs no shard
    const noop = await api(url, 'POST', `/api/workspaces/journal/versions/${ids[2]}/restore`, {
      token: editor,
    });
    expect(noop.status).toBe(200);
    expect(noop.body).toEqual({ doc: 'workspace:journal', restored_to: ids[2], changed: false });
  });
});

describe('restore while the doc is live', () => {
  let gw: GatewayHarness;
  let redis: Redis;
  let docService: DocService;
  let provider: WebsocketProvider | undefined;
  let clientDoc: Y.Doc | undefined;

  beforeAll(async () => {
    gw = await startGateway({ RESTORE_TIMEOUT_MS: '10000' });
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    docService = new DocService({
      redis,
      pool: gw.pool,
      prefix: gw.prefix,
      shardCount: gw.config.SHARD_COUNT,
      logger: createLogger('doc-service-test', 'silent'),
      leaseTtlMs: 3000,
      leaseRenewMs: 500,
    });
    await docService.start();
  });

  afterAll(async () => {
    provider?.destroy();
    clientDoc?.destroy(); // also stops the awareness timer
    await docService?.stop();
    await gw?.close();
    const keys = await redis.keys(`${gw.prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    if (gw) await dropSchema(gw.schema);
  });

  it('a connected y-websocket client converges on the restored version; history is kept', async () => {
    const url = gw.baseUrl;
    const tenant = await createTenant(url, 'live');
    expect(
      (await api(url, 'POST', '/api/workspaces', { token: tenant.admin_token, body: { id: 'live' } })).status,
    ).toBe(201);
    const editor = await mint(url, tenant.admin_token, 'editor', ['live']);
    const storage = new PostgresStorage({ pool: gw.pool, tenant: tenant.id });

    const doc = (clientDoc = new Y.Doc());
    provider = new WebsocketProvider(
      `${url.replace('http', 'ws')}/yjs`,
      encodeURIComponent('workspace:live'),
      doc,
      {
        WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
        params: { token: editor },
        disableBc: true,
      },
    );
    await waitUntil(() => provider!.synced, 10_000, 'initial sync');
    const client = new WorkspaceCrdt(doc);

    client.setFile('a.md', { title: 'A' });
    await waitUntil(
      async () => (await storage.getAllUpdates('workspace:live')).length >= 1,
      10_000,
      'first edit persisted',
    );
    const v1 = await storage.getLatestUpdateId('workspace:live');
    client.setFile('b.md', { title: 'B' });
    client.setFile('a.md', { title: 'A changed' });
    await waitUntil(
      async () =>
        WorkspaceCrdt.fromUpdate(await storage.loadDoc('workspace:live')).getFile('b.md') !== undefined &&
        WorkspaceCrdt.fromUpdate(await storage.loadDoc('workspace:live')).getFile('a.md')?.title ===
          'A changed',
      10_000,
      'later edits persisted',
    );
    const before = await storage.getAllUpdates('workspace:live');

    const res = await api(url, 'POST', `/api/workspaces/live/versions/${v1}/restore`, { token: editor });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ doc: 'workspace:live', restored_to: v1, changed: true });

    // persisted before the answer: the log has one more update with origin "restore"
    const after = await storage.getAllUpdates('workspace:live');
    expect(after.slice(0, before.length).map((u) => u.id)).toEqual(before.map((u) => u.id));
    expect(after.length).toBe(before.length + 1);
    expect(after[after.length - 1].origin).toBe('restore');
    const persisted = WorkspaceCrdt.fromUpdate(await storage.loadDoc('workspace:live'));
    expect(persisted.getFile('a.md')?.title).toBe('A');
    expect(persisted.getFile('b.md')?.deleted).toBe(true);

    // the connected client converges without reconnecting
    await waitUntil(
      () => client.getFile('a.md')?.title === 'A' && client.getFile('b.md')?.deleted === true,
      10_000,
      'client convergence',
    );
    expect(client.listFiles().map((f) => f.path)).toEqual(['a.md']);

    const versions = await api(url, 'GET', '/api/workspaces/live/versions', { token: editor });
    expect(versions.body.versions[0].origin).toBe('restore');
    expect(versions.body.versions.length).toBe(after.length);
  });
});
