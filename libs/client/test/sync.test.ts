/**
 * DiaryxClient against the protocol package's in-process `/sync2` server: local edits are sent
 * without any call, `save()` resolves once they are durable, reconnects carry offline edits, a
 * token is refreshed before it expires without losing an edit, and a viewer's refused edit is
 * reported.
 */
import * as testing from '@diaryx-sync/protocol/testing';
import { DiaryxClientError, type DiaryxClient } from '../src/index';
import { fakeJwt, startClient, waitFor } from './helpers/clients';

const WS = 'ws1';
let server: testing.TestSyncServer;
const clients: DiaryxClient[] = [];
const editor = fakeJwt(3600, 'editor', 'e');
const viewer = fakeJwt(3600, 'viewer', 'v');
const shortTokens = [fakeJwt(3, 'editor', 's1'), fakeJwt(3600, 'editor', 's2')];

beforeEach(async () => {
  server = await testing.startTestSyncServer({
    workspaces: [WS],
    tokens: {
      [editor]: 'editor',
      [viewer]: 'viewer',
      [shortTokens[0]]: 'editor',
      [shortTokens[1]]: 'editor',
    },
  });
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await server.close();
});

function serverText(path: string): string {
  return server.core.doc(`body:${WS}/${path}`).getText('body').toString();
}

test('local edits are sent automatically and save() resolves once they are durable', async () => {
  const a = startClient({ url: server.url, workspaceId: WS, token: async () => editor }, clients);
  await a.whenSynced();
  a.createFile('notes/a.md', 'hello');
  const { text } = a.openFile('notes/a.md');
  text.insert(text.length, ' world'); // a raw Yjs edit, as an editor binding makes
  await a.save();
  expect(server.core.liveFiles(WS)).toEqual(['notes/a.md']);
  expect(serverText('notes/a.md')).toBe('hello world');

  const b = startClient({ url: server.url, workspaceId: WS, token: async () => editor }, clients);
  const remote: string[] = [];
  b.on('body-changed', ({ path }) => remote.push(path));
  await b.whenSynced();
  expect(b.files().map((f) => f.path)).toEqual(['notes/a.md']);
  expect(b.readFile('notes/a.md')).toBe('hello world');
  a.writeFile('notes/a.md', 'hello there world');
  await waitFor(() => b.readFile('notes/a.md') === 'hello there world', 10000, 'remote edit');
  expect(remote).toContain('notes/a.md');
});

test('file events: create, rename and delete reach the other client', async () => {
  const a = startClient({ url: server.url, workspaceId: WS, token: async () => editor }, clients);
  const b = startClient({ url: server.url, workspaceId: WS, token: async () => editor }, clients);
  await Promise.all([a.whenSynced(), b.whenSynced()]);
  const seen: string[] = [];
  b.on('file-created', (e) => seen.push(`created ${e.path} ${e.remote}`));
  b.on('file-renamed', (e) => seen.push(`renamed ${e.from} ${e.to}`));
  b.on('file-deleted', (e) => seen.push(`deleted ${e.path}`));
  a.createFile('x.md', 'body of x');
  await waitFor(() => b.hasFile('x.md') && b.readFile('x.md') === 'body of x', 10000, 'create');
  a.renameFile('x.md', 'y.md');
  await waitFor(() => b.hasFile('y.md') && !b.hasFile('x.md'), 10000, 'rename');
  await waitFor(() => b.readFile('y.md') === 'body of x', 10000, 'renamed body');
  a.deleteFile('y.md');
  await waitFor(() => !b.hasFile('y.md'), 10000, 'delete');
  expect(seen).toEqual(['created x.md true', 'renamed x.md y.md', 'deleted y.md']);
});

test('edits made while disconnected are sent after the reconnect', async () => {
  const a = startClient(
    { url: server.url, workspaceId: WS, token: async () => editor, reconnect: { baseDelayMs: 50 } },
    clients,
  );
  await a.whenSynced();
  a.createFile('r.md', 'one');
  await a.save();
  const statuses: string[] = [];
  a.on('status', ({ status }) => statuses.push(status));
  for (const s of server.sockets) s.close(1001, 'restart');
  await waitFor(() => a.status !== 'synced', 5000, 'disconnect');
  a.writeFile('r.md', 'one two');
  await a.whenSynced();
  await a.save();
  expect(serverText('r.md')).toBe('one two');
  expect(statuses).toContain('reconnecting');
});

test('a token is refreshed before it expires; an edit made around the switch is not lost', async () => {
  let calls = 0;
  const token = async (): Promise<string> => shortTokens[Math.min(calls++, 1)];
  const a = startClient({ url: server.url, workspaceId: WS, token }, clients);
  const refreshed: Array<number | null> = [];
  a.on('token-refreshed', ({ expiresAt }) => refreshed.push(expiresAt));
  await a.whenSynced();
  a.createFile('t.md', '');
  // Type one character every 50 ms across the refresh (at about half of the 3 s lifetime).
  let typed = '';
  const { text } = a.openFile('t.md');
  const started = Date.now();
  while (Date.now() - started < 2500) {
    text.insert(text.length, 'k');
    typed += 'k';
    await new Promise((r) => setTimeout(r, 50));
  }
  await a.whenSynced();
  await a.save();
  expect(calls).toBe(2);
  expect(refreshed).toHaveLength(1);
  expect(refreshed[0]).toBeGreaterThan(Date.now() + 3000_000);
  expect(server.stats.accepted).toBe(2);
  expect(serverText('t.md')).toBe(typed);
}, 20000);

test('a viewer: mutators throw read_only, a raw edit the server refuses raises read-only', async () => {
  const a = startClient({ url: server.url, workspaceId: WS, token: async () => editor }, clients);
  await a.whenSynced();
  a.createFile('shared.md', 'original');
  await a.save();

  const v = startClient({ url: server.url, workspaceId: WS, token: async () => viewer }, clients);
  await v.whenSynced();
  expect(v.readOnly).toBe(true);
  expect(() => v.writeFile('shared.md', 'changed')).toThrow(DiaryxClientError);
  expect(() => v.createFile('new.md')).toThrow(expect.objectContaining({ code: 'read_only' }));
  const refused: Array<string | null> = [];
  v.on('read-only', ({ path }) => refused.push(path));
  const { text } = v.openFile('shared.md');
  text.insert(0, 'sneaky ');
  await waitFor(() => refused.length > 0, 10000, 'read-only event');
  expect(refused[0]).toBe('shared.md');
  expect(serverText('shared.md')).toBe('original');
});

test('destroy() ends the client: status closed, save() and mutators refuse', async () => {
  const a = startClient({ url: server.url, workspaceId: WS, token: async () => editor }, clients);
  await a.whenSynced();
  a.destroy();
  expect(a.status).toBe('closed');
  await expect(a.save()).rejects.toMatchObject({ code: 'closed' });
  expect(() => a.createFile('z.md')).toThrow(expect.objectContaining({ code: 'closed' }));
  await waitFor(() => server.core.connectionCount === 0, 5000, 'socket closed');
});

test("the others' presence is back right after a token refresh", async () => {
  let calls = 0;
  const token = async (): Promise<string> => shortTokens[Math.min(calls++, 1)];
  const a = startClient({ url: server.url, workspaceId: WS, token }, clients);
  const b = startClient({ url: server.url, workspaceId: WS, token: async () => editor }, clients);
  await Promise.all([a.whenSynced(), b.whenSynced()]);
  a.createFile('p.md', 'presence');
  await a.save();
  await waitFor(() => b.files().some((f) => f.path === 'p.md'), 10000, 'file at b');
  const seenByA = a.openFile('p.md').awareness;
  b.openFile('p.md').awareness.setLocalStateField('user', { name: 'bob' });
  const seesBob = (): boolean =>
    [...seenByA.getStates().values()].some((s) => (s.user as { name?: string } | undefined)?.name === 'bob');
  await waitFor(seesBob, 10000, 'bob before the refresh');
  const refreshed = new Promise<void>((r) => a.on('token-refreshed', () => r()));
  await refreshed;
  // Bob does not touch his presence: it must come back from the server's resend alone (within
  // seconds, not after bob's next two awareness renewals ~30 s later).
  await waitFor(seesBob, 3000, 'bob after the refresh');
}, 20000);
