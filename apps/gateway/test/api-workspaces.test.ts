/**
 * HTTP API of docs/protocol.md#http-api (tenants, tokens, workspaces) against the real gateway app,
 * real PostgreSQL and Redis: happy paths, error shapes, roles, tenancy isolation, expiry.
 */
import { PostgresStorage } from '@diaryx-sync/crdt/postgres';
import * as Y from 'yjs';
import {
  ADMIN_TOKEN,
  type ApiResult,
  type GatewayHarness,
  api,
  dropSchema,
  signToken,
  startGateway,
} from './api-harness';

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

let gw: GatewayHarness;
let url: string;

function expectError(res: ApiResult, status: number, code?: string): void {
  expect(res.status).toBe(status);
  expect(typeof res.body?.error?.code).toBe('string');
  expect(typeof res.body?.error?.message).toBe('string');
  if (code) expect(res.body.error.code).toBe(code);
}

async function createTenant(name: string): Promise<{ id: string; admin_token: string }> {
  const res = await api(url, 'POST', '/api/tenants', { token: ADMIN_TOKEN, body: { name } });
  expect(res.status).toBe(201);
  return res.body;
}

async function mintToken(adminToken: string, body: Record<string, unknown>): Promise<string> {
  const res = await api(url, 'POST', '/api/tokens', { token: adminToken, body });
  expect(res.status).toBe(201);
  return res.body.token;
}

beforeAll(async () => {
  gw = await startGateway();
  url = gw.baseUrl;
});

afterAll(async () => {
  await gw?.close();
  if (gw) await dropSchema(gw.schema);
});

describe('POST /api/tenants', () => {
  it('creates a tenant with an admin token (cluster ADMIN_TOKEN)', async () => {
    const res = await api(url, 'POST', '/api/tenants', { token: ADMIN_TOKEN, body: { name: 'acme' } });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(['admin_token', 'id', 'name']);
    expect(res.body.name).toBe('acme');
    expect(typeof res.body.id).toBe('string');
    // the admin token works for tenant-admin operations
    const ws = await api(url, 'POST', '/api/workspaces', {
      token: res.body.admin_token,
      body: { id: 'w1', name: 'W1' },
    });
    expect(ws.status).toBe(201);
    const row = await gw.pool.query('SELECT tenant_id FROM workspaces WHERE id = $1', ['w1']);
    expect(row.rows).toEqual([{ tenant_id: res.body.id }]);
  });

  it('creates a new tenant for a name used before (names are labels; only ids are unique)', async () => {
    const first = await createTenant('dup-tenant');
    const res = await api(url, 'POST', '/api/tenants', { token: ADMIN_TOKEN, body: { name: 'dup-tenant' } });
    expect(res.status).toBe(201);
    expect(res.body.id).not.toBe(first.id);
  });

  it('answers 401 without, or with a wrong, admin token; tenant tokens are not cluster admin', async () => {
    expectError(await api(url, 'POST', '/api/tenants', { body: { name: 'x1' } }), 401);
    expectError(
      await api(url, 'POST', '/api/tenants', { token: 'nope-nope-nope', body: { name: 'x2' } }),
      401,
    );
    const t = await createTenant('not-cluster-admin');
    expectError(await api(url, 'POST', '/api/tenants', { token: t.admin_token, body: { name: 'x3' } }), 401);
    const rows = await gw.pool.query("SELECT 1 FROM tenants WHERE name IN ('x1','x2','x3')");
    expect(rows.rowCount).toBe(0);
  });

  it('answers 400 for a missing or invalid name', async () => {
    expectError(
      await api(url, 'POST', '/api/tenants', { token: ADMIN_TOKEN, body: {} }),
      400,
      'invalid_request',
    );
    expectError(await api(url, 'POST', '/api/tenants', { token: ADMIN_TOKEN, body: { name: 42 } }), 400);
    expectError(await api(url, 'POST', '/api/tenants', { token: ADMIN_TOKEN, body: { name: '   ' } }), 400);
    expectError(await api(url, 'POST', '/api/tenants', { token: ADMIN_TOKEN, rawBody: '{"name":' }), 400);
  });
});

describe('POST /api/tokens', () => {
  let tenant: { id: string; admin_token: string };
  beforeAll(async () => {
    tenant = await createTenant('tokens-tenant');
    for (const id of ['a', 'b']) {
      expect(
        (await api(url, 'POST', '/api/workspaces', { token: tenant.admin_token, body: { id } })).status,
      ).toBe(201);
    }
  });

  it('mints a token with the requested claims and an RFC3339 expiry', async () => {
    const before = Date.now();
    const res = await api(url, 'POST', '/api/tokens', {
      token: tenant.admin_token,
      body: { sub: 'alice', ws: ['a', 'b'], role: 'editor', ttl_s: 600 },
    });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(['expires_at', 'jti', 'token']);
    expect(res.body.expires_at).toMatch(RFC3339);
    const exp = Date.parse(res.body.expires_at);
    expect(exp).toBeGreaterThanOrEqual(before + 599_000);
    expect(exp).toBeLessThanOrEqual(Date.now() + 601_000);
    const [, payload] = res.body.token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    expect(claims).toMatchObject({
      sub: 'alice',
      tid: tenant.id,
      ws: ['a', 'b'],
      role: 'editor',
      jti: res.body.jti,
    });
    expect(claims.exp * 1000).toBe(exp);
  });

  it('answers 404 for a workspace that does not exist in the tenant', async () => {
    const res = await api(url, 'POST', '/api/tokens', {
      token: tenant.admin_token,
      body: { sub: 'alice', ws: ['a', 'nope'], role: 'editor', ttl_s: 600 },
    });
    expectError(res, 404, 'not_found');
  });

  it('lists the minted tokens one page at a time and refuses a forged cursor', async () => {
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const res = await api(url, 'GET', `/api/tokens${query}`, { token: tenant.admin_token });
      expect(res.status).toBe(200);
      expect(res.body.tokens.length).toBeLessThanOrEqual(2);
      pages.push(res.body.tokens.map((t: { jti: string }) => t.jti));
      cursor = res.body.next_cursor;
    } while (cursor);
    const all = pages.flat();
    expect(all.length).toBeGreaterThanOrEqual(2);
    expect(new Set(all).size).toBe(all.length);
    expect(all).toEqual([...all].sort());
    expectError(
      await api(url, 'GET', '/api/tokens?cursor=bm9wZQ', { token: tenant.admin_token }),
      400,
      'invalid_cursor',
    );
    expectError(
      await api(url, 'GET', '/api/tokens?limit=0', { token: tenant.admin_token }),
      400,
      'invalid_request',
    );
  });

  it('is for tenant admins only (403 for editor and viewer)', async () => {
    for (const role of ['editor', 'viewer']) {
      const token = await mintToken(tenant.admin_token, { sub: 'u', ws: ['*'], role, ttl_s: 60 });
      const res = await api(url, 'POST', '/api/tokens', {
        token,
        body: { sub: 'x', ws: ['*'], role: 'admin', ttl_s: 60 },
      });
      expectError(res, 403, 'forbidden');
    }
  });

  it('validates role, ws and ttl_s (400)', async () => {
    const bad = [
      { sub: 'a', ws: ['*'], role: 'owner', ttl_s: 60 },
      { sub: 'a', ws: ['bad id'], role: 'editor', ttl_s: 60 },
      { sub: 'a', ws: 'a', role: 'editor', ttl_s: 60 },
      { sub: 'a', ws: ['*', 'a'], role: 'editor', ttl_s: 60 },
      { sub: 'a', ws: ['a'], role: 'editor', ttl_s: -5 },
      { sub: 'a', ws: ['a'], role: 'editor', ttl_s: 1.5 },
      { sub: 'a', ws: ['a'], role: 'editor', ttl_s: '60' },
      { ws: ['a'], role: 'editor', ttl_s: 60 },
    ];
    for (const body of bad) {
      const res = await api(url, 'POST', '/api/tokens', { token: tenant.admin_token, body });
      expectError(res, 400, 'invalid_request');
    }
  });

  it('answers 401 without a token, with a bad token, a wrong secret or an expired token', async () => {
    const body = { sub: 'a', ws: ['*'], role: 'viewer', ttl_s: 60 };
    expectError(await api(url, 'POST', '/api/tokens', { body }), 401);
    expectError(await api(url, 'POST', '/api/tokens', { token: 'not.a.jwt', body }), 401);
    const wrongSecret = await signToken(
      { sub: 'x', tid: tenant.id, ws: ['*'], role: 'admin' },
      { secret: 'another-secret-0123456789abcdef' },
    );
    expectError(await api(url, 'POST', '/api/tokens', { token: wrongSecret, body }), 401);
    const expired = await signToken(
      { sub: 'x', tid: tenant.id, ws: ['*'], role: 'admin' },
      { expSeconds: Math.floor(Date.now() / 1000) - 10 },
    );
    expectError(await api(url, 'POST', '/api/tokens', { token: expired, body }), 401, 'token_expired');
    const badRole = await signToken({ sub: 'x', tid: tenant.id, ws: ['*'], role: 'root' });
    expectError(await api(url, 'POST', '/api/tokens', { token: badRole, body }), 401);
    const wrongAlg = await signToken(
      { sub: 'x', tid: tenant.id, ws: ['*'], role: 'admin' },
      { alg: 'HS512' },
    );
    expectError(await api(url, 'POST', '/api/tokens', { token: wrongAlg, body }), 401);
  });

  it('an admin limited to some workspaces cannot mint wider tokens', async () => {
    const limitedAdmin = await mintToken(tenant.admin_token, {
      sub: 'la',
      ws: ['a'],
      role: 'admin',
      ttl_s: 60,
    });
    expectError(
      await api(url, 'POST', '/api/tokens', {
        token: limitedAdmin,
        body: { sub: 'x', ws: ['*'], role: 'viewer', ttl_s: 60 },
      }),
      403,
    );
    expectError(
      await api(url, 'POST', '/api/tokens', {
        token: limitedAdmin,
        body: { sub: 'x', ws: ['b'], role: 'viewer', ttl_s: 60 },
      }),
      403,
    );
    const ok = await api(url, 'POST', '/api/tokens', {
      token: limitedAdmin,
      body: { sub: 'x', ws: ['a'], role: 'viewer', ttl_s: 60 },
    });
    expect(ok.status).toBe(201);
  });

  it('a token expires: 401 token_expired once past exp', async () => {
    const token = await mintToken(tenant.admin_token, { sub: 'short', ws: ['*'], role: 'viewer', ttl_s: 1 });
    expect((await api(url, 'GET', '/api/workspaces', { token })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2100));
    expectError(await api(url, 'GET', '/api/workspaces', { token }), 401, 'token_expired');
  });
});

describe('workspaces CRUD', () => {
  let tenant: { id: string; admin_token: string };
  let admin: string;
  beforeAll(async () => {
    tenant = await createTenant('crud-tenant');
    admin = tenant.admin_token;
  });

  it('creates with an explicit id, lists, reads, renames and deletes', async () => {
    const created = await api(url, 'POST', '/api/workspaces', {
      token: admin,
      body: { id: 'journal', name: 'Journal' },
    });
    expect(created.status).toBe(201);
    expect(Object.keys(created.body).sort()).toEqual(['created_at', 'id', 'name']);
    expect(created.body).toMatchObject({ id: 'journal', name: 'Journal' });
    expect(created.body.created_at).toMatch(RFC3339);

    const list = await api(url, 'GET', '/api/workspaces', { token: admin });
    expect(list.status).toBe(200);
    expect(list.body.workspaces).toContainEqual(created.body);

    const one = await api(url, 'GET', '/api/workspaces/journal', { token: admin });
    expect(one.status).toBe(200);
    expect(one.body).toEqual(created.body);

    const renamed = await api(url, 'PATCH', '/api/workspaces/journal', {
      token: admin,
      body: { name: 'Diary' },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toEqual({ ...created.body, name: 'Diary' });
    expect((await api(url, 'GET', '/api/workspaces/journal', { token: admin })).body.name).toBe('Diary');

    const del = await api(url, 'DELETE', '/api/workspaces/journal', { token: admin });
    expect(del.status).toBe(204);
    expectError(await api(url, 'GET', '/api/workspaces/journal', { token: admin }), 404, 'not_found');
    expectError(await api(url, 'DELETE', '/api/workspaces/journal', { token: admin }), 404);
    // the id can be used again
    expect(
      (await api(url, 'POST', '/api/workspaces', { token: admin, body: { id: 'journal', name: 'J2' } }))
        .status,
    ).toBe(201);
  });

  it('generates an id when absent, and defaults the name to the id', async () => {
    const res = await api(url, 'POST', '/api/workspaces', { token: admin, body: { name: 'Generated' } });
    expect(res.status).toBe(201);
    expect(res.body.id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(res.body.name).toBe('Generated');
    const unnamed = await api(url, 'POST', '/api/workspaces', { token: admin, body: { id: 'unnamed' } });
    expect(unnamed.status).toBe(201);
    expect(unnamed.body.name).toBe('unnamed');
  });

  it('answers 409 workspace_exists for a taken id in the tenant', async () => {
    expect(
      (await api(url, 'POST', '/api/workspaces', { token: admin, body: { id: 'taken', name: 'A' } })).status,
    ).toBe(201);
    const res = await api(url, 'POST', '/api/workspaces', { token: admin, body: { id: 'taken', name: 'B' } });
    expectError(res, 409, 'workspace_exists');
    expect((await api(url, 'GET', '/api/workspaces/taken', { token: admin })).body.name).toBe('A');
  });

  it('validates the id and name (400)', async () => {
    for (const body of [
      { id: 'has space', name: 'x' },
      { id: 'a'.repeat(65), name: 'x' },
      { id: '', name: 'x' },
      { id: 'ok', name: 5 },
      { id: 'a/b' },
    ]) {
      expectError(await api(url, 'POST', '/api/workspaces', { token: admin, body }), 400, 'invalid_request');
    }
    expect(
      (await api(url, 'POST', '/api/workspaces', { token: admin, body: { id: 'A_z-09'.padEnd(64, 'x') } }))
        .status,
    ).toBe(201);
    await api(url, 'POST', '/api/workspaces', { token: admin, body: { id: 'patchme', name: 'P' } });
    expectError(
      await api(url, 'PATCH', '/api/workspaces/patchme', { token: admin, body: { name: '' } }),
      400,
    );
    expectError(await api(url, 'PATCH', '/api/workspaces/patchme', { token: admin, body: {} }), 400);
  });

  it('pages GET /api/workspaces by cursor in id order, covering every workspace once', async () => {
    const t = await createTenant('paging-tenant');
    const ids = ['p-c', 'p-a', 'p-e', 'p-b', 'p-d'];
    for (const id of ids) {
      expect((await api(url, 'POST', '/api/workspaces', { token: t.admin_token, body: { id } })).status).toBe(
        201,
      );
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const res = await api(url, 'GET', `/api/workspaces${query}`, { token: t.admin_token });
      expect(res.status).toBe(200);
      seen.push(...res.body.workspaces.map((w: { id: string }) => w.id));
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].sort());
    const limited = await mintToken(t.admin_token, {
      sub: 'l',
      ws: ['p-d', 'p-a'],
      role: 'viewer',
      ttl_s: 60,
    });
    const mine = await api(url, 'GET', '/api/workspaces?limit=1', { token: limited });
    expect(mine.body.workspaces.map((w: { id: string }) => w.id)).toEqual(['p-a']);
    const rest = await api(url, 'GET', `/api/workspaces?limit=1&cursor=${mine.body.next_cursor}`, {
      token: limited,
    });
    expect(rest.body).toMatchObject({ workspaces: [{ id: 'p-d' }], next_cursor: null });
    expectError(
      await api(url, 'GET', '/api/workspaces?cursor=!!', { token: t.admin_token }),
      400,
      'invalid_cursor',
    );
    expectError(
      await api(url, 'GET', '/api/workspaces?limit=5000', { token: t.admin_token }),
      400,
      'invalid_request',
    );
  });

  it('answers 401 without a token', async () => {
    expectError(await api(url, 'GET', '/api/workspaces'), 401);
    expectError(await api(url, 'GET', '/api/workspaces/taken'), 401);
    expectError(await api(url, 'POST', '/api/workspaces', { body: { id: 'x' } }), 401);
    expectError(
      await api(url, 'GET', '/api/workspaces', { headers: { authorization: 'Basic Zm9vOmJhcg==' } }),
      401,
    );
  });
});

describe('roles', () => {
  let admin: string;
  let editor: string;
  let viewer: string;
  beforeAll(async () => {
    const t = await createTenant('roles-tenant');
    admin = t.admin_token;
    for (const id of ['r1', 'r2']) {
      expect(
        (await api(url, 'POST', '/api/workspaces', { token: admin, body: { id, name: id } })).status,
      ).toBe(201);
    }
    editor = await mintToken(admin, { sub: 'ed', ws: ['r1'], role: 'editor', ttl_s: 600 });
    viewer = await mintToken(admin, { sub: 'vi', ws: ['*'], role: 'viewer', ttl_s: 600 });
  });

  it('editor and viewer may read covered workspaces', async () => {
    expect((await api(url, 'GET', '/api/workspaces/r1', { token: editor })).status).toBe(200);
    expect((await api(url, 'GET', '/api/workspaces/r2', { token: viewer })).status).toBe(200);
  });

  it('lists only the workspaces the token covers', async () => {
    const ed = await api(url, 'GET', '/api/workspaces', { token: editor });
    expect(ed.body.workspaces.map((w: { id: string }) => w.id)).toEqual(['r1']);
    const vi = await api(url, 'GET', '/api/workspaces', { token: viewer });
    expect(vi.body.workspaces.map((w: { id: string }) => w.id).sort()).toEqual(['r1', 'r2']);
  });

  it('404 for a workspace outside the token, even if it exists', async () => {
    expectError(await api(url, 'GET', '/api/workspaces/r2', { token: editor }), 404, 'not_found');
    expectError(await api(url, 'PATCH', '/api/workspaces/r2', { token: editor, body: { name: 'x' } }), 404);
  });

  it('403 for editor/viewer creating, renaming or deleting workspaces', async () => {
    for (const token of [editor, viewer]) {
      expectError(
        await api(url, 'POST', '/api/workspaces', { token, body: { id: 'nope', name: 'n' } }),
        403,
        'forbidden',
      );
      expectError(
        await api(url, 'PATCH', '/api/workspaces/r1', { token, body: { name: 'hacked' } }),
        403,
        'forbidden',
      );
      expectError(await api(url, 'DELETE', '/api/workspaces/r1', { token }), 403, 'forbidden');
    }
    const r1 = await api(url, 'GET', '/api/workspaces/r1', { token: admin });
    expect(r1.body.name).toBe('r1');
    expectError(await api(url, 'GET', '/api/workspaces/nope', { token: admin }), 404);
  });
});

describe('tenancy isolation', () => {
  it("tenant A's token never sees tenant B's workspace, even with the same id", async () => {
    const a = await createTenant('iso-a');
    const b = await createTenant('iso-b');
    expect(
      (
        await api(url, 'POST', '/api/workspaces', {
          token: a.admin_token,
          body: { id: 'shared', name: 'A shared' },
        })
      ).status,
    ).toBe(201);
    // B can create the same id (different workspace)
    expect(
      (
        await api(url, 'POST', '/api/workspaces', {
          token: b.admin_token,
          body: { id: 'shared', name: 'B shared' },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await api(url, 'POST', '/api/workspaces', {
          token: b.admin_token,
          body: { id: 'only-b', name: 'B only' },
        })
      ).status,
    ).toBe(201);

    const aShared = await api(url, 'GET', '/api/workspaces/shared', { token: a.admin_token });
    expect(aShared.body.name).toBe('A shared');
    const bShared = await api(url, 'GET', '/api/workspaces/shared', { token: b.admin_token });
    expect(bShared.body.name).toBe('B shared');

    expectError(await api(url, 'GET', '/api/workspaces/only-b', { token: a.admin_token }), 404);
    expectError(
      await api(url, 'PATCH', '/api/workspaces/only-b', { token: a.admin_token, body: { name: 'x' } }),
      404,
    );
    expectError(await api(url, 'DELETE', '/api/workspaces/only-b', { token: a.admin_token }), 404);
    const aList = await api(url, 'GET', '/api/workspaces', { token: a.admin_token });
    expect(aList.body.workspaces.map((w: { name: string }) => w.name)).toEqual(['A shared']);

    // A deleting its "shared" leaves B's untouched
    expect((await api(url, 'DELETE', '/api/workspaces/shared', { token: a.admin_token })).status).toBe(204);
    expect((await api(url, 'GET', '/api/workspaces/shared', { token: b.admin_token })).body.name).toBe(
      'B shared',
    );
    expect((await api(url, 'GET', '/api/workspaces/only-b', { token: b.admin_token })).status).toBe(200);

    // a token forged for A with the right secret but naming B's workspace still only sees A's data
    const aEditor = await signToken({ sub: 'x', tid: a.id, ws: ['only-b'], role: 'editor' });
    expectError(await api(url, 'GET', '/api/workspaces/only-b', { token: aEditor }), 404);
  });
});

describe('DELETE removes the workspace documents', () => {
  it('deletes workspace and body docs of that workspace only (same tenant, same id elsewhere untouched)', async () => {
    const a = await createTenant('del-docs-a');
    const b = await createTenant('del-docs-b');
    for (const t of [a, b]) {
      for (const id of ['gone', 'kept']) {
        expect(
          (await api(url, 'POST', '/api/workspaces', { token: t.admin_token, body: { id } })).status,
        ).toBe(201);
      }
    }
    const update = (() => {
      const doc = new Y.Doc();
      doc.getText('body').insert(0, 'hello');
      return Y.encodeStateAsUpdate(doc);
    })();
    const docs = [
      'workspace:gone',
      'body:gone/a.md',
      'body:gone/dir/b.md',
      'workspace:kept',
      'body:kept/a.md',
      'body:gone-too/x.md',
    ];
    for (const t of [a, b]) {
      const storage = new PostgresStorage({ pool: gw.pool, tenant: t.id });
      for (const doc of docs) await storage.appendUpdate(doc, update, { origin: 'test' });
    }
    expect((await api(url, 'DELETE', '/api/workspaces/gone', { token: a.admin_token })).status).toBe(204);
    const left = await new PostgresStorage({ pool: gw.pool, tenant: a.id }).listDocs();
    expect(left).toEqual(['body:gone-too/x.md', 'body:kept/a.md', 'workspace:kept']);
    const other = await new PostgresStorage({ pool: gw.pool, tenant: b.id }).listDocs();
    expect(other).toEqual([...docs].sort());
  });
});

describe('error format', () => {
  it('unknown routes and malformed JSON use the error shape', async () => {
    expectError(await api(url, 'GET', '/api/nothing-here'), 404, 'not_found');
    const t = await createTenant('errfmt');
    expectError(
      await api(url, 'POST', '/api/workspaces', { token: t.admin_token, rawBody: '{bad json' }),
      400,
    );
  });
});
