/**
 * Share links against the real stack (docs/protocol.md#share-links): 2 gateways + 1 doc service,
 * real Redis, PostgreSQL and sockets. A guest joins with a code, edits, is cut off on every
 * gateway when the share is revoked; expired codes are refused; a viewer share cannot write
 * through /sync2, /yjs or HTTP; guessing codes is throttled per address.
 */
import WebSocket from 'ws';
import * as Y from 'yjs';
import { encodeMessage } from '@diaryx-sync/protocol';
import { cleanupCli, runCli, spawnCli, tempDir } from './helpers/cli';
import {
  Sync2TestClient,
  bodyText,
  openSocket,
  startCluster,
  type TestCluster,
  type TestTenant,
} from './helpers/cluster';

jest.setTimeout(90_000);

let cluster: TestCluster;
let tenant: TestTenant;
let editor: string;
const open: { close(): void }[] = [];

function track<T extends { close(): void }>(c: T): T {
  open.push(c);
  return c;
}

async function api(
  method: string,
  path: string,
  token?: string,
  body?: unknown,
  gateway = 0,
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${cluster.http(gateway)}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { text };
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

async function createShare(
  role: 'viewer' | 'editor',
  expiresInS = 3600,
): Promise<{ id: string; code: string }> {
  const res = await api('POST', '/api/workspaces/notes/shares', editor, { role, expires_in_s: expiresInS });
  expect(res.status).toBe(201);
  return { id: res.body.id as string, code: res.body.code as string };
}

async function guestToken(code: string, gateway = 0): Promise<string> {
  const res = await api('POST', `/api/shares/${code}/token`, undefined, undefined, gateway);
  expect(res.status).toBe(201);
  expect(res.body.workspace).toBe('notes');
  return res.body.token as string;
}

beforeAll(async () => {
  cluster = await startCluster({ gateways: 2, docServices: 1 });
  tenant = await cluster.createTenant('shares');
  await cluster.createWorkspace(tenant, 'notes');
  await cluster.createWorkspace(tenant, 'private');
  editor = await cluster.token({ tid: tenant.id, ws: ['notes'], role: 'editor', sub: 'alice' });
}, 120_000);

afterAll(async () => {
  for (const c of open) c.close();
  await cleanupCli();
  await cluster?.stop();
}, 60_000);

test('a guest joins with a code, edits, and is closed with 4403 on every gateway when the share is revoked', async () => {
  const share = await createShare('editor');
  expect(share.code).toMatch(/^dxs_[A-Za-z0-9_-]{43}$/);
  const listed = await api('GET', '/api/workspaces/notes/shares', editor);
  expect(listed.status).toBe(200);
  const entry = (listed.body.shares as Record<string, unknown>[]).find((s) => s.id === share.id);
  expect(entry).toMatchObject({ role: 'editor', created_by: 'alice', revoked_at: null });
  expect(entry).not.toHaveProperty('code');

  const token = await guestToken(share.code);
  const guest = track(await Sync2TestClient.connect(cluster.ws(1), token));
  const doc = await guest.openSynced('body:notes/shared.md');
  doc.getText('body').insert(0, 'written by a guest');
  await guest.save('body:notes/shared.md');
  const owner = track(await Sync2TestClient.connect(cluster.ws(0), editor));
  expect(bodyText(await owner.openSynced('body:notes/shared.md'))).toBe('written by a guest');

  // The guest token covers only the shared workspace.
  const other = await api('GET', '/api/workspaces/private', token);
  expect(other.status).toBe(404);
  // A guest may not re-share (a share would outlive the revocation of this one).
  expect((await api('POST', '/api/workspaces/notes/shares', token, { role: 'viewer' })).status).toBe(403);

  const yjs = await openSocket(
    `${cluster.ws(0)}/yjs/${encodeURIComponent('body:notes/shared.md')}?token=${token}`,
  );
  const yjsClosed = new Promise<number>((r) => yjs.once('close', (code) => r(code)));
  const started = Date.now();
  expect((await api('DELETE', `/api/workspaces/notes/shares/${share.id}`, editor)).status).toBe(204);
  expect((await guest.closed).code).toBe(4403);
  expect(await yjsClosed).toBe(4403);
  expect(Date.now() - started).toBeLessThan(5_000);
  // The owner's connection is untouched.
  expect(owner.ws.readyState).toBe(WebSocket.OPEN);

  // Neither the code nor the token it gave work any more.
  expect((await api('POST', `/api/shares/${share.code}/token`)).status).toBe(404);
  expect((await api('GET', '/api/workspaces/notes', token)).status).toBe(401);
  await expect(openSocket(`${cluster.ws(1)}/sync2?token=${token}`)).rejects.toThrow('HTTP 401');
  const after = await api('GET', '/api/workspaces/notes/shares', editor);
  const revoked = (after.body.shares as Record<string, unknown>[]).find((s) => s.id === share.id);
  expect(typeof revoked?.revoked_at).toBe('string');
  expect((await api('DELETE', `/api/workspaces/notes/shares/${share.id}x`, editor)).status).toBe(404);
});

test('an expired code is refused, and so is a token it gave', async () => {
  const share = await createShare('editor', 1);
  const token = await guestToken(share.code);
  await new Promise((r) => setTimeout(r, 2_100));
  const res = await api('POST', `/api/shares/${share.code}/token`);
  expect(res.status).toBe(404);
  expect((res.body.error as { code: string }).code).toBe('not_found');
  // The token's own exp is the share's expiry at most.
  expect((await api('GET', '/api/workspaces/notes', token)).status).toBe(401);
});

test('a viewer share reads but cannot write through /sync2, /yjs or HTTP', async () => {
  const owner = track(await Sync2TestClient.connect(cluster.ws(0), editor));
  const ownerDoc = await owner.openSynced('body:notes/read-only.md');
  ownerDoc.getText('body').insert(0, 'original');
  await owner.save('body:notes/read-only.md');

  const share = await createShare('viewer');
  const token = await guestToken(share.code);
  const viewer = track(await Sync2TestClient.connect(cluster.ws(1), token));
  const vDoc = await viewer.openSynced('body:notes/read-only.md');
  expect(bodyText(vDoc)).toBe('original');
  vDoc.getText('body').insert(0, 'HACKED ');
  await viewer.waitFor(
    () => viewer.textsOfType('error').some((m) => m.code === 'read_only'),
    15_000,
    'read_only error',
  );

  const ws = track(
    await openSocket(`${cluster.ws(0)}/yjs/${encodeURIComponent('body:notes/read-only.md')}?token=${token}`),
  );
  const denied = new Promise<Uint8Array>((resolve) =>
    ws.on('message', (data: Buffer) => {
      if (data[0] === 2) resolve(new Uint8Array(data));
    }),
  );
  const hacker = new Y.Doc();
  hacker.getText('body').insert(0, 'HACKED VIA YJS ');
  ws.send(encodeMessage({ type: 'update', update: Y.encodeStateAsUpdate(hacker) }));
  const msg = await denied;
  expect([msg[0], msg[1]]).toEqual([2, 0]); // Auth, permission denied

  const writes: [string, string, unknown][] = [
    ['PATCH', '/api/workspaces/notes', { name: 'renamed' }],
    ['DELETE', '/api/workspaces/notes', undefined],
    ['POST', '/api/workspaces/notes/versions/1/restore?doc=body:notes/read-only.md', undefined],
    ['POST', '/api/workspaces/notes/commit', {}],
    ['POST', '/api/workspaces/notes/restore', { commit_id: 'a'.repeat(40) }],
    ['POST', '/api/workspaces/notes/shares', { role: 'viewer' }],
    ['GET', '/api/workspaces/notes/shares', undefined],
    ['PUT', '/api/workspaces/notes/files/read-only.md', { body: 'HACKED VIA HTTP' }],
    ['POST', '/api/tokens', { sub: 'x', ws: ['notes'], role: 'editor' }],
  ];
  for (const [method, path, body] of writes) {
    const res = await api(method, path, token, body);
    expect({ method, path, status: res.status }).toEqual({ method, path, status: expect.any(Number) });
    expect([method, path, res.status >= 400 && res.status < 500]).toEqual([method, path, true]);
  }

  // Nothing the viewer sent reached the document.
  const fresh = track(await Sync2TestClient.connect(cluster.ws(1), editor));
  expect(bodyText(await fresh.openSynced('body:notes/read-only.md'))).toBe('original');
});

test('the CLI joins with --join CODE', async () => {
  const share = await createShare('viewer');
  const dir = tempDir('join');
  const pull = await runCli(['pull', dir, '--server', cluster.ws(0), '--join', share.code, '--no-progress']);
  expect(pull.stderr).toBe('');
  expect(pull.code).toBe(0);
  const bad = await runCli(['pull', dir, '--server', cluster.ws(0), '--join', `dxs_${'A'.repeat(43)}`]);
  expect(bad.code).toBe(3);
  expect(bad.stderr).toContain('join code unknown, expired or revoked');
});

// On gateway 0: the throttle test below counts the failed exchanges of gateway 1 from zero.
test('start --join renews its guest token before it expires and stops with a clear message when the share ends', async () => {
  // A share ending in 8 s: its guest tokens expire with it (never past the share's expiry), so
  // the CLI renews the first one halfway through and stops when the code is refused.
  const share = await createShare('editor', 8);
  const started = Date.now();
  const cli = spawnCli([
    'start',
    tempDir('join-renew'),
    '--server',
    cluster.ws(0),
    '--join',
    share.code,
    '--no-progress',
  ]);
  await cli.waitForStdout(/watching/, 30_000);
  const result = await runUntilExit(cli, 30_000);
  expect(result.code).toBe(3);
  expect(result.stderr).toContain('the share link was revoked or has expired');
  expect(Date.now() - started).toBeGreaterThanOrEqual(7_000);
  // The renewal switched connections before the share ended (and synced again).
  expect(result.stdout).toMatch(/disconnected\n(.*\n)*synced\n/);
}, 60_000);

test('start --join stops with a clear message when the share is revoked', async () => {
  const share = await createShare('editor');
  const cli = spawnCli([
    'start',
    tempDir('join-revoke'),
    '--server',
    cluster.ws(0),
    '--join',
    share.code,
    '--no-progress',
  ]);
  await cli.waitForStdout(/watching/, 30_000);
  expect((await api('DELETE', `/api/workspaces/notes/shares/${share.id}`, editor)).status).toBe(204);
  const result = await runUntilExit(cli, 15_000);
  expect(result.code).toBe(4);
  expect(result.stderr).toContain('the share link was revoked (4403: share revoked)');
}, 60_000);

/** Waits for a running CLI to exit by itself (SIGKILL after `timeoutMs`, which fails the test). */
async function runUntilExit(cli: ReturnType<typeof spawnCli>, timeoutMs: number) {
  const timer = setTimeout(() => void cli.stop('SIGKILL'), timeoutMs);
  try {
    const result = await cli.done;
    expect(result.signal).toBeNull();
    return result;
  } finally {
    clearTimeout(timer);
  }
}

test('guessing codes is throttled per address: 429 with Retry-After', async () => {
  const statuses: number[] = [];
  let retryAfter: string | null = null;
  for (let i = 0; i < 12; i++) {
    const res = await api(
      'POST',
      `/api/shares/dxs_${String(i).padStart(43, 'x')}/token`,
      undefined,
      undefined,
      1,
    );
    statuses.push(res.status);
    retryAfter = res.headers.get('retry-after') ?? retryAfter;
  }
  expect(statuses.slice(0, 10)).toEqual(Array(10).fill(404));
  expect(statuses.slice(10)).toEqual([429, 429]);
  expect(Number(retryAfter)).toBeGreaterThan(0);
  // Even a valid code is refused while locked out.
  const share = await createShare('viewer');
  expect((await api('POST', `/api/shares/${share.code}/token`, undefined, undefined, 1)).status).toBe(429);
});
