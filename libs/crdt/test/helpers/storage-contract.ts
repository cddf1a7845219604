import * as Y from 'yjs';
import type { CrdtStorage } from '../../src';

/** Builds a Yjs update that inserts `text` at the end of the `body` text of `doc`. */
export function edit(doc: Y.Doc, text: string): Uint8Array {
  let update: Uint8Array | null = null;
  const handler = (u: Uint8Array): void => {
    update = u;
  };
  doc.on('update', handler);
  const t = doc.getText('body');
  t.insert(t.length, text);
  doc.off('update', handler);
  if (!update) throw new Error('no update');
  return update;
}

/** The body text of a full-state update. */
export function bodyOf(state: Uint8Array | null): string | null {
  if (!state) return null;
  const d = new Y.Doc();
  Y.applyUpdate(d, state);
  return d.getText('body').toString();
}

export interface ContractContext {
  /** A fresh, empty storage. */
  storage: () => CrdtStorage;
}

/** The storage contract suite; runs the same assertions against every implementation. */
export function describeStorageContract(name: string, ctx: ContractContext): void {
  describe(`CrdtStorage contract: ${name}`, () => {
    let s: CrdtStorage;
    beforeEach(() => {
      s = ctx.storage();
    });

    test('unknown doc: loadDoc null, no updates, latest id 0', async () => {
      expect(await s.loadDoc('body:ws/none.md')).toBeNull();
      expect(await s.getAllUpdates('body:ws/none.md')).toEqual([]);
      expect(await s.getLatestUpdateId('body:ws/none.md')).toBe(0);
      expect(await s.getUpdateCount('body:ws/none.md')).toBe(0);
      expect(await s.getStateAt('body:ws/none.md', 100)).toBeNull();
    });

    test('appendUpdate returns increasing ids and loadDoc merges them into one update', async () => {
      const d = new Y.Doc();
      const ids: number[] = [];
      for (const w of ['a', 'b', 'c']) ids.push(await s.appendUpdate('body:ws/a.md', edit(d, w)));
      expect(ids[0]).toBeLessThan(ids[1]);
      expect(ids[1]).toBeLessThan(ids[2]);
      expect(bodyOf(await s.loadDoc('body:ws/a.md'))).toBe('abc');
      expect(await s.getLatestUpdateId('body:ws/a.md')).toBe(ids[2]);
      expect(await s.getUpdateCount('body:ws/a.md')).toBe(3);
    });

    test('metadata is recorded with each update', async () => {
      const d = new Y.Doc();
      const before = Date.now();
      await s.appendUpdate('body:ws/a.md', edit(d, 'x'), {
        origin: 'remote',
        deviceId: 'dev1',
        deviceName: 'Laptop',
      });
      await s.appendUpdate('body:ws/a.md', edit(d, 'y'));
      const all = await s.getAllUpdates('body:ws/a.md');
      expect(all).toHaveLength(2);
      expect(all[0]).toMatchObject({
        doc: 'body:ws/a.md',
        origin: 'remote',
        deviceId: 'dev1',
        deviceName: 'Laptop',
      });
      expect(all[1]).toMatchObject({ origin: 'local', deviceId: null, deviceName: null });
      expect(all[0].timestamp).toBeGreaterThanOrEqual(before - 5000);
      expect(all[0].data).toBeInstanceOf(Uint8Array);
    });

    test('getUpdatesSince returns only newer updates, oldest first', async () => {
      const d = new Y.Doc();
      const a = await s.appendUpdate('workspace:ws', edit(d, '1'));
      const b = await s.appendUpdate('workspace:ws', edit(d, '2'));
      const c = await s.appendUpdate('workspace:ws', edit(d, '3'));
      expect((await s.getUpdatesSince('workspace:ws', a)).map((u) => u.id)).toEqual([b, c]);
      expect(await s.getUpdatesSince('workspace:ws', c)).toEqual([]);
      expect((await s.getUpdatesSince('workspace:ws', 0)).map((u) => u.id)).toEqual([a, b, c]);
    });

    test('updates of different docs do not mix', async () => {
      await s.appendUpdate('body:ws/a.md', edit(new Y.Doc(), 'A'));
      await s.appendUpdate('body:ws/b.md', edit(new Y.Doc(), 'B'));
      expect(bodyOf(await s.loadDoc('body:ws/a.md'))).toBe('A');
      expect(bodyOf(await s.loadDoc('body:ws/b.md'))).toBe('B');
      expect(await s.listDocs()).toEqual(['body:ws/a.md', 'body:ws/b.md']);
    });

    test('listDocs filters by a literal prefix', async () => {
      for (const doc of [
        'workspace:ws',
        'body:ws/a.md',
        'body:ws/b/c.md',
        'body:ws2/x.md',
        'body:w_%/y.md',
      ]) {
        await s.appendUpdate(doc, edit(new Y.Doc(), 'x'));
      }
      expect(await s.listDocs('body:ws/')).toEqual(['body:ws/a.md', 'body:ws/b/c.md']);
      expect(await s.listDocs('body:w_%/')).toEqual(['body:w_%/y.md']);
      expect(await s.listDocs('nothing')).toEqual([]);
      expect(await s.listDocs()).toHaveLength(5);
    });

    test('batchAppendUpdates returns ids in input order', async () => {
      const da = new Y.Doc();
      const db = new Y.Doc();
      const ids = await s.batchAppendUpdates([
        { doc: 'body:ws/a.md', data: edit(da, 'a1') },
        { doc: 'body:ws/b.md', data: edit(db, 'b1'), meta: { origin: 'sync2', deviceId: 'd' } },
        { doc: 'body:ws/a.md', data: edit(da, 'a2') },
      ]);
      expect(ids).toHaveLength(3);
      expect([...ids].sort((x, y) => x - y)).toEqual(ids);
      const a = await s.getAllUpdates('body:ws/a.md');
      expect(a.map((u) => u.id)).toEqual([ids[0], ids[2]]);
      expect((await s.getAllUpdates('body:ws/b.md'))[0]).toMatchObject({
        id: ids[1],
        origin: 'sync2',
        deviceId: 'd',
      });
      expect(bodyOf(await s.loadDoc('body:ws/a.md'))).toBe('a1a2');
      expect(await s.batchAppendUpdates([])).toEqual([]);
    });

    test('batchAppendUpdates is atomic: an invalid entry writes nothing', async () => {
      const d = new Y.Doc();
      await expect(
        s.batchAppendUpdates([
          { doc: 'body:ws/a.md', data: edit(d, 'a') },
          { doc: '', data: edit(d, 'b') },
        ]),
      ).rejects.toThrow();
      expect(await s.getAllUpdates('body:ws/a.md')).toEqual([]);
    });

    test('saveDoc stores a snapshot; loadDoc merges it with later updates', async () => {
      const d = new Y.Doc();
      edit(d, 'hello');
      await s.saveDoc('body:ws/a.md', Y.encodeStateAsUpdate(d));
      expect(bodyOf(await s.loadDoc('body:ws/a.md'))).toBe('hello');
      await s.appendUpdate('body:ws/a.md', edit(d, ' world'));
      expect(bodyOf(await s.loadDoc('body:ws/a.md'))).toBe('hello world');
      expect(await s.listDocs()).toEqual(['body:ws/a.md']);
    });

    test('compact folds old updates into the snapshot and keeps the newest N', async () => {
      const d = new Y.Doc();
      const ids: number[] = [];
      for (const w of ['a', 'b', 'c', 'd', 'e']) ids.push(await s.appendUpdate('body:ws/a.md', edit(d, w)));
      await s.compact('body:ws/a.md', 2);
      expect(await s.getUpdateCount('body:ws/a.md')).toBe(2);
      expect((await s.getAllUpdates('body:ws/a.md')).map((u) => u.id)).toEqual([ids[3], ids[4]]);
      expect(bodyOf(await s.loadDoc('body:ws/a.md'))).toBe('abcde');
      expect(await s.getLatestUpdateId('body:ws/a.md')).toBe(ids[4]);
      // compacting again folds into the existing snapshot, never drops state
      await s.appendUpdate('body:ws/a.md', edit(d, 'f'));
      await s.compact('body:ws/a.md', 1);
      expect(await s.getUpdateCount('body:ws/a.md')).toBe(1);
      expect(bodyOf(await s.loadDoc('body:ws/a.md'))).toBe('abcdef');
    });

    test('compact with keepUpdates = 0 keeps none and keeps the state', async () => {
      const d = new Y.Doc();
      for (const w of ['x', 'y', 'z']) await s.appendUpdate('body:ws/a.md', edit(d, w));
      const latest = await s.getLatestUpdateId('body:ws/a.md');
      await s.compact('body:ws/a.md', 0);
      expect(await s.getUpdateCount('body:ws/a.md')).toBe(0);
      expect(await s.getAllUpdates('body:ws/a.md')).toEqual([]);
      expect(bodyOf(await s.loadDoc('body:ws/a.md'))).toBe('xyz');
      expect(await s.getLatestUpdateId('body:ws/a.md')).toBe(latest);
      expect(await s.listDocs()).toEqual(['body:ws/a.md']);
      // nothing to fold: no-op
      await s.compact('body:ws/a.md', 0);
      await s.compact('body:ws/a.md', 10);
      expect(bodyOf(await s.loadDoc('body:ws/a.md'))).toBe('xyz');
    });

    test('getStateAt: snapshot plus updates up to the id, also past the last compaction', async () => {
      const d = new Y.Doc();
      const ids: number[] = [];
      for (const w of ['a', 'b', 'c', 'd', 'e']) ids.push(await s.appendUpdate('body:ws/a.md', edit(d, w)));
      expect(bodyOf(await s.getStateAt('body:ws/a.md', ids[0]))).toBe('a');
      expect(bodyOf(await s.getStateAt('body:ws/a.md', ids[2]))).toBe('abc');
      await s.compact('body:ws/a.md', 2);
      expect(bodyOf(await s.getStateAt('body:ws/a.md', ids[3]))).toBe('abcd');
      expect(bodyOf(await s.getStateAt('body:ws/a.md', ids[4]))).toBe('abcde');
      // older than the compaction horizon: the snapshot (earliest known state)
      expect(bodyOf(await s.getStateAt('body:ws/a.md', ids[0]))).toBe('abc');
    });

    test('renameDoc moves snapshot and updates, overwriting the destination', async () => {
      const src = new Y.Doc();
      await s.appendUpdate('body:ws/old.md', edit(src, 'one'));
      await s.compact('body:ws/old.md', 0);
      await s.appendUpdate('body:ws/old.md', edit(src, 'two'));
      const stale = new Y.Doc();
      await s.saveDoc('body:ws/new.md', Y.encodeStateAsUpdate((edit(stale, 'STALE'), stale)));
      await s.appendUpdate('body:ws/new.md', edit(stale, '!'));
      await s.renameDoc('body:ws/old.md', 'body:ws/new.md');
      expect(await s.loadDoc('body:ws/old.md')).toBeNull();
      expect(bodyOf(await s.loadDoc('body:ws/new.md'))).toBe('onetwo');
      expect((await s.getAllUpdates('body:ws/new.md')).every((u) => u.doc === 'body:ws/new.md')).toBe(true);
      expect(await s.getUpdateCount('body:ws/new.md')).toBe(1);
      expect(await s.listDocs()).toEqual(['body:ws/new.md']);
    });

    test('renameDoc with a missing source is a no-op', async () => {
      await s.appendUpdate('body:ws/keep.md', edit(new Y.Doc(), 'keep'));
      await s.renameDoc('body:ws/missing.md', 'body:ws/keep.md');
      expect(bodyOf(await s.loadDoc('body:ws/keep.md'))).toBe('keep');
      expect(await s.listDocs()).toEqual(['body:ws/keep.md']);
    });

    test('deleteDoc removes snapshot and updates; clearUpdates keeps the snapshot', async () => {
      const d = new Y.Doc();
      await s.appendUpdate('body:ws/a.md', edit(d, 'a'));
      await s.compact('body:ws/a.md', 0);
      await s.appendUpdate('body:ws/a.md', edit(d, 'b'));
      await s.clearUpdates('body:ws/a.md');
      expect(await s.getUpdateCount('body:ws/a.md')).toBe(0);
      expect(bodyOf(await s.loadDoc('body:ws/a.md'))).toBe('a');
      await s.deleteDoc('body:ws/a.md');
      expect(await s.loadDoc('body:ws/a.md')).toBeNull();
      expect(await s.listDocs()).toEqual([]);
    });

    test('loadDoc of many small updates equals the writer state', async () => {
      const d = new Y.Doc();
      const entries = [];
      for (let i = 0; i < 500; i++) entries.push({ doc: 'body:ws/big.md', data: edit(d, `${i % 10}`) });
      await s.batchAppendUpdates(entries);
      expect(bodyOf(await s.loadDoc('body:ws/big.md'))).toBe(d.getText('body').toString());
    });

    test('getStateAt exact for every id after the last compaction; compact(doc, 0)', async () => {
      const d = new Y.Doc();
      const ids: number[] = [];
      for (const w of ['a', 'b', 'c', 'd', 'e', 'f'])
        ids.push(
          await s.appendUpdate('doc', edit(d, w), { origin: 'o', deviceId: 'dev', deviceName: 'Dev' }),
        );
      await s.compact('doc', 3);
      expect(bodyOf(await s.getStateAt('doc', ids[2]))).toBe('abc');
      expect(bodyOf(await s.getStateAt('doc', ids[3]))).toBe('abcd');
      expect(bodyOf(await s.getStateAt('doc', ids[4]))).toBe('abcde');
      expect(await s.getLatestUpdateId('doc')).toBe(ids[5]);
      expect((await s.getAllUpdates('doc')).map((u) => u.id)).toEqual(ids.slice(3));
      expect((await s.getUpdatesSince('doc', ids[4])).map((u) => u.id)).toEqual([ids[5]]);
      await s.compact('doc', 0);
      expect(await s.getAllUpdates('doc')).toEqual([]);
      expect(bodyOf(await s.loadDoc('doc'))).toBe('abcdef');
      expect(await s.listDocs()).toEqual(['doc']);
      expect(await s.getLatestUpdateId('doc')).toBe(ids[5]);
      const next = await s.appendUpdate('doc', edit(d, 'g'));
      expect(next).toBeGreaterThan(ids[5]);
      expect(bodyOf(await s.getStateAt('doc', next))).toBe('abcdefg');
    });

    test('listDocs includes docs with only a snapshot or only updates', async () => {
      await s.saveDoc('snap-only', Y.encodeStateAsUpdate(new Y.Doc()));
      await s.appendUpdate('log-only', edit(new Y.Doc(), 'x'));
      expect(await s.listDocs()).toEqual(['log-only', 'snap-only']);
      await s.clearUpdates('log-only');
      expect(await s.listDocs()).toEqual(['snap-only']);
    });

    test('batchAppendUpdates: several updates of one doc with their meta', async () => {
      const d = new Y.Doc();
      const meta = { origin: 'import', deviceId: 'x' };
      const ids = await s.batchAppendUpdates([
        { doc: 'doc', data: edit(d, 'a'), meta },
        { doc: 'doc', data: edit(d, 'b'), meta },
      ]);
      expect(ids).toHaveLength(2);
      expect(ids[1]).toBeGreaterThan(ids[0]);
      const rows = await s.getAllUpdates('doc');
      expect(rows.map((r) => [r.id, r.origin, r.deviceId])).toEqual([
        [ids[0], 'import', 'x'],
        [ids[1], 'import', 'x'],
      ]);
      expect(bodyOf(await s.loadDoc('doc'))).toBe('ab');
    });
  });
}
