/**
 * The token in the `Sec-WebSocket-Protocol` header (docs/protocol.md#authentication): a client
 * offers `diaryx-sync, bearer.<jwt>`; the gateway authenticates with the token, echoes only
 * `diaryx-sync` (never the token), refuses a bad token with HTTP 401 and a token entry without
 * `diaryx-sync` with HTTP 400. Real gateway, real WebSockets (`ws`), on /sync2 and /yjs.
 */
import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { ADMIN_TOKEN, type GatewayHarness, api, dropSchema, startGateway } from './api-harness';

let gw: GatewayHarness;
let wsUrl: string;
let token: string;

beforeAll(async () => {
  gw = await startGateway();
  wsUrl = gw.baseUrl.replace('http:', 'ws:');
  const tenant = await api(gw.baseUrl, 'POST', '/api/tenants', { token: ADMIN_TOKEN, body: { name: 't' } });
  expect(tenant.status).toBe(201);
  const created = await api(gw.baseUrl, 'POST', '/api/workspaces', {
    token: tenant.body.admin_token,
    body: { id: 'journal', name: 'Journal' },
  });
  expect(created.status).toBe(201);
  token = tenant.body.admin_token;
});

afterAll(async () => {
  await gw?.close();
  if (gw) await dropSchema(gw.schema);
});

type Outcome =
  | { kind: 'open'; protocol: string; headerProtocol: string | undefined; ws: WebSocket }
  | { kind: 'refused'; status: number; body: string };

/** Opens a socket offering `protocols`; resolves with the handshake outcome. */
function connect(path: string, protocols: string[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${wsUrl}${path}`, protocols, { perMessageDeflate: false });
    let headerProtocol: string | undefined;
    ws.on('upgrade', (res: IncomingMessage) => {
      headerProtocol = res.headers['sec-websocket-protocol'] as string | undefined;
    });
    ws.on('open', () => resolve({ kind: 'open', protocol: ws.protocol, headerProtocol, ws }));
    ws.on('unexpected-response', (_req, res: IncomingMessage) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ kind: 'refused', status: res.statusCode ?? 0, body }));
    });
    ws.on('error', (err) => reject(err));
  });
}

async function closeOpen(o: Outcome): Promise<void> {
  if (o.kind !== 'open') return;
  await new Promise<void>((r) => {
    o.ws.once('close', () => r());
    o.ws.close();
  });
}

it.each(['/sync2', `/yjs/${encodeURIComponent('workspace:journal')}`])(
  '%s: the token in the subprotocol list authenticates; only diaryx-sync is echoed',
  async (path) => {
    const o = await connect(path, ['diaryx-sync', `bearer.${token}`]);
    expect(o.kind).toBe('open');
    if (o.kind !== 'open') return;
    expect(o.protocol).toBe('diaryx-sync');
    expect(o.headerProtocol).toBe('diaryx-sync');
    await closeOpen(o);
    // The order of the offered entries does not matter, and the token is still never echoed.
    const reversed = await connect(path, [`bearer.${token}`, 'diaryx-sync']);
    expect(reversed.kind === 'open' && reversed.headerProtocol).toBe('diaryx-sync');
    await closeOpen(reversed);
  },
);

it('a bad token in the subprotocol is refused with HTTP 401 before the upgrade', async () => {
  const o = await connect('/sync2', ['diaryx-sync', 'bearer.not-a-jwt']);
  expect(o).toMatchObject({ kind: 'refused', status: 401 });
  const forged = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
  expect(await connect('/sync2', ['diaryx-sync', `bearer.${forged}`])).toMatchObject({ status: 401 });
});

it('a token entry without diaryx-sync is refused with HTTP 400 bad_subprotocol', async () => {
  const o = await connect('/sync2', [`bearer.${token}`]);
  expect(o.kind).toBe('refused');
  if (o.kind !== 'refused') return;
  expect(o.status).toBe(400);
  expect(JSON.parse(o.body)).toMatchObject({ error: { code: 'bad_subprotocol' } });
});

it('diaryx-sync alone with ?token= still works (and is echoed); no token at all is 401', async () => {
  const o = await connect(`/sync2?token=${encodeURIComponent(token)}`, ['diaryx-sync']);
  expect(o.kind === 'open' && o.headerProtocol).toBe('diaryx-sync');
  await closeOpen(o);
  expect(await connect('/sync2', ['diaryx-sync'])).toMatchObject({ kind: 'refused', status: 401 });
});
