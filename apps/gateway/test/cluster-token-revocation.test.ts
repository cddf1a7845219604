/**
 * Token revocation and tenant deletion on a real two-gateway cluster (docs/protocol.md#tokens,
 * #tenants): a token minted through the API and revoked on one gateway closes an open /sync2
 * socket on the other with 4401 and is refused there on HTTP (401 token_revoked) and at the
 * upgrade; deleting a tenant (with its confirmation) closes its sockets, deletes its documents and
 * revokes its tokens.
 */
import {
  Sync2TestClient,
  type TestCluster,
  type TestTenant,
  openSocket,
  startCluster,
  waitUntil,
} from './helpers/cluster';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startCluster({ gateways: 2, docServices: 1 });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

async function call(
  gateway: number,
  method: string,
  path: string,
  token: string,
  body?: unknown,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test convenience
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${cluster.http(gateway)}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function mint(
  tenant: TestTenant,
  ws: string[],
  role = 'editor',
): Promise<{ token: string; jti: string }> {
  const res = await call(0, 'POST', '/api/tokens', tenant.adminToken, { sub: 'dana', ws, role });
  expect(res.status).toBe(201);
  expect(typeof res.body.jti).toBe('string');
  return res.body;
}

test('a revoked token closes its open /sync2 socket on another gateway with 4401 and is refused there', async () => {
  const tenant = await cluster.createTenant('revoke');
  await cluster.createWorkspace(tenant, 'rv');
  const { token, jti } = await mint(tenant, ['rv']);
  const other = await mint(tenant, ['rv']);
  const client = await Sync2TestClient.connect(cluster.ws(1), token);
  const bystander = await Sync2TestClient.connect(cluster.ws(1), other.token);
  await client.openSynced('workspace:rv');
  await bystander.openSynced('workspace:rv');
  expect((await call(1, 'GET', '/api/workspaces/rv', token)).status).toBe(200);

  const listed = await call(0, 'GET', '/api/tokens', tenant.adminToken);
  expect(listed.body.tokens.map((t: { jti: string }) => t.jti)).toEqual(
    expect.arrayContaining([jti, other.jti]),
  );

  const started = Date.now();
  expect((await call(0, 'DELETE', `/api/tokens/${jti}`, tenant.adminToken)).status).toBe(204);
  const closed = await Promise.race([
    client.closed,
    new Promise<{ code: number }>((r) => setTimeout(() => r({ code: -2 }), 10_000)),
  ]);
  expect(closed.code).toBe(4401);
  const elapsed = Date.now() - started;
  console.log(`revoked token: socket on the other gateway closed after ${elapsed} ms`);

  const refused = await call(1, 'GET', '/api/workspaces/rv', token);
  expect(refused.status).toBe(401);
  expect(refused.body.error.code).toBe('token_revoked');
  await expect(openSocket(`${cluster.ws(1)}/sync2?token=${encodeURIComponent(token)}`)).rejects.toThrow(
    'HTTP 401',
  );
  // Another token of the same tenant is untouched.
  expect((await call(1, 'GET', '/api/workspaces/rv', other.token)).status).toBe(200);
  expect(bystander.ws.readyState).toBe(bystander.ws.OPEN);
  const after = await call(0, 'GET', '/api/tokens', tenant.adminToken);
  expect(after.body.tokens.find((t: { jti: string }) => t.jti === jti).revoked_at).not.toBeNull();
  expect((await call(0, 'DELETE', '/api/tokens/no-such-token', tenant.adminToken)).status).toBe(404);
  bystander.close();
}, 60_000);

test('deleting a tenant needs its id as confirm, closes its sockets and removes its data and tokens', async () => {
  const doomed = await cluster.createTenant('doomed');
  const kept = await cluster.createTenant('kept');
  await cluster.createWorkspace(doomed, 'd1');
  await cluster.createWorkspace(doomed, 'd2');
  await cluster.createWorkspace(kept, 'd1');
  const { token } = await mint(doomed, ['*']);
  const client = await Sync2TestClient.connect(cluster.ws(1), token);
  const body = await client.openSynced('body:d1/a.md');
  body.getText('body').insert(0, 'hello');
  await client.save('body:d1/a.md');
  const docsOf = async (tenant: string) =>
    (await cluster.pool.query('SELECT count(*)::int AS n FROM crdt_updates WHERE tenant = $1', [tenant]))
      .rows[0].n;
  expect(await docsOf(doomed.id)).toBeGreaterThan(0);

  const noConfirm = await call(0, 'DELETE', `/api/tenants/${doomed.id}`, cluster.adminToken);
  expect(noConfirm.status).toBe(400);
  expect(noConfirm.body.error.code).toBe('confirmation_required');
  expect(
    (await call(0, 'DELETE', `/api/tenants/${doomed.id}?confirm=${kept.id}`, cluster.adminToken)).status,
  ).toBe(400);
  expect((await call(0, 'DELETE', `/api/tenants/${doomed.id}`, doomed.adminToken)).status).toBe(401);

  const del = await call(0, 'DELETE', `/api/tenants/${doomed.id}?confirm=${doomed.id}`, cluster.adminToken);
  expect(del.status).toBe(204);
  const closed = await client.closed;
  expect([4403, 4401]).toContain(closed.code);
  await waitUntil(async () => (await docsOf(doomed.id)) === 0, 10_000, 'doomed documents deleted');
  expect((await call(1, 'GET', '/api/workspaces', doomed.adminToken)).body.error.code).toBe('token_revoked');
  const tenants = await call(1, 'GET', '/api/tenants?limit=1000', cluster.adminToken);
  const ids = tenants.body.tenants.map((t: { id: string }) => t.id);
  expect(ids).toContain(kept.id);
  expect(ids).not.toContain(doomed.id);
  expect((await call(0, 'GET', '/api/workspaces/d1', kept.adminToken)).status).toBe(200);
  expect(
    (await call(0, 'DELETE', `/api/tenants/${doomed.id}?confirm=${doomed.id}`, cluster.adminToken)).status,
  ).toBe(404);
}, 90_000);
