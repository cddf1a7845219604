/**
 * Acceptance audit of issue 2 (`libs/crdt`): the API as the issue names it, imported from the
 * package root, read the way a caller who only knows the issue text would use it. Complements
 * the per-module tests (it does not repeat them).
 */
import { execFileSync } from 'node:child_process';
import * as fc from 'fast-check';
import * as Y from 'yjs';
import {
  BodyDoc,
  BodyDocManager,
  computeSplice,
  createFileMetadata,
  FileChangeKind,
  formatUpdated,
  frontmatterToMetadata,
  HealingAction,
  HealthTracker,
  HistoryManager,
  isDocIdKey,
  materialize,
  materializeWorkspace,
  MemoryStorage,
  metadataToFrontmatter,
  parseMarkdownFile,
  parseMarkdownFiles,
  parseWorkspace,
  parseUpdated,
  PostgresStorage,
  serializeFileMetadata,
  validateWorkspace,
  ValidationIssueKind,
  WorkspaceCrdt,
  type BinaryRef,
  type CrdtStorage,
  type FileMetadata,
} from '@diaryx-sync/crdt';
import { createTestSchema, type TestSchema } from './helpers/pg-schema';

const meta = (init: Partial<FileMetadata> = {}): FileMetadata =>
  createFileMetadata({ modified_at: 1000, ...init });

describe('1. FileMetadata / BinaryRef', () => {
  test('the JSON stored in the files map has exactly the docs/protocol.md keys, null for absent values', () => {
    const ws = new WorkspaceCrdt();
    ws.setFile('a.md', { filename: 'a.md', modified_at: 5 });
    const json = JSON.parse(ws.doc.getMap<string>('files').get('a.md') as string) as Record<string, unknown>;
    expect(Object.keys(json).sort()).toEqual(
      [
        'attachments',
        'audience',
        'contents',
        'deleted',
        'description',
        'extra',
        'filename',
        'modified_at',
        'part_of',
        'title',
      ].sort(),
    );
    expect(json).toMatchObject({
      title: null,
      part_of: null,
      audience: null,
      description: null,
      deleted: false,
    });
    const ref: BinaryRef = {
      path: 'img/a.png',
      source: 's3://b/k',
      hash: 'abc',
      mime_type: 'image/png',
      size: 3,
      uploaded_at: null,
      deleted: false,
    };
    ws.setFile('b.md', { attachments: [ref], modified_at: 6 });
    expect(ws.getFile('b.md')?.attachments).toEqual([ref]);
  });

  test('updated: number (ms), numeric string, RFC3339 -> modified_at; written back RFC3339 with ms and Z', () => {
    const ms = Date.UTC(2024, 0, 2, 3, 4, 5, 6);
    expect(frontmatterToMetadata({ updated: ms }, { path: 'a.md' }).modified_at).toBe(ms);
    expect(frontmatterToMetadata({ updated: String(ms) }, { path: 'a.md' }).modified_at).toBe(ms);
    expect(frontmatterToMetadata({ updated: '2024-01-02T03:04:05.006Z' }, { path: 'a.md' }).modified_at).toBe(
      ms,
    );
    expect(
      frontmatterToMetadata({ updated: '2024-01-02T05:04:05.006+02:00' }, { path: 'a.md' }).modified_at,
    ).toBe(ms);
    expect(parseUpdated('2024-01-02T03:04:05Z')).toBe(Date.UTC(2024, 0, 2, 3, 4, 5));
    expect(formatUpdated(ms)).toBe('2024-01-02T03:04:05.006Z');
    expect(metadataToFrontmatter(meta({ modified_at: ms })).updated).toBe('2024-01-02T03:04:05.006Z');
    // whole seconds still carry the milliseconds
    expect(metadataToFrontmatter(meta({ modified_at: Date.UTC(2024, 0, 2) })).updated).toBe(
      '2024-01-02T00:00:00.000Z',
    );
  });

  test('unknown frontmatter keys round-trip through extra', () => {
    const fm = { title: 'T', mood: 'happy', tags: ['x', 'y'], nested: { a: 1 } };
    const m = frontmatterToMetadata(fm, { path: 'a.md' });
    expect(m.extra).toEqual({ mood: 'happy', tags: ['x', 'y'], nested: { a: 1 } });
    const back = metadataToFrontmatter(m);
    expect(back).toMatchObject({ title: 'T', mood: 'happy', tags: ['x', 'y'], nested: { a: 1 } });
  });
});

describe('2. WorkspaceCrdt', () => {
  test('listFiles({ includeDeleted }) gives path + metadata, usable as [path, meta] pairs', () => {
    const ws = new WorkspaceCrdt();
    ws.setFile('a.md', meta({ title: 'A' }));
    ws.setFile('b.md', meta({ title: 'B' }));
    ws.deleteFile('b.md');
    const live = ws.listFiles();
    expect(live.map((f) => f.path)).toEqual(['a.md']);
    expect(live[0].metadata.title).toBe('A');
    const all = ws.listFiles({ includeDeleted: true });
    expect(all.map(([p]) => p)).toEqual(['a.md', 'b.md']);
    const asMap = new Map(all as unknown as [string, FileMetadata][]);
    expect(asMap.get('b.md')?.deleted).toBe(true);
    expect(Object.fromEntries(live as unknown as [string, FileMetadata][])['a.md'].title).toBe('A');
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
    b.applyUpdate(a.encodeState());
    b.setFile('b.md', meta());
    expect(seen).toEqual([false, true]);
    expect(Y.decodeStateVector(b.getSyncState()).size).toBe(2);
    const c = new WorkspaceCrdt();
    c.applyUpdate(b.encodeStateAsUpdate(c.getSyncState()));
    expect(c.listFiles().map((f) => f.path)).toEqual(['a.md', 'b.md']);
    expect(() => c.applyUpdate(new Uint8Array([1, 2, 3, 4, 5]))).toThrow();
  });
});

describe('3. BodyDoc', () => {
  test('setBody emits one update with at most one delete and one insert', () => {
    const d = new BodyDoc('a.md');
    d.setBody('héllo 😀 wörld\r\n日本');
    const updates: Uint8Array[] = [];
    d.doc.on('update', (u: Uint8Array) => updates.push(u));
    d.setBody('héllo 😃 wörld\r\n日本語');
    expect(updates).toHaveLength(1);
    const other = new BodyDoc('a.md');
    other.applyUpdate(d.encodeState());
    expect(other.getBody()).toBe('héllo 😃 wörld\r\n日本語');
  });

  test('sync callback: registered once, local updates only, never echoes remote ones', () => {
    const a = new BodyDoc('a.md');
    const b = new BodyDoc('a.md');
    const sent: Uint8Array[] = [];
    const second: Uint8Array[] = [];
    a.setSyncCallback((_name, u) => sent.push(u));
    a.setSyncCallback((_name, u) => second.push(u));
    a.setBody('local');
    expect(sent).toHaveLength(1);
    expect(second).toHaveLength(0);
    b.setBody('remote');
    a.applyUpdate(b.encodeState());
    expect(sent).toHaveLength(1);
    a.insertAt(0, '>');
    a.deleteRange(0, 1);
    a.setFrontmatter('title', 'T');
    expect(a.getFrontmatter('title')).toBe('T');
    a.removeFrontmatter('title');
    expect(a.getFrontmatter('title')).toBeUndefined();
    expect(sent).toHaveLength(5);
  });
});

describe('4. BodyDocManager', () => {
  test('after LRU unloading, getOrCreate returns the persisted content right away (MemoryStorage)', async () => {
    const storage = new MemoryStorage();
    const m = new BodyDocManager(storage, { maxLoaded: 1 });
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
    const m = new BodyDocManager(storage);
    m.getOrCreate('dst.md').setBody('stale');
    m.getOrCreate('src.md').setBody('fresh');
    await m.renameDoc('src.md', 'dst.md');
    expect(m.hasDoc('src.md')).toBe(false);
    expect(m.getOrCreate('dst.md').getBody()).toBe('fresh');
    await m.flush();
    const fresh = new BodyDocManager(storage);
    expect((await fresh.open('dst.md')).getBody()).toBe('fresh');
    expect(await storage.loadDoc('src.md')).toBeNull();
    await m.renameDoc('missing.md', 'dst.md');
    expect(m.getOrCreate('dst.md').getBody()).toBe('fresh');
    expect(bodyText(await storage.loadDoc('dst.md'))).toBe('fresh');
  });
});

function bodyText(state: Uint8Array | null): string | null {
  if (!state) return null;
  const d = new Y.Doc();
  Y.applyUpdate(d, state);
  return d.getText('body').toString();
}

function edit(doc: Y.Doc, text: string): Uint8Array {
  let out: Uint8Array | null = null;
  const h = (u: Uint8Array): void => {
    out = u;
  };
  doc.on('update', h);
  doc.getText('body').insert(doc.getText('body').length, text);
  doc.off('update', h);
  return out as unknown as Uint8Array;
}

describe('5. CrdtStorage', () => {
  let schema: TestSchema;
  beforeAll(async () => {
    schema = await createTestSchema();
  });
  afterAll(async () => {
    await schema.drop();
  });

  const kinds: [string, () => Promise<CrdtStorage>][] = [
    ['MemoryStorage', async () => new MemoryStorage()],
    [
      'PostgresStorage',
      async () =>
        PostgresStorage.open({ pool: schema.pool, tenant: `t${Math.random().toString(36).slice(2)}` }),
    ],
  ];

  test.each(kinds)(
    '%s: getStateAt exact for every id after the last compaction; compact(doc, 0)',
    async (_n, make) => {
      const s = await make();
      const d = new Y.Doc();
      const ids: number[] = [];
      for (const w of ['a', 'b', 'c', 'd', 'e', 'f'])
        ids.push(
          await s.appendUpdate('doc', edit(d, w), { origin: 'o', deviceId: 'dev', deviceName: 'Dev' }),
        );
      await s.compact('doc', 3);
      expect(bodyText(await s.getStateAt('doc', ids[2]))).toBe('abc');
      expect(bodyText(await s.getStateAt('doc', ids[3]))).toBe('abcd');
      expect(bodyText(await s.getStateAt('doc', ids[4]))).toBe('abcde');
      expect(await s.getLatestUpdateId('doc')).toBe(ids[5]);
      expect((await s.getAllUpdates('doc')).map((u) => u.id)).toEqual(ids.slice(3));
      expect((await s.getUpdatesSince('doc', ids[4])).map((u) => u.id)).toEqual([ids[5]]);
      await s.compact('doc', 0);
      expect(await s.getAllUpdates('doc')).toEqual([]);
      expect(bodyText(await s.loadDoc('doc'))).toBe('abcdef');
      expect(await s.listDocs()).toEqual(['doc']);
      expect(await s.getLatestUpdateId('doc')).toBe(ids[5]);
      const next = await s.appendUpdate('doc', edit(d, 'g'));
      expect(next).toBeGreaterThan(ids[5]);
      expect(bodyText(await s.getStateAt('doc', next))).toBe('abcdefg');
    },
  );

  test.each(kinds)('%s: listDocs includes docs with only a snapshot or only updates', async (_n, make) => {
    const s = await make();
    await s.saveDoc('snap-only', Y.encodeStateAsUpdate(new Y.Doc()));
    await s.appendUpdate('log-only', edit(new Y.Doc(), 'x'));
    expect(await s.listDocs()).toEqual(['log-only', 'snap-only']);
    await s.clearUpdates('log-only');
    expect(await s.listDocs()).toEqual(['snap-only']);
  });

  test.each(kinds)('%s: batchAppendUpdates(doc, updates, meta) for one doc', async (_n, make) => {
    const s = await make();
    const d = new Y.Doc();
    const ids = await s.batchAppendUpdates('doc', [edit(d, 'a'), edit(d, 'b')], {
      origin: 'import',
      deviceId: 'x',
    });
    expect(ids).toHaveLength(2);
    expect(ids[1]).toBeGreaterThan(ids[0]);
    const rows = await s.getAllUpdates('doc');
    expect(rows.map((r) => [r.id, r.origin, r.deviceId])).toEqual([
      [ids[0], 'import', 'x'],
      [ids[1], 'import', 'x'],
    ]);
    expect(bodyText(await s.loadDoc('doc'))).toBe('ab');
  });

  test('PostgresStorage: tenants are isolated; rows carry the tenant', async () => {
    const s1 = await PostgresStorage.open({ pool: schema.pool, tenant: 'tenant-a' });
    const s2 = s1.forTenant('tenant-b');
    await s1.appendUpdate('doc', edit(new Y.Doc(), 'a'));
    expect(await s2.listDocs()).toEqual([]);
    expect(await s2.loadDoc('doc')).toBeNull();
    const cols = await schema.pool.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.columns WHERE table_schema = $1 AND column_name = 'tenant'`,
      [schema.schema],
    );
    expect(cols.rows.map((r) => r.table_name).sort()).toEqual(
      expect.arrayContaining(['crdt_snapshots', 'crdt_updates']),
    );
    const type = await schema.pool.query<{ data_type: string }>(
      `SELECT data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'crdt_updates' AND column_name = 'data'`,
      [schema.schema],
    );
    expect(type.rows[0].data_type).toBe('bytea');
  });
});

describe('6. HistoryManager', () => {
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
      ['device_id', 'device_name', 'files_changed', 'origin', 'timestamp', 'update_id'].sort(),
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
    expect(diff).toEqual([
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
    expect(await h.diff(v3, after)).toEqual([
      { path: 'a.md', change: 'Modified' },
      { path: 'b.md', change: 'Deleted' },
    ]);
  });
});

describe('7. materialize / parse', () => {
  test('key order, link format, _ keys dropped, tombstones skipped, body-only files', () => {
    const ws = new WorkspaceCrdt();
    ws.setFile('README.md', meta({ title: 'Home', contents: ['notes/a.md'], modified_at: 0 }));
    ws.setFile(
      'notes/a.md',
      meta({
        title: 'A',
        part_of: 'README.md',
        contents: [],
        audience: ['me'],
        description: 'd',
        attachments: [
          {
            path: 'img/x.png',
            source: 'local',
            hash: '',
            mime_type: '',
            size: 0,
            uploaded_at: null,
            deleted: false,
          },
        ],
        extra: { zeta: 1, alpha: 2, _private: 3 },
        modified_at: Date.UTC(2024, 4, 6, 7, 8, 9, 10),
      }),
    );
    ws.setFile('gone.md', meta({ title: 'Gone' }));
    ws.deleteFile('gone.md');
    ws.setFile('plain.md', { modified_at: 0 });
    const files = materializeWorkspace(
      ws,
      new Map([
        ['notes/a.md', 'Body A\n'],
        ['plain.md', 'just text'],
      ]),
    );
    expect(files.map((f) => f.path)).toEqual(['README.md', 'notes/a.md', 'plain.md']);
    const a = files[1].content;
    expect(a.startsWith('---\n')).toBe(true);
    expect(a.endsWith('\n---\n\nBody A\n')).toBe(true);
    const keys = a
      .split('\n---\n')[0]
      .split('\n')
      .filter((l) => /^[A-Za-z_]\w*:/.test(l))
      .map((l) => l.slice(0, l.indexOf(':')));
    expect(keys).toEqual([
      'title',
      'part_of',
      'contents',
      'audience',
      'description',
      'attachments',
      'updated',
      'alpha',
      'zeta',
    ]);
    expect(a).toContain('part_of: "[Home](/README.md)"');
    expect(a).toContain('contents: []');
    expect(a).toContain('updated: 2024-05-06T07:08:09.010Z');
    expect(a).not.toContain('_private');
    expect(files[2].content).toBe('just text');
    const parsed = parseMarkdownFiles(files);
    expect(parsed.files.get('notes/a.md')).toMatchObject({
      title: 'A',
      part_of: 'README.md',
      contents: [],
      audience: ['me'],
      description: 'd',
      extra: { alpha: 2, zeta: 1 },
      modified_at: Date.UTC(2024, 4, 6, 7, 8, 9, 10),
    });
    expect(parsed.bodies.get('notes/a.md')).toBe('Body A\n');
    expect(parsed.files.get('README.md')?.contents).toEqual(['notes/a.md']);
  });

  test('bodies may be given as a plain object keyed by path', () => {
    const ws = new WorkspaceCrdt();
    ws.setFile('a.md', meta({ title: 'A' }));
    const files = materializeWorkspace(ws, { 'a.md': 'hello' });
    expect(files[0].content.endsWith('\n---\n\nhello')).toBe(true);
  });

  test('accepted link formats canonicalize to workspace-relative paths', () => {
    const parsed = parseMarkdownFiles([
      {
        path: 'README.md',
        content:
          '---\ntitle: Root\ncontents:\n  - "[A](/Folder/a.md)"\n  - "[B B](<Folder/b b.md>)"\n  - Folder/c.md\n---\n\n',
      },
      { path: 'Folder/a.md', content: '---\npart_of: ../README.md\n---\n\n' },
      { path: 'Folder/b b.md', content: '---\npart_of: "[Root](/README.md)"\n---\n\n' },
      { path: 'Folder/c.md', content: '---\npart_of: "[Root](<../README.md>)"\n---\n\n' },
    ]);
    expect(parsed.files.get('README.md')?.contents).toEqual(['Folder/a.md', 'Folder/b b.md', 'Folder/c.md']);
    for (const p of ['Folder/a.md', 'Folder/b b.md', 'Folder/c.md'])
      expect(parsed.files.get(p)?.part_of).toBe('README.md');
  });
});

describe('8. validateWorkspace(workspace, bodies)', () => {
  test('every issue kind, with file and message; bodies as a Map, a Set, an object or a BodyDocManager', () => {
    const ws = new WorkspaceCrdt();
    ws.setFile('README.md', meta({ contents: ['a.md', 'missing.md'] }));
    ws.setFile('a.md', meta({ part_of: 'README.md' }));
    ws.setFile('broken.md', meta({ part_of: 'nowhere.md' }));
    ws.setFile('c1.md', meta({ part_of: 'c2.md' }));
    ws.setFile('c2.md', meta({ part_of: 'c1.md' }));
    const bodies = new Map<string, string>([
      ['README.md', ''],
      ['a.md', 'x'],
      ['broken.md', ''],
      ['c1.md', ''],
      ['orphan.md', 'no file'],
    ]);
    const report = validateWorkspace(ws, bodies);
    expect(report.ok).toBe(false);
    const kinds = report.issues.map((i) => `${i.kind}:${i.file}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'missing_child:README.md',
        'broken_parent:broken.md',
        'path_cycle:c1.md',
        'missing_body:c2.md',
        'orphan_body:orphan.md',
      ]),
    );
    for (const i of report.issues) expect(i.message.length).toBeGreaterThan(0);
    const asObject = validateWorkspace(ws, Object.fromEntries(bodies));
    expect(asObject.issues).toEqual(report.issues);
    expect(validateWorkspace(ws, new Set(bodies.keys())).issues).toEqual(report.issues);
    const mgr = new BodyDocManager();
    for (const p of bodies.keys()) mgr.getOrCreate(p);
    expect(validateWorkspace(ws, mgr).issues).toEqual(report.issues);
  });

  test('two live files resolving to one path', () => {
    const ws = new WorkspaceCrdt();
    ws.createFile(meta({ filename: 'same.md' }));
    ws.createFile(meta({ filename: 'same.md' }));
    const report = validateWorkspace(ws, ['same.md']);
    expect(report.issues.map((i) => i.kind)).toContain('duplicate_path');
  });
});

describe('9. HealthTracker', () => {
  test('threshold default 3; SkipCommit below, RepairThenAlert at/above; success resets; plain data', () => {
    const t = new HealthTracker();
    expect(t.recordFailure()).toBe(HealingAction.SkipCommit);
    expect(t.recordFailure()).toBe('SkipCommit');
    const persisted = JSON.parse(JSON.stringify(t.state)) as unknown;
    const t2 = HealthTracker.fromJSON(persisted);
    expect(t2.recordFailure()).toBe('RepairThenAlert');
    expect(t2.recordFailure()).toBe(HealingAction.RepairThenAlert);
    t2.recordSuccess();
    expect(t2.consecutiveFailures).toBe(0);
    expect(t2.recordFailure()).toBe('SkipCommit');
    expect(new HealthTracker(t.state).state).toEqual(t.state);
  });

  test('a custom threshold can be given as a number', () => {
    const t = new HealthTracker(2);
    expect(t.recordFailure()).toBe('SkipCommit');
    expect(t.recordFailure()).toBe('RepairThenAlert');
  });
});

describe('natural spellings of the constructors and calls', () => {
  test('BodyDoc without a name, or over an existing Y.Doc; WorkspaceCrdt with a name', () => {
    const d = new BodyDoc();
    d.setBody('x');
    expect(d.getBody()).toBe('x');
    expect(d.name).toBe('');
    const y = new Y.Doc();
    y.getText('body').insert(0, 'from ydoc');
    expect(new BodyDoc(y).getBody()).toBe('from ydoc');
    const ws = new WorkspaceCrdt('workspace');
    ws.setFile('a.md', meta());
    expect(ws.listFiles()).toHaveLength(1);
    const shared = new Y.Doc();
    const w2 = new WorkspaceCrdt('workspace', shared);
    w2.setFile('b.md', meta());
    expect(shared.getMap('files').has('b.md')).toBe(true);
  });

  test('getHistory(doc, limit) with a number', async () => {
    const storage = new MemoryStorage();
    const d = new Y.Doc();
    for (const w of ['a', 'b', 'c']) await storage.appendUpdate('body:w/a.md', edit(d, w));
    const h = new HistoryManager(storage);
    expect(await h.getHistory('body:w/a.md', 2)).toHaveLength(2);
  });

  test('diff entries also expose change_type', async () => {
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
    expect(diff).toEqual([{ path: 'b.md', change: 'Added' }]);
    expect((diff[0] as unknown as { change_type: string }).change_type).toBe('Added');
    expect(diff[0].change).toBe(FileChangeKind.Added);
  });

  test('materialize / parseWorkspace / parseMarkdownFile aliases', () => {
    const ws = new WorkspaceCrdt();
    ws.setFile('a.md', meta({ title: 'A' }));
    const files = materialize(ws, new Map([['a.md', 'body']]));
    expect(files).toEqual(materializeWorkspace(ws, new Map([['a.md', 'body']])));
    expect(parseWorkspace(files).files.get('a.md')?.title).toBe('A');
    expect(parseMarkdownFile(files[0])).toMatchObject({
      path: 'a.md',
      metadata: { title: 'A' },
      body: 'body',
    });
    expect(parseMarkdownFile('a.md', files[0].content).body).toBe('body');
  });
});

describe('PostgresStorage constructor spellings', () => {
  let schema: TestSchema;
  beforeAll(async () => {
    schema = await createTestSchema();
  });
  afterAll(async () => {
    await schema.drop();
  });
  test('open(pool, tenant) and a default tenant', async () => {
    const a = await PostgresStorage.open(schema.pool, 'ta');
    expect(a.tenant).toBe('ta');
    await a.appendUpdate('doc', edit(new Y.Doc(), 'x'));
    expect(await new PostgresStorage(schema.pool, 'ta').listDocs()).toEqual(['doc']);
    const d = await PostgresStorage.open({ pool: schema.pool });
    expect(d.tenant).toBe('default');
    expect(await d.listDocs()).toEqual([]);
    expect(() => new PostgresStorage({ pool: schema.pool, tenant: '' })).toThrow(TypeError);
  });
});

describe('setBody splice (property)', () => {
  const pieces = ['a', 'b', ' ', '\n', '\r\n', '😀', '😃', '👨‍👩‍👧', '日', '本', 'e\u0301', '\u0300', '𝕏'];
  const text = fc.array(fc.constantFrom(...pieces), { maxLength: 12 }).map((a) => a.join(''));
  const lone = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

  test('one delete + one insert, never inside a surrogate pair, minimal up to pair boundaries', () => {
    fc.assert(
      fc.property(text, text, (before, after) => {
        const s = computeSplice(before, after);
        if (before === after) return s === null;
        if (!s) return false;
        const rebuilt = before.slice(0, s.index) + s.insert + before.slice(s.index + s.deleteCount);
        expect(rebuilt).toBe(after);
        for (const cut of [s.index, s.index + s.deleteCount]) {
          const hi = before.charCodeAt(cut - 1);
          expect(cut > 0 && cut < before.length && hi >= 0xd800 && hi <= 0xdbff).toBe(false);
        }
        expect(lone.test(s.insert)).toBe(false);
        // minimal: the kept prefix/suffix cannot grow by a whole code point
        const prefix = s.index;
        const suffix = before.length - s.index - s.deleteCount;
        const cpAt = (str: string, i: number): string => String.fromCodePoint(str.codePointAt(i) as number);
        if (prefix < Math.min(before.length, after.length) - suffix) {
          const c = cpAt(before, prefix);
          expect(
            after.startsWith(before.slice(0, prefix) + c) &&
              before.length - suffix >= prefix + c.length &&
              after.length - suffix >= prefix + c.length,
          ).toBe(false);
        }
        const d = new BodyDoc('p.md');
        d.setBody(before);
        const updates: Uint8Array[] = [];
        d.doc.on('update', (u: Uint8Array) => updates.push(u));
        d.setBody(after);
        expect(d.getBody()).toBe(after);
        expect(updates.length).toBe(1);
        return true;
      }),
      { numRuns: 2000 },
    );
  });
});

describe('rename pairing', () => {
  test('several renames under one parent in one update pair by the closest modified_at', () => {
    const a = new WorkspaceCrdt();
    const b = new WorkspaceCrdt();
    const t = 50_000_000;
    a.setFile('d/x.md', meta({ modified_at: t }));
    a.setFile('d/y.md', meta({ modified_at: t + 3000 }));
    b.applyUpdate(a.encodeState());
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
    b.applyUpdate(a.encodeState());
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

describe('updated without a time zone', () => {
  test('is read as UTC, independent of the machine time zone', () => {
    // A child process, because the time zone is fixed when the process starts.
    const script = `const { parseUpdated } = require(${JSON.stringify(require.resolve('../src/frontmatter.ts'))});
      console.log(JSON.stringify(['2024-01-02T03:04:05', '2024-01-02 03:04:05.5', '2024-01-02', '2024-01-02T03:04:05-05:00'].map(parseUpdated)));`;
    const out = execFileSync(process.execPath, ['-r', '@swc-node/register', '-e', script], {
      env: { ...process.env, TZ: 'America/New_York' },
      encoding: 'utf8',
    });
    expect(JSON.parse(out.trim().split('\n').pop() as string)).toEqual([
      Date.UTC(2024, 0, 2, 3, 4, 5),
      Date.UTC(2024, 0, 2, 3, 4, 5, 500),
      Date.UTC(2024, 0, 2),
      Date.UTC(2024, 0, 2, 8, 4, 5),
    ]);
  }, 30_000);
});

describe('HistoryManager with plain doc names (as in the original API)', () => {
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
    expect(await h.diff('workspace', v1, v2)).toEqual([{ path: 'file2.md', change: 'Added' }]);
    await h.restoreToVersion('workspace', v1);
    const restored = WorkspaceCrdt.fromUpdate(await storage.loadDoc('workspace'));
    expect(restored.getFile('file2.md')?.deleted).toBe(true);
    expect(restored.getFile('file1.md')?.deleted).toBe(false);
  });
});

test('HistoryManager(storage, docId): calls without a doc id use it', async () => {
  const storage = new MemoryStorage();
  const d = new Y.Doc();
  const a = await storage.appendUpdate('body:w/a.md', edit(d, 'a'));
  const b = await storage.appendUpdate('body:w/a.md', edit(d, 'b'));
  await storage.appendUpdate('body:w/other.md', edit(new Y.Doc(), 'x'));
  const h = new HistoryManager(storage, 'body:w/a.md');
  expect((await h.getHistory()).map((e) => e.update_id)).toEqual([b, a]);
  expect(await h.diff(a, b)).toEqual([{ path: 'a.md', change: 'Modified' }]);
});

describe('migrateToDocIds keeps every path', () => {
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

test('bad input gives a documented error, never a random crash', () => {
  const ws = new WorkspaceCrdt();
  expect(ws.setFile('a.md', null as unknown as FileMetadata)).toBe(true);
  expect(ws.getFile('a.md')).toMatchObject({ filename: 'a.md', deleted: false });
  const d = new BodyDoc('a.md');
  d.setBody('keep');
  expect(() => d.setBody(undefined as unknown as string)).toThrow(TypeError);
  expect(d.getBody()).toBe('keep');
});

test('BodyDocManager bound given as maxDocs, capacity or a number', () => {
  for (const m of [
    new BodyDocManager(new MemoryStorage(), { maxDocs: 2 }),
    new BodyDocManager(new MemoryStorage(), { capacity: 2 }),
    new BodyDocManager(new MemoryStorage(), 2),
  ]) {
    for (const p of ['a.md', 'b.md', 'c.md']) m.getOrCreate(p).setBody(p);
    expect(m.loadedPaths()).toEqual(['b.md', 'c.md']);
    expect(m.getOrCreate('a.md').getBody()).toBe('a.md');
  }
});

test('ValidationIssueKind names the kinds', () => {
  const ws = new WorkspaceCrdt();
  ws.setFile('a.md', meta({ part_of: 'missing.md' }));
  const kinds = validateWorkspace(ws, ['a.md', 'orphan.md']).issues.map((i) => i.kind);
  expect(kinds).toEqual([ValidationIssueKind.BrokenParentChain, ValidationIssueKind.OrphanBodyDoc]);
  expect(ValidationIssueKind.MissingBody).toBe('missing_body');
});

test('renames also read as old_path/new_path', () => {
  const a = new WorkspaceCrdt();
  const b = new WorkspaceCrdt();
  const id = a.createFile(meta({ filename: 'x.md' }));
  b.applyUpdate(a.encodeState());
  a.renameFile(id, 'y.md');
  const [r] = b.applyUpdate(a.encodeStateAsUpdate(b.getSyncState())).renamed;
  expect(r).toEqual({ from: 'x.md', to: 'y.md' });
  expect([r.old_path, r.new_path, r.oldPath, r.newPath]).toEqual(['x.md', 'y.md', 'x.md', 'y.md']);
});

test('HealthTracker getState()/fromState()', () => {
  const t = new HealthTracker();
  t.recordFailure();
  t.recordFailure();
  const copy = HealthTracker.fromState(JSON.parse(JSON.stringify(t.getState())));
  expect(copy.recordFailure()).toBe('RepairThenAlert');
});
