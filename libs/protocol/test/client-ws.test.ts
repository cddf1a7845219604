import * as Y from 'yjs';
import { WebSocketServer } from 'ws';
import { SyncClientError } from '../src/client';
import { startTestSyncServer, type TestSyncServer } from '../src/client/testing';
import { WS, bodyText, fileJson, liveEntries, seedServer } from './session-helpers';
import {
  startEditorSyncServer,
  testSyncClient,
  waitFor,
  type SyncClientOptions,
} from './helpers/ws-client-harness';

// Real sockets and timers on a shared 2-core machine: allow more than Jest's 5 s default.
jest.setTimeout(30000);

const fast = { baseDelayMs: 50, maxDelayMs: 200, jitter: 0 };

const client = (server: TestSyncServer, over: Partial<SyncClientOptions> = {}) =>
  testSyncClient(server, { reconnect: fast, tickIntervalMs: 50, ...over });

describe('SyncClient over a real ws socket', () => {
  let server: TestSyncServer;
  beforeEach(async () => {
    server = await startEditorSyncServer();
  });
  afterEach(async () => {
    await server.close();
  });

  it('one-shot: pulls everything, pushes local files, and waits for saved', async () => {
    seedServer(server.core, { 'a.md': 'A', 'dir/b.md': 'B' });
    const { c, docs, events } = client(server);
    docs.workspaceDoc.getMap<string>('files').set('mine.md', fileJson('mine.md'));
    docs.bodies.get('mine.md');
    docs.bodyDocs.get('mine.md')!.getText('body').insert(0, 'M');
    const result = await c.runOneShot();
    expect(result).toMatchObject({ files: 3, saved: 4, attempts: 1 });
    expect(bodyText(docs.bodyDocs.get('dir/b.md'))).toBe('B');
    expect(bodyText(server.core.docs.get(`body:${WS}/mine.md`))).toBe('M');
    expect(liveEntries(server.core.doc(`workspace:${WS}`))).toEqual(liveEntries(docs.workspaceDoc));
    const statuses = events.flatMap((e) => (e.type === 'StatusChanged' ? [e.status] : []));
    expect(statuses).toEqual(['connecting', 'connected', 'syncing', 'synced', 'disconnected']);
    await waitFor(() => server.sockets.size === 0);
  });

  it('a bad token fails at once with "unauthorized" and no retry', async () => {
    const { c } = client(server, { token: 'nope', reconnect: { ...fast, maxAttempts: 5 } });
    const err = await c.runOneShot().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SyncClientError);
    expect(err).toMatchObject({ kind: 'unauthorized', httpStatus: 401 });
    expect(server.stats.refused).toBe(1);
  });

  it('a workspace outside the server closes with 4403: "forbidden", never reconnects', async () => {
    const { c } = client(server, { workspaceId: 'other_ws', reconnect: { ...fast, maxAttempts: 5 } });
    const err = await c.runPersistent().catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'forbidden', closeCode: 4403 });
    expect((err as Error).message).toMatch(/workspace not found/);
    expect(server.stats.accepted).toBe(1);
  });

  it('an unreachable server gives "unreachable" after the configured attempts', async () => {
    const port = server.port;
    await server.close();
    server = await startTestSyncServer({ workspaces: [WS] }); // for afterEach
    const { c, events } = client(server, {
      serverUrl: `ws://127.0.0.1:${port}`,
      reconnect: { ...fast, maxAttempts: 2 },
    });
    const err = await c.runOneShot().catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'unreachable' });
    expect((err as Error).message).toMatch(/unreachable after 3 attempts/);
    expect(events.filter((e) => e.type === 'StatusChanged' && e.status === 'reconnecting')).toHaveLength(2);
  });

  it('persistent: reconnects after 1013 and 1001, re-syncs, and stops cleanly', async () => {
    seedServer(server.core, { 'a.md': 'A' });
    const { c, docs, events } = client(server);
    const run = c.runPersistent();
    await waitFor(() => c.session.isSynced);
    // Changed behind the client's back: only a new handshake brings it.
    seedServer(server.core, { 'b.md': 'B' });
    server.core.closeAll(1013, 'overloaded');
    await waitFor(() => events.some((e) => e.type === 'StatusChanged' && e.status === 'reconnecting'));
    await waitFor(() => c.session.isSynced && bodyText(docs.bodyDocs.get('b.md')) === 'B');
    server.core.closeAll(1001, 'draining');
    await waitFor(() => server.stats.accepted === 3 && c.session.isSynced);
    // Live edits flow both ways while connected.
    const body = docs.bodyDocs.get('a.md')!;
    body.once('update', (u: Uint8Array) => c.sendLocalUpdate(`body:${WS}/a.md`, u));
    body.getText('body').insert(1, '+');
    await waitFor(() => bodyText(server.core.docs.get(`body:${WS}/a.md`)) === 'A+');
    c.stop();
    await expect(run).resolves.toBeUndefined();
    expect(server.stats.accepted).toBe(3);
  });

  it('detects a dead connection (no pong) and reconnects', async () => {
    const { c, events } = client(server, { pingIntervalMs: 100, pongTimeoutMs: 150 });
    const run = c.runPersistent();
    await waitFor(() => c.session.isSynced);
    server.freeze();
    await waitFor(() => server.stats.accepted === 2 && c.session.isSynced, 5000);
    expect(events.some((e) => e.type === 'StatusChanged' && e.status === 'disconnected')).toBe(true);
    c.stop();
    await run;
  });

  it('save() resolves on "saved" and rejects when not connected', async () => {
    const { c } = client(server);
    await expect(c.save(`workspace:${WS}`)).rejects.toMatchObject({ kind: 'unreachable' });
    const run = c.runPersistent();
    await waitFor(() => c.session.isSynced);
    await expect(c.save(`workspace:${WS}`)).resolves.toBeUndefined();
    c.stop();
    await run;
  });

  it('keeps documents identical between two clients editing the same body', async () => {
    seedServer(server.core, { 'shared.md': 'base' });
    const one = client(server);
    const two = client(server);
    const runs = [one.c.runPersistent(), two.c.runPersistent()];
    await waitFor(() => one.c.session.isSynced && two.c.session.isSynced);
    for (const [who, text] of [
      [one, 'X'],
      [two, 'Y'],
    ] as const) {
      const doc = who.docs.bodyDocs.get('shared.md')!;
      doc.once('update', (u: Uint8Array) => who.c.sendLocalUpdate(`body:${WS}/shared.md`, u));
      doc.getText('body').insert(0, text);
    }
    const text = (d: Y.Doc | undefined): string | undefined => bodyText(d);
    await waitFor(
      () =>
        text(one.docs.bodyDocs.get('shared.md'))?.length === 6 &&
        text(two.docs.bodyDocs.get('shared.md'))?.length === 6,
    );
    expect(text(one.docs.bodyDocs.get('shared.md'))).toBe(text(two.docs.bodyDocs.get('shared.md')));
    one.c.stop();
    two.c.stop();
    await Promise.all(runs);
  });

  it('one-shot times out after base + per-file time when the server never completes', async () => {
    const silent = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => silent.once('listening', r));
    const port = (silent.address() as { port: number }).port;
    const { c, docs } = client(server, { serverUrl: `ws://127.0.0.1:${port}` });
    for (let i = 0; i < 20; i++)
      docs.workspaceDoc.getMap<string>('files').set(`f${i}.md`, fileJson(`f${i}.md`));
    const started = Date.now();
    const err = await c.runOneShot({ baseTimeoutMs: 200, perFileTimeoutMs: 20 }).catch((e: unknown) => e);
    const took = Date.now() - started;
    for (const s of silent.clients) s.terminate();
    await new Promise((r) => silent.close(r));
    expect(err).toMatchObject({ kind: 'timeout' });
    expect(took).toBeGreaterThanOrEqual(600);
    expect(took).toBeLessThan(1500);
  });

  it('reports read_only errors of a viewer token as ServerError events', async () => {
    await server.close();
    server = await startTestSyncServer({ workspaces: [WS], tokens: { 'test-token': 'viewer' } });
    seedServer(server.core, { 'a.md': 'A' });
    const { c, docs, events } = client(server);
    const run = c.runPersistent();
    await waitFor(() => c.session.isSynced);
    const body = docs.bodyDocs.get('a.md')!;
    body.once('update', (u: Uint8Array) => c.sendLocalUpdate(`body:${WS}/a.md`, u));
    body.getText('body').insert(0, 'nope ');
    await waitFor(() => events.some((e) => e.type === 'ServerError'));
    expect(events.find((e) => e.type === 'ServerError')).toEqual({
      type: 'ServerError',
      code: 'read_only',
      message: undefined,
      docId: `body:${WS}/a.md`,
    });
    expect(bodyText(server.core.docs.get(`body:${WS}/a.md`))).toBe('A');
    c.stop();
    await run;
  });
});
