import * as Y from 'yjs';
import {
  BodyDoc,
  createFileMetadata,
  FileChangeKind,
  HistoryManager,
  MemoryStorage,
  WorkspaceCrdt,
  type CrdtStorage,
  type FileMetadata,
} from '../src';
import { edit } from './helpers/storage-contract';

const meta = createFileMetadata;
const WS = 'workspace:ws1';

/** A workspace whose local updates are appended to storage. */
function persisted(storage: CrdtStorage, doc: string, device?: string) {
  const ws = new WorkspaceCrdt();
  const writes: Promise<number>[] = [];
  ws.onUpdate((u, info) => {
    if (info.local)
      writes.push(
        storage.appendUpdate(doc, u, {
          origin: 'local',
          deviceId: device ?? null,
          deviceName: device ? `${device}-name` : null,
        }),
      );
  });
  return { ws, flush: () => Promise.all(writes) };
}

test('history entries newest first with files_changed', async () => {
  const storage = new MemoryStorage();
  const { ws, flush } = persisted(storage, WS, 'dev1');
  ws.setFile('a.md', meta({ title: 'A', modified_at: 1 }));
  ws.setFile('b.md', meta({ title: 'B', modified_at: 1 }));
  ws.setFile('a.md', meta({ title: 'A2', modified_at: 2 }));
  await flush();
  const history = await new HistoryManager(storage).getHistory(WS);
  expect(history.map((h) => h.files_changed)).toEqual([['a.md'], ['b.md'], ['a.md']]);
  expect(history[0]).toMatchObject({ origin: 'local', device_id: 'dev1', device_name: 'dev1-name' });
  expect(history[0].update_id).toBeGreaterThan(history[1].update_id);
  expect(Object.keys(history[0]).sort()).toEqual([
    'device_id',
    'device_name',
    'files_changed',
    'origin',
    'timestamp',
    'update_id',
    'user',
  ]);
  expect(await new HistoryManager(storage).getHistory(WS, { limit: 1 })).toHaveLength(1);
});

test('history works past a compaction', async () => {
  const storage = new MemoryStorage();
  const { ws, flush } = persisted(storage, WS);
  ws.setFile('a.md', meta({ modified_at: 1 }));
  ws.setFile('b.md', meta({ modified_at: 1 }));
  await flush();
  await storage.compact(WS, 0);
  ws.setFile('b.md', meta({ title: 'changed', modified_at: 2 }));
  await flush();
  const history = await new HistoryManager(storage).getHistory(WS);
  expect(history.map((h) => h.files_changed)).toEqual([['b.md']]);
});

test('diff between versions: Added, Modified, Deleted, Restored', async () => {
  const storage = new MemoryStorage();
  const { ws, flush } = persisted(storage, WS);
  ws.setFile('keep.md', meta({ modified_at: 1 }));
  ws.setFile('mod.md', meta({ title: 'v1', modified_at: 1 }));
  ws.setFile('del.md', meta({ modified_at: 1 }));
  ws.setFile('back.md', meta({ modified_at: 1 }));
  ws.deleteFile('back.md');
  await flush();
  const v1 = await storage.getLatestUpdateId(WS);
  ws.setFile('new.md', meta({ modified_at: 5 }));
  ws.setFile('mod.md', meta({ title: 'v2', modified_at: 5 }));
  ws.deleteFile('del.md');
  ws.setFile('back.md', meta({ modified_at: Date.now() + 1000 }));
  await flush();
  const v2 = await storage.getLatestUpdateId(WS);
  // without a doc id: the doc owning the update ids
  expect(await new HistoryManager(storage).diff(v1, v2)).toEqual(
    await new HistoryManager(storage).diff(WS, v1, v2),
  );
  expect(await new HistoryManager(storage, { doc: WS }).diff(v2, v2)).toEqual([]);
  expect(kinds(await new HistoryManager(storage).diff(WS, v1, v2))).toEqual([
    { path: 'back.md', change: 'Restored' },
    { path: 'del.md', change: 'Deleted' },
    { path: 'mod.md', change: 'Modified' },
    { path: 'new.md', change: 'Added' },
  ]);
});

test('restoreToVersion of the workspace is a forward update; later files become tombstones', async () => {
  const storage = new MemoryStorage();
  const { ws, flush } = persisted(storage, WS);
  ws.setFile('a.md', meta({ title: 'A', modified_at: 1 }));
  ws.setFile('b.md', meta({ title: 'B', modified_at: 1 }));
  await flush();
  const v1 = await storage.getLatestUpdateId(WS);
  const before = WorkspaceCrdt.fromUpdate(await storage.loadDoc(WS)).listFiles();
  ws.setFile('a.md', meta({ title: 'A changed', modified_at: 2 }));
  ws.deleteFile('b.md');
  ws.setFile('c.md', meta({ title: 'C', modified_at: 3 }));
  await flush();
  const countBefore = (await storage.getAllUpdates(WS)).length;
  const history = new HistoryManager(storage);
  const result = await history.restoreToVersion(WS, v1);
  expect(result.changed).toBe(true);
  expect(result.updateId).not.toBeNull();
  expect((await storage.getAllUpdates(WS)).length).toBe(countBefore + 1);
  const restored = WorkspaceCrdt.fromUpdate(await storage.loadDoc(WS));
  expect(restored.listFiles()).toEqual(before);
  expect(restored.getFile('c.md')?.deleted).toBe(true);
  // a connected replica converges by applying the forward update
  ws.applyUpdate(result.update);
  expect(ws.listFiles()).toEqual(before);
  // restoring to the current version changes nothing
  expect((await history.restoreToVersion(WS, await storage.getLatestUpdateId(WS))).changed).toBe(false);
});

test('restoreToVersion of a body doc restores text and frontmatter', async () => {
  const storage = new MemoryStorage();
  const doc = 'body:ws1/a.md';
  const body = new BodyDoc(doc);
  const writes: Promise<number>[] = [];
  body.onUpdate((u) => writes.push(storage.appendUpdate(doc, u)));
  body.setBody('version one 😀');
  body.setFrontmatter('k', 'v1');
  await Promise.all(writes);
  const v1 = await storage.getLatestUpdateId(doc);
  body.setBody('version two, much longer');
  body.setFrontmatter('k', 'v2');
  body.setFrontmatter('extra', true);
  await Promise.all(writes);
  const history = new HistoryManager(storage);
  expect((await history.getHistory(doc)).map((h) => h.files_changed)).toEqual([
    ['a.md'],
    ['a.md'],
    ['a.md'],
    ['a.md'],
    ['a.md'],
  ]);
  expect(kinds(await history.diff(doc, v1, await storage.getLatestUpdateId(doc)))).toEqual([
    { path: 'a.md', change: 'Modified' },
  ]);
  const r = await history.restoreToVersion(doc, v1, { deviceId: 'admin' });
  const restored = BodyDoc.fromUpdate(doc, await storage.loadDoc(doc));
  expect(restored.getBody()).toBe('version one 😀');
  expect(restored.getAllFrontmatter()).toEqual({ k: 'v1' });
  expect((await storage.getAllUpdates(doc)).at(-1)).toMatchObject({
    id: r.updateId,
    origin: 'restore',
    deviceId: 'admin',
  });
  body.applyUpdate(r.update);
  expect(body.getBody()).toBe('version one 😀');
});

describe('HistoryManager: entries, diff, restore, limits and default doc', () => {
  const meta = (init: Partial<FileMetadata> = {}): FileMetadata =>
    createFileMetadata({ modified_at: 1000, ...init });

  test('entries, diff(fromId, toId) and restoreToVersion(doc, updateId) as a forward update', async () => {
    const storage = new MemoryStorage();
    const doc = 'workspace:w1';
    const ws = new WorkspaceCrdt();
    ws.onUpdate((u, info) => {
      if (info.local)
        void storage.appendUpdate(doc, u, { origin: 'local', deviceId: 'd1', deviceName: 'Laptop' });
    });
    ws.setFile('a.md', meta({ title: 'A' }));
    const v1 = await storage.getLatestUpdateId(doc);
    ws.setFile('b.md', meta({ title: 'B' }));
    ws.setFile('a.md', meta({ title: 'A2', modified_at: 2000 }));
    const v3 = await storage.getLatestUpdateId(doc);
    const h = new HistoryManager(storage);
    const entries = await h.getHistory(doc);
    expect(entries).toHaveLength(3);
    expect(Object.keys(entries[0]).sort()).toEqual(
      ['device_id', 'device_name', 'files_changed', 'origin', 'timestamp', 'update_id', 'user'].sort(),
    );
    expect(entries.map((e) => e.update_id)).toEqual([v3, v3 - 1, v1]);
    expect(entries[0]).toMatchObject({
      origin: 'local',
      device_id: 'd1',
      device_name: 'Laptop',
      files_changed: ['a.md'],
    });
    expect(typeof entries[0].timestamp).toBe('number');
    const diff = await h.diff(v1, v3);
    expect(kinds(diff)).toEqual([
      { path: 'a.md', change: 'Modified' },
      { path: 'b.md', change: 'Added' },
    ]);
    const result = await h.restoreToVersion(doc, v1);
    expect(result.changed).toBe(true);
    const restored = WorkspaceCrdt.fromUpdate(await storage.loadDoc(doc));
    expect(restored.getFile('a.md')?.title).toBe('A');
    expect(restored.getFile('b.md')?.deleted).toBe(true);
    expect((await storage.getAllUpdates(doc)).length).toBe(4);
    const after = await storage.getLatestUpdateId(doc);
    expect(kinds(await h.diff(v3, after))).toEqual([
      { path: 'a.md', change: 'Modified' },
      { path: 'b.md', change: 'Deleted' },
    ]);
  });

  test('getHistory(doc, { limit })', async () => {
    const storage = new MemoryStorage();
    const d = new Y.Doc();
    for (const w of ['a', 'b', 'c']) await storage.appendUpdate('body:w/a.md', edit(d, w));
    const h = new HistoryManager(storage);
    expect(await h.getHistory('body:w/a.md', { limit: 2 })).toHaveLength(2);
  });

  test('diff entries are { path, change, old, new } objects (metadata at both versions)', async () => {
    const storage = new MemoryStorage();
    const ws = new WorkspaceCrdt();
    ws.onUpdate((u) => void storage.appendUpdate('workspace:w', u));
    ws.setFile('a.md', meta());
    const v1 = await storage.getLatestUpdateId('workspace:w');
    ws.setFile('b.md', meta());
    const diff = await new HistoryManager(storage).diff(
      'workspace:w',
      v1,
      await storage.getLatestUpdateId('workspace:w'),
    );
    expect(diff).toHaveLength(1);
    expect(diff[0]).toMatchObject({ path: 'b.md', change: 'Added', old: null });
    expect(diff[0]!.new).toMatchObject({ deleted: false });
    expect(kinds(JSON.parse(JSON.stringify(diff)))).toEqual([{ path: 'b.md', change: 'Added' }]);
    expect(diff[0].change).toBe(FileChangeKind.Added);
  });

  test('HistoryManager(storage, { doc }): calls without a doc id use it', async () => {
    const storage = new MemoryStorage();
    const d = new Y.Doc();
    const a = await storage.appendUpdate('body:w/a.md', edit(d, 'a'));
    const b = await storage.appendUpdate('body:w/a.md', edit(d, 'b'));
    await storage.appendUpdate('body:w/other.md', edit(new Y.Doc(), 'x'));
    const h = new HistoryManager(storage, { doc: 'body:w/a.md' });
    expect((await h.getHistory()).map((e) => e.update_id)).toEqual([b, a]);
    expect(kinds(await h.diff(a, b))).toEqual([{ path: 'a.md', change: 'Modified' }]);
  });
});

describe('HistoryManager with plain doc names (as in the original API)', () => {
  const meta = (init: Partial<FileMetadata> = {}): FileMetadata =>
    createFileMetadata({ modified_at: 1000, ...init });

  test('a workspace doc stored as "workspace" is recognised by its content', async () => {
    const storage = new MemoryStorage();
    const ws = new WorkspaceCrdt('workspace');
    ws.onUpdate((u) => void storage.appendUpdate('workspace', u));
    ws.setFile('file1.md', meta({ title: 'One' }));
    const v1 = await storage.getLatestUpdateId('workspace');
    ws.setFile('file2.md', meta({ title: 'Two' }));
    const v2 = await storage.getLatestUpdateId('workspace');
    const h = new HistoryManager(storage);
    const entries = await h.getHistory('workspace');
    expect(entries.map((e) => e.files_changed)).toEqual([['file2.md'], ['file1.md']]);
    expect(kinds(await h.diff('workspace', v1, v2))).toEqual([{ path: 'file2.md', change: 'Added' }]);
    await h.restoreToVersion('workspace', v1);
    const restored = WorkspaceCrdt.fromUpdate(await storage.loadDoc('workspace'));
    expect(restored.getFile('file2.md')?.deleted).toBe(true);
    expect(restored.getFile('file1.md')?.deleted).toBe(false);
  });
});

/** The path and change kind of each diff entry (old/new metadata are checked separately). */
function kinds(diff: { path: string; change: string }[]): { path: string; change: string }[] {
  return diff.map(({ path, change }) => ({ path, change }));
}
