import * as Y from 'yjs';
import { WorkspaceCrdt } from '@diaryx-sync/crdt';
import { encodeMessage, newWorkspaceFileKeys, ProtocolError } from '../src';
import { DocSyncHandler } from '../src/server';

/** The update that adds `paths` to a workspace doc whose state is `base`. */
function adding(base: Y.Doc, paths: string[]): Uint8Array {
  const ws = new WorkspaceCrdt(new Y.Doc());
  Y.applyUpdate(ws.doc, Y.encodeStateAsUpdate(base));
  const sv = Y.encodeStateVector(ws.doc);
  for (const p of paths) ws.doc.getMap('files').set(p, JSON.stringify({ title: p }));
  return Y.encodeStateAsUpdate(ws.doc, sv);
}

describe('workspace file keys in updates', () => {
  it('finds the keys an update adds, not the ones it overwrites', () => {
    const base = new Y.Doc();
    Y.applyUpdate(base, adding(base, ['a.md']));
    expect(newWorkspaceFileKeys(adding(base, ['b.md', 'c/d.md']))).toEqual(['b.md', 'c/d.md']);
    expect(newWorkspaceFileKeys(adding(base, ['a.md']))).toEqual([]);
  });

  it.each([
    ['reserved name', 'CON.md'],
    ['bidi control', 'a\u202Eb.md'],
    ['NFD spelling', 'cafe\u0301.md'],
    ['non-canonical reserved name', './nul.md'],
    ['over-long', `${'d'.repeat(100)}/${'f'.repeat(100)}.md`],
  ])('a writer adding a %s is refused with unsafe_path before anything applies', (_what, path) => {
    const server = new Y.Doc();
    const handler = new DocSyncHandler(server);
    const update = adding(server, ['fine.md', path]);
    let error: unknown;
    try {
      handler.handle({ id: 'c1', role: 'editor' }, encodeMessage({ type: 'update', update }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).kind).toBe('unsafe_path');
    expect((error as ProtocolError).reason).toMatch(/^unsafe_path: workspace file: /);
    expect(server.getMap('files').size).toBe(0);
  });

  it('safe names apply normally', () => {
    const server = new Y.Doc();
    const handler = new DocSyncHandler(server);
    const update = adding(server, ['caf\u00e9.md', 'CONSOLE.md', 'notes/com10.md', './legacy.md']);
    const r = handler.handle({ id: 'c1', role: 'editor' }, encodeMessage({ type: 'update', update }));
    expect(r.error).toBeUndefined();
    expect([...server.getMap('files').keys()].sort()).toEqual([
      './legacy.md',
      'CONSOLE.md',
      'caf\u00e9.md',
      'notes/com10.md',
    ]);
  });
});
