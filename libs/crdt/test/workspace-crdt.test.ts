import * as Y from 'yjs';
import {
  BodyDoc,
  createFileMetadata,
  isDocIdKey,
  materializeWorkspace,
  REMOTE_ORIGIN,
  serializeFileMetadata,
  WorkspaceCrdt,
  type FileMetadata,
} from '../src';

const meta = createFileMetadata;

/** Syncs b from a (full update); returns the change report on b. */
function sync(from: WorkspaceCrdt, to: WorkspaceCrdt) {
  return to.applyUpdate(from.encodeStateAsUpdate(to.getSyncState()));
}

describe('path mode', () => {
  test('setFile/getFile normalize keys and default the filename', () => {
    const ws = new WorkspaceCrdt();
    ws.setFile('./notes/a.md', meta({ title: 'A', modified_at: 1 }));
    expect([...ws.files.keys()]).toEqual(['notes/a.md']);
    expect(ws.getFile('/notes/a.md')).toMatchObject({ title: 'A', filename: 'a.md' });
    expect(ws.getFile('notes\\a.md')?.title).toBe('A');
    expect(ws.getFile('../x')).toBeUndefined();
    expect(() => ws.setFile('a//b.md', meta())).toThrow();
  });

  test('values are JSON strings of FileMetadata', () => {
    const ws = new WorkspaceCrdt();
    ws.setFile('a.md', meta({ title: 'A', modified_at: 3 }));
    const raw = ws.doc.getMap('files').get('a.md');
    expect(typeof raw).toBe('string');
    expect(JSON.parse(raw as string)).toMatchObject({
      filename: 'a.md',
      title: 'A',
      deleted: false,
      modified_at: 3,
    });
  });

  test('temp files never enter the map', () => {
    const ws = new WorkspaceCrdt();
    for (const p of ['a.tmp', 'b.bak', 'c.swap', 'd.md~']) expect(ws.setFile(p, meta())).toBe(false);
    expect(ws.files.size).toBe(0);
  });

  test('deleteFile tombstones and bumps modified_at; removeFile hard-deletes', () => {
    const ws = new WorkspaceCrdt();
    ws.setFile('README.md', meta({ contents: ['a.md'], modified_at: 1 }));
    ws.setFile('a.md', meta({ part_of: 'README.md', modified_at: 1000 }));
    expect(ws.deleteFile('./a.md')).toBe(true);
    const a = ws.getFile('a.md');
    expect(a?.deleted).toBe(true);
    expect(a?.modified_at).toBeGreaterThan(1000);
    expect(ws.getFile('README.md')?.contents).toEqual([]);
    expect(ws.listFiles().map((f) => f.path)).toEqual(['README.md']);
    expect(ws.listFiles({ includeDeleted: true }).map((f) => f.path)).toEqual(['README.md', 'a.md']);
    expect(ws.deleteFile('missing.md')).toBe(false);
    expect(ws.removeFile('a.md')).toBe(true);
    expect(ws.getFile('a.md')).toBeUndefined();
    expect(ws.files.has('a.md')).toBe(false);
  });

  test('aliases collapse: latest modified_at wins, live beats tombstone on a tie', () => {
    const ws = new WorkspaceCrdt();
    const files = ws.doc.getMap<string>('files');
    files.set('./x.md', serializeFileMetadata(meta({ filename: 'x.md', title: 'old', modified_at: 10 })));
    files.set('/x.md', serializeFileMetadata(meta({ filename: 'x.md', title: 'new', modified_at: 20 })));
    expect(ws.getFile('x.md')?.title).toBe('new');
    expect(ws.listFiles().map((f) => f.path)).toEqual(['x.md']);
    files.set('y.md', serializeFileMetadata(meta({ filename: 'y.md', deleted: true, modified_at: 5 })));
    files.set('./y.md', serializeFileMetadata(meta({ filename: 'y.md', title: 'live', modified_at: 5 })));
    expect(ws.getFile('y.md')).toMatchObject({ deleted: false, title: 'live' });
    // writing through the API collapses the aliases into the canonical key
    ws.setFile('x.md', meta({ title: 'written', modified_at: 30 }));
    expect([...files.keys()].filter((k) => k.endsWith('x.md'))).toEqual(['x.md']);
  });
});

describe('doc-id mode', () => {
  test('createFile, getPath, findByPath, renameFile, moveFile', () => {
    const ws = new WorkspaceCrdt();
    const root = ws.createFile(meta({ filename: 'notes' }));
    const archive = ws.createFile(meta({ filename: 'archive' }));
    const a = ws.createFile(meta({ filename: 'a.md', part_of: root }));
    expect(isDocIdKey(a)).toBe(true);
    expect(ws.getPath(a)).toBe('notes/a.md');
    expect(ws.getFile(root)?.contents).toEqual([a]);
    expect(ws.findByPath('notes/a.md')).toBe(a);
    expect(ws.findByPath('./notes/a.md')).toBe(a);
    expect(ws.renameFile(a, 'b.md')).toBe(true);
    expect(ws.getPath(a)).toBe('notes/b.md');
    expect(ws.findByPath('notes/a.md')).toBeUndefined();
    expect(ws.moveFile(a, archive)).toBe(true);
    expect(ws.getPath(a)).toBe('archive/b.md');
    expect(ws.getFile(root)?.contents).toEqual([]);
    expect(ws.getFile(archive)?.contents).toEqual([a]);
    expect(ws.moveFile(a, null)).toBe(true);
    expect(ws.getPath(a)).toBe('b.md');
    expect(ws.getFile(archive)?.contents).toEqual([]);
  });

  test('getPath is undefined on cycles, broken chains and empty names', () => {
    const ws = new WorkspaceCrdt();
    const files = ws.doc.getMap<string>('files');
    const id = (n: number) => `00000000-0000-4000-8000-00000000000${n}`;
    files.set(id(1), serializeFileMetadata(meta({ filename: 'a', part_of: id(2) })));
    files.set(id(2), serializeFileMetadata(meta({ filename: 'b', part_of: id(1) })));
    files.set(id(3), serializeFileMetadata(meta({ filename: 'c.md', part_of: id(9) })));
    files.set(id(4), serializeFileMetadata(meta({ filename: '' })));
    files.set(id(5), serializeFileMetadata(meta({ filename: 'e.md', part_of: id(4) })));
    for (const n of [1, 2, 3, 4, 5]) expect(ws.getPath(id(n))).toBeUndefined();
    expect(ws.getPath(id(7))).toBeUndefined();
  });

  test('migrateToDocIds translates part_of and contents', () => {
    const ws = new WorkspaceCrdt();
    ws.setFile('README.md', meta({ title: 'Root', contents: ['a.md', 'b.md'] }));
    ws.setFile('a.md', meta({ title: 'A', part_of: 'README.md' }));
    ws.setFile('b.md', meta({ title: 'B', part_of: 'README.md' }));
    expect(ws.needsMigration()).toBe(true);
    expect(ws.migrateToDocIds()).toBe(3);
    expect(ws.needsMigration()).toBe(false);
    const keys = [...ws.files.keys()];
    expect(keys.every(isDocIdKey)).toBe(true);
    const byTitle = new Map(keys.map((k) => [ws.getFile(k)?.title, k]));
    const root = ws.getFile(byTitle.get('Root') as string);
    expect(root?.contents).toEqual([byTitle.get('A'), byTitle.get('B')]);
    expect(ws.getFile(byTitle.get('A') as string)).toMatchObject({
      part_of: byTitle.get('Root'),
      filename: 'a.md',
    });
    expect(ws.migrateToDocIds()).toBe(0);
    expect(new WorkspaceCrdt().needsMigration()).toBe(false);
  });
});

describe('applyUpdate change reports', () => {
  test('created, modified, deleted, restored', () => {
    const a = new WorkspaceCrdt();
    const b = new WorkspaceCrdt();
    a.setFile('x.md', meta({ title: 'X', modified_at: 1 }));
    expect(sync(a, b)).toEqual({ created: ['x.md'], deleted: [], restored: [], modified: [], renamed: [] });
    a.setFile('x.md', meta({ title: 'X2', modified_at: 2 }));
    expect(sync(a, b).modified).toEqual(['x.md']);
    a.deleteFile('x.md');
    expect(sync(a, b).deleted).toEqual(['x.md']);
    a.setFile('x.md', meta({ title: 'X3', modified_at: Date.now() + 10 }));
    expect(sync(a, b).restored).toEqual(['x.md']);
    expect(sync(a, b)).toEqual({ created: [], deleted: [], restored: [], modified: [], renamed: [] });
  });

  test('rename: delete + create with the same parent and title', () => {
    const a = new WorkspaceCrdt();
    const b = new WorkspaceCrdt();
    a.setFile('README.md', meta({ title: 'R', contents: ['old.md', 'other.md'], modified_at: 1 }));
    a.setFile('old.md', meta({ title: 'Same', part_of: 'README.md', modified_at: 1 }));
    a.setFile('other.md', meta({ title: 'Other', part_of: 'README.md', modified_at: 1 }));
    sync(a, b);
    a.doc.transact(() => {
      a.deleteFile('old.md');
      a.setFile('new.md', meta({ title: 'Same', part_of: 'README.md', modified_at: 100000 }));
      a.setFile('brand-new.md', meta({ title: 'Fresh', part_of: 'README.md', modified_at: 900000 }));
    });
    const c = sync(a, b);
    expect(c.renamed).toEqual([{ from: 'old.md', to: 'new.md' }]);
    expect(c.created).toEqual(['brand-new.md']);
    expect(c.deleted).toEqual([]);
  });

  test('rename: same parent and modified_at within 5 s', () => {
    const a = new WorkspaceCrdt();
    const b = new WorkspaceCrdt();
    a.setFile('p/one.md', meta({ title: 'T1', part_of: 'p/index.md', modified_at: 10_000 }));
    a.setFile('p/two.md', meta({ title: 'T2', part_of: 'p/index.md', modified_at: 10_000 }));
    sync(a, b);
    a.doc.transact(() => {
      a.removeFile('p/one.md');
      a.setFile('p/uno.md', meta({ title: 'Renamed', part_of: 'p/index.md', modified_at: 13_000 }));
      a.setFile('p/far.md', meta({ title: 'Else', part_of: 'p/index.md', modified_at: 99_000 }));
    });
    const c = sync(a, b);
    // two creates under one parent: only the one within 5 s pairs with the delete
    expect(c.renamed).toEqual([{ from: 'p/one.md', to: 'p/uno.md' }]);
    expect(c.deleted).toEqual([]);
    expect(c.created).toEqual(['p/far.md']);
  });

  test('rename: single delete/create pair under the same parent', () => {
    const a = new WorkspaceCrdt();
    const b = new WorkspaceCrdt();
    a.setFile('d/x.md', meta({ title: 'X', modified_at: 1 }));
    a.setFile('e/y.md', meta({ title: 'Y', modified_at: 1 }));
    sync(a, b);
    a.doc.transact(() => {
      a.deleteFile('d/x.md');
      a.setFile('d/z.md', meta({ title: 'Z', modified_at: 10_000_000 }));
      a.deleteFile('e/y.md');
      a.setFile('f/w.md', meta({ title: 'W', modified_at: 10_000_000 }));
    });
    const c = sync(a, b);
    expect(c.renamed).toEqual([{ from: 'd/x.md', to: 'd/z.md' }]);
    expect(c.deleted).toEqual(['e/y.md']);
    expect(c.created).toEqual(['f/w.md']);
  });

  test('doc-id rename is reported by path', () => {
    const a = new WorkspaceCrdt();
    const b = new WorkspaceCrdt();
    const id = a.createFile(meta({ filename: 'a.md' }));
    sync(a, b);
    a.renameFile(id, 'b.md');
    expect(sync(a, b).renamed).toEqual([{ from: 'a.md', to: 'b.md' }]);
  });

  test('malformed update throws and leaves the doc unchanged', () => {
    const ws = new WorkspaceCrdt();
    ws.setFile('a.md', meta({ modified_at: 1 }));
    expect(() => ws.applyUpdate(new Uint8Array([1, 2, 3, 250, 250]))).toThrow();
    expect(ws.listFiles().map((f) => f.path)).toEqual(['a.md']);
  });
});

describe('sync API and observers', () => {
  test('state vector, full and incremental updates', () => {
    const a = new WorkspaceCrdt();
    a.setFile('a.md', meta({ modified_at: 1 }));
    const b = new WorkspaceCrdt();
    b.applyUpdate(a.encodeStateAsUpdate());
    a.setFile('b.md', meta({ modified_at: 2 }));
    const diff = a.encodeStateAsUpdate(b.getSyncState());
    expect(diff.length).toBeLessThan(a.encodeStateAsUpdate().length);
    b.applyUpdate(diff);
    expect(b.listFiles().map((f) => f.path)).toEqual(['a.md', 'b.md']);
    expect(Y.encodeStateVector(a.doc)).toEqual(b.getSyncState());
  });

  test('observers tell local from remote', () => {
    const a = new WorkspaceCrdt();
    const seen: boolean[] = [];
    const off = a.onUpdate((_u, info) => seen.push(info.local));
    a.setFile('a.md', meta());
    const other = new WorkspaceCrdt();
    other.setFile('b.md', meta());
    a.applyUpdate(other.encodeStateAsUpdate());
    a.applyUpdate(
      new WorkspaceCrdt(
        (() => {
          const d = new Y.Doc();
          d.getMap('files').set('c.md', '{}');
          return d;
        })(),
      ).encodeStateAsUpdate(),
      'peer-7',
    );
    expect(seen).toEqual([true, false, false]);
    off();
    a.setFile('z.md', meta());
    expect(seen).toHaveLength(3);
    expect(REMOTE_ORIGIN).toBeDefined();
  });
});

test('listFiles entries destructure as [path, metadata]', () => {
  const ws = new WorkspaceCrdt();
  ws.setFile('b.md', meta({ title: 'B' }));
  ws.setFile('a.md', meta({ title: 'A' }));
  const pairs = ws.listFiles().map(([path, m]) => [path, (m as { title: string }).title]);
  expect(pairs).toEqual([
    ['a.md', 'A'],
    ['b.md', 'B'],
  ]);
  expect(ws.listFiles()[0]).toMatchObject({ key: 'a.md', path: 'a.md' });
});

test('alias keys added and removed by remote updates keep lookups right', () => {
  const a = new WorkspaceCrdt();
  const b = new WorkspaceCrdt();
  a.setFile('x.md', meta({ title: 'canonical', modified_at: 10 }));
  b.applyUpdate(a.encodeStateAsUpdate());
  expect(b.getFile('x.md')?.title).toBe('canonical');
  a.files.set('./x.md', serializeFileMetadata(meta({ filename: 'x.md', title: 'alias', modified_at: 20 })));
  expect(b.applyUpdate(a.encodeStateAsUpdate(b.getSyncState())).modified).toEqual(['x.md']);
  expect(b.getFile('x.md')?.title).toBe('alias');
  a.files.delete('./x.md');
  expect(b.applyUpdate(a.encodeStateAsUpdate(b.getSyncState())).modified).toEqual(['x.md']);
  expect(b.getFile('x.md')?.title).toBe('canonical');
  a.removeFile('x.md');
  expect(b.applyUpdate(a.encodeStateAsUpdate(b.getSyncState())).deleted).toEqual(['x.md']);
  expect(b.getFile('x.md')).toBeUndefined();
  expect(b.listFiles({ includeDeleted: true })).toEqual([]);
});

test('doc-id move under another parent is reported as a rename of that file', () => {
  const a = new WorkspaceCrdt();
  const b = new WorkspaceCrdt();
  const p1 = a.createFile(meta({ filename: 'one' }));
  const p2 = a.createFile(meta({ filename: 'two' }));
  const f = a.createFile(meta({ filename: 'f.md', part_of: p1 }));
  b.applyUpdate(a.encodeStateAsUpdate());
  a.moveFile(f, p2);
  const c = b.applyUpdate(a.encodeStateAsUpdate(b.getSyncState()));
  expect(c.renamed).toEqual([{ from: 'one/f.md', to: 'two/f.md' }]);
  expect(c.modified.sort()).toEqual(['one', 'two']);
});

test('getFile returns copies: mutating them does not change the workspace', () => {
  const ws = new WorkspaceCrdt();
  ws.setFile('a.md', meta({ contents: ['b.md'], extra: { nested: { x: 1 } } }));
  const m = ws.getFile('a.md')!;
  m.contents!.push('c.md');
  (m.extra.nested as { x: number }).x = 2;
  expect(ws.getFile('a.md')?.contents).toEqual(['b.md']);
  expect(ws.getFile('a.md')?.extra).toEqual({ nested: { x: 1 } });
});

test('constructors reject something that is not a Y.Doc', () => {
  expect(() => new WorkspaceCrdt({} as Y.Doc)).toThrow(TypeError);
  expect(() => new BodyDoc('a.md', {} as Y.Doc)).toThrow(TypeError);
});

describe('WorkspaceCrdt: listing, tombstones, key spellings and change reports', () => {
  const meta = (init: Partial<FileMetadata> = {}): FileMetadata =>
    createFileMetadata({ modified_at: 1000, ...init });

  test('listFiles({ includeDeleted }) gives path + metadata, iterable as [path, meta] pairs', () => {
    const ws = new WorkspaceCrdt();
    ws.setFile('a.md', meta({ title: 'A' }));
    ws.setFile('b.md', meta({ title: 'B' }));
    ws.deleteFile('b.md');
    const live = ws.listFiles();
    expect(live.map((f) => f.path)).toEqual(['a.md']);
    expect(live[0].metadata.title).toBe('A');
    const all = ws.listFiles({ includeDeleted: true });
    expect(all.map(([p]) => p)).toEqual(['a.md', 'b.md']);
    const asMap = new Map(all.map((f) => [f.path, f.metadata]));
    expect(asMap.get('b.md')?.deleted).toBe(true);
    expect(Object.fromEntries(live.map((f) => [f.path, f.metadata]))['a.md'].title).toBe('A');
  });

  test('deleteFile keeps the key as a tombstone and bumps modified_at', () => {
    const ws = new WorkspaceCrdt();
    ws.setFile('a.md', meta({ modified_at: Date.now() + 60_000 }));
    const before = ws.getFile('a.md')!.modified_at;
    ws.deleteFile('/a.md');
    expect(ws.files.has('a.md')).toBe(true);
    expect(ws.getFile('a.md')).toMatchObject({ deleted: true });
    expect(ws.getFile('a.md')!.modified_at).toBeGreaterThan(before);
  });

  test('./x and /x aliases written by different peers collapse into one entry', () => {
    const a = new WorkspaceCrdt();
    const b = new WorkspaceCrdt();
    a.doc
      .getMap<string>('files')
      .set('./x.md', serializeFileMetadata(meta({ filename: 'x.md', title: 'A', modified_at: 10 })));
    b.doc
      .getMap<string>('files')
      .set('/x.md', serializeFileMetadata(meta({ filename: 'x.md', title: 'B', modified_at: 20 })));
    a.applyUpdate(b.encodeStateAsUpdate(a.getSyncState()));
    expect(a.listFiles({ includeDeleted: true }).map((f) => f.path)).toEqual(['x.md']);
    expect(a.getFile('x.md')?.title).toBe('B');
    expect(a.getFile('./x.md')?.title).toBe('B');
    // tie: a live entry beats a tombstone, whichever key it has
    const c = new WorkspaceCrdt();
    const files = c.doc.getMap<string>('files');
    files.set('/y.md', serializeFileMetadata(meta({ filename: 'y.md', title: 'live', modified_at: 7 })));
    files.set('y.md', serializeFileMetadata(meta({ filename: 'y.md', deleted: true, modified_at: 7 })));
    expect(c.getFile('y.md')).toMatchObject({ title: 'live', deleted: false });
    expect(c.listFiles().map((f) => f.path)).toEqual(['y.md']);
  });

  test('temp files never enter the map (.tmp .bak .swap ~), also nested', () => {
    const ws = new WorkspaceCrdt();
    for (const p of ['notes/a.md.tmp', 'b.bak', 'dir/c.swap', 'd.md~']) ws.setFile(p, meta());
    expect(ws.files.size).toBe(0);
    expect(ws.listFiles({ includeDeleted: true })).toEqual([]);
  });

  test('applyUpdate: rename by title, by modified_at window, and a single pair; plus created/deleted/restored/modified', () => {
    const a = new WorkspaceCrdt();
    const b = new WorkspaceCrdt();
    const sync = (): ReturnType<WorkspaceCrdt['applyUpdate']> =>
      b.applyUpdate(a.encodeStateAsUpdate(b.getSyncState()));
    a.setFile('README.md', meta({ title: 'Root', contents: ['one.md', 'two.md', 'old.md'] }));
    a.setFile('one.md', meta({ title: 'One', part_of: 'README.md', modified_at: 1000 }));
    a.setFile('two.md', meta({ title: 'Two', part_of: 'README.md', modified_at: 1000 }));
    a.setFile('old.md', meta({ title: 'Old', part_of: 'README.md', modified_at: 1000 }));
    expect(sync().created).toEqual(['README.md', 'old.md', 'one.md', 'two.md']);

    // same parent + same title
    a.doc.transact(() => {
      a.deleteFile('one.md');
      a.setFile('uno.md', meta({ title: 'One', part_of: 'README.md', modified_at: 500_000 }));
    });
    let c = sync();
    expect(c.renamed).toEqual([{ from: 'one.md', to: 'uno.md' }]);
    expect(c.created).toEqual([]);
    expect(c.deleted).toEqual([]);

    // same parent, different titles, two pairs: matched by modified_at within 5 s
    const t = 10_000_000;
    a.setFile('p.md', meta({ title: 'P', part_of: 'README.md', modified_at: t }));
    a.setFile('q.md', meta({ title: 'Q', part_of: 'README.md', modified_at: t + 60_000 }));
    sync();
    a.doc.transact(() => {
      a.removeFile('p.md');
      a.removeFile('q.md');
      a.setFile('q2.md', meta({ title: 'Q2', part_of: 'README.md', modified_at: t + 61_000 }));
      a.setFile('p2.md', meta({ title: 'P2', part_of: 'README.md', modified_at: t + 1_000 }));
    });
    c = sync();
    expect(c.renamed).toEqual([
      { from: 'p.md', to: 'p2.md' },
      { from: 'q.md', to: 'q2.md' },
    ]);

    // a single delete/create pair under the same parent, nothing else in common
    a.doc.transact(() => {
      a.deleteFile('old.md');
      a.setFile('new.md', meta({ title: 'Completely different', part_of: 'README.md', modified_at: 99 }));
    });
    c = sync();
    expect(c.renamed).toEqual([{ from: 'old.md', to: 'new.md' }]);

    // delete in one folder + create in another is not a rename
    a.setFile('x/a.md', meta({ title: 'X' }));
    sync();
    a.doc.transact(() => {
      a.deleteFile('x/a.md');
      a.setFile('y/b.md', meta({ title: 'Y' }));
    });
    c = sync();
    expect(c.renamed).toEqual([]);
    expect(c.deleted).toEqual(['x/a.md']);
    expect(c.created).toEqual(['y/b.md']);

    // restored and modified
    a.setFile('x/a.md', meta({ title: 'X', modified_at: Date.now() + 100_000 }));
    a.setFile('two.md', meta({ title: 'Two!', part_of: 'README.md', modified_at: 2000 }));
    c = sync();
    expect(c.restored).toEqual(['x/a.md']);
    expect(c.modified).toEqual(['two.md']);
  });

  test('update observers tell local from remote origins; sync API round-trips', () => {
    const a = new WorkspaceCrdt();
    const b = new WorkspaceCrdt();
    const seen: boolean[] = [];
    b.onUpdate((_u, info) => seen.push(info.local));
    a.setFile('a.md', meta());
    b.applyUpdate(a.encodeStateAsUpdate());
    b.setFile('b.md', meta());
    expect(seen).toEqual([false, true]);
    expect(Y.decodeStateVector(b.getSyncState()).size).toBe(2);
    const c = new WorkspaceCrdt();
    c.applyUpdate(b.encodeStateAsUpdate(c.getSyncState()));
    expect(c.listFiles().map((f) => f.path)).toEqual(['a.md', 'b.md']);
    expect(() => c.applyUpdate(new Uint8Array([1, 2, 3, 4, 5]))).toThrow();
  });

  test('WorkspaceCrdt with a name, and over an existing Y.Doc', () => {
    const ws = new WorkspaceCrdt('workspace');
    ws.setFile('a.md', meta());
    expect(ws.listFiles()).toHaveLength(1);
    const shared = new Y.Doc();
    const w2 = new WorkspaceCrdt('workspace', shared);
    w2.setFile('b.md', meta());
    expect(shared.getMap('files').has('b.md')).toBe(true);
  });

  test('setFile(path, null) uses the defaults instead of crashing', () => {
    const ws = new WorkspaceCrdt();
    expect(ws.setFile('a.md', null as unknown as FileMetadata)).toBe(true);
    expect(ws.getFile('a.md')).toMatchObject({ filename: 'a.md', deleted: false });
  });

  test('renames are plain { from, to } objects', () => {
    const a = new WorkspaceCrdt();
    const b = new WorkspaceCrdt();
    const id = a.createFile(meta({ filename: 'x.md' }));
    b.applyUpdate(a.encodeStateAsUpdate());
    a.renameFile(id, 'y.md');
    const [r] = b.applyUpdate(a.encodeStateAsUpdate(b.getSyncState())).renamed;
    expect(r).toEqual({ from: 'x.md', to: 'y.md' });
    expect(JSON.parse(JSON.stringify(r))).toEqual({ from: 'x.md', to: 'y.md' });
  });
});

describe('rename pairing', () => {
  const meta = (init: Partial<FileMetadata> = {}): FileMetadata =>
    createFileMetadata({ modified_at: 1000, ...init });

  test('several renames under one parent in one update pair by the closest modified_at', () => {
    const a = new WorkspaceCrdt();
    const b = new WorkspaceCrdt();
    const t = 50_000_000;
    a.setFile('d/x.md', meta({ modified_at: t }));
    a.setFile('d/y.md', meta({ modified_at: t + 3000 }));
    b.applyUpdate(a.encodeStateAsUpdate());
    a.doc.transact(() => {
      a.removeFile('d/x.md');
      a.removeFile('d/y.md');
      // x -> x2 and y -> y2, each keeping its modified_at; a first-match pairing would
      // wrongly pair x with y2 (3 s apart, within the window).
      a.setFile('d/a-y2.md', meta({ modified_at: t + 3000 }));
      a.setFile('d/b-x2.md', meta({ modified_at: t }));
    });
    const c = b.applyUpdate(a.encodeStateAsUpdate(b.getSyncState()));
    expect(c.renamed).toEqual([
      { from: 'd/x.md', to: 'd/b-x2.md' },
      { from: 'd/y.md', to: 'd/a-y2.md' },
    ]);
  });

  test('same title wins over a closer modified_at', () => {
    const a = new WorkspaceCrdt();
    const b = new WorkspaceCrdt();
    a.setFile('x.md', meta({ title: 'X', modified_at: 1000 }));
    b.applyUpdate(a.encodeStateAsUpdate());
    a.doc.transact(() => {
      a.removeFile('x.md');
      a.setFile('near.md', meta({ title: 'Other', modified_at: 1000 }));
      a.setFile('titled.md', meta({ title: 'X', modified_at: 900_000 }));
    });
    const c = b.applyUpdate(a.encodeStateAsUpdate(b.getSyncState()));
    expect(c.renamed).toEqual([{ from: 'x.md', to: 'titled.md' }]);
    expect(c.created).toEqual(['near.md']);
  });
});

describe('migrateToDocIds keeps every path', () => {
  const meta = (init: Partial<FileMetadata> = {}): FileMetadata =>
    createFileMetadata({ modified_at: 1000, ...init });

  test('paths, findByPath and links survive the migration (index files as parents)', () => {
    const ws = new WorkspaceCrdt();
    ws.setFile('README.md', meta({ title: 'Root', contents: ['a.md', 'notes/index.md', 'deep/x/y.md'] }));
    ws.setFile('a.md', meta({ title: 'A', part_of: 'README.md' }));
    ws.setFile('notes/index.md', meta({ title: 'Notes', part_of: 'README.md', contents: ['notes/b.md'] }));
    ws.setFile('notes/b.md', meta({ title: 'B', part_of: 'notes/index.md' }));
    ws.setFile('deep/x/y.md', meta({ title: 'Y', part_of: 'README.md' }));
    ws.setFile('other/z.md', meta({ title: 'Z', part_of: 'notes/index.md' }));
    ws.setFile('loose/c.md', meta({ title: 'C' }));
    const before = ws.listFiles().map((f) => f.path);
    const bodies = new Map(before.map((p) => [p, `body of ${p}`]));
    const mdBefore = materializeWorkspace(ws, bodies);
    expect(ws.migrateToDocIds()).toBe(7);
    expect(ws.needsMigration()).toBe(false);
    expect(ws.listFiles().map((f) => f.path)).toEqual(before);
    for (const p of before) {
      const id = ws.findByPath(p) as string;
      expect(isDocIdKey(id)).toBe(true);
      expect(ws.getPath(id)).toBe(p);
    }
    const b = ws.findByPath('notes/b.md') as string;
    expect(ws.getFile(b)?.part_of).toBe(ws.findByPath('notes/index.md'));
    expect(ws.getFile(ws.findByPath('README.md') as string)?.contents).toEqual(
      ['a.md', 'notes/index.md', 'deep/x/y.md'].map((p) => ws.findByPath(p)),
    );
    // the markdown is the same before and after (bodies keyed by path)
    expect(materializeWorkspace(ws, bodies)).toEqual(mdBefore);
    // renaming and moving in doc-id mode keep working after the migration
    ws.renameFile(b, 'b2.md');
    expect(ws.getPath(b)).toBe('notes/b2.md');
    ws.moveFile(b, ws.findByPath('README.md') as string);
    expect(ws.getPath(b)).toBe('b2.md');
  });

  test('a child of an index file lives in that file\u2019s folder; a folder entry contributes its own name', () => {
    const ws = new WorkspaceCrdt();
    const folder = ws.createFile(meta({ filename: 'journal' }));
    const index = ws.createFile(meta({ filename: 'index.md', part_of: folder }));
    const child = ws.createFile(meta({ filename: 'day.md', part_of: index }));
    expect(ws.getPath(index)).toBe('journal/index.md');
    expect(ws.getPath(child)).toBe('journal/day.md');
    const readme = ws.createFile(meta({ filename: 'README.md' }));
    const top = ws.createFile(meta({ filename: 'top.md', part_of: readme }));
    expect(ws.getPath(top)).toBe('top.md');
  });

  test('migrateToDocIds: a file whose part_of names no file keeps its path and its link', () => {
    const ws = new WorkspaceCrdt();
    ws.setFile('x/lost.md', meta({ title: 'Lost', part_of: 'gone/index.md' }));
    ws.migrateToDocIds();
    const id = ws.findByPath('x/lost.md') as string;
    expect(isDocIdKey(id)).toBe(true);
    expect(ws.getFile(id)?.part_of).toBe('gone/index.md');
    expect(ws.listFiles().map((f) => f.path)).toEqual(['x/lost.md']);
  });

  test('renameFile after migration renames in place (the folder part of the filename stays)', () => {
    const ws = new WorkspaceCrdt();
    ws.setFile('README.md', meta({ contents: ['deep/x/y.md'] }));
    ws.setFile('deep/x/y.md', meta({ part_of: 'README.md' }));
    ws.migrateToDocIds();
    const id = ws.findByPath('deep/x/y.md') as string;
    expect(ws.renameFile(id, 'z.md')).toBe(true);
    expect(ws.getPath(id)).toBe('deep/x/z.md');
  });
});
