import * as Y from 'yjs';
import { collectUpdate } from '../src';

describe('collectUpdate', () => {
  it('returns exactly the update the mutation made', () => {
    const doc = new Y.Doc();
    doc.getMap('files').set('a.md', 'old');
    const replica = new Y.Doc();
    Y.applyUpdate(replica, Y.encodeStateAsUpdate(doc));

    const update = collectUpdate(doc, () => doc.getMap('files').set('b.md', 'new'));

    expect(update).not.toBeNull();
    const fresh = new Y.Doc();
    Y.applyUpdate(fresh, update as Uint8Array);
    expect(fresh.getMap('files').get('a.md')).toBeUndefined();
    Y.applyUpdate(replica, update as Uint8Array);
    expect(replica.getMap('files').toJSON()).toEqual({ 'a.md': 'old', 'b.md': 'new' });
  });

  it('returns null when the mutation changed nothing', () => {
    const doc = new Y.Doc();
    doc.getMap('files').set('a.md', 'x');
    expect(collectUpdate(doc, () => undefined)).toBeNull();
  });

  it('stops listening even when the mutation throws', () => {
    const doc = new Y.Doc();
    expect(() =>
      collectUpdate(doc, () => {
        doc.getMap('files').set('a.md', 'x');
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(collectUpdate(doc, () => undefined)).toBeNull();
  });
});
