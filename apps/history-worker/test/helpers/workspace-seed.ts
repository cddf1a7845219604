/** Writes workspace/body docs straight into PostgresStorage (what a doc service would persist). */
import * as Y from 'yjs';
import {
  BodyDoc,
  bodyDocId,
  workspaceDocId,
  WorkspaceCrdt,
  type CrdtStorage,
  type FileMetadata,
} from '@diaryx-sync/crdt';

export async function loadWorkspace(storage: CrdtStorage, ws: string): Promise<WorkspaceCrdt> {
  return WorkspaceCrdt.fromUpdate(await storage.loadDoc(workspaceDocId(ws)));
}

/** Applies `mutate` to the persisted workspace doc and appends the resulting update. */
export async function editWorkspace(
  storage: CrdtStorage,
  ws: string,
  mutate: (w: WorkspaceCrdt) => void,
): Promise<void> {
  const w = await loadWorkspace(storage, ws);
  const sv = Y.encodeStateVector(w.doc);
  mutate(w);
  await storage.appendUpdate(workspaceDocId(ws), Y.encodeStateAsUpdate(w.doc, sv), { origin: 'test' });
}

/** Sets a body's text (appends the diff). */
export async function setBody(storage: CrdtStorage, ws: string, path: string, text: string): Promise<void> {
  const id = bodyDocId(ws, path);
  const doc = BodyDoc.fromUpdate(path, await storage.loadDoc(id));
  const sv = Y.encodeStateVector(doc.doc);
  doc.doc.transact(() => {
    doc.insertAt(0, ' ');
    doc.deleteRange(0, 1);
    doc.setBody(text);
  });
  await storage.appendUpdate(id, Y.encodeStateAsUpdate(doc.doc, sv), { origin: 'test' });
}

export async function getBody(storage: CrdtStorage, ws: string, path: string): Promise<string> {
  return BodyDoc.fromUpdate(path, await storage.loadDoc(bodyDocId(ws, path))).getBody();
}

/** A README with two children in path mode. */
export async function seedWorkspace(storage: CrdtStorage, ws: string): Promise<void> {
  const meta = (m: Partial<FileMetadata>): Partial<FileMetadata> => ({
    modified_at: 1_700_000_000_000,
    ...m,
  });
  await editWorkspace(storage, ws, (w) => {
    w.setFile('README.md', meta({ title: 'Home', contents: ['notes/a.md', 'notes/b.md'] }));
    w.setFile('notes/a.md', meta({ title: 'A', part_of: 'README.md' }));
    w.setFile('notes/b.md', meta({ title: 'B', part_of: 'README.md' }));
  });
  await setBody(storage, ws, 'README.md', '# Home\n');
  await setBody(storage, ws, 'notes/a.md', 'alpha 🎉\n');
  await setBody(storage, ws, 'notes/b.md', 'beta\n');
}
