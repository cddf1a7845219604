import * as Y from 'yjs';
import { isDecodableUpdate, MemoryStorage, readDocState } from '../src';

const edit = (doc: Y.Doc, text: string): Uint8Array => {
  const sv = Y.encodeStateVector(doc);
  doc.getText('body').insert(doc.getText('body').length, text);
  return Y.encodeStateAsUpdate(doc, sv);
};

test('a readable doc loads as usual, with no damage', async () => {
  const storage = new MemoryStorage();
  const doc = new Y.Doc();
  await storage.appendUpdate('body:w/a.md', edit(doc, 'one\n'));
  const { state, damage } = await readDocState(storage, 'body:w/a.md');
  expect(damage).toBeNull();
  const copy = new Y.Doc();
  Y.applyUpdate(copy, state!);
  expect(copy.getText('body').toString()).toBe('one\n');
  expect(await readDocState(storage, 'body:w/none.md')).toEqual({ state: null, damage: null });
});

test('undecodable rows are reported by id; every row that decodes is kept; dropUpdates removes them', async () => {
  const storage = new MemoryStorage();
  const doc = new Y.Doc();
  await storage.appendUpdate('body:w/a.md', edit(doc, 'one\n'));
  const bad = await storage.appendUpdate('body:w/a.md', Uint8Array.from([0xff, 1, 2, 3]));
  await storage.appendUpdate('body:w/a.md', edit(doc, 'two\n'));
  expect(isDecodableUpdate(Uint8Array.from([0xff, 1, 2, 3]))).toBe(false);
  await expect(storage.loadDoc('body:w/a.md')).rejects.toThrow();

  const { state, damage } = await readDocState(storage, 'body:w/a.md');
  expect(damage).toEqual({ badSnapshot: false, badUpdateIds: [bad] });
  const copy = new Y.Doc();
  Y.applyUpdate(copy, state!);
  expect(copy.getText('body').toString()).toBe('one\ntwo\n');

  await storage.dropUpdates('body:w/a.md', [bad]);
  expect((await readDocState(storage, 'body:w/a.md')).damage).toBeNull();
  expect((await storage.getAllUpdates('body:w/a.md')).length).toBe(2);
});

test('a snapshot that does not decode is reported; the rows that decode still load', async () => {
  const storage = new MemoryStorage();
  await storage.saveDoc('body:w/a.md', Y.encodeStateAsUpdate(new Y.Doc()));
  const doc = new Y.Doc();
  await storage.appendUpdate('body:w/a.md', edit(doc, 'after\n'));
  // replace the snapshot with bytes that do not decode
  (storage as unknown as { snapshots: Map<string, { state: Uint8Array }> }).snapshots.get(
    'body:w/a.md',
  )!.state = Uint8Array.from([0xff, 0xff, 9]);
  const { state, damage } = await readDocState(storage, 'body:w/a.md');
  expect(damage).toEqual({ badSnapshot: true, badUpdateIds: [] });
  const copy = new Y.Doc();
  Y.applyUpdate(copy, state!);
  expect(copy.getText('body').toString()).toBe('after\n');
});
