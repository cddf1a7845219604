/**
 * `planRestore` (pure): restoring a commit into a workspace in doc-id mode keeps every file at its
 * committed path, including files in sub-folders under a root index.
 */
import * as Y from 'yjs';
import {
  BodyDoc,
  MemoryStorage,
  WorkspaceCrdt,
  bodyDocId,
  validateWorkspace,
  workspaceDocId,
} from '@diaryx-sync/crdt';
import { createCrdtWorkspaceModel } from '../src/workspace/crdt-workspace-model';

const enc = (s: string) => new TextEncoder().encode(s);

test('planRestore in doc-id mode puts sub-folder files at their committed paths', () => {
  const ws = new WorkspaceCrdt();
  ws.setFile('README.md', { title: 'Home', contents: [], modified_at: 1 });
  ws.migrateToDocIds();
  const states = new Map([[workspaceDocId('w'), Y.encodeStateAsUpdate(ws.doc)]]);
  const model = createCrdtWorkspaceModel(() => new MemoryStorage());
  const files = [
    { path: 'README.md', content: enc('---\ntitle: Home\ncontents:\n- "[A](/notes/a.md)"\n---\n\nhome\n') },
    { path: 'notes/a.md', content: enc('---\ntitle: A\npart_of: "[Home](/README.md)"\n---\n\nalpha\n') },
  ];
  const plan = model.planRestore({ tenant: 't', workspace: 'w', states }, files);
  const restored = WorkspaceCrdt.fromUpdate(states.get(workspaceDocId('w')) ?? null);
  Y.applyUpdate(restored.doc, plan.get(workspaceDocId('w'))!);
  const paths = restored
    .listFiles()
    .map((f) => f.path)
    .sort();
  expect(paths).toEqual(['README.md', 'notes/a.md']);
});

test('planRestore in doc-id mode writes bodies under the entry keys, never under paths', () => {
  const ws = new WorkspaceCrdt();
  const id = ws.createFile({ filename: 'note.md', title: 'Note', modified_at: 1 });
  const body = new BodyDoc(id);
  body.setBody('old body\n');
  const states = new Map([
    [workspaceDocId('w'), Y.encodeStateAsUpdate(ws.doc)],
    [bodyDocId('w', id), body.encodeStateAsUpdate()],
  ]);
  const model = createCrdtWorkspaceModel(() => new MemoryStorage());
  const files = [
    { path: 'note.md', content: enc('---\ntitle: Note\n---\n\nrestored body\n') },
    { path: 'other.md', content: enc('---\ntitle: Other\n---\n\nother body\n') },
  ];
  const plan = model.planRestore({ tenant: 't', workspace: 'w', states }, files);
  for (const [docId, update] of plan) {
    const state = states.get(docId);
    states.set(docId, state ? Y.mergeUpdates([state, update]) : update);
  }
  const restored = WorkspaceCrdt.fromUpdate(states.get(workspaceDocId('w')) ?? null);
  const otherKey = restored.findByPath('other.md') as string;
  expect([...plan.keys()].sort()).toEqual(
    [workspaceDocId('w'), bodyDocId('w', id), bodyDocId('w', otherKey)].sort(),
  );
  const bodyNames = [...states.keys()]
    .filter((d) => d.startsWith('body:'))
    .map((d) => d.slice('body:w/'.length));
  expect(validateWorkspace(restored, bodyNames).issues).toEqual([]);
  const materialized = model.materialize({ tenant: 't', workspace: 'w', states });
  const decode = (c: string | Uint8Array) => (typeof c === 'string' ? c : new TextDecoder().decode(c));
  expect(materialized.map((f) => [f.path, decode(f.content)])).toEqual([
    ['note.md', expect.stringContaining('restored body')],
    ['other.md', expect.stringContaining('other body')],
  ]);
});
