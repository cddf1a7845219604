/**
 * Cluster test of the cluster-wide per-tenant connection limit: two real gateways (one doc
 * service), `SYNC_MAX_CONNECTIONS_PER_TENANT=3`. Each gateway learns the other's per-tenant counts
 * from its heartbeat (`connections_by_tenant`, every 2 s), so once they have propagated, 2 sockets
 * on gateway A plus 1 on gateway B make a 4th on B close with 1013, while another tenant is
 * unaffected; after A closes one, B admits the tenant again.
 */
import WebSocket from 'ws';
import { closedOf, openSocket, sleep, startCluster, type TestCluster, waitUntil } from './helpers/cluster';

jest.setTimeout(40_000);

let cluster: TestCluster;
let tokenT: string;
let tokenU: string;
const sockets: WebSocket[] = [];

/** Opens a `/sync2` socket on gateway `i` and keeps it for afterAll. */
async function connect(token: string, i: number): Promise<WebSocket> {
  const ws = await openSocket(`${cluster.ws(i)}/sync2?token=${encodeURIComponent(token)}`);
  sockets.push(ws);
  return ws;
}

/**
 * One connection attempt on gateway `i`: `refused` when the gateway closes it with 1013 within
 * 500 ms; otherwise the socket is still open and is returned.
 */
async function attempt(
  token: string,
  i: number,
): Promise<{ refused: true } | { refused: false; ws: WebSocket }> {
  const ws = await connect(token, i);
  const closed = closedOf(ws);
  const outcome = await Promise.race([closed, sleep(500).then(() => null)]);
  if (outcome === null) return { refused: false, ws };
  if (outcome.code !== 1013) throw new Error(`unexpected close ${outcome.code} ${outcome.reason}`);
  expect(outcome.reason).toMatch(/too many connections/);
  return { refused: true };
}

/** Closes `ws` and waits until the close handshake is done (the gateway released the slot). */
async function closeAndWait(ws: WebSocket): Promise<void> {
  const closed = closedOf(ws);
  ws.close();
  await closed;
}

beforeAll(async () => {
  cluster = await startCluster({
    gateways: 2,
    docServices: 1,
    gatewayEnv: { SYNC_MAX_CONNECTIONS_PER_TENANT: '3' },
  });
  const t = await cluster.createTenant('limited');
  const u = await cluster.createTenant('bystander');
  tokenT = await cluster.token({ tid: t.id });
  tokenU = await cluster.token({ tid: u.id });
}, 40_000);

afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  await cluster?.stop();
}, 30_000);

test('2 on gateway A + 1 on gateway B: the 4th on B is refused (1013), another tenant is not', async () => {
  const a1 = await connect(tokenT, 0);
  await connect(tokenT, 0);
  await connect(tokenT, 1);
  // Until B has read A's heartbeat it only knows its own socket: retry until the limit bites.
  // A per-gateway limit never refuses here (B holds 1 + 1 < 3), so this times out.
  await waitUntil(
    async () => {
      const r = await attempt(tokenT, 1);
      if (r.refused) return true;
      await closeAndWait(r.ws);
      return false;
    },
    15_000,
    '4th connection of the tenant refused on gateway B',
  );
  expect((await attempt(tokenT, 1)).refused).toBe(true);
  // Gateway A also counts B's socket (2 + 1) once B's heartbeat reached it.
  await waitUntil(
    async () => {
      const r = await attempt(tokenT, 0);
      if (r.refused) return true;
      await closeAndWait(r.ws);
      return false;
    },
    15_000,
    'connection of the tenant refused on gateway A',
  );

  // Another tenant is unaffected: it gets its own 3 on gateway B.
  for (let i = 0; i < 3; i++) {
    const r = await attempt(tokenU, 1);
    expect(r.refused).toBe(false);
  }

  // A closes one: once its heartbeat says so, B admits the tenant again.
  await closeAndWait(a1);
  const admitted = await waitUntil(
    async () => {
      const r = await attempt(tokenT, 1);
      return r.refused ? false : r.ws;
    },
    15_000,
    'tenant admitted again on gateway B after A closed one',
  );
  expect(admitted.readyState).toBe(WebSocket.OPEN);
});
