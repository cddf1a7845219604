/**
 * The focus set of a `SyncSession` (docs/protocol.md#text-frames-json, `focus`): kept across
 * connections, announced again on every `Connected`, sent in batches the server accepts, resolved
 * to body names (a doc-id file's key) and moved with a remote rename; `focus_list_changed` is the
 * `FocusListChanged` event. No sockets: the session's actions are read directly.
 */
import * as Y from 'yjs';
import { BodyDocManager, WorkspaceCrdt } from '@diaryx-sync/crdt';
import {
  SyncSession,
  createCrdtSessionDocuments,
  createYDocSessionDocuments,
  type SessionAction,
  type SyncEvent,
} from '../src/client';
import { encodeFrame } from '../src/framing';
import { encodeMessage } from '../src/sync';
import { fileJson } from './session-helpers';

const WS = 'ws_focus';

interface FocusText {
  readonly type: string;
  readonly files: string[];
}

function focusTexts(actions: SessionAction[]): FocusText[] {
  return actions.flatMap((a) => {
    if (a.type !== 'SendText') return [];
    const msg = JSON.parse(a.text) as FocusText;
    return msg.type === 'focus' || msg.type === 'unfocus' ? [msg] : [];
  });
}

function events(actions: SessionAction[]): SyncEvent[] {
  return actions.flatMap((a) => (a.type === 'Emit' ? [a.event] : []));
}

function pathSession(): { session: SyncSession; workspace: Y.Doc } {
  const docs = createYDocSessionDocuments();
  return { session: new SyncSession({ workspaceId: WS, documents: docs }), workspace: docs.workspaceDoc };
}

test('a focus made while disconnected is announced on Connected, and again after every reconnect', () => {
  const { session } = pathSession();
  expect(focusTexts(session.handle({ type: 'Focus', paths: ['b.md', 'a.md'] }))).toEqual([]);
  expect(session.focusedPaths).toEqual(['a.md', 'b.md']);

  const first = focusTexts(session.handle({ type: 'Connected' }));
  expect(first).toEqual([{ type: 'focus', files: [`body:${WS}/b.md`, `body:${WS}/a.md`] }]);

  // While connected: only what changed is sent; a repeated focus or an unknown unfocus sends nothing.
  expect(focusTexts(session.handle({ type: 'Unfocus', paths: ['b.md'] }))).toEqual([
    { type: 'unfocus', files: [`body:${WS}/b.md`] },
  ]);
  expect(focusTexts(session.handle({ type: 'Focus', paths: ['a.md', './c.md'] }))).toEqual([
    { type: 'focus', files: [`body:${WS}/c.md`] },
  ]);
  expect(focusTexts(session.handle({ type: 'Unfocus', paths: ['zzz.md'] }))).toEqual([]);
  expect(session.focusedPaths).toEqual(['a.md', 'c.md']);

  session.handle({ type: 'Disconnected' });
  expect(focusTexts(session.handle({ type: 'Focus', paths: ['d.md'] }))).toEqual([]);
  expect(focusTexts(session.handle({ type: 'Connected' }))).toEqual([
    { type: 'focus', files: [`body:${WS}/a.md`, `body:${WS}/c.md`, `body:${WS}/d.md`] },
  ]);
});

test('a large focus set is sent in messages of at most 100 doc ids (the server limit per message)', () => {
  const { session } = pathSession();
  const paths = Array.from({ length: 250 }, (_, i) => `f${i}.md`);
  session.handle({ type: 'Focus', paths });
  const sent = focusTexts(session.handle({ type: 'Connected' }));
  expect(sent.map((m) => m.files.length)).toEqual([100, 100, 50]);
  expect(sent.flatMap((m) => m.files)).toEqual(paths.map((p) => `body:${WS}/${p}`));
  const removed = focusTexts(session.handle({ type: 'Unfocus', paths: paths.slice(0, 120) }));
  expect(removed.map((m) => [m.type, m.files.length])).toEqual([
    ['unfocus', 100],
    ['unfocus', 20],
  ]);
});

test('an invalid path is not focused: an Error event, nothing sent', () => {
  const { session } = pathSession();
  session.handle({ type: 'Connected' });
  const actions = session.handle({ type: 'Focus', paths: ['../escape.md', 'ok.md'] });
  expect(focusTexts(actions)).toEqual([{ type: 'focus', files: [`body:${WS}/ok.md`] }]);
  expect(events(actions)).toContainEqual({ type: 'Error', message: expect.stringContaining('escape.md') });
  expect(session.focusedPaths).toEqual(['ok.md']);
});

test('focus_list_changed is reported as FocusListChanged', () => {
  const { session } = pathSession();
  session.handle({ type: 'Connected' });
  const text = JSON.stringify({ type: 'focus_list_changed', workspace: WS, files: ['a.md', 'b.md'] });
  expect(events(session.handle({ type: 'TextMessage', text }))).toEqual([
    { type: 'FocusListChanged', files: ['a.md', 'b.md'] },
  ]);
});

test('a remote rename of a focused path-keyed file moves the focus to the new path', () => {
  const { session } = pathSession();
  const server = new Y.Doc();
  server.getMap<string>('files').set('old.md', fileJson('old.md', { title: 'Same' }));
  session.handle({ type: 'Connected' });
  session.handle({
    type: 'BinaryMessage',
    data: encodeFrame(
      `workspace:${WS}`,
      encodeMessage({ type: 'syncStep2', update: Y.encodeStateAsUpdate(server) }),
    ),
  });
  session.handle({ type: 'Focus', paths: ['old.md'] });

  const before = Y.encodeStateVector(server);
  server.transact(() => {
    const files = server.getMap<string>('files');
    files.set('old.md', fileJson('old.md', { title: 'Same', deleted: true }));
    files.set('new.md', fileJson('new.md', { title: 'Same' }));
  });
  const actions = session.handle({
    type: 'BinaryMessage',
    data: encodeFrame(
      `workspace:${WS}`,
      encodeMessage({ type: 'update', update: Y.encodeStateAsUpdate(server, before) }),
    ),
  });
  expect(events(actions)).toContainEqual({
    type: 'FilesChanged',
    changes: expect.objectContaining({ renamed: [{ from: 'old.md', to: 'new.md' }] }),
  });
  expect(focusTexts(actions)).toEqual([
    { type: 'unfocus', files: [`body:${WS}/old.md`] },
    { type: 'focus', files: [`body:${WS}/new.md`] },
  ]);
  expect(session.focusedPaths).toEqual(['new.md']);
});

test('in a doc-id workspace a path is focused as its body doc (the key), and stays focused across a rename', () => {
  const server = new WorkspaceCrdt();
  const key = server.createFile({ filename: 'note.md', title: 'Note', modified_at: 1 });
  const workspace = new WorkspaceCrdt();
  const session = new SyncSession({
    workspaceId: WS,
    documents: createCrdtSessionDocuments(workspace, new BodyDocManager()),
  });
  session.handle({ type: 'Connected' });
  session.handle({
    type: 'BinaryMessage',
    data: encodeFrame(
      `workspace:${WS}`,
      encodeMessage({ type: 'syncStep2', update: server.encodeStateAsUpdate() }),
    ),
  });
  expect(focusTexts(session.handle({ type: 'Focus', paths: ['note.md'] }))).toEqual([
    { type: 'focus', files: [`body:${WS}/${key}`] },
  ]);
  expect(session.focusedPaths).toEqual(['note.md']);

  const before = Y.encodeStateVector(server.doc);
  server.renameFile(key, 'renamed.md');
  const actions = session.handle({
    type: 'BinaryMessage',
    data: encodeFrame(
      `workspace:${WS}`,
      encodeMessage({ type: 'update', update: Y.encodeStateAsUpdate(server.doc, before) }),
    ),
  });
  expect(focusTexts(actions)).toEqual([]); // same body doc: nothing to tell the server
  expect(session.focusedPaths).toEqual(['renamed.md']);
  expect(focusTexts(session.handle({ type: 'Unfocus', paths: ['renamed.md'] }))).toEqual([
    { type: 'unfocus', files: [`body:${WS}/${key}`] },
  ]);
});
