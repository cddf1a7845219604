import * as Y from 'yjs';
import { REMOTE_ORIGIN, type SyncEvent } from '../src/client';
import { TestSyncServerCore } from '../src/client/testing';
import { encodeFrame } from '../src/framing';
import { encodeMessage } from '../src/sync';
import { WS, bodyText, expectConverged, fileJson, makeClient, seed, seedServer } from './session-helpers';

// Real sockets and timers on a shared 2-core machine: allow more than Jest's 5 s default.
jest.setTimeout(30000);

function manyFiles(n: number, prefix = 'notes/f'): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < n; i++) files[`${prefix}${i}.md`] = `body of ${prefix}${i}\n`;
  return files;
}

const statuses = (events: SyncEvent[]): string[] =>
  events.flatMap((e) => (e.type === 'StatusChanged' ? [e.status] : []));

describe('SyncSession against the server logic (in-memory pipe)', () => {
  it.each([1, 2, 3])(
    'converges with delays and reordering (seed %i); Synced only after every body',
    (seedNo) => {
      const core = new TestSyncServerCore({ workspaces: [WS] });
      seedServer(core, manyFiles(120));
      const c = makeClient(core, { seed: seedNo, minDelayMs: 0, maxDelayMs: 40 });
      seed(
        c.docs.workspaceDoc,
        (p) => c.docs.bodies.get(p) && c.docs.bodyDocs.get(p)!,
        manyFiles(15, 'local/l'),
      );

      let syncedChecks = 0;
      c.pipe.listeners.push((e) => {
        if (e.type !== 'StatusChanged' || e.status !== 'synced') return;
        // At the moment Synced is reported, every server file's body is present with its text.
        for (const [docId, doc] of core.docs) {
          if (!docId.startsWith('body:')) continue;
          const path = docId.slice(`body:${WS}/`.length);
          if (path.startsWith('local/')) continue; // our own files: the server gets them from us
          expect([path, bodyText(c.docs.bodyDocs.get(path))]).toEqual([path, bodyText(doc)]);
          syncedChecks++;
        }
      });
      c.pipe.connect();
      expect(c.pipe.run(() => c.session.isSynced)).toBe(true);
      expect(syncedChecks).toBe(120);
      expect(c.pipe.drain()).toBe(true);
      expectConverged(core, c);
      expect(core.liveFiles(WS)).toHaveLength(135);
      expect(statuses(c.pipe.events)).toEqual(['connected', 'syncing', 'synced']);
      // One SyncStep1 per body doc: no duplicate bootstraps without faults.
      const bodyFrames = c.pipe.sent.filter((f) => f.docId?.startsWith('body:'));
      const perDoc = new Map<string, number>();
      for (const f of bodyFrames) perDoc.set(f.docId!, (perDoc.get(f.docId!) ?? 0) + 1);
      expect(perDoc.size).toBe(135);
    },
  );

  it('reports progress every 50 files and at the end', () => {
    const core = new TestSyncServerCore({ workspaces: [WS] });
    seedServer(core, manyFiles(120));
    const c = makeClient(core, { seed: 7, maxDelayMs: 5 });
    c.pipe.connect();
    expect(c.pipe.run(() => c.session.isSynced)).toBe(true);
    const completed = c.pipe.events.flatMap((e) => (e.type === 'Progress' ? [e.completed] : []));
    expect(completed).toEqual(expect.arrayContaining([0, 50, 100, 120]));
    const last = c.pipe.events.filter((e) => e.type === 'Progress').pop();
    expect(last).toEqual({ type: 'Progress', completed: 120, total: 120 });
  });

  it('recovers from dropped frames (retries), then converges after a reconnect', () => {
    const core = new TestSyncServerCore({ workspaces: [WS] });
    seedServer(core, manyFiles(60));
    const c = makeClient(core, { seed: 11, dropRate: 0.2, minDelayMs: 0, maxDelayMs: 50 });
    seed(
      c.docs.workspaceDoc,
      (p) => (c.docs.bodies.get(p), c.docs.bodyDocs.get(p)!),
      manyFiles(10, 'mine/m'),
    );
    c.pipe.connect();
    expect(c.pipe.run(() => c.session.isSynced, 120000)).toBe(true);
    expect(c.pipe.sent.some((f) => f.dropped)).toBe(true);
    // Every server body arrived despite the drops.
    for (const path of core.liveFiles(WS).filter((p) => p.startsWith('notes/'))) {
      expect(bodyText(c.docs.bodyDocs.get(path))).toBe(`body of ${path.replace(/\.md$/, '')}\n`);
    }
    // A clean reconnect heals whatever the server lost.
    c.pipe.disconnect();
    c.pipe.setFaults({ minDelayMs: 0, maxDelayMs: 20 });
    c.pipe.connect();
    expect(c.pipe.run(() => c.session.isSynced)).toBe(true);
    expect(c.pipe.drain()).toBe(true);
    expectConverged(core, c);
    expect(core.liveFiles(WS)).toHaveLength(70);
  });

  it('falls back after a bounded wait when the server never sends sync_complete', () => {
    const core = new TestSyncServerCore({ workspaces: [WS], sendSyncComplete: false });
    seedServer(core, manyFiles(5));
    const c = makeClient(core, { seed: 3, maxDelayMs: 10 }, 2000);
    c.pipe.connect();
    expect(
      c.pipe.run(() => c.session.pendingBodies().length === 0 && c.session.syncedBodies().length === 5),
    ).toBe(true);
    const allBodiesAt = c.pipe.now;
    expect(c.session.isSynced).toBe(false);
    expect(c.pipe.run(() => c.session.isSynced, 10000)).toBe(true);
    expect(c.pipe.now).toBeGreaterThanOrEqual(2000);
    expect(c.pipe.now).toBeLessThan(allBodiesAt + 2500);
    expectConverged(core, c);
  });

  it('with sync_complete, Synced comes as soon as the bodies are in (no fallback wait)', () => {
    const core = new TestSyncServerCore({ workspaces: [WS] });
    seedServer(core, manyFiles(5));
    const c = makeClient(core, { seed: 3, maxDelayMs: 10 }, 2000);
    c.pipe.connect();
    expect(c.pipe.run(() => c.session.isSynced)).toBe(true);
    expect(c.pipe.now).toBeLessThan(200);
  });

  it('accepts the Files-Ready handshake (file_manifest → FilesReady → crdt_state → sync_complete)', () => {
    const core = new TestSyncServerCore({ workspaces: [WS], sendSyncComplete: false });
    seedServer(core, manyFiles(3));
    const c = makeClient(core, { seed: 1 });
    c.pipe.connect();
    // Pretend the server runs the Files-Ready handshake before any binary frame.
    c.pipe.feed({
      type: 'TextMessage',
      text: JSON.stringify({ type: 'file_manifest', files: [], client_is_new: false }),
    });
    expect(c.pipe.sent.map((f) => f.text).filter(Boolean)).toContain('{"type":"FilesReady"}');
    const state = Buffer.from(Y.encodeStateAsUpdate(core.doc(`workspace:${WS}`))).toString('base64');
    c.pipe.feed({ type: 'TextMessage', text: JSON.stringify({ type: 'crdt_state', state }) });
    expect(c.session.status).toBe('syncing');
    expect(c.session.pendingBodies().sort()).toEqual(['notes/f0.md', 'notes/f1.md', 'notes/f2.md']);
    c.pipe.feed({ type: 'TextMessage', text: JSON.stringify({ type: 'sync_complete', files_synced: 3 }) });
    expect(c.pipe.run(() => c.session.isSynced, 1000)).toBe(true);
    expectConverged(core, c);
  });

  it('asks for a snapshot when the manifest says the client is new', () => {
    const core = new TestSyncServerCore({ workspaces: [WS] });
    const c = makeClient(core, { seed: 1 });
    c.pipe.connect();
    const actions = c.session.handle({
      type: 'TextMessage',
      text: '{"type":"file_manifest","client_is_new":true}',
    });
    expect(actions).toEqual([{ type: 'DownloadSnapshot', workspaceId: WS }]);
    expect(c.session.handle({ type: 'SnapshotImported' })).toEqual([
      { type: 'SendText', text: '{"type":"FilesReady"}' },
    ]);
  });

  it('canonicalizes path keys: README.md, ./README.md and /README.md are one body stream', () => {
    const core = new TestSyncServerCore({ workspaces: [WS] });
    const c = makeClient(core, { seed: 5 });
    c.docs.workspaceDoc.getMap<string>('files').set('./README.md', fileJson('README.md'));
    c.docs.workspaceDoc.getMap<string>('files').set('/README.md', fileJson('README.md', { modified_at: 1 }));
    c.docs.bodies.get('README.md');
    c.docs.bodyDocs.get('README.md')!.getText('body').insert(0, '# Hi');
    c.pipe.connect();
    expect(c.pipe.run(() => c.session.isSynced)).toBe(true);
    c.pipe.drain();
    const bodyIds = new Set(c.pipe.sent.flatMap((f) => (f.docId?.startsWith('body:') ? [f.docId] : [])));
    expect([...bodyIds]).toEqual([`body:${WS}/README.md`]);
    expect(bodyText(core.docs.get(`body:${WS}/README.md`))).toBe('# Hi');
    // A local update addressed with a non-canonical id goes out canonical.
    const doc = c.docs.bodyDocs.get('README.md')!;
    let update: Uint8Array | undefined;
    doc.once('update', (u: Uint8Array) => (update = u));
    doc.getText('body').insert(4, '!');
    c.pipe.feed({ type: 'LocalUpdate', docId: `body:${WS}/./README.md`, update: update! });
    c.pipe.drain();
    expect(bodyText(core.docs.get(`body:${WS}/README.md`))).toBe('# Hi!');
  });

  it('a remote rename mid-sync keeps one body stream under the new path', () => {
    const core = new TestSyncServerCore({ workspaces: [WS] });
    seedServer(core, { 'old.md': 'hello', 'other.md': 'x' });
    const a = makeClient(core, { seed: 21, maxDelayMs: 5 });
    const b = makeClient(core, { seed: 22, minDelayMs: 5, maxDelayMs: 60 });
    a.pipe.connect();
    b.pipe.connect();
    expect(a.pipe.run(() => a.session.isSynced)).toBe(true);
    expect(b.pipe.run(() => b.session.isSynced)).toBe(true);
    a.pipe.drain();
    b.pipe.drain();
    b.pipe.disconnect();

    // A renames old.md → new.md: tombstone + new key (same title), body doc moved (same history).
    const files = a.docs.workspaceDoc.getMap<string>('files');
    const updates: Uint8Array[] = [];
    const capture = (u: Uint8Array, origin: unknown): void => {
      if (origin !== REMOTE_ORIGIN) updates.push(u);
    };
    a.docs.workspaceDoc.on('update', capture);
    a.docs.workspaceDoc.transact(() => {
      files.set('new.md', fileJson('new.md', { title: 'old', modified_at: 1700000001000 }));
      files.set('old.md', fileJson('old.md', { title: 'old', deleted: true, modified_at: 1700000001000 }));
    });
    a.docs.workspaceDoc.off('update', capture);
    a.docs.bodies.rename('old.md', 'new.md');
    for (const u of updates) a.pipe.feed({ type: 'LocalUpdate', docId: `workspace:${WS}`, update: u });
    a.pipe.feed({
      type: 'LocalUpdate',
      docId: `body:${WS}/new.md`,
      update: Y.encodeStateAsUpdate(a.docs.bodyDocs.get('new.md')!),
    });
    a.pipe.drain();

    // B reconnects while it still believes old.md is live: its old.md bootstrap is in flight
    // when the rename arrives.
    const changes: SyncEvent[] = [];
    b.pipe.listeners.push((e) => e.type === 'FilesChanged' && changes.push(e));
    b.pipe.connect();
    expect(b.pipe.sent.some((f) => f.docId === `body:${WS}/old.md`)).toBe(true);
    expect(b.pipe.run(() => b.session.isSynced)).toBe(true);
    b.pipe.drain();
    expect(changes).toEqual([
      {
        type: 'FilesChanged',
        changes: expect.objectContaining({ renamed: [{ from: 'old.md', to: 'new.md' }] }),
      },
    ]);
    expect(b.docs.bodyDocs.has('old.md')).toBe(false);
    expect(bodyText(b.docs.bodyDocs.get('new.md'))).toBe('hello');

    // Post-rename edit on B syncs under the new path only, without duplicated text.
    const renamedAt = b.pipe.now;
    const doc = b.docs.bodyDocs.get('new.md')!;
    let update: Uint8Array | undefined;
    doc.once('update', (u: Uint8Array) => (update = u));
    doc.getText('body').insert(5, ' world');
    b.pipe.feed({ type: 'LocalUpdate', docId: `body:${WS}/new.md`, update: update! });
    b.pipe.drain();
    expect(bodyText(core.docs.get(`body:${WS}/new.md`))).toBe('hello world');
    expect(b.pipe.sent.filter((f) => f.at >= renamedAt && f.docId === `body:${WS}/old.md`)).toEqual([]);
    expect(b.session.syncedBodies()).not.toContain('old.md');
  });

  it('drops pending bootstraps of files deleted mid-sync and still reports Synced', () => {
    const core = new TestSyncServerCore({ workspaces: [WS] });
    seedServer(core, manyFiles(3));
    const c = makeClient(core, { seed: 9, minDelayMs: 20, maxDelayMs: 30 });
    // The client believes a file exists that the server has deleted.
    c.docs.workspaceDoc.getMap<string>('files').set('gone.md', fileJson('gone.md'));
    Y.applyUpdate(core.doc(`workspace:${WS}`), Y.encodeStateAsUpdate(c.docs.workspaceDoc));
    core
      .doc(`workspace:${WS}`)
      .getMap<string>('files')
      .set('gone.md', fileJson('gone.md', { deleted: true, modified_at: 1800000000000 }));
    c.pipe.connect();
    expect(c.pipe.run(() => c.session.isSynced)).toBe(true);
    expect(c.pipe.sent.some((f) => f.docId === `body:${WS}/gone.md`)).toBe(true);
    expect(c.session.pendingBodies()).toEqual([]);
    expectConverged(core, c);
  });

  it('resets on disconnect and bootstraps again on reconnect', () => {
    const core = new TestSyncServerCore({ workspaces: [WS] });
    seedServer(core, manyFiles(4));
    const c = makeClient(core, { seed: 2, maxDelayMs: 10 });
    c.pipe.connect();
    expect(c.pipe.run(() => c.session.isSynced)).toBe(true);
    c.pipe.disconnect();
    expect(c.session.status).toBe('disconnected');
    expect(c.session.isSynced).toBe(false);
    seedServer(core, { 'later.md': 'new while away' });
    c.pipe.connect();
    expect(c.pipe.run(() => c.session.isSynced)).toBe(true);
    expect(bodyText(c.docs.bodyDocs.get('later.md'))).toBe('new while away');
  });

  it('ignores malformed server frames without throwing', () => {
    const core = new TestSyncServerCore({ workspaces: [WS] });
    const c = makeClient(core, { seed: 1 });
    c.pipe.connect();
    for (const bad of [
      new Uint8Array([]),
      new Uint8Array([5, 1, 2]),
      new Uint8Array([3, 0x61, 0x62, 0x63, 9]),
    ]) {
      const actions = c.session.handle({ type: 'BinaryMessage', data: bad });
      expect(actions.every((a) => a.type === 'Emit' && a.event.type === 'Error')).toBe(true);
    }
    expect(c.session.handle({ type: 'TextMessage', text: 'not json' })).toEqual([]);
  });

  it('a body counts as synced only on the server SyncStep2, not on any frame', () => {
    const core = new TestSyncServerCore({ workspaces: [WS] });
    seedServer(core, { 'a.md': 'text' });
    const c = makeClient(core, { seed: 4 });
    c.pipe.connect();
    c.pipe.run(() => c.session.pendingBodies().includes('a.md'));
    // A broadcast Update for the pending body arrives first: still pending, not Synced.
    const other = new Y.Doc();
    other.getText('body').insert(0, 'x');
    const update = Y.encodeStateAsUpdate(other);
    const frame = new Uint8Array([
      ...encodeFrame(`body:${WS}/a.md`, encodeMessage({ type: 'update', update })),
    ]);
    c.pipe.feed({ type: 'TextMessage', text: '{"type":"sync_complete","files_synced":1}' });
    c.pipe.feed({ type: 'BinaryMessage', data: frame });
    expect(c.session.pendingBodies()).toContain('a.md');
    expect(c.session.isSynced).toBe(false);
    expect(c.pipe.run(() => c.session.isSynced)).toBe(true);
  });
});
