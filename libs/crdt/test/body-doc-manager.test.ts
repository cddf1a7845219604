import { BodyDocManager, MemoryStorage } from '../src';
import { bodyOf } from './helpers/storage-contract';

test('lazy getOrCreate, hasDoc, removeDoc without storage', () => {
  const m = new BodyDocManager();
  expect(m.hasDoc('a.md')).toBe(false);
  const a = m.getOrCreate('./a.md');
  expect(m.getOrCreate('a.md')).toBe(a);
  expect(m.hasDoc('/a.md')).toBe(true);
  a.setBody('x');
  expect(m.removeDoc('a.md')).toBe(true);
  expect(m.removeDoc('a.md')).toBe(false);
  expect(m.hasDoc('a.md')).toBe(false);
  expect(() => m.getOrCreate('../bad')).toThrow();
});

test('updates are persisted under body doc ids and reloaded', async () => {
  const storage = new MemoryStorage();
  const m = new BodyDocManager({ storage, workspaceId: 'ws1' });
  const a = await m.open('notes/a.md');
  a.setBody('hello');
  a.insertAt(5, '!');
  await m.flush();
  expect(await storage.listDocs()).toEqual(['body:ws1/notes/a.md']);
  const m2 = new BodyDocManager({ storage, workspaceId: 'ws1' });
  expect((await m2.open('notes/a.md')).getBody()).toBe('hello!');
  // loading does not write the loaded state back
  expect(await storage.getUpdateCount('body:ws1/notes/a.md')).toBe(2);
});

test('LRU unloading persists first and keeps the bound', async () => {
  const storage = new MemoryStorage();
  const m = new BodyDocManager({ storage, workspaceId: 'w', maxLoaded: 2 });
  (await m.open('a.md')).setBody('A');
  (await m.open('b.md')).setBody('B');
  m.getOrCreate('a.md'); // touch a: b is now least recently used
  (await m.open('c.md')).setBody('C');
  expect(m.size).toBe(2);
  expect(m.hasDoc('b.md')).toBe(false);
  expect(m.loadedPaths()).toEqual(['a.md', 'c.md']);
  const b = await m.open('b.md');
  expect(b.getBody()).toBe('B');
  expect(m.hasDoc('a.md')).toBe(false);
  await m.close();
  const fresh = new BodyDocManager({ storage, workspaceId: 'w' });
  for (const [p, t] of [
    ['a.md', 'A'],
    ['b.md', 'B'],
    ['c.md', 'C'],
  ])
    expect((await fresh.open(p)).getBody()).toBe(t);
});

test('renameDoc moves the in-memory doc and its storage rows', async () => {
  const storage = new MemoryStorage();
  const m = new BodyDocManager({ storage, workspaceId: 'w' });
  const doc = await m.open('old.md');
  doc.setBody('content');
  await storage.appendUpdate('body:w/new.md', new Uint8Array([0, 0])); // stale destination
  const synced: string[] = [];
  doc.setSyncCallback((name) => synced.push(name));
  await m.renameDoc('old.md', 'new.md');
  expect(m.hasDoc('old.md')).toBe(false);
  expect(m.get('new.md')).toBe(doc);
  expect(doc.name).toBe('new.md');
  doc.insertAt(0, '>');
  await m.flush();
  expect(synced).toEqual(['new.md']);
  expect(await storage.listDocs()).toEqual(['body:w/new.md']);
  const fresh = new BodyDocManager({ storage, workspaceId: 'w' });
  expect((await fresh.open('new.md')).getBody()).toBe('>content');
  // renaming a doc that does not exist anywhere is a no-op
  await m.renameDoc('ghost.md', 'new.md');
  expect((await new BodyDocManager({ storage, workspaceId: 'w' }).open('new.md')).getBody()).toBe('>content');
});

test('storage write failures surface through flush', async () => {
  const storage = new MemoryStorage();
  storage.appendUpdate = async () => {
    throw new Error('disk full');
  };
  const m = new BodyDocManager({ storage });
  (await m.open('a.md')).setBody('x');
  await expect(m.flush()).rejects.toThrow('disk full');
  await expect(m.flush()).resolves.toBeUndefined();
});

test('with a synchronous storage the update is stored right after the edit', async () => {
  const storage = new MemoryStorage();
  const m = new BodyDocManager({ storage, maxLoaded: 1 });
  m.getOrCreate('a.md').setBody('A');
  expect(await storage.getUpdateCount('a.md')).toBe(1);
  m.getOrCreate('b.md'); // evicts a.md
  expect(m.hasDoc('a.md')).toBe(false);
  const reloaded = await m.open('a.md');
  expect(reloaded.getBody()).toBe('A');
});

test('storage can be passed positionally', async () => {
  const storage = new MemoryStorage();
  const m = new BodyDocManager({ storage, workspaceId: 'w' });
  m.getOrCreate('a.md').setBody('A');
  await m.flush();
  expect(await storage.listDocs()).toEqual(['body:w/a.md']);
});

describe('BodyDocManager: LRU, rename and bounds', () => {
  test('after LRU unloading, getOrCreate returns the persisted content right away (MemoryStorage)', async () => {
    const storage = new MemoryStorage();
    const m = new BodyDocManager({ storage, maxLoaded: 1 });
    const a = m.getOrCreate('a.md');
    a.setBody('A1');
    a.setBody('A12');
    m.getOrCreate('b.md').setBody('B');
    expect(m.hasDoc('a.md')).toBe(false);
    expect(m.getOrCreate('a.md').getBody()).toBe('A12');
    await m.flush();
    expect(m.getOrCreate('a.md').getBody()).toBe('A12');
    expect(m.getOrCreate('b.md').getBody()).toBe('B');
  });

  test('renameDoc overwrites the destination; a missing source is a no-op', async () => {
    const storage = new MemoryStorage();
    const m = new BodyDocManager({ storage });
    m.getOrCreate('dst.md').setBody('stale');
    m.getOrCreate('src.md').setBody('fresh');
    await m.renameDoc('src.md', 'dst.md');
    expect(m.hasDoc('src.md')).toBe(false);
    expect(m.getOrCreate('dst.md').getBody()).toBe('fresh');
    await m.flush();
    const fresh = new BodyDocManager({ storage });
    expect((await fresh.open('dst.md')).getBody()).toBe('fresh');
    expect(await storage.loadDoc('src.md')).toBeNull();
    await m.renameDoc('missing.md', 'dst.md');
    expect(m.getOrCreate('dst.md').getBody()).toBe('fresh');
    expect(bodyOf(await storage.loadDoc('dst.md'))).toBe('fresh');
  });

  test('maxLoaded bounds the loaded docs; an unloaded doc comes back with its content', () => {
    for (const m of [new BodyDocManager({ storage: new MemoryStorage(), maxLoaded: 2 })]) {
      for (const p of ['a.md', 'b.md', 'c.md']) m.getOrCreate(p).setBody(p);
      expect(m.loadedPaths()).toEqual(['b.md', 'c.md']);
      expect(m.getOrCreate('a.md').getBody()).toBe('a.md');
    }
  });
});
