/**
 * `SyncSession` on a doc-id workspace (UUID keys): body docs are opened as `body:{ws}/{uuid}`
 * (`SessionWorkspaceDoc.bodyNames()`), a remote rename moves no body, and body changes are
 * reported under the file's current path (docs/protocol.md#doc-ids).
 */
import * as Y from 'yjs';
import { BodyDocManager, WorkspaceCrdt } from '@diaryx-sync/crdt';
import { SyncSession, createCrdtSessionDocuments, type SessionAction, type SyncEvent } from '../src/client';
import { decodeFrame, encodeFrame } from '../src/framing';
import { encodeMessage } from '../src/sync';

const WS = 'ws_ids';

function sentDocIds(actions: SessionAction[]): string[] {
  return actions.flatMap((a) => (a.type === 'SendBinary' ? [decodeFrame(a.data).docId] : []));
}

function events(actions: SessionAction[]): SyncEvent[] {
  return actions.flatMap((a) => (a.type === 'Emit' ? [a.event] : []));
}

test('bodies are named by key; a remote rename keeps the body and its doc id', () => {
  const server = new WorkspaceCrdt();
  const key = server.createFile({ filename: 'note.md', title: 'Note', modified_at: 1 });
  const workspace = new WorkspaceCrdt();
  const bodies = new BodyDocManager();
  const session = new SyncSession({
    workspaceId: WS,
    documents: createCrdtSessionDocuments(workspace, bodies),
  });
  session.handle({ type: 'Connected' });
  const step2 = encodeFrame(
    `workspace:${WS}`,
    encodeMessage({ type: 'syncStep2', update: server.encodeStateAsUpdate() }),
  );
  expect(sentDocIds(session.handle({ type: 'BinaryMessage', data: step2 }))).toEqual([`body:${WS}/${key}`]);

  const body = new Y.Doc();
  body.getText('body').insert(0, 'hello\n');
  const bodyStep2 = encodeFrame(
    `body:${WS}/${key}`,
    encodeMessage({ type: 'syncStep2', update: Y.encodeStateAsUpdate(body) }),
  );
  expect(events(session.handle({ type: 'BinaryMessage', data: bodyStep2 }))).toContainEqual({
    type: 'BodyChanged',
    path: 'note.md',
  });
  expect(session.syncedBodies()).toEqual([key]);

  const before = Y.encodeStateVector(server.doc);
  server.renameFile(key, 'renamed.md');
  const rename = encodeFrame(
    `workspace:${WS}`,
    encodeMessage({ type: 'update', update: Y.encodeStateAsUpdate(server.doc, before) }),
  );
  const actions = session.handle({ type: 'BinaryMessage', data: rename });
  expect(events(actions)).toContainEqual({
    type: 'FilesChanged',
    changes: expect.objectContaining({ renamed: [{ from: 'note.md', to: 'renamed.md' }] }),
  });
  // No new body doc, no re-bootstrap: the body keeps its name.
  expect(sentDocIds(actions)).toEqual([]);
  expect(bodies.loadedPaths()).toEqual([key]);
  expect(bodies.get(key)?.getBody()).toBe('hello\n');

  body.getText('body').insert(6, 'more\n');
  const edit = encodeFrame(
    `body:${WS}/${key}`,
    encodeMessage({ type: 'update', update: Y.encodeStateAsUpdate(body) }),
  );
  expect(events(session.handle({ type: 'BinaryMessage', data: edit }))).toContainEqual({
    type: 'BodyChanged',
    path: 'renamed.md',
  });
});
