/**
 * What an app developer's clients meet on a real cluster (2 gateways, 1 doc service, real Redis,
 * PostgreSQL and sockets): the browser SDK `@diaryx-sync/client` with tokens minted through the
 * gateway API (auto-sent edits + save, a token that expires mid-session refreshed without losing
 * an edit, a viewer's refused edit reported, presence), and a stock y-websocket provider that is
 * refused before the upgrade (bad doc id 400, no token 401, forbidden 403) and therefore backs
 * off instead of reconnecting in a loop.
 */
import { DiaryxClient, type DiaryxClientOptions, type WebSocketConstructor } from '@diaryx-sync/client';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { startCluster, type TestCluster, type TestTenant, waitUntil } from './helpers/cluster';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { WebsocketProvider } = require('y-websocket') as typeof import('y-websocket');

jest.setTimeout(90_000);

const WS_ID = 'app';
let cluster: TestCluster;
let tenant: TestTenant;
const clients: DiaryxClient[] = [];

beforeAll(async () => {
  cluster = await startCluster({ gateways: 2, docServices: 1 });
  tenant = await cluster.createTenant('app-developer');
  await cluster.createWorkspace(tenant, WS_ID);
}, 120_000);

afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

afterAll(async () => {
  await cluster?.stop();
});

/** Mints a token through the gateway API, as an app backend would. */
async function mintToken(role: 'editor' | 'viewer', ttlSeconds = 3600, sub = 'app-user'): Promise<string> {
  const res = await fetch(`${cluster.http()}/api/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant.adminToken}` },
    body: JSON.stringify({ sub, ws: [WS_ID], role, ttl_s: ttlSeconds }),
  });
  if (res.status !== 201) throw new Error(`mint token: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

function sdk(token: DiaryxClientOptions['token'], gateway = 0): DiaryxClient {
  const client = new DiaryxClient({
    url: cluster.ws(gateway),
    workspaceId: WS_ID,
    token,
    reconnect: { baseDelayMs: 100 },
    WebSocket: WebSocket as unknown as WebSocketConstructor,
  });
  clients.push(client);
  client.connect();
  return client;
}

/** A fresh editor client's view of a file, once synced. */
async function freshRead(path: string): Promise<string> {
  const token = await mintToken('editor');
  const reader = sdk(async () => token, 1);
  await reader.whenSynced();
  return reader.hasFile(path) ? reader.readFile(path) : '<missing>';
}

describe('browser SDK against the cluster', () => {
  test('local edits are sent without any call and save() resolves once they are durable', async () => {
    const token = await mintToken('editor');
    const a = sdk(async () => token);
    await a.whenSynced();
    a.createFile('notes/sdk.md', '# Notes\n');
    const { text } = a.openFile('notes/sdk.md');
    text.insert(text.length, 'typed in an editor\n');
    await a.save();
    a.destroy();
    expect(await freshRead('notes/sdk.md')).toBe('# Notes\ntyped in an editor\n');
  });

  test('a token that expires mid-session is refreshed without losing an edit', async () => {
    let minted = 0;
    const token = async (): Promise<string> => {
      minted++;
      return mintToken('editor', 4);
    };
    const a = sdk(token);
    const closes: number[] = [];
    a.on('closed', ({ code }) => closes.push(code));
    // A switch to a fresh token goes straight to `connecting`; a 4401 close (the token expired
    // before it was replaced) would go through `reconnecting`.
    const statuses: string[] = [];
    a.on('status', ({ status }) => statuses.push(status));
    await a.whenSynced();
    a.createFile('refresh.md');
    const { text } = a.openFile('refresh.md');
    // Type for 7 s: longer than the token's 4 s life, so the session must switch tokens.
    let typed = '';
    const started = Date.now();
    let i = 0;
    while (Date.now() - started < 7000) {
      const ch = String.fromCharCode(97 + (i++ % 26));
      text.insert(text.length, ch);
      typed += ch;
      await new Promise((r) => setTimeout(r, 40));
    }
    await a.whenSynced();
    await a.save();
    expect(minted).toBeGreaterThanOrEqual(3);
    expect(closes).toEqual([]);
    expect(statuses).not.toContain('reconnecting');
    expect(await freshRead('refresh.md')).toBe(typed);
  });

  test("a viewer's edit is refused by the server and reported as read-only; nothing changes", async () => {
    const editorToken = await mintToken('editor');
    const a = sdk(async () => editorToken);
    await a.whenSynced();
    a.createFile('readonly.md', 'original');
    await a.save();

    const viewerToken = await mintToken('viewer');
    const v = sdk(async () => viewerToken, 1);
    await v.whenSynced();
    expect(v.readOnly).toBe(true);
    const refused: Array<string | null> = [];
    v.on('read-only', ({ path }) => refused.push(path));
    const { text } = v.openFile('readonly.md');
    text.insert(0, 'viewer was here ');
    await waitUntil(async () => refused.length > 0, 10_000, 'read-only event');
    expect(refused[0]).toBe('readonly.md');
    expect(await freshRead('readonly.md')).toBe('original');
  });

  test('presence and focus list: a peer on another gateway sees the user of an open file', async () => {
    const token = await mintToken('editor');
    const a = sdk(async () => token, 0);
    const b = sdk(async () => token, 1);
    await Promise.all([a.whenSynced(), b.whenSynced()]);
    a.createFile('presence.md', 'x');
    await waitUntil(async () => b.hasFile('presence.md'), 10_000, 'file on b');
    const focusLists: string[][] = [];
    b.on('focus-list', ({ paths }) => focusLists.push([...paths]));
    const fileA = a.openFile('presence.md');
    await waitUntil(async () => focusLists.some((l) => l.includes('presence.md')), 10_000, 'focus list on b');
    const fileB = b.openFile('presence.md');
    fileA.awareness.setLocalStateField('user', { name: 'Ada' });
    const names = (): string[] =>
      [...fileB.awareness.getStates().values()].map(
        (s) => (s as { user?: { name?: string } }).user?.name ?? '',
      );
    await waitUntil(async () => names().includes('Ada'), 10_000, 'Ada seen by b');
    a.closeFile('presence.md');
    await waitUntil(async () => !names().includes('Ada'), 10_000, 'Ada gone for b');
  });
});

describe('stock y-websocket: refusals before the upgrade', () => {
  /** Opens a provider for 3 s and counts its WebSocket attempts. */
  async function attemptsIn3s(docId: string, params: Record<string, string>): Promise<number> {
    let attempts = 0;
    class CountingWebSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        attempts++;
      }
    }
    const provider = new WebsocketProvider(`${cluster.ws(0)}/yjs`, encodeURIComponent(docId), new Y.Doc(), {
      params,
      WebSocketPolyfill: CountingWebSocket as unknown as typeof globalThis.WebSocket,
      disableBc: true,
    });
    await new Promise((r) => setTimeout(r, 3000));
    provider.destroy();
    provider.awareness.destroy();
    return attempts;
  }

  async function upgradeStatus(docId: string, token?: string): Promise<number> {
    const url = `${cluster.ws(0)}/yjs/${encodeURIComponent(docId)}${token ? `?token=${token}` : ''}`;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.once('open', () => {
        ws.close();
        resolve(101);
      });
      ws.once('error', reject);
    });
  }

  test('bad doc id: HTTP 400, and the provider backs off (no reconnect storm)', async () => {
    const token = await mintToken('editor');
    expect(await upgradeStatus('not-a-doc-id', token)).toBe(400);
    expect(await upgradeStatus(`body:${WS_ID}/./a.md`, token)).toBe(400);
    const attempts = await attemptsIn3s('not-a-doc-id', { token });
    console.log(`stock y-websocket on a bad doc id: ${attempts} connection attempts in 3 s`);
    // Exponential backoff from 100 ms: 0, 0.1, 0.3, 0.7, 1.5, 3.1 s → at most 6 attempts (a
    // post-upgrade close resets y-websocket's backoff: dozens).
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(attempts).toBeLessThanOrEqual(6);
  });

  test('no token: 401; forbidden workspace: 403; both back off', async () => {
    const token = await mintToken('editor');
    expect(await upgradeStatus(`workspace:${WS_ID}`)).toBe(401);
    expect(await upgradeStatus('workspace:elsewhere', token)).toBe(403);
    expect(await upgradeStatus(`workspace:${WS_ID}`, token)).toBe(101);
    expect(await attemptsIn3s(`workspace:${WS_ID}`, {})).toBeLessThanOrEqual(6);
    expect(await attemptsIn3s('workspace:elsewhere', { token })).toBeLessThanOrEqual(6);
  });
});
